/**
 * The WASM SIMD GEMM against the plain TypeScript kernels it replaces: both builds (relaxed and
 * plain SIMD) instantiated directly, then the dispatching entry points (nn/gemm's `gemm`,
 * linalg's `matmulCpu`) on random shapes, odd sizes, transposes, accumulation, K blocks larger
 * than one cache block, and products big enough to be split across the worker pool.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { getNumThreads, setNumThreads } from '../../src/backends/cpu/threads/config.js';
import { buildFile, detectRelaxedSimd, instantiate, wasm } from '../../src/backends/cpu/wasm/runtime.js';
import { PARALLEL_MIN_MACS, sgemm, threadsFor } from '../../src/backends/cpu/wasm/sgemm.js';
import { matmulCpu } from '../../src/ops/linalg/matmul-cpu.js';
import { gemm } from '../../src/ops/nn/gemm.js';
import { Generator } from '../../src/runtime/random.js';

const gen = new Generator(1234);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform() * 2 - 1);
const randInt = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));

/** The plain TypeScript GEMM (float64 arrays never take the WASM path), as the reference. */
function reference(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  C0?: Float32Array,
): Float64Array {
  const C = C0 ? Float64Array.from(C0) : new Float64Array(M * N);
  gemm(transA, transB, M, N, K, Float64Array.from(A), 0, Float64Array.from(B), 0, C, 0, C0 !== undefined);
  return C;
}

/** float32 products over K terms of values in [-1, 1]: error grows like sqrt(K) * eps32. */
function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, K: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const tol = 1e-6 * (4 + Math.sqrt(K) * 4);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= tol * (1 + Math.abs(want[i]!)))) {
      assert.fail(`${what}: element ${i}: got ${got[i]}, expected ${want[i]} (|diff| ${d})`);
    }
  }
}

test('both WASM builds are present and the relaxed one is chosen when the runtime has relaxed SIMD', () => {
  assert.ok(existsSync(buildFile('tessera-simd.wasm')), 'run npm run build:wasm');
  assert.ok(existsSync(buildFile('tessera-relaxed.wasm')), 'run npm run build:wasm');
  assert.ok(wasm, 'WASM kernels loaded');
  assert.equal(wasm.relaxed, detectRelaxedSimd());
});

for (const file of ['tessera-simd.wasm', 'tessera-relaxed.wasm']) {
  test(`${file}: sgemm export matches the TypeScript GEMM on random shapes, strides and accumulation`, (t) => {
    if (file.includes('relaxed') && !detectRelaxedSimd()) {
      t.skip('this runtime has no relaxed SIMD');
      return;
    }
    const rt = instantiate(buildFile(file));
    const mem = () => new Float32Array(rt.memory.buffer);
    const scratchBytes = rt.exports.sgemmScratchBytes();
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [6, 8, 1],
      [7, 9, 3],
      [13, 17, 300],
      [1, 37, 70],
      [2, 5, 9],
      [127, 33, 257],
      [65, 1030, 20],
    ];
    for (let r = 0; r < 4; r++) shapes.push([randInt(1, 50), randInt(1, 50), randInt(1, 600)]);
    for (const [M, N, K] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const accumulate of [false, true]) {
            const A = rnd(M * K);
            const B = rnd(K * N);
            const C0 = rnd(M * N);
            const need = (M * K + K * N + M * N) * 4 + scratchBytes + 4096;
            const have = rt.memory.buffer.byteLength;
            if (need > have) rt.memory.grow(Math.ceil((need - have) / 65536));
            const pa = 1024;
            const pb = pa + M * K * 4;
            const pc = pb + K * N * 4;
            const ps = (pc + M * N * 4 + 63) & ~63;
            mem().set(A, pa / 4);
            mem().set(B, pb / 4);
            mem().set(C0, pc / 4);
            const [rsA, csA] = transA ? [1, M] : [K, 1];
            const [rsB, csB] = transB ? [1, K] : [N, 1];
            rt.exports.sgemm(M, N, K, pa, rsA, csA, pb, rsB, csB, pc, N, accumulate ? 1 : 0, ps);
            const got = mem().slice(pc / 4, pc / 4 + M * N);
            const want = reference(transA, transB, M, N, K, A, B, accumulate ? C0 : undefined);
            assertNear(
              got,
              want,
              K,
              `${file} M=${M} N=${N} K=${K} tA=${transA} tB=${transB} acc=${accumulate}`,
            );
          }
        }
      }
    }
  });
}

