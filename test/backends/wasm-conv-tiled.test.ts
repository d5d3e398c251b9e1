/**
 * The WASM convolution of issue 6's third round against independent references: the tiled
 * im2col + GEMM path (tiles that cross output rows, row blocks of output channels, 1x1 read in
 * place, one thread and two), the direct depthwise kernel (channel multipliers, strides 1/2/3,
 * dilations, asymmetric pads, 1x1 to 5x7 kernels) and Relu fused into both, each compared with the
 * TypeScript reference path (the float64 Conv: im2col + TypeScript GEMM) and, for the fused Relu,
 * with Conv followed by the Relu op; then a session over such layers against onnxruntime-node.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { getNumThreads, setNumThreads } from '../../src/backends/cpu/threads/config.js';
import {
  type Conv2dShape,
  conv2dWasm,
  planConv2d,
  setTransposedConv,
  setWinogradConv,
} from '../../src/backends/cpu/wasm/conv.js';
import { native, nativeGemmOn, wasm } from '../../src/backends/cpu/wasm/runtime.js';
import { markConstant, PARALLEL_MIN_MACS } from '../../src/backends/cpu/wasm/sgemm.js';
import '../../src/index.js';
import { encodeModel, node, weight } from '../../bench/onnx-build.js';
import { dispatch1 } from '../../src/ops/registry.js';
import { noGrad } from '../../src/runtime/autograd.js';
import { Generator } from '../../src/runtime/random.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { type ConvSpec, outDim, spec3x3 } from './conv-spec.js';

const gen = new Generator(9173);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform() * 2 - 1);
const randInt = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));
const pick = <T>(xs: readonly T[]) => xs[randInt(0, xs.length - 1)]!;

type Spec = ConvSpec;
const oH = (s: Spec) => outDim(s.H, s.kH, s.sH, s.dH, s.pH, s.peH);
const oW = (s: Spec) => outDim(s.W, s.kW, s.sW, s.dW, s.pW, s.peW);
const shapeOf = (s: Spec): Conv2dShape => ({ ...s, oH: oH(s), oW: oW(s) });
const attrsOf = (s: Spec) => ({
  kernel_shape: [s.kH, s.kW],
  strides: [s.sH, s.sW],
  dilations: [s.dH, s.dW],
  pads: [s.pH, s.pW, s.peH, s.peW],
  group: s.group,
});

/** A 3x3 "same" convolution, 64 -> 27 channels on 21x37: the base the fixed cases below vary. */
const SAME_3X3: Spec = spec3x3(1, 64, 21, 37, 27);

/** The TypeScript reference: Conv on float64 tensors (im2col + the TypeScript GEMM), then Relu. */
function reference(s: Spec, x: Float32Array, w: Float32Array, b: Float32Array | undefined, relu: boolean) {
  const y = dispatch1(
    'Conv',
    [
      Tensor.fromData(Float64Array.from(x), [s.N, s.C, s.H, s.W], 'float64'),
      Tensor.fromData(Float64Array.from(w), [s.M, s.C / s.group, s.kH, s.kW], 'float64'),
      b ? Tensor.fromData(Float64Array.from(b), [s.M], 'float64') : undefined,
    ],
    attrsOf(s),
  );
  const v = y.dataSync() as Float64Array;
  return relu ? v.map((e) => Math.max(e, 0)) : v;
}

function assertNear(got: ArrayLike<number>, want: ArrayLike<number>, K: number, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const tol = 1e-6 * (4 + Math.sqrt(K) * 4);
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i]! - want[i]!);
    if (!(d <= tol * (1 + Math.abs(want[i]!))))
      assert.fail(`${what}: element ${i}: got ${got[i]}, expected ${want[i]} (|diff| ${d})`);
  }
}

/** Runs conv2dWasm with and without bias/Relu on `threads` threads against the reference. */
function check(s: Spec, threads: number, what: string, constant = false): void {
  const x = rnd(s.N * s.C * s.H * s.W);
  const w = rnd((s.M * s.C * s.kH * s.kW) / s.group);
  const b = rnd(s.M);
  if (constant) {
    markConstant(w);
    markConstant(b);
  }
  const K = (s.C / s.group) * s.kH * s.kW;
  const saved = getNumThreads();
  setNumThreads(threads);
  try {
    for (const [bias, relu] of [
      [true, true],
      [false, false],
      [true, false],
    ] as const) {
      const got = conv2dWasm(shapeOf(s), x, w, bias ? b : undefined, relu)!;
      const want = reference(s, x, w, bias ? b : undefined, relu);
      assertNear(got, want, K, `${what} bias=${bias} relu=${relu} ${JSON.stringify(s)}`);
    }
  } finally {
    setNumThreads(saved);
  }
}

