/**
 * The WASM SIMD GEMM against the plain TypeScript kernels it replaces: both builds (relaxed and
 * plain SIMD) instantiated directly, then the dispatching entry points (nn/gemm's `gemm`,
 * linalg's `matmulCpu`) on random shapes, odd sizes, transposes, accumulation, K blocks larger
 * than one cache block, and products big enough to be split across the worker pool; the one-row
 * and one-column (GEMV) paths; B packed ahead (resident weights) on one and several threads.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { getNumThreads, setNumThreads } from '../../src/backends/cpu/threads/config.js';
import {
  buildFile,
  detectRelaxedSimd,
  instantiate,
  native,
  nativeGemmOn,
  wasm,
} from '../../src/backends/cpu/wasm/runtime.js';
import {
  markConstant,
  PARALLEL_MIN_MACS,
  residentBytes,
  residentPacked,
  sgemm,
  threadsFor,
} from '../../src/backends/cpu/wasm/sgemm.js';
import { matmulCpu } from '../../src/ops/linalg/matmul-cpu.js';
import { gemm } from '../../src/ops/nn/gemm.js';
import { Generator } from '../../src/runtime/random.js';
import { onThreads } from '../helpers/threads.js';

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

/**
 * The GEMMs the per-build tests call directly: both WASM builds with the native GEMM off, and the
 * native one (through the plain build's imports) when it is built. The rest of the file goes
 * through the loaded runtime, native when built; test/backends/native-gemm.test.ts runs this whole
 * file again with TESSERA_NATIVE=0 and with each other instruction set of the native build.
 */
const ENGINES = [
  { name: 'tessera-simd.wasm', file: 'tessera-simd.wasm', native: false },
  { name: 'tessera-relaxed.wasm', file: 'tessera-relaxed.wasm', native: false },
  ...(native ? [{ name: `native ${native.isa}`, file: 'tessera-simd.wasm', native: true }] : []),
];

/** Columns per packed panel of an instance's GEMM (8 in WASM; the native build's own). */
const panelWidth = (rt: ReturnType<typeof instantiate>) =>
  (rt.exports as unknown as { sgemmPanelWidth(): number }).sgemmPanelWidth();

test('both WASM builds are present and the relaxed one is chosen when the runtime has relaxed SIMD', () => {
  assert.ok(existsSync(buildFile('tessera-simd.wasm')), 'run npm run build:wasm');
  assert.ok(existsSync(buildFile('tessera-relaxed.wasm')), 'run npm run build:wasm');
  assert.ok(wasm, 'WASM kernels loaded');
  assert.equal(wasm.relaxed, detectRelaxedSimd());
});

