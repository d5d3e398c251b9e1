/**
 * Regression gate: every test listed in passing.txt (node/, simple/, pytorch-*) must still pass.
 * The heavy light/ and models/ cases are in models.test.ts. Cases run on worker threads with a
 * per-case timeout, so one hang fails its case instead of stalling the suite.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listTests, readPassing, type Suite } from './harness.js';
import { runInWorkers } from './pool.js';

const LIGHT_SUITES: Suite[] = ['node', 'simple', 'pytorch-converted', 'pytorch-operator'];
const listed = new Set(readPassing());
const cases = listTests(LIGHT_SUITES).filter((c) => listed.has(c.id));

test('passing.txt is sorted, without duplicates, and names existing tests', () => {
  const ids = readPassing();
  assert.deepEqual(ids, [...new Set(ids)].sort(), 'passing.txt must be sorted and unique');
  const known = new Set(listTests().map((c) => c.id));
  const unknown = ids.filter((id) => !known.has(id));
  assert.deepEqual(
    unknown,
    [],
    `passing.txt names tests that do not exist in ../shared: ${unknown.join(', ')}`,
  );
});

test(`ONNX conformance: the ${cases.length} listed node/simple/pytorch tests still pass`, {
  timeout: 600_000,
}, async () => {
  assert.ok(cases.length > 0, 'no listed tests found: is ../shared there (or TESSERA_SHARED set)?');
  const results = await runInWorkers(cases, { workers: 2, caseTimeoutMs: 30_000 });
  const bad = results.filter((r) => r.status !== 'passed');
  assert.equal(
    bad.length,
    0,
    `${bad.length} regressions:\n${bad.map((r) => `  ${r.id}: ${r.status} ${r.reason ?? ''}`).join('\n')}`,
  );
});