function randomSpec(kind: 'any' | 'depthwise'): Spec {
  const kH = randInt(1, 5);
  const kW = randInt(1, 7);
  const dH = randInt(1, 2);
  const dW = randInt(1, 3);
  const sH = randInt(1, 3);
  const sW = randInt(1, 3);
  let C: number;
  let M: number;
  let group: number;
  if (kind === 'depthwise') {
    C = randInt(2, 9);
    group = C;
    M = C * pick([1, 1, 2, 3, 5]);
  } else {
    group = pick([1, 1, 2, 3, 4]);
    C = group * randInt(1, 5);
    M = group * randInt(1, 9);
  }
  const s: Spec = {
    N: randInt(1, 3),
    C,
    H: randInt(1, 19),
    W: randInt(1, 41),
    M,
    group,
    kH,
    kW,
    sH,
    sW,
    dH,
    dW,
    pH: randInt(0, 3),
    pW: randInt(0, 3),
    peH: randInt(0, 3),
    peW: randInt(0, 3),
  };
  return s;
}

test('tiled im2col + GEMM conv matches the TypeScript reference on random shapes (groups, pads, strides, dilations)', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  let ran = 0;
  while (ran < 60) {
    const s = randomSpec('any');
    if (oH(s) < 1 || oW(s) < 1) continue;
    check(s, 1, `random ${ran}`, ran % 2 === 0);
    ran++;
  }
});

test('the depthwise kernel (one input channel per group, channel multipliers) matches the reference', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  let ran = 0;
  while (ran < 60) {
    const s = randomSpec('depthwise');
    if (oH(s) < 1 || oW(s) < 1) continue;
    assert.ok(planConv2d(shapeOf(s)).depthwise, 'takes the depthwise kernel');
    check(s, 1, `depthwise ${ran}`, ran % 3 === 0);
    ran++;
  }
  // Wide rows (16- and 8-wide blocks and a tail), 3x3 at strides 1, 2, 3, dilation 2, 5x5.
  for (const [k, st, d, W] of [
    [3, 1, 1, 53],
    [3, 2, 1, 67],
    [3, 3, 1, 40],
    [3, 1, 2, 35],
    [5, 1, 1, 50],
    [5, 2, 1, 31],
  ] as const) {
    const s: Spec = {
      N: 2,
      C: 5,
      H: 11,
      W,
      M: 10,
      group: 5,
      kH: k,
      kW: k,
      sH: st,
      sW: st,
      dH: d,
      dW: d,
      pH: 1,
      pW: k >> 1,
      peH: 2,
      peW: 0,
    };
    check(s, 1, `depthwise ${k}x${k} stride ${st} dilation ${d}`);
  }
});