for (const { name, file, native: nat } of ENGINES) {
  test(`${name}: sgemm export matches the TypeScript GEMM on random shapes, strides and accumulation`, (t) => {
    if (file.includes('relaxed') && !detectRelaxedSimd()) {
      t.skip('this runtime has no relaxed SIMD');
      return;
    }
    const rt = instantiate(buildFile(file), { native: nat });
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
      // One row or column (the GEMV paths), with K over several cache blocks.
      [1, 77, 1100],
      [1, 3, 5],
      [2, 29, 513],
      [129, 1, 700],
      [50, 2, 1031],
      [3, 100, 1030],
      // Row counts that end blocks in 4-row tiles (4, 8 = 4 + 4, 10 = 6 + 4, 14, 48 + 8) or in a
      // padded one (5, 9, 11, 48 + 2, 48 + 5).
      [4, 12, 9],
      [5, 16, 31],
      [8, 16, 40],
      [9, 9, 70],
      [10, 8, 5],
      [11, 20, 600],
      [14, 3, 77],
      [50, 17, 33],
      [53, 8, 65],
      [56, 24, 19],
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
              `${name} M=${M} N=${N} K=${K} tA=${transA} tB=${transB} acc=${accumulate}`,
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

test('matrix-vector products with a B of a megabyte or more split across threads and give the single-thread bits', () => {
  const saved = getNumThreads();
  try {
    for (const [M, N, K] of [
      [1, 1000, 2048],
      [3, 1100, 1000],
    ] as const) {
      const A = rnd(M * K);
      const B = rnd(K * N);
      setNumThreads(1);
      const one = new Float32Array(M * N);
      sgemm(false, true, M, N, K, A, 0, B, 0, one, 0, false);
      setNumThreads(2);
      assert.equal(threadsFor(M, N, K), 2, `${M}x${N}x${K} is split`);
      const two = new Float32Array(M * N);
      sgemm(false, true, M, N, K, A, 0, B, 0, two, 0, false);
      assert.deepEqual(two, one, `${M}x${N}x${K} on two threads`);
    }
    // A small B stays on one thread: waking one costs more than it saves.
    assert.equal(threadsFor(1, 256, 512), 1);
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

/** The packed-B exports of assembly/gemm.ts, called directly on one instantiated build. */
interface PackedRaw {
  sgemmScratchBytes(): number;
  sgemmPackedBytes(K: number, N: number): number;
  sgemmPackB(K: number, N: number, b: number, rsB: number, csB: number, dst: number): void;
  sgemmPacked(...args: number[]): void;
  sgemm(...args: number[]): void;
}

/** Lays A, B, C, a packed-B block and scratch out in a build's memory, 64-byte aligned. */
function layout(rt: ReturnType<typeof instantiate>, M: number, N: number, K: number) {
  const ex = rt.exports as unknown as PackedRaw;
  const at = (p: number) => (p + 63) & ~63;
  const pa = 1024;
  const pb = at(pa + M * K * 4);
  const pc = at(pb + K * N * 4);
  const pk = at(pc + M * N * 4);
  const ps = at(pk + ex.sgemmPackedBytes(K, N));
  const end = ps + ex.sgemmScratchBytes() + 4096;
  const have = rt.memory.buffer.byteLength;
  if (end > have) rt.memory.grow(Math.ceil((end - have) / 65536));
  const f32 = (p: number, n: number) => new Float32Array(rt.memory.buffer, p, n);
  return { ex, pa, pb, pc, pk, ps, f32 };
}

for (const { name, file, native: nat } of ENGINES) {
  test(`${name}: sgemmPacked on B packed ahead matches the TypeScript GEMM, column ranges included`, (t) => {
    if (file.includes('relaxed') && !detectRelaxedSimd()) {
      t.skip('this runtime has no relaxed SIMD');
      return;
    }
    const rt = instantiate(buildFile(file), { native: nat });
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [1, 10, 512],
      [1, 517, 784],
      [2, 23, 1100],
      [3, 41, 7],
      [4, 9, 600],
      [7, 24, 1],
      [13, 3, 1027],
      [64, 77, 130],
    ];
    for (let r = 0; r < 5; r++) shapes.push([randInt(1, 40), randInt(1, 90), randInt(1, 1200)]);
    for (const [M, N, K] of shapes) {
      for (const transA of [false, true]) {
        for (const transB of [false, true]) {
          for (const accumulate of [false, true]) {
            const { ex, pa, pb, pc, pk, ps, f32 } = layout(rt, M, N, K);
            const A = rnd(M * K);
            const B = rnd(K * N);
            const C0 = rnd(M * N);
            f32(pa, M * K).set(A);
            f32(pb, K * N).set(B);
            f32(pc, M * N).set(C0);
            const [rsA, csA] = transA ? [1, M] : [K, 1];
            ex.sgemmPackB(K, N, pb, transB ? 1 : N, transB ? K : 1, pk);
            f32(pb, K * N).fill(Number.NaN); // the product must read only the packed copy
            const nr = panelWidth(rt);
            const np = Math.ceil(N / nr) * nr;
            // Columns in two calls split at a panel boundary, as threads split them.
            const j1 = nr * randInt(0, Math.floor(N / nr));
            const acc = accumulate ? 1 : 0;
            if (j1 > 0) ex.sgemmPacked(M, j1, K, pa, rsA, csA, pk, np, 0, pc, N, acc, ps);
            if (j1 < N) ex.sgemmPacked(M, N - j1, K, pa, rsA, csA, pk, np, j1, pc + j1 * 4, N, acc, ps);
            const want = reference(transA, transB, M, N, K, A, B, accumulate ? C0 : undefined);
            const what = `${name} packed M=${M} N=${N} K=${K} tA=${transA} tB=${transB} acc=${accumulate} split=${j1}`;
            assertNear(f32(pc, M * N), want, K, what);
          }
        }
      }
    }
  });

  test(`${name}: a row computed alone (GEMV) equals the same row inside a larger product, bit for bit`, (t) => {
    if (file.includes('relaxed') && !detectRelaxedSimd()) {
      t.skip('this runtime has no relaxed SIMD');
      return;
    }
    // Both run the micro-kernel's order (start from C, add the k terms in order), so a batch of one
    // gives the bits a batch of many gives for the same input row.
    const rt = instantiate(buildFile(file), { native: nat });
    for (const [M, N, K] of [
      [9, 37, 1100],
      [14, 512, 300],
      [7, 5, 33],
    ] as const) {
      for (const accumulate of [0, 1]) {
        const { ex, pa, pb, pc, pk, ps, f32 } = layout(rt, M, N, K);
        const A = rnd(M * K);
        const C0 = rnd(M * N);
        f32(pa, M * K).set(A);
        f32(pb, K * N).set(rnd(K * N));
        ex.sgemmPackB(K, N, pb, N, 1, pk);
        const np = Math.ceil(N / panelWidth(rt)) * panelWidth(rt);
        const row = M - 2;
        for (const packed of [true, false]) {
          f32(pc, M * N).set(C0);
          if (packed) ex.sgemmPacked(M, N, K, pa, K, 1, pk, np, 0, pc, N, accumulate, ps);
          else ex.sgemm(M, N, K, pa, K, 1, pb, N, 1, pc, N, accumulate, ps);
          const whole = f32(pc + row * N * 4, N).slice();
          f32(pc, M * N).set(C0);
          const [a, c] = [pa + row * K * 4, pc + row * N * 4];
          if (packed) ex.sgemmPacked(1, N, K, a, K, 1, pk, np, 0, c, N, accumulate, ps);
          else ex.sgemm(1, N, K, a, K, 1, pb, N, 1, c, N, accumulate, ps);
          assert.deepEqual(
            f32(c, N).slice(),
            whole,
            `${name} ${M}x${N}x${K} packed=${packed} acc=${accumulate}`,
          );
        }
      }
    }
  });
}

test('a constant B is packed once, kept resident, and gives the result of a non-constant B', () => {
  for (const [M, N, K, transB] of [
    [1, 300, 784, true],
    [3, 17, 70, false],
    [64, 40, 784, true],
    [37, 9, 1, false],
  ] as const) {
    const A = rnd(M * K);
    const B = rnd(K * N);
    const plain = new Float32Array(M * N);
    assert.ok(sgemm(false, transB, M, N, K, A, 0, Float32Array.from(B), 0, plain, 0, false));
    const W = Float32Array.from(B);
    markConstant(W);
    const before = residentBytes();
    const once = new Float32Array(M * N);
    sgemm(false, transB, M, N, K, A, 0, W, 0, once, 0, false);
    // (A narrow B on the native GEMM is kept unpacked; asking for the packed block makes one.)
    const p = residentPacked(W, 0, K, N, transB);
    const held = residentBytes() - before;
    assert.ok(held >= K * N * 4, `${M}x${N}x${K}: ${held} bytes resident`);
    const C0 = rnd(M * N);
    const twice = Float32Array.from(C0);
    sgemm(false, transB, M, N, K, A, 0, W, 0, twice, 0, true);
    assert.equal(residentBytes() - before, held, 'the second product packs nothing');
    assert.equal(residentPacked(W, 0, K, N, transB), p, 'the same block');
    assertNear(once, reference(false, transB, M, N, K, A, B), K, `${M}x${N}x${K} resident`);
    assertNear(twice, reference(false, transB, M, N, K, A, B, C0), K, `${M}x${N}x${K} accumulated`);
    assertNear(plain, once, K, `${M}x${N}x${K} resident vs copied`);
  }
});

test('one constant array read under alternating offsets, shapes and layouts gets the right block each time', () => {
  // The resident lookup remembers each array's last block: switching between blocks of one array
  // (offsets, transposed or not, packed or streamed for N <= 2, as A or as B) must not reuse it.
  const W = rnd(4000);
  markConstant(W);
  const plain = Float32Array.from(W);
  const cases: [number, number, number, number, boolean, boolean][] = [];
  for (let i = 0; i < 12; i++) {
    // [M, N, K, offset, transB, W is A]
    cases.push([
      randInt(1, 9),
      randInt(1, 37),
      randInt(1, 53),
      randInt(0, 1500),
      gen.uniform() < 0.5,
      gen.uniform() < 0.3,
    ]);
  }
  cases.push(
    [1, 2, 41, 7, true, false],
    [1, 2, 41, 7, false, false],
    [3, 11, 41, 7, false, false],
    // Same shape and layout, other offsets: only the offset tells the blocks apart.
    [2, 13, 29, 0, false, false],
    [2, 13, 29, 100, false, false],
    [2, 13, 29, 100, true, false],
    [3, 5, 17, 0, false, true],
    [3, 5, 17, 60, false, true],
  );
  for (let round = 0; round < 3; round++) {
    for (const [M, N, K, off, transB, asA] of cases) {
      const what = `${M}x${N}x${K} off ${off} transB ${transB} ${asA ? 'as A' : 'as B'} round ${round}`;
      const C = new Float32Array(M * N);
      if (asA) {
        const B = rnd(K * N);
        assert.ok(sgemm(false, transB, M, N, K, W, off, B, 0, C, 0, false));
        assertNear(C, reference(false, transB, M, N, K, plain.slice(off, off + M * K), B), K, what);
      } else {
        const A = rnd(M * K);
        assert.ok(sgemm(false, transB, M, N, K, A, 0, W, off, C, 0, false));
        assertNear(C, reference(false, transB, M, N, K, A, plain.slice(off, off + K * N)), K, what);
      }
    }
  }
});

test('copies in and out stay right when a product grows the WASM memory past the view of the last one', () => {
  const small = (K: number, N: number) => {
    const A = rnd(3 * K);
    const B = rnd(K * N);
    const C = new Float32Array(3 * N);
    assert.ok(sgemm(false, false, 3, N, K, A, 0, B, 0, C, 0, false));
    assertNear(C, reference(false, false, 3, N, K, A, B), K, `3x${N}x${K}`);
  };
  small(7, 9);
  // B alone (copied per call, not constant) is larger than the whole memory now.
  const K = 33;
  const N = Math.ceil(wasm!.memory.buffer.byteLength / 4 / K) + 19;
  const A = rnd(2 * K);
  const B = rnd(K * N);
  const C0 = rnd(2 * N);
  const C = Float32Array.from(C0);
  assert.ok(sgemm(false, false, 2, N, K, A, 0, B, 0, C, 0, true));
  assertNear(C, reference(false, false, 2, N, K, A, B, C0), K, `2x${N}x${K} after growing`);
  small(5, 11);
});

test('products with a packed B split across threads (by columns or by rows) give the single-thread bits', () => {
  const saved = getNumThreads();
  try {
    for (const [M, N, K, threadCount] of [
      [64, 512, 784, 2], // columns: each thread reads its own panels
      [1, 4100, 600, 2], // one row: the GEMV split by columns
      [301, 20, 700, 3], // three panels: split by rows
      [150, 131, 120, 3],
    ] as const) {
      assert.ok(M * N * K >= PARALLEL_MIN_MACS, 'big enough to be split');
      const A = rnd(M * K);
      const W = rnd(N * K);
      markConstant(W);
      setNumThreads(1);
      const one = new Float32Array(M * N);
      sgemm(false, true, M, N, K, A, 0, W, 0, one, 0, false);
      setNumThreads(threadCount);
      assert.ok(threadsFor(M, N, K) > 1, `${M}x${N}x${K} is split`);
      const many = new Float32Array(M * N);
      sgemm(false, true, M, N, K, A, 0, W, 0, many, 0, false);
      assert.deepEqual(many, one, `${M}x${N}x${K} on ${threadCount} threads`);
      assertNear(many, reference(false, true, M, N, K, A, W), K, `${M}x${N}x${K} threads`);
    }
  } finally {
    setNumThreads(saved);
  }
});

for (const { name, file, native: nat } of ENGINES) {
  test(`${name}: edge tiles write only their block of a wider C (ldc > N), in place and with B packed ahead`, (t) => {
    if (file.includes('relaxed') && !detectRelaxedSimd()) {
      t.skip('this runtime has no relaxed SIMD');
      return;
    }
    // C is an M x N block at column c0 of an (M + 1) x ldc matrix filled with a sentinel: the
    // ragged tiles (rows past a multiple of 4 or 6, columns past a multiple of 8) are copied in
    // and out of a staging tile, and no store may reach a cell outside the block. Shapes as the
    // convolutions make them: a short K (first layers: 9, 25, 27), output widths not a multiple
    // of 8 (196, 1016 + 3), and K over two cache blocks so later blocks accumulate into C.
    const rt = instantiate(buildFile(file), { native: nat });
    const mem = () => new Float32Array(rt.memory.buffer);
    const scratchBytes = rt.exports.sgemmScratchBytes();
    const shapes: [number, number, number][] = [
      [1, 3, 27],
      [2, 13, 9],
      [3, 7, 25],
      [5, 4, 27],
      [7, 196, 27],
      [13, 1019, 27],
      [16, 196, 200],
      [17, 12, 9],
      [19, 5, 700],
      [33, 30, 1100],
      [50, 9, 1],
      [3, 15, 0],
    ];
    for (let r = 0; r < 3; r++) shapes.push([randInt(1, 40), randInt(1, 40), randInt(1, 700)]);
    const SENT = -12345.5;
    for (const [M, N, K] of shapes) {
      for (const packed of [false, true]) {
        for (const accumulate of [false, true]) {
          if (packed && K === 0) continue;
          const c0 = randInt(1, 5);
          const ldc = c0 + N + randInt(1, 9);
          const A = rnd(M * K);
          const B = rnd(K * N);
          const C0 = rnd(M * N);
          const pa = 1024;
          const pb = pa + M * K * 4;
          const pk = (pb + K * N * 4 + 63) & ~63;
          const np = Math.ceil(N / panelWidth(rt)) * panelWidth(rt);
          const pc = pk + K * np * 4 + 64;
          const ps = (pc + (M + 1) * ldc * 4 + 63) & ~63;
          const need = ps + scratchBytes + 4096;
          const have = rt.memory.buffer.byteLength;
          if (need > have) rt.memory.grow(Math.ceil((need - have) / 65536));
          mem().set(A, pa / 4);
          mem().set(B, pb / 4);
          const c = mem().subarray(pc / 4, pc / 4 + (M + 1) * ldc);
          c.fill(SENT);
          for (let i = 0; i < M; i++) c.set(C0.subarray(i * N, (i + 1) * N), i * ldc + c0);
          const acc = accumulate ? 1 : 0;
          const pcb = pc + c0 * 4;
          if (packed) {
            const ex = rt.exports as unknown as PackedRaw;
            ex.sgemmPackB(K, N, pb, N, 1, pk);
            ex.sgemmPacked(M, N, K, pa, K, 1, pk, np, 0, pcb, ldc, acc, ps);
          } else {
            rt.exports.sgemm(M, N, K, pa, K, 1, pb, N, 1, pcb, ldc, acc, ps);
          }
          const what = `${name} M=${M} N=${N} K=${K} ldc=${ldc} packed=${packed} acc=${accumulate}`;
          const out = mem().slice(pc / 4, pc / 4 + (M + 1) * ldc);
          const got = new Float32Array(M * N);
          for (let i = 0; i <= M; i++) {
            for (let j = 0; j < ldc; j++) {
              const v = out[i * ldc + j]!;
              if (i < M && j >= c0 && j < c0 + N) got[i * N + j - c0] = v;
              else if (v !== SENT)
                assert.fail(`${what}: wrote ${v} outside the block at row ${i}, column ${j}`);
            }
          }
          assertNear(got, reference(false, false, M, N, K, A, B, accumulate ? C0 : undefined), K, what);
        }
      }
    }
  });
}

/**
 * A product through the loaded runtime (native when built) with each operand stored in either
 * layout: A as op(A) [M, K] or stored [K, M], B as op(B) [K, N] or stored [N, K].
 */
function product(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  B: Float32Array,
  opts: { C0?: Float32Array; relu?: boolean; bias?: Float32Array } = {},
): Float32Array {
  const stored = (x: Float32Array, rows: number, cols: number, trans: boolean) => {
    if (!trans) return x;
    const t = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = x[r * cols + c]!;
    return t;
  };
  const C = opts.C0 ? Float32Array.from(opts.C0) : new Float32Array(M * N);
  const ok = sgemm(
    transA,
    transB,
    M,
    N,
    K,
    stored(A, M, K, transA),
    0,
    stored(B, K, N, transB),
    0,
    C,
    0,
    opts.C0 !== undefined,
    opts.relu ?? false,
    opts.bias,
  );
  assert.ok(ok, 'the fast GEMM is loaded');
  return C;
}

test('products with a few columns (a classifier head) are right in every layout, and a batch row gives the bits of the row alone', () => {
  // On the native GEMM, N below half a panel and K of four vectors or more take the dot-product
  // route (gemm-kernel.inc dotProducts); shorter K the transposed panels. Both sides of each bound.
  const wide = native ? native.panelWidth / 2 : 8;
  for (const N of [1, 2, 3, 5, wide - 1, wide, wide + 1]) {
    for (const K of [3, 47, 63, 64, 65, 200, 512]) {
      for (const M of [1, 2, 5, 64]) {
        const A = rnd(M * K);
        const B = rnd(K * N);
        const C0 = rnd(M * N);
        const want = reference(false, false, M, N, K, A, B);
        const wantAcc = reference(false, false, M, N, K, A, B, C0);
        const what = `${M}x${N}x${K}`;
        const first = product(false, false, M, N, K, A, B);
        assertNear(first, want, K, what);
        for (const [ta, tb] of [
          [false, true],
          [true, false],
          [true, true],
        ] as const) {
          const got = product(ta, tb, M, N, K, A, B);
          assertNear(got, want, K, `${what} transA=${ta} transB=${tb}`);
          // Every layout reads the same values in the same order on the native GEMM.
          if (native)
            assert.deepEqual(got, first, `${what} transA=${ta} transB=${tb}: the bits of the first layout`);
        }
        assertNear(product(false, true, M, N, K, A, B, { C0 }), wantAcc, K, `${what} accumulated`);
        const plain = product(false, true, M, N, K, A, B);
        const relu = product(false, true, M, N, K, A, B, { relu: true });
        for (let i = 0; i < M * N; i++) assert.equal(relu[i], Math.max(0, plain[i]!), `${what} relu ${i}`);
        // The row alone: the same route, the same bits (on the native GEMM; the WASM one has its own
        // one-row and one-column loops).
        if (native) {
          const row = M - 1;
          const alone = product(false, true, 1, N, K, A.subarray(row * K, row * K + K), B);
          assert.deepEqual(alone, plain.subarray(row * N, row * N + N), `${what}: row ${row} alone`);
        }
      }
    }
  }
});

test('a column bias (Gemm with C as one row) is added to every row, before the Relu, in every route', () => {
  if (!nativeGemmOn()) {
    // Only the native GEMM takes a bias (the Gemm op writes it into C for the other engines).
    assert.throws(
      () => product(false, true, 2, 3, 4, rnd(8), rnd(12), { bias: rnd(3) }),
      /a bias needs the native GEMM/,
    );
    return;
  }
  const wide = native!.panelWidth;
  for (const [M, N, K] of [
    [64, 10, 512], // dot products
    [64, 5, 20], // transposed panels
    [3, 10, 20], // few rows
    [64, 3 * wide + 5, 300], // column panels and an edge panel
    [130, 2 * wide, 1100], // several row blocks and K blocks
    [4, 40, 0], // K = 0: the bias alone
  ] as const) {
    const A = rnd(M * K);
    const B = rnd(K * N);
    const bias = rnd(N);
    const rows = new Float32Array(M * N);
    for (let i = 0; i < M; i++) rows.set(bias, i * N);
    const want = reference(false, false, M, N, K, A, B, rows);
    const what = `${M}x${N}x${K}`;
    const got = product(false, true, M, N, K, A, B, { bias });
    assertNear(got, want, K, `${what} bias`);
    const relu = product(false, true, M, N, K, A, B, { bias, relu: true });
    for (let i = 0; i < M * N; i++)
      assert.equal(relu[i], Math.max(0, got[i]!), `${what} bias then relu ${i}`);
    if (K > 0) {
      const row = M - 1;
      const alone = product(false, true, 1, N, K, A.subarray(row * K, row * K + K), B, { bias });
      assert.deepEqual(alone, got.subarray(row * N, row * N + N), `${what}: row ${row} alone`);
    }
    // The native GEMM adds the bias to the finished sum: the product, then the addition.
    const sum = product(false, true, M, N, K, A, B);
    for (let i = 0; i < M * N; i++) assert.equal(got[i], Math.fround(sum[i]! + bias[i % N]!), `${what} ${i}`);
  }
});

test('a few-column product and a bias split across threads give the single-thread bits', () => {
  for (const [M, N, K, withBias] of [
    [4096, 10, 512, true], // dot products, split by rows
    [700, 300, 64, true], // column panels with a bias
    [9000, 6, 40, false], // transposed panels
  ] as const) {
    assert.ok(M * N * K >= PARALLEL_MIN_MACS, 'big enough to be split');
    const A = rnd(M * K);
    const W = rnd(N * K);
    markConstant(W);
    const bias = withBias && nativeGemmOn() ? rnd(N) : undefined;
    const one = onThreads(1, () => product(false, true, M, N, K, A, W, { bias }));
    const two = onThreads(2, () => {
      assert.ok(threadsFor(M, N, K) > 1, `${M}x${N}x${K} is split`);
      return product(false, true, M, N, K, A, W, { bias });
    });
    assert.deepEqual(two, one, `${M}x${N}x${K} on 2 threads`);
  }
});

test('on the native GEMM, a row-major A read in place gives the bits of the same A packed (stored transposed)', (t) => {
  if (!native) {
    t.skip('the native GEMM is not built');
    return;
  }
  // One row block of a row-major A is read in place (gemm-kernel.inc macro); a transposed A is
  // packed. Both run each element's FMA chain in k order, so the bits must agree, tail panels and
  // K blocks included.
  for (const [M, N, K] of [
    [64, 512, 784], // mlp-b64's first layer: 4 panels of MR, then a tail of two
    [13, 40, 300],
    [190, 33, 70],
    [1, 700, 40],
    [200, 40, 50], // two row blocks: packed either way
    [5, 100, 1024], // rows 4 KiB apart: packed either way
  ] as const) {
    const A = rnd(M * K);
    const B = rnd(K * N);
    const bias = rnd(N);
    const inPlace = product(false, true, M, N, K, A, B, { bias, relu: true });
    const packed = product(true, true, M, N, K, A, B, { bias, relu: true });
    assert.deepEqual(inPlace, packed, `${M}x${N}x${K}`);
    assertNear(
      inPlace,
      reference(false, false, M, N, K, A, B).map((v, i) => Math.max(0, v + bias[i % N]!)),
      K,
      `${M}x${N}x${K}`,
    );
  }
});
