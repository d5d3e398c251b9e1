// docs/OPS.md is generated from the op registry (scripts/ops-table.ts); this fails when an op,
// opset version, kernel or gradient was added or removed without regenerating it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { OPS_FILE, opsetVersions, opsTable } from '../../scripts/ops-table.js';
import { findOp } from '../../src/ops/registry.js';

test('docs/OPS.md matches the op registry (regenerate: npx tsx scripts/ops-table.ts)', () => {
  const want = opsTable();
  const have = readFileSync(OPS_FILE, 'utf8');
  if (have !== want) {
    const a = have.split('\n');
    const b = want.split('\n');
    const i = a.findIndex((l, k) => l !== b[k]);
    assert.fail(
      `docs/OPS.md is stale: run npx tsx scripts/ops-table.ts\nfirst difference at line ${i + 1}:\n  file:     ${a[i]}\n  registry: ${b[i]}`,
    );
  }
});

test('each row lists the definitions the registry holds, e.g. Add, and no gradient for Equal', () => {
  const table = opsTable();
  const add = findOp('Add')!;
  const versions = opsetVersions(add);
  assert.ok(versions.length >= 2, 'Add has definitions for several opsets');
  for (const v of versions) assert.equal(findOp('Add', v)!.since ?? 1, v);
  assert.equal(findOp('Add', versions[0]! - 1), undefined);
  assert.ok(table.includes(`| Add | ${versions.join(', ')} | ✓ | ✓ | ✓ |`));
  // A comparison has no gradient.
  assert.match(table, /^\| Equal \| [\d, ]+ \| ✓ \| [✓ ]* \| {2}\|$/m);
});
