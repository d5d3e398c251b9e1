/**
 * Runs named ONNX backend node tests (../shared/onnx-tests/node) through the conformance harness
 * (import, InferenceSession, comparison at the backend runner's tolerances), for the unit tests of
 * the transformer, loss and vision op families. Cases whose data is absent are skipped.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listTests, runCase, type TestCase } from '../../conformance/harness.js';

let all: TestCase[] | null = null;

/** One node:test per name: the case must pass. */
export function conformanceCases(names: readonly string[]): void {
  all ??= listTests(['node']);
  for (const name of names) {
    const tc = all.find((c) => c.id === `node/${name}`);
    test(`conformance: ${name}`, { skip: !tc && 'conformance data not found' }, () => {
      const r = runCase(tc!);
      assert.equal(r.status, 'passed', `${name}: ${r.status} ${r.reason ?? ''}`);
    });
  }
}
