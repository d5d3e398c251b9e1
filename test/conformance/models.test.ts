/**
 * The heavy half of the regression gate: the light/ model architectures and the real models in
 * ../shared/models that passing.txt lists must still pass (within their tolerances).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listTests, readPassing } from './harness.js';
import { runInWorkers } from './pool.js';

const listed = new Set(readPassing());
const cases = listTests(['light', 'models']).filter((c) => listed.has(c.id));

test(`light/ and models/: the ${cases.length} listed models still pass`, { timeout: 1_800_000 }, async () => {
  assert.ok(cases.length > 0, 'no listed models found: is ../shared there (or TESSERA_SHARED set)?');
  const results = await runInWorkers(cases, { workers: 2, caseTimeoutMs: 300_000 });
  const bad = results.filter((r) => r.status !== 'passed');
  assert.equal(
    bad.length,
    0,
    `${bad.length} regressions:\n${bad.map((r) => `  ${r.id}: ${r.status} ${r.reason ?? ''}`).join('\n')}`,
  );
});