test('big convolutions split into tiles that cross output rows and into row blocks, on one thread and two', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  const base = SAME_3X3;
  const cases: [string, Spec][] = [
    ['3x3 64->27 on 21x37', base],
    ['two images, two groups, stride 2, asymmetric pads', { ...base, N: 2, group: 2, M: 26, sW: 2, peW: 0 }],
    // Few output positions, many channels: the output channels are cut into row blocks.
    ['7x9 map, 512->131', { ...base, C: 128, H: 7, W: 9, M: 131 }],
    // 1x1, unit strides, no padding: the GEMM reads X in place (tiles and row blocks).
    ['1x1 in place', { ...base, C: 96, H: 33, W: 35, M: 50, kH: 1, kW: 1, pH: 0, pW: 0, peH: 0, peW: 0 }],
    [
      '1x1 in place, grouped, small map',
      { ...base, C: 544, H: 7, W: 7, M: 544, group: 4, kH: 1, kW: 1, pH: 0, pW: 0, peH: 0, peW: 0 },
    ],
    // One input channel, 64 outputs: too many per channel for the depthwise kernel.
    [
      '1 -> 64 channels, 5x5',
      { ...base, C: 1, M: 64, H: 45, W: 47, kH: 5, kW: 5, pH: 2, pW: 2, peH: 2, peW: 2 },
    ],
    ['depthwise, large', { ...base, C: 96, M: 192, group: 96, H: 57, W: 61 }],
  ];
  for (const [what, s] of cases) {
    const plan1 = planConv2d(shapeOf(s), 1);
    const plan2 = planConv2d(shapeOf(s), 2);
    assert.equal(plan1.threads, 1);
    const L = oH(s) * oW(s);
    if (!plan1.depthwise) {
      // Tiles cover every output position; row blocks are whole micro-tiles but for the last.
      assert.ok(plan1.tile * plan1.tiles >= L && plan1.tile * (plan1.tiles - 1) < L, `${what}: tiles`);
      // (A transposed plan's blocks are of output channels, whole panels of B.)
      const unit = plan2.transposed ? native!.panelWidth : 6;
      assert.ok(plan2.mRows === s.M / s.group || plan2.mRows % unit === 0, `${what}: row blocks`);
    }
    const macs = (s.N * s.M * L * s.C * s.kH * s.kW) / s.group;
    if (macs >= PARALLEL_MIN_MACS) assert.equal(plan2.threads, 2, `${what}: split across two threads`);
    check(s, 1, `${what}, one thread`, true);
    check(s, 2, `${what}, two threads`);
  }
  // The cases above do exercise tiles and row blocks.
  assert.ok(planConv2d(shapeOf(base), 1).tiles > 1, 'the 3x3 case has several tiles');
  assert.ok(planConv2d(shapeOf(cases[2]![1]), 2).mParts > 1, 'the small-map case has row blocks');
});

test("the transposed product (few output positions, many channels) matches the reference and gives the direct product's bits", (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  // The direct transposed product: 3x3 layers on 14x14 maps would run as Winograd otherwise
  // (wasm-conv-winograd.test.ts), which does not give the direct product's bits.
  const winograd = setWinogradConv(false);
  t.after(() => setWinogradConv(winograd));
  const base: Spec = { ...SAME_3X3, H: 7, W: 7, M: 96 };
  // [what, shape, panel widths whose plan is transposed] (196 positions fill 98% of 8-wide panels, as the channels do).
  const cases: [string, Spec, number[]][] = [
    ['3x3 64->96 on 7x7', base, [8, 16, 32]],
    [
      '1x1 read in place, 5x5 map',
      { ...base, C: 96, H: 5, W: 5, M: 64, kH: 1, kW: 1, pH: 0, pW: 0, peH: 0, peW: 0 },
      [8, 16, 32],
    ],
    // Channels that end in a partial panel, two images, a stride and asymmetric pads.
    [
      'two images, stride 2, 70 channels',
      { ...base, N: 2, H: 9, W: 8, M: 70, sH: 2, sW: 2, peW: 0 },
      [8, 16, 32],
    ],
    // Many positions past one row block of the GEMM (14x14 = 196), K over several K blocks.
    ['3x3 40->128 on 14x14', { ...base, C: 40, H: 14, W: 14, M: 128 }, [16, 32]],
  ];
  for (const [what, s, widths] of cases) {
    const shape = shapeOf(s);
    // Only the native driver has the transposed product.
    const want = nativeGemmOn() && widths.includes(native!.panelWidth);
    assert.equal(planConv2d(shape, 2).transposed, want, `${what}: plan`);
    check(s, 1, `${what}, one thread`, true);
    check(s, 2, `${what}, two threads`, true);
    const x = rnd(s.N * s.C * s.H * s.W);
    const w = rnd(s.M * s.C * s.kH * s.kW);
    const b = rnd(s.M);
    const z = rnd(s.N * s.M * oH(s) * oW(s));
    const saved = getNumThreads();
    setNumThreads(2);
    try {
      // With a residual (added on Y) and without (bias and Relu on the transposed block).
      for (const [constant, res] of [
        [false, z],
        [true, z],
        [true, undefined],
      ] as const) {
        if (constant) markConstant(w);
        const zz = nativeGemmOn() ? res : undefined;
        const fused = conv2dWasm(shape, x, w, b, true, zz)!;
        const prev = setTransposedConv(false);
        assert.equal(planConv2d(shape, 2).transposed, false);
        const direct = conv2dWasm(shape, x, w, b, true, zz)!;
        setTransposedConv(prev);
        assert.ok(
          Buffer.from(fused.buffer).equals(Buffer.from(direct.buffer)),
          `${what}: transposed and direct give the same bits (constant weights ${constant}, residual ${!!zz})`,
        );
      }
    } finally {
      setNumThreads(saved);
    }
  }
});

