/**
 * `npm run conformance [-- options]`: runs the ONNX backend conformance data and the real models in
 * ../shared through InferenceSession, prints per-suite passed/failed/unsupported counts and the ops
 * most often missing, and writes reports/conformance.json (status and reason per test).
 *
 *   --update            add newly passing tests to test/conformance/passing.txt (never removes any)
 *   --suite a,b         suites to run (node, simple, pytorch-converted, pytorch-operator, light, models)
 *   --filter text       only test ids containing text
 *   --workers n         worker threads (default 2)
 *   --timeout ms        per-test limit (default 60000; light/ and models/ get 10x)
 *   --opt-level level   graphOptimizationLevel for every session (default all)
 *   --verbose           print every failure
 *   --device webgpu     run the cases with device 'webgpu' instead (test/isolated/webgpu/conformance-webgpu.ts,
 *                       in its own process; suite, filter, update and verbose apply; pass list passing-webgpu.txt)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GraphOptimizationLevel } from '../src/index.js';
import {
  listTests,
  PASSING_FILE,
  REPO_ROOT,
  readPassing,
  SUITES,
  type Suite,
  type TestResult,
} from '../test/conformance/harness.js';
import { runInWorkers } from '../test/conformance/pool.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const flag = (name: string) => process.argv.includes(`--${name}`);

const device = arg('device') ?? 'cpu';
if (device === 'webgpu') {
  // Dawn gets a process of its own (as in the WebGPU test suite); EGL needs the surfaceless platform without a display.
  const rest = process.argv.slice(2);
  rest.splice(rest.indexOf('--device'), 2);
  const r = spawnSync(
    process.execPath,
    [
      '--expose-gc',
      '--import',
      'tsx',
      join(REPO_ROOT, 'test', 'isolated', 'webgpu', 'conformance-webgpu.ts'),
      ...rest,
    ],
    { stdio: 'inherit', env: { ...process.env, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' } },
  );
  process.exit(r.status ?? 1);
} else if (device !== 'cpu') {
  console.error(`unknown device '${device}'; devices: cpu, webgpu`);
  process.exit(2);
}

const suites = (arg('suite')?.split(',') ?? [...SUITES]) as Suite[];
for (const s of suites) {
  if (!(SUITES as readonly string[]).includes(s)) {
    console.error(`unknown suite '${s}'; suites: ${SUITES.join(', ')}`);
    process.exit(2);
  }
}
const filter = arg('filter');
const caseTimeout = Number(arg('timeout') ?? 60_000);
let cases = listTests(suites);
if (filter) cases = cases.filter((c) => c.id.includes(filter));
if (cases.length === 0) {
  console.error('no conformance tests found (is ../shared there, or TESSERA_SHARED set?)');
  process.exit(2);
}

const t0 = Date.now();
const results = await runInWorkers(cases, {
  workers: Number(arg('workers') ?? 2),
  caseTimeoutMs: caseTimeout,
  timeoutFor: (tc) => (tc.suite === 'light' || tc.suite === 'models' ? caseTimeout * 10 : undefined),
  graphOptimizationLevel: (arg('opt-level') ?? 'all') as GraphOptimizationLevel,
  onResult: (r, done, total) => {
    if (process.stderr.isTTY) process.stderr.write(`\r${done}/${total} ${r.id.padEnd(70).slice(0, 70)}`);
    if (flag('verbose') && r.status !== 'passed')
      console.log(`${r.status.padEnd(11)} ${r.id}: ${r.reason ?? ''}`);
  },
});
if (process.stderr.isTTY) process.stderr.write('\n');

// ---- summary ---------------------------------------------------------------------------------------
const bySuite = new Map<string, Record<TestResult['status'], number>>();
for (const r of results) {
  const s = r.id.split('/')[0]!;
  const c = bySuite.get(s) ?? { passed: 0, failed: 0, unsupported: 0, timeout: 0 };
  c[r.status]++;
  bySuite.set(s, c);
}
console.log(
  `\n${'suite'.padEnd(20)}${'passed'.padStart(8)}${'failed'.padStart(8)}${'unsupp.'.padStart(9)}${'timeout'.padStart(9)}${'total'.padStart(7)}   pass %`,
);
for (const [s, c] of bySuite) {
  const total = c.passed + c.failed + c.unsupported + c.timeout;
  console.log(
    `${s.padEnd(20)}${String(c.passed).padStart(8)}${String(c.failed).padStart(8)}${String(c.unsupported).padStart(9)}${String(c.timeout).padStart(9)}${String(total).padStart(7)}   ${((100 * c.passed) / total).toFixed(1)}%`,
  );
}
const missing = new Map<string, number>();
for (const r of results) for (const op of r.missingOps ?? []) missing.set(op, (missing.get(op) ?? 0) + 1);
const top = [...missing].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
if (top.length) {
  console.log(`\nmissing ops (tests needing each), ${top.length} in all:`);
  console.log(
    top
      .slice(0, 40)
      .map(([op, n]) => `  ${op} ${n}`)
      .join('\n'),
  );
}
console.log(`\n${results.length} tests in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

mkdirSync(join(REPO_ROOT, 'reports'), { recursive: true });
const reportFile = join(REPO_ROOT, 'reports', 'conformance.json');
writeFileSync(
  reportFile,
  `${JSON.stringify(
    {
      date: new Date().toISOString(),
      suites: Object.fromEntries(bySuite),
      missingOps: Object.fromEntries(top),
      tests: Object.fromEntries(
        results.map((r) => [
          r.id,
          { status: r.status, reason: r.reason, missingOps: r.missingOps, ms: r.ms },
        ]),
      ),
    },
    null,
    1,
  )}\n`,
);
console.log(`report: ${reportFile}`);

// ---- the pass list only grows ------------------------------------------------------------------------
const listed = new Set(readPassing());
const regressions = results.filter((r) => listed.has(r.id) && r.status !== 'passed');
const fresh = results.filter((r) => r.status === 'passed' && !listed.has(r.id)).map((r) => r.id);
if (regressions.length) {
  console.log(`\n${regressions.length} tests in passing.txt do not pass:`);
  for (const r of regressions) console.log(`  ${r.id}: ${r.status} ${r.reason ?? ''}`);
}
if (flag('update')) {
  const all = [...new Set([...listed, ...fresh])].sort();
  writeFileSync(PASSING_FILE, `${all.join('\n')}\n`);
  console.log(`passing.txt: ${fresh.length} added, ${all.length} listed`);
} else if (fresh.length) {
  console.log(`${fresh.length} newly passing tests are not in passing.txt (run with --update to add them)`);
}
process.exitCode = regressions.length ? 1 : 0;
