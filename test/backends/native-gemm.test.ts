/**
 * The native GEMM (src/backends/cpu/native, a Node-API addon built from C++ at install): built and
 * loaded wherever a C++ compiler and Node's headers are (CI's machines have both), the GEMM and
 * convolution suites passing on every instruction set it has and with it switched off, switching
 * at run time never mixing the two packed layouts, and a build or load that fails leaving the WASM
 * kernels in charge rather than failing.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { native, nativeGemmOn, setNativeGemm, wasm } from '../../src/backends/cpu/wasm/runtime.js';
import { markConstant, sgemm } from '../../src/backends/cpu/wasm/sgemm.js';
import { gemm } from '../../src/ops/nn/gemm.js';
import { Generator } from '../../src/runtime/random.js';

const gen = new Generator(77);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform() * 2 - 1);

const hasCompiler = spawnSync(process.env.CXX || 'g++', ['--version'], { stdio: 'ignore' }).status === 0;
const hasHeaders = existsSync(join(dirname(process.execPath), '../include/node/node_api.h'));
const cpuFlags = existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '';
const has = (flag: string) => new RegExp(`\\b${flag}\\b`).test(cpuFlags);
/** The instruction sets this CPU can run, best first (what the addon picks by default). */
const isas = [
  ...(process.arch === 'x64' && has('avx512f') && has('avx512vl') ? ['avx512'] : []),
  ...(process.arch === 'x64' && has('avx2') && has('fma') ? ['avx2'] : []),
  'generic',
];

test('the native GEMM is built and loaded where a C++ compiler and Node headers are, with the best instruction set', (t) => {
  if (!hasCompiler || !hasHeaders) {
    t.skip('no C++ compiler or Node headers here: products run on the WASM kernels');
    return;
  }
  assert.ok(native, 'the addon should have been built by npm install / pretest (scripts/build-native.mjs)');
  assert.equal(native.isa, isas[0]);
  assert.equal(nativeGemmOn(), true);
  assert.equal(native.panelWidth, { avx512: 32, avx2: 16, generic: 8 }[native.isa]);
});

