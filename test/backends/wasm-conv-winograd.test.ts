/**
 * Winograd F(2x2, 3x3) (native/winograd-kernel.inc, wasm/winograd.ts) against independent
 * references: the weight transform against G g G^T multiplied out, the transform matrices against the
 * direct 2x2 correlation in float64, and whole convolutions (both the tiled form and the transposed
 * one for small maps) against the float64 TypeScript Conv with a bound from the sum of |x| |w| under
 * each output. Edge tiles (odd output sizes), pads 0..2 on each side, tile blocks that cross tile
 * rows, row blocks of channels, batches, bias, residual and Relu; thread counts and batch rows give
 * the same bits. Weights that are not a session's constants (training) run the direct product.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Conv2dShape,
  conv2dWasm,
  planConv2d,
  SHARED_COLS_BYTES,
  setWinogradConv,
} from '../../src/backends/cpu/wasm/conv.js';
import { native, nativeGemmOn } from '../../src/backends/cpu/wasm/runtime.js';
import { markConstant } from '../../src/backends/cpu/wasm/sgemm.js';
import { winogradShape, winogradWeights } from '../../src/backends/cpu/wasm/winograd.js';
import '../../src/index.js';
import { dispatch1 } from '../../src/ops/registry.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { lcg } from '../helpers/random.js';
import { onThreads } from '../helpers/threads.js';
import { type ConvSpec, outDim, spec3x3 } from './conv-spec.js';

const shapeOf = (s: ConvSpec): Conv2dShape => ({
  ...s,
  oH: outDim(s.H, s.kH, s.sH, s.dH, s.pH, s.peH),
  oW: outDim(s.W, s.kW, s.sW, s.dW, s.pW, s.peW),
});

/** The float64 TypeScript Conv (im2col + the TypeScript GEMM). */
function conv64(
  s: ConvSpec,
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b?: ArrayLike<number>,
): Float64Array {
  return dispatch1(
    'Conv',
    [
      Tensor.fromData(Float64Array.from(x), [s.N, s.C, s.H, s.W], 'float64'),
      Tensor.fromData(Float64Array.from(w), [s.M, s.C, 3, 3], 'float64'),
      b ? Tensor.fromData(Float64Array.from(b), [s.M], 'float64') : undefined,
    ],
    { kernel_shape: [3, 3], pads: [s.pH, s.pW, s.peH, s.peW] },
  ).dataSync() as Float64Array;
}

/**
 * got against relu(conv(x, w) + b + z) in float64 (`ref`), each element within 1e-6 of the sum of
 * the magnitudes it adds up (|x| |w| under it, |b|, |z|): float32 transforms and products round a
 * few times per term, far below that, while a wrong tap or tile is off by a whole term.
 */
function assertClose(
  got: Float32Array,
  ref: Reference,
  z: Float32Array | undefined,
  relu: boolean,
  what: string,
): void {
  const { want, scale } = ref;
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    let v = want[i]! + (z ? z[i]! : 0);
    if (relu) v = Math.max(v, 0);
    const bound = 1e-6 * (scale[i]! + (z ? Math.abs(z[i]!) : 0)) + 1e-30;
    if (!(Math.abs(got[i]! - v) <= bound))
      assert.fail(`${what}: element ${i}: got ${got[i]}, expected ${v} (bound ${bound})`);
  }
}

/** conv(x, w) + b in float64 and the sum of the magnitudes each output adds up. */
interface Reference {
  want: Float64Array;
  scale: Float64Array;
}

function reference(s: ConvSpec, x: Float32Array, w: Float32Array, b: Float32Array | undefined): Reference {
  const abs = (a: Float32Array) => a.map(Math.abs);
  return { want: conv64(s, x, w, b), scale: conv64(s, abs(x), abs(w), b && abs(b)) };
}

let seed = 11;
const data = (n: number) => lcg(n, seed++);

test('the weight transform is G g G^T, multiplied out in float64', () => {
  const M = 3;
  const C = 5;
  const w = data(M * C * 9);
  const U = winogradWeights(w, M, C);
  const G = [
    [1, 0, 0],
    [0.5, 0.5, 0.5],
    [0.5, -0.5, 0.5],
    [0, 0, 1],
  ];
  for (let m = 0; m < M; m++)
    for (let c = 0; c < C; c++)
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) {
          let v = 0;
          for (let a = 0; a < 3; a++)
            for (let b = 0; b < 3; b++) v += G[i]![a]! * w[(m * C + c) * 9 + a * 3 + b]! * G[j]![b]!;
          assert.equal(U[(4 * i + j) * M * C + m * C + c], Math.fround(v), `U[${i}${j}] of (${m}, ${c})`);
        }
});

