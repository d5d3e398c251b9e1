/**
 * Runs named ONNX backend node tests (../shared/onnx-tests/node) through the conformance harness
 * (importer + InferenceSession, compared as ONNX's runner compares) and asserts they pass.
 */
import assert from 'node:assert/strict';
import { listTests, runCase } from '../../conformance/harness.js';

let byName: Map<string, ReturnType<typeof listTests>[number]> | undefined;

export function runNodeTests(names: string[]): void {
  byName ??= new Map(listTests(['node']).map((c) => [c.id.slice('node/'.length), c]));
  const bad: string[] = [];
  for (const name of names) {
    const tc = byName.get(name);
    if (!tc) {
      bad.push(`${name}: not found in ../shared/onnx-tests/node`);
      continue;
    }
    const r = runCase(tc);
    if (r.status !== 'passed') bad.push(`${name}: ${r.status} ${r.reason ?? ''}`);
  }
  assert.deepEqual(bad, [], bad.join('\n'));
}