/** Runs test files in a child process with `env` added; returns its output. */
function runSuites(env: Record<string, string>, files: string[]): string {
  // Without the runner's NODE_TEST_CONTEXT the child reports as a run of its own, in plain text.
  const { NODE_TEST_CONTEXT: _, ...parentEnv } = process.env;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], {
    env: { ...parentEnv, ...env },
    encoding: 'utf8',
    timeout: 240_000,
  });
  assert.equal(r.status, 0, `${JSON.stringify(env)}: ${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

const SUITES = [
  'test/backends/wasm-gemm.test.ts',
  'test/backends/wasm-conv-tiled.test.ts',
  'test/backends/wasm-conv-winograd.test.ts',
  'test/backends/wasm-depthwise.test.ts',
  'test/backends/elementwise-fast.test.ts',
  'test/backends/pool-lrn-fast.test.ts',
];

test('the GEMM and convolution suites pass with the native GEMM off (WASM only)', (t) => {
  if (!native) {
    t.skip('no native build: the suites already ran on WASM in this run');
    return;
  }
  const out = runSuites({ TESSERA_NATIVE: '0' }, SUITES);
  assert.doesNotMatch(out, /native (avx512|avx2|generic):/, 'no native engine when switched off');
});

for (const isa of isas) {
  test(`the GEMM and convolution suites pass on the native ${isa} kernels`, (t) => {
    if (!native) {
      t.skip('no native build');
      return;
    }
    if (isa === native.isa) {
      t.skip('this process already runs them on this instruction set');
      return;
    }
    const out = runSuites({ TESSERA_NATIVE_ISA: isa }, SUITES);
    assert.match(out, new RegExp(`native ${isa}: sgemm export matches`), 'the child ran the chosen kernels');
  });
}

test('the native gather checks its view against the source and the output before copying', (t) => {
  if (!native) {
    t.skip('no native build');
    return;
  }
  const k = native.addon;
  const src = Float32Array.from({ length: 24 }, (_, i) => i);
  const out = new Float32Array(6);
  // [2, 3] with strides [1, 2]: a transposed 3x2 block.
  k.gather(src, 1, out, Float64Array.from([2, 3, 1, 2]));
  assert.deepEqual([...out], [1, 3, 5, 2, 4, 6]);
  const poisoned = out.slice();
  assert.throws(
    () => k.gather(src, 20, out, Float64Array.from([2, 3, 1, 2])),
    RangeError,
    'reads past the source',
  );
  assert.throws(
    () => k.gather(src, 0, out, Float64Array.from([2, 4, 1, 2])),
    RangeError,
    'output length differs',
  );
  assert.throws(
    () => k.gather(src, 0, new Float64Array(6), Float64Array.from([2, 3, 1, 2])),
    RangeError,
    'sizes',
  );
  assert.throws(() => k.gather(src, 3, out, Float64Array.from([2, 3, 1, -2])), RangeError, 'reads before it');
  assert.deepEqual([...out], [...poisoned], 'nothing written by a refused call');
});

test('the native addon sets the malloc policy where the C library is glibc, and refuses a bad size', (t) => {
  if (!native) {
    t.skip('no native build');
    return;
  }
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)
    ?.header;
  // runtime.ts already applied it at load (TESSERA_KEEP_FREED_MB, 256 MiB); applying it again is harmless.
  assert.equal(native.addon.keepFreedMemory(256 * 2 ** 20), header?.glibcVersionRuntime !== undefined);
  assert.throws(() => native!.addon.keepFreedMemory(-1), TypeError);
  assert.throws(() => (native!.addon.keepFreedMemory as (x: unknown) => boolean)('a lot'), TypeError);
});

test('switching between the native and WASM GEMM keeps each packed weight in its own layout', (t) => {
  if (!native || !wasm) {
    t.skip('no native build');
    return;
  }
  const [M, N, K] = [5, 70, 300];
  const A = rnd(M * K);
  const B = rnd(K * N);
  markConstant(B); // packed and kept resident on first use, once per layout
  const want = new Float64Array(M * N);
  gemm(false, false, M, N, K, Float64Array.from(A), 0, Float64Array.from(B), 0, want, 0, false);
  const run = () => {
    const C = new Float32Array(M * N);
    assert.ok(sgemm(false, false, M, N, K, A, 0, B, 0, C, 0, false));
    return C;
  };
  const close = (C: Float32Array, what: string) => {
    for (let i = 0; i < C.length; i++)
      assert.ok(Math.abs(C[i]! - want[i]!) < 1e-4, `${what}: element ${i}: ${C[i]} vs ${want[i]}`);
  };
  try {
    const first = run();
    close(first, 'native');
    assert.equal(setNativeGemm(false), false);
    assert.equal(nativeGemmOn(), false);
    close(run(), 'wasm after native');
    setNativeGemm(true);
    assert.deepEqual(run(), first, 'native again reads its own packed block: the same bits');
  } finally {
    setNativeGemm(true);
  }
});

// MatMul through the loaded runtime, in a child process (the addon loads once at import).
const SCRIPT = `
import { native } from './src/backends/cpu/wasm/runtime.js';
import { tensor, ops } from './src/index.js';
const y = ops.dispatch1('MatMul', [tensor([[1, 2], [3, 4]]), tensor([[5, 6], [7, 8]])]);
console.log(JSON.stringify({ isa: native ? native.isa : null, y: Array.from(y.dataSync()) }));
`;

function runChild(env: Record<string, string>): { out: { isa: string | null; y: number[] }; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', SCRIPT], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  return { out: JSON.parse(r.stdout.trim().split('\n').at(-1)!), stderr: r.stderr };
}

test('an addon that fails to load warns once and the WASM kernels give the same products', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-native-'));
  try {
    writeFileSync(join(dir, 'tessera-native.node'), 'not a shared object');
    const { out, stderr } = runChild({ TESSERA_NATIVE_DIR: dir });
    assert.equal(out.isa, null);
    assert.deepEqual(out.y, [19, 22, 43, 50]);
    const warnings = stderr.split('\n').filter((l) => l.includes('TesseraNative'));
    assert.equal(warnings.length, 1, stderr);
    assert.match(warnings[0]!, /native GEMM .*tessera-native\.node failed to load .*WASM kernels/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('TESSERA_NATIVE=0 switches the native GEMM off without a warning; a missing build is quiet too', () => {
  const envs: Record<string, string>[] = [
    { TESSERA_NATIVE: '0' },
    { TESSERA_NATIVE_DIR: '/nonexistent/tessera-native' },
  ];
  for (const env of envs) {
    const { out, stderr } = runChild(env);
    assert.equal(out.isa, null, JSON.stringify(env));
    assert.deepEqual(out.y, [19, 22, 43, 50]);
    assert.ok(!stderr.includes('TesseraNative'), stderr);
  }
});

test('the build script skips, exit 0, with the reason, when there is no compiler (install never fails on it)', () => {
  const r = spawnSync(process.execPath, ['scripts/build-native.mjs', '--force'], {
    env: { ...process.env, CXX: '/nonexistent/c++' },
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(
    r.stdout,
    /build-native: no C\+\+ compiler \(\/nonexistent\/c\+\+\); matrix products run on the WASM kernels/,
  );
});