test('output channels whose last panel the native GEMM splits (M % panel rows small): reference values, row blocks on panel boundaries', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  // The native GEMM cuts a last panel of r <= MR / 2 - 1 rows, with the MR rows before it, into two
  // (gemm-kernel.inc panelRows); a row block of the weights must not start between them.
  const MR = nativeGemmOn() ? native!.panelRows : 6;
  const tailStart = (M: number) => {
    const r = M % MR;
    return r >= 1 && r <= MR / 2 - 1 && M > MR ? M - r - MR : M - r;
  };
  let blocksChecked = 0;
  for (const r of [1, 2, 3, 4, 5, 6]) {
    for (const M of [MR + r, 4 * MR + r, 5 * MR + r, 6 * MR + r]) {
      // Tiled on a 16x16 map (many positions: row blocks), transposed on 5x5 (few), 1x1 read in place.
      for (const s of [
        { ...SAME_3X3, C: 24, H: 16, W: 16, M },
        { ...SAME_3X3, C: 40, H: 5, W: 5, M },
        { ...SAME_3X3, C: 48, H: 9, W: 9, M, kH: 1, kW: 1, pH: 0, pW: 0, peH: 0, peW: 0 },
      ]) {
        const plan = planConv2d(shapeOf(s), 2);
        if (nativeGemmOn() && !plan.transposed) {
          const t0 = tailStart(M);
          for (let m0 = plan.mRows; m0 < M; m0 += plan.mRows) {
            assert.ok(m0 <= t0, `M=${M}: a row block starts at ${m0}, inside the split tail from ${t0}`);
            blocksChecked++;
          }
        }
        check(s, 2, `M=${M} (r=${r}) ${plan.transposed ? 'transposed' : 'tiled'}, two threads`, true);
        check(s, 1, `M=${M} (r=${r}), one thread`);
      }
    }
  }
  if (nativeGemmOn()) assert.ok(blocksChecked > 0, 'some plans cut the channels into row blocks');
});

test('the WASM weight gradient (ConvWeightGrad on float32, tiled im2col) matches the float64 TypeScript path', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  const specs: Spec[] = [];
  for (let i = 0; i < 30; i++) specs.push(randomSpec(i % 3 === 0 ? 'depthwise' : 'any'));
  // Several tiles per image (tiles crossing output rows), two images, and a product big enough to
  // be split across threads.
  specs.push({
    N: 2,
    C: 64,
    H: 41,
    W: 61,
    M: 80,
    group: 2,
    kH: 3,
    kW: 3,
    sH: 1,
    sW: 2,
    dH: 1,
    dW: 1,
    pH: 1,
    pW: 1,
    peH: 0,
    peW: 2,
  });
  const saved = getNumThreads();
  setNumThreads(2);
  try {
    for (const [i, s] of specs.entries()) {
      if (oH(s) < 1 || oW(s) < 1) continue;
      const x = rnd(s.N * s.C * s.H * s.W);
      const dy = rnd(s.N * s.M * oH(s) * oW(s));
      const attrs = { ...attrsOf(s), kernel_shape: [s.kH, s.kW] };
      const op = (dtype: 'float32' | 'float64') =>
        dispatch1(
          'ConvWeightGrad',
          [
            Tensor.fromData(dtype === 'float32' ? x : Float64Array.from(x), [s.N, s.C, s.H, s.W], dtype),
            Tensor.fromData(
              dtype === 'float32' ? dy : Float64Array.from(dy),
              [s.N, s.M, oH(s), oW(s)],
              dtype,
            ),
          ],
          attrs,
          { domain: 'com.tessera' },
        );
      const got = op('float32');
      assert.deepEqual(got.shape, [s.M, s.C / s.group, s.kH, s.kW]);
      assertNear(
        got.dataSync() as Float32Array,
        op('float64').dataSync() as Float64Array,
        s.N * oH(s) * oW(s),
        `dW ${i} ${JSON.stringify(s)}`,
      );
    }
  } finally {
    setNumThreads(saved);
  }
});