test('the F(2x2, 3x3) transforms give the direct 2x2 correlation (float64, the matrices the kernel uses)', () => {
  // Written as in winograd-kernel.inc's header; checked here on numbers, independently of the C++.
  const BT = [
    [1, 0, -1, 0],
    [0, 1, 1, 0],
    [0, -1, 1, 0],
    [0, 1, 0, -1],
  ];
  const AT = [
    [1, 1, 1, 0],
    [0, 1, -1, -1],
  ];
  const d = Array.from(data(16));
  const g = data(9);
  const U = winogradWeights(g, 1, 1);
  // V = B^T d B, then Y = A^T (U . V) A.
  const V = (i: number, j: number) => {
    let v = 0;
    for (let a = 0; a < 4; a++) for (let b = 0; b < 4; b++) v += BT[i]![a]! * d[a * 4 + b]! * BT[j]![b]!;
    return v;
  };
  for (let r = 0; r < 2; r++)
    for (let c = 0; c < 2; c++) {
      let y = 0;
      for (let i = 0; i < 4; i++)
        for (let j = 0; j < 4; j++) y += AT[r]![i]! * U[4 * i + j]! * V(i, j) * AT[c]![j]!;
      let direct = 0;
      for (let a = 0; a < 3; a++)
        for (let b = 0; b < 3; b++) direct += d[(r + a) * 4 + c + b]! * g[a * 3 + b]!;
      assert.ok(Math.abs(y - direct) < 1e-6, `output (${r}, ${c}): ${y} vs ${direct}`);
    }
});

test('which geometries may run as Winograd: 3x3, unit strides and dilations, one group, pads up to 2', () => {
  const s = shapeOf(spec3x3(1, 64, 28, 28, 64));
  assert.equal(winogradShape(s), true);
  for (const change of [
    { sH: 2 },
    { sW: 2 },
    { dH: 2 },
    { dW: 2 },
    { group: 2 },
    { kH: 5 },
    { kW: 1 },
    { pH: 3 },
  ])
    assert.equal(winogradShape({ ...s, ...change }), false, JSON.stringify(change));
  if (!nativeGemmOn()) return;
  assert.equal(planConv2d(s, 1).winograd, true);
  const prev = setWinogradConv(false);
  try {
    assert.equal(planConv2d(s, 1).winograd, false, 'switched off');
  } finally {
    setWinogradConv(prev);
  }
});

/**
 * [what, spec, panel widths whose plan is the transposed Winograd form]: the rest run the tiled form
 * (28x28 and larger maps) or, for small maps where the channels do not fill the panels better than
 * the tiles do (narrower panels), not as Winograd at all.
 */
const CASES: [string, ConvSpec, number[] | null][] = [
  ['56x56 64->64: tile blocks crossing tile rows', spec3x3(1, 64, 56, 56, 64), null],
  ['20x20 64->64: one tile block, row blocks', spec3x3(1, 64, 20, 20, 64), null],
  ['odd 27x27 map, 32->128', spec3x3(1, 32, 27, 27, 128), null],
  ['two images, 31x45, pads 2/1 before and 0/2 after', spec3x3(2, 40, 31, 45, 50, [2, 1, 0, 2]), null],
  ['no padding (28x22 -> 26x20), 33->37', spec3x3(1, 33, 28, 22, 37, [0, 0, 0, 0]), null],
  ['14x14 256->256', spec3x3(1, 256, 14, 14, 256), [16, 32]],
  ['odd 13x13, two images, 48->120 (a last part of 56 channels)', spec3x3(2, 48, 13, 13, 120), [32]],
  ['13x13 output from 14x13, pads 1/1 before and 0/1 after', spec3x3(1, 48, 14, 13, 120, [1, 1, 0, 1]), [32]],
];

test('Winograd convolutions match the float64 reference: bias, residual and Relu, one thread and two', (t) => {
  if (!nativeGemmOn()) return t.skip('Winograd runs on the native kernels only');
  const NR = native!.panelWidth;
  for (const [what, s, transposedWidths] of CASES) {
    const shape = shapeOf(s);
    const plan = planConv2d(shape, 2);
    const transposed = transposedWidths?.includes(NR) ?? false;
    assert.equal(plan.winograd, !transposedWidths || transposed, `${what}: Winograd plan (panels of ${NR})`);
    assert.equal(plan.transposed, transposed, `${what}: transposed (panels of ${NR})`);
    // Weights that change every call (training) run the direct product: transforming them per call
    // would cost more than Winograd saves.
    assert.equal(planConv2d(shape, 2, false).winograd, false, `${what}: not for weights that change`);
    const x = data(s.N * s.C * s.H * s.W);
    const w = data(s.M * s.C * 9);
    const b = data(s.M);
    const z = data(s.N * s.M * shape.oH * shape.oW);
    const wc = w.slice();
    markConstant(wc);
    const withBias = reference(s, x, w, b);
    const noBias = reference(s, x, w, undefined);
    for (const threads of [1, 2])
      for (const [weights, bias, res, relu] of [
        [wc, b, undefined, true],
        [wc, undefined, z, false],
        [w, b, z, true],
        [w, undefined, undefined, false],
      ] as const) {
        const got = onThreads(threads, () => conv2dWasm(shape, x, weights, bias, relu, res)!);
        const label = `${what}, ${threads} thread(s), constant ${weights === wc}, bias ${!!bias}, residual ${!!res}, relu ${relu}`;
        assertClose(got, bias ? withBias : noBias, res, relu, label);
      }
  }
  // The cases do cover several tile blocks and row blocks of channels.
  assert.ok(planConv2d(shapeOf(CASES[0]![1]), 2).tiles > 1, 'the 56x56 case has tile blocks');
  const small = planConv2d(shapeOf(CASES[1]![1]), 2);
  assert.ok(small.tiles === 1 && small.mParts > 1, 'the 20x20 case has row blocks');
  if (NR === 32) assert.ok(planConv2d(shapeOf(CASES[7]![1]), 2).mParts > 1, 'a 13x13 case has two parts');
});