test('sgemm with K = 0 writes zeros, or leaves C when accumulating', () => {
  const C = Float32Array.from([1, 2, 3, 4, 5, 6]);
  assert.ok(sgemm(false, false, 2, 3, 0, new Float32Array(0), 0, new Float32Array(0), 0, C, 0, true));
  assert.deepEqual([...C], [1, 2, 3, 4, 5, 6]);
  assert.ok(sgemm(false, false, 2, 3, 0, new Float32Array(0), 0, new Float32Array(0), 0, C, 0, false));
  assert.deepEqual([...C], [0, 0, 0, 0, 0, 0]);
});

test('nn/gemm dispatches float32 to WASM with offsets into larger arrays', () => {
  for (const [M, N, K] of [
    [5, 7, 11],
    [31, 3, 64],
    [9, 40, 2],
  ] as const) {
    for (const transA of [false, true]) {
      for (const transB of [false, true]) {
        const A = rnd(M * K + 5);
        const B = rnd(K * N + 3);
        const C = rnd(M * N + 8);
        const want = Float64Array.from(C);
        gemm(transA, transB, M, N, K, Float64Array.from(A), 5, Float64Array.from(B), 3, want, 8, true);
        gemm(transA, transB, M, N, K, A, 5, B, 3, C, 8, true);
        assertNear(C, want, K, `gemm M=${M} N=${N} K=${K}`);
      }
    }
  }
});

test('matmulCpu float32 (WASM) equals matmulCpu float64 (TypeScript) with offsets', () => {
  for (let r = 0; r < 6; r++) {
    const [M, K, N] = [randInt(1, 70), randInt(1, 300), randInt(1, 70)];
    const a = rnd(M * K + 4);
    const b = rnd(K * N + 2);
    const out = new Float32Array(M * N + 6);
    matmulCpu(a, b, M, K, N, out, 4, 2, 6);
    const want = matmulCpu(Float64Array.from(a), Float64Array.from(b), M, K, N, undefined, 4, 2, 0);
    assertNear(out.subarray(6), want, K, `matmulCpu ${M}x${K}x${N}`);
    assert.deepEqual([...out.subarray(0, 6)], [0, 0, 0, 0, 0, 0], 'nothing written before oOff');
  }
});

test('large products split across worker threads give the single-thread result', () => {
  const saved = getNumThreads();
  try {
    for (const [M, N, K] of [
      [150, 131, 120],
      [37, 300, 200],
      [301, 7, 1100],
    ] as const) {
      assert.ok(M * N * K >= PARALLEL_MIN_MACS, 'big enough to be split');
      const A = rnd(M * K);
      const B = rnd(K * N);
      setNumThreads(1);
      const one = new Float32Array(M * N);
      sgemm(false, true, M, N, K, A, 0, B, 0, one, 0, false);
      setNumThreads(3);
      const threads = threadsFor(M, N, K);
      const many = new Float32Array(M * N);
      sgemm(false, true, M, N, K, A, 0, B, 0, many, 0, false);
      // Each element is computed by one thread with the same blocking along K: identical bits.
      assert.ok(threads > 1, `${M}x${N}x${K} uses ${threads} threads`);
      assert.deepEqual(many, one, `${M}x${N}x${K} on ${threads} threads`);
      assertNear(many, reference(false, true, M, N, K, A, B), K, `${M}x${N}x${K} threads`);
    }
  } finally {
    setNumThreads(saved);
  }
});

test('threadsFor keeps small products on one thread and respects setNumThreads', () => {
  const saved = getNumThreads();
  try {
    setNumThreads(4);
    assert.equal(threadsFor(8, 8, 8), 1);
    assert.equal(threadsFor(1024, 1024, 1024), 4);
    setNumThreads(1);
    assert.equal(threadsFor(1024, 1024, 1024), 1);
    assert.throws(() => setNumThreads(0), /setNumThreads: expected a positive integer, got 0/);
  } finally {
    setNumThreads(saved);
  }
});