test('empty convolutions give empty outputs; zero input channels give the bias', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  const s: Spec = { ...SAME_3X3, N: 0, C: 3, H: 5, W: 5, M: 4 };
  assert.equal(conv2dWasm(shapeOf(s), new Float32Array(0), rnd(4 * 27), undefined, false)!.length, 0);
  const y = dispatch1(
    'Conv',
    [
      Tensor.fromData(new Float32Array(0), [0, 3, 5, 5], 'float32'),
      Tensor.fromData(rnd(4 * 27), [4, 3, 3, 3], 'float32'),
    ],
    attrsOf(s),
  );
  assert.deepEqual(y.shape, [0, 4, 5, 5]);
  // C = 0: every output is its channel's bias (by the definition: an empty sum plus B).
  const b = new Float32Array([1.5, -2, 0.25]);
  const z = conv2dWasm(
    shapeOf({ ...s, N: 1, C: 0, M: 3 }),
    new Float32Array(0),
    new Float32Array(0),
    b,
    true,
  )!;
  assert.deepEqual(
    [...z],
    [...new Array(25).fill(1.5), ...new Array(25).fill(0), ...new Array(25).fill(0.25)],
  );
});

test('FusedConv with Relu (one WASM pass) equals Conv then the Relu op: -0 becomes +0, NaN stays', () => {
  for (const s of [
    { x: [2, 6, 9, 11], w: [4, 3, 3, 3], group: 2, pads: [1, 0, 2, 1], strides: [2, 1] },
    { x: [1, 4, 8, 8], w: [8, 1, 3, 3], group: 4, pads: [1, 1, 1, 1], strides: [1, 1] },
    { x: [1, 5, 6, 7], w: [7, 5, 1, 1], group: 1, pads: [0, 0, 0, 0], strides: [1, 1] },
  ]) {
    const xv = rnd(s.x.reduce((p, q) => p * q, 1));
    xv[5] = Number.NaN;
    const x = Tensor.fromData(xv, s.x, 'float32');
    const w = Tensor.fromData(rnd(s.w.reduce((p, q) => p * q, 1)), s.w, 'float32');
    const b = Tensor.fromData(rnd(s.w[0]!), [s.w[0]!], 'float32');
    const attrs = { kernel_shape: s.w.slice(2), pads: s.pads, strides: s.strides, group: s.group };
    const want = dispatch1('Relu', [dispatch1('Conv', [x, w, b], attrs)]).dataSync() as Float32Array;
    const got = dispatch1(
      'FusedConv',
      [x, w, b],
      { ...attrs, activation: 'Relu' },
      { domain: 'com.tessera' },
    );
    const g = got.dataSync() as Float32Array;
    assert.equal(g.length, want.length);
    let nan = 0;
    for (let i = 0; i < g.length; i++) {
      if (Number.isNaN(want[i]!)) {
        assert.ok(Number.isNaN(g[i]!), `NaN kept at ${i}`);
        nan++;
        continue;
      }
      assert.ok(!Object.is(g[i], -0), `+0, not -0, at ${i}`);
      assert.ok(Math.abs(g[i]! - want[i]!) <= 1e-5 * (1 + Math.abs(want[i]!)), `element ${i}`);
    }
    assert.ok(nan > 0, 'the NaN input reaches some outputs');
    assert.ok(
      g.some((v) => v === 0),
      'some outputs are clamped',
    );
  }
});