test('Winograd gives the same bits on one thread and two, and for a batch row alone', (t) => {
  if (!nativeGemmOn()) return t.skip('Winograd runs on the native kernels only');
  for (const s of [spec3x3(2, 64, 30, 30, 96), spec3x3(2, 64, 14, 14, 128)]) {
    const shape = shapeOf(s);
    const x = data(s.N * s.C * s.H * s.W);
    const w = data(s.M * s.C * 9);
    markConstant(w);
    const b = data(s.M);
    const one = onThreads(1, () => conv2dWasm(shape, x, w, b, true)!);
    const two = onThreads(2, () => conv2dWasm(shape, x, w, b, true)!);
    assert.ok(Buffer.from(one.buffer).equals(Buffer.from(two.buffer)), `${JSON.stringify(s)}: threads`);
    const row = s.C * s.H * s.W;
    const alone = onThreads(2, () => conv2dWasm({ ...shape, N: 1 }, x.slice(row), w, b, true)!);
    const second = two.subarray(two.length / 2);
    assert.ok(
      Buffer.from(alone.buffer).equals(Buffer.from(second.slice().buffer)),
      `${JSON.stringify(s)}: batch row`,
    );
  }
});

test('a batch too large to pack its transformed input once a call gives every row the bits of the row alone', (t) => {
  if (!nativeGemmOn()) return t.skip('Winograd runs on the native kernels only');
  // Transposed Winograd packs every image's transformed input once a call (16 x tiles x C floats an
  // image) up to SHARED_COLS_BYTES; past it each work unit transforms its own image. Rows alone take
  // the packed path, which the reference tests above check.
  const s = spec3x3(1, 32, 14, 14, 64);
  const perImage = 16 * 49 * s.C * 4;
  const N = Math.floor(SHARED_COLS_BYTES / perImage) + 3;
  const shape = shapeOf({ ...s, N });
  const plan = planConv2d(shape, 2);
  if (native!.panelWidth >= 16) assert.ok(plan.winograd && plan.transposed, 'transposed Winograd plan');
  const row = s.C * s.H * s.W;
  const x = data(N * row);
  const w = data(s.M * s.C * 9);
  markConstant(w);
  const b = data(s.M);
  const z = data(N * s.M * 196);
  const fused = onThreads(2, () => conv2dWasm(shape, x, w, b, true, z)!);
  assert.equal(fused.length, N * s.M * 196);
  const out = s.M * 196;
  for (const n of [0, 1, N >> 1, N - 1]) {
    const alone = onThreads(
      2,
      () =>
        conv2dWasm(
          shapeOf(s),
          x.subarray(n * row, (n + 1) * row),
          w,
          b,
          true,
          z.slice(n * out, (n + 1) * out),
        )!,
    );
    assert.ok(
      Buffer.from(alone.slice().buffer).equals(Buffer.from(fused.slice(n * out, (n + 1) * out).buffer)),
      `image ${n} of ${N}`,
    );
  }
});

test('Winograd is a few roundings from the direct product, not more', (t) => {
  if (!nativeGemmOn()) return t.skip('Winograd runs on the native kernels only');
  // Both forms against float64: Winograd's worst error stays within a small multiple of the direct
  // product's (a transform bug that loses precision, e.g. a float16-sized step, would not).
  const s = spec3x3(1, 128, 28, 28, 64);
  const shape = shapeOf(s);
  const x = data(s.N * s.C * s.H * s.W);
  const w = data(s.M * s.C * 9);
  markConstant(w);
  const want = conv64(s, x, w);
  const worst = (y: Float32Array) => y.reduce((e, v, i) => Math.max(e, Math.abs(v - want[i]!)), 0);
  const wino = conv2dWasm(shape, x, w, undefined, false)!;
  const prev = setWinogradConv(false);
  let direct: Float32Array;
  try {
    direct = conv2dWasm(shape, x, w, undefined, false)!;
  } finally {
    setWinogradConv(prev);
  }
  // A different computation (so the switch did change the path), about as close to the truth.
  assert.ok(
    !Buffer.from(wino.buffer).equals(Buffer.from(direct.buffer)),
    'the two forms differ in their last bits',
  );
  assert.ok(worst(wino) < 8 * worst(direct), `Winograd ${worst(wino)} vs direct ${worst(direct)}`);
});
