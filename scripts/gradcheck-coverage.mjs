#!/usr/bin/env node
// Lists the differentiable ops (registered with a `grad`) that no gradcheck in the test suite
// exercises. Runs the given test paths (default: test/unit test/ops test/nn) with
// TESSERA_GRADCHECK_LOG set; gradcheck() appends the ops each passing check dispatched with
// gradients. Exits 1 when an op with a gradient is not covered and not in ALLOWED below.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Ops with a `grad` that are internal helpers of other ops' backward passes (covered through the
// forward op whose backward uses them), listed with that op.
const ALLOWED = new Map([
  // ReduceProd's gradient; its own `grad` only throws (no double backward), tested in
  // test/unit/gradcheck-coverage.test.ts
  ['ProdOthers', 'ReduceProd'],
]);

const dir = mkdtempSync(join(tmpdir(), 'gradcov-'));
const log = join(dir, 'ops.txt');
const paths = process.argv.slice(2);
const env = { ...process.env, TESSERA_GRADCHECK_LOG: log };
const r = spawnSync(
  process.execPath,
  ['scripts/run-tests.mjs', ...(paths.length ? paths : ['test/unit/', 'test/ops/', 'test/nn/'])],
  { env, stdio: ['ignore', 'ignore', 'inherit'] },
);
if (r.status !== 0) console.error(`note: the test run exited with ${r.status}`);
let covered = new Set();
try {
  covered = new Set(readFileSync(log, 'utf8').split('\n').filter(Boolean));
} catch {}
rmSync(dir, { recursive: true, force: true });
const list = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '-e',
    "await import('./src/index.ts'); const { listOps } = await import('./src/ops/registry.ts'); console.log(JSON.stringify([...new Set(listOps().filter((o) => o.grad).map((o) => o.name))]))",
  ],
  { encoding: 'utf8' },
);
const withGrad = JSON.parse(list.stdout.trim().split('\n').pop());
const missing = withGrad.filter((n) => !covered.has(n) && !ALLOWED.has(n));
console.log(
  `ops with a gradient: ${withGrad.length}; covered by gradcheck: ${withGrad.length - missing.length}`,
);
if (missing.length) {
  console.log(`not covered (${missing.length}): ${missing.join(' ')}`);
  process.exit(1);
}