test('FusedConv records Conv and Relu for autograd when an input requires grad', () => {
  const xv = rnd(2 * 3 * 5 * 5);
  const wv = rnd(4 * 3 * 3 * 3);
  const attrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const x = Tensor.fromData(xv, [2, 3, 5, 5], 'float32');
  const w = Tensor.fromData(wv, [4, 3, 3, 3], 'float32');
  w.requiresGrad = true;
  const y = dispatch1('FusedConv', [x, w], { ...attrs, activation: 'Relu' }, { domain: 'com.tessera' });
  assert.ok(y.requiresGrad, 'the output is on the tape');
  y.sum().backward();
  // The same gradient through the two ops dispatched one after the other.
  const w2 = Tensor.fromData(Float32Array.from(wv), [4, 3, 3, 3], 'float32');
  w2.requiresGrad = true;
  dispatch1('Relu', [dispatch1('Conv', [x, w2], attrs)])
    .sum()
    .backward();
  assertNear(w.grad!.dataSync() as Float32Array, w2.grad!.dataSync() as Float32Array, 50, 'dW');
  const ref = noGrad(() => dispatch1('Conv', [x, w], attrs)).dataSync() as Float32Array;
  const yv = y.dataSync() as Float32Array;
  for (let i = 0; i < yv.length; i++) assert.equal(yv[i], Math.max(ref[i]!, 0));
});

/**
 * A small network of the convolutions the light models use (stride-2 3x3, grouped 1x1, depthwise
 * with and without a channel multiplier, 1x1, 5x5), each followed by Relu or not, as ONNX bytes.
 */
function convNetModel(): { bytes: Uint8Array; input: number[]; output: number[] } {
  const g = new Generator(31);
  const input = [2, 12, 29, 31];
  const layers: [string, number[], Record<string, number | number[]>, boolean][] = [
    ['c1', [48, 12, 3, 3], { pads: [1, 1, 1, 1] }, true],
    ['c2', [48, 48, 3, 3], { pads: [1, 0, 1, 2], strides: [2, 2] }, true],
    ['c3', [36, 16, 1, 1], { group: 3 }, true],
    ['c4', [36, 1, 3, 3], { group: 36, pads: [1, 1, 1, 1] }, false],
    ['c5', [72, 1, 3, 3], { group: 36, pads: [2, 2, 2, 2], strides: [2, 2], dilations: [2, 2] }, true],
    ['c6', [40, 72, 1, 1], {}, true],
    ['c7', [16, 40, 5, 5], { pads: [2, 2, 2, 2] }, false],
  ];
  const weights: Record<string, Tensor> = {};
  const nodes = [];
  let prev = 'x';
  for (const [name, shape, attrs, relu] of layers) {
    weights[`${name}w`] = weight(shape, shape[1]! * shape[2]! * shape[3]!, g);
    weights[`${name}b`] = weight([shape[0]!], shape[1]! * 9, g);
    nodes.push(node('Conv', [prev, `${name}w`, `${name}b`], [`${name}y`], attrs));
    prev = `${name}y`;
    if (relu) {
      nodes.push(node('Relu', [prev], [`${name}r`]));
      prev = `${name}r`;
    }
  }
  // 29x31 -> (3x3 s2, pads 1/0 1/2) 15x16 -> (dilated depthwise s2) 8x8.
  const output = [2, 16, 8, 8];
  const bytes = encodeModel('convnet', { nodes, weights, inputs: [['x', input]], outputs: [[prev, output]] });
  return { bytes, input, output };
}

test('a session over strided, grouped, depthwise and fused Conv+Relu layers agrees with onnxruntime-node', async () => {
  const m = convNetModel();
  const ours = await InferenceSession.create(m.bytes);
  const theirs = await ort.InferenceSession.create(m.bytes, { logSeverityLevel: 3 });
  try {
    for (let run = 0; run < 2; run++) {
      const x = rnd(m.input.reduce((p, q) => p * q, 1));
      const name = ours.outputNames[0]!;
      const mine = (await ours.run({ x: Tensor.fromData(x, m.input, 'float32') }))[name]!;
      const ref = (await theirs.run({ x: new ort.Tensor('float32', x, m.input) }))[name] as ort.Tensor;
      assert.deepEqual([...mine.shape], m.output);
      const a = mine.dataSync() as Float32Array;
      const e = ref.data as Float32Array;
      let scale = 0;
      for (const v of e) scale = Math.max(scale, Math.abs(v));
      assert.ok(scale > 0.05, 'the outputs are not all near zero');
      for (let i = 0; i < e.length; i++)
        assert.ok(
          Math.abs(a[i]! - e[i]!) <= 2e-5 * (1 + scale),
          `run ${run} [${i}]: tessera ${a[i]}, onnxruntime ${e[i]}`,
        );
    }
  } finally {
    await theirs.release();
  }
});
