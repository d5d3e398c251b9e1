/**
 * The CPU fast paths of issue 6's second round against independent references: the WASM Conv
 * (im2col + GEMM + bias/Relu in WASM memory) and the TypeScript im2col against a direct
 * seven-loop convolution, weights kept resident in WASM memory against the TypeScript GEMM, the
 * direct MaxPool loop against a window-by-window reference (padding, dilation, NaN, -inf), the
 * in-place Relu of FusedConv/FusedGemm, and a session whose weights are resident giving the same
 * outputs as one whose weights are not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { copyContiguous } from '../../src/backends/cpu/elementwise.js';
import { conv2dWasm } from '../../src/backends/cpu/wasm/conv.js';
import { native, setNativeGemm, wasm } from '../../src/backends/cpu/wasm/runtime.js';
import { isConstant, markConstant, residentBytes, sgemm } from '../../src/backends/cpu/wasm/sgemm.js';
import '../../src/index.js';
import { cnnModel, mlpModel } from '../../bench/onnx-build.js';
import { importOnnxBytes } from '../../src/importers/onnx/model.js';
import { gemm } from '../../src/ops/nn/gemm.js';
import { dispatch, dispatch1 } from '../../src/ops/registry.js';
import { Generator } from '../../src/runtime/random.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { model, node } from '../train/graph-models.js';
import { type ConvSpec, outDim } from './conv-spec.js';

const gen = new Generator(4321);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform() * 2 - 1);
const randInt = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));

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

type Spec = ConvSpec;

/** Direct convolution in float64, by the definition (the reference). */
function naiveConv(s: Spec, x: Float32Array, w: Float32Array, b: Float32Array | undefined, relu: boolean) {
  const oH = outDim(s.H, s.kH, s.sH, s.dH, s.pH, s.peH);
  const oW = outDim(s.W, s.kW, s.sW, s.dW, s.pW, s.peW);
  const Cg = s.C / s.group;
  const Mg = s.M / s.group;
  const y = new Float64Array(s.N * s.M * oH * oW);
  for (let n = 0; n < s.N; n++)
    for (let m = 0; m < s.M; m++) {
      const g = Math.floor(m / Mg);
      for (let oh = 0; oh < oH; oh++)
        for (let ow = 0; ow < oW; ow++) {
          let acc = b ? b[m]! : 0;
          for (let c = 0; c < Cg; c++)
            for (let i = 0; i < s.kH; i++)
              for (let j = 0; j < s.kW; j++) {
                const h = oh * s.sH - s.pH + i * s.dH;
                const ww = ow * s.sW - s.pW + j * s.dW;
                if (h < 0 || h >= s.H || ww < 0 || ww >= s.W) continue;
                acc +=
                  x[((n * s.C + g * Cg + c) * s.H + h) * s.W + ww]! *
                  w[((m * Cg + c) * s.kH + i) * s.kW + j]!;
              }
          y[((n * s.M + m) * oH + oh) * oW + ow] = relu ? Math.max(0, acc) : acc;
        }
    }
  return { y, oH, oW };
}

function randomSpec(): Spec {
  const group = [1, 1, 2, 3][randInt(0, 3)]!;
  const C = group * randInt(1, 4);
  const M = group * randInt(1, 4);
  const kH = randInt(1, 4);
  const kW = randInt(1, 4);
  return {
    N: randInt(1, 2),
    C,
    H: randInt(kH + 1, 13),
    W: randInt(kW + 1, 40),
    M,
    group,
    kH,
    kW,
    sH: randInt(1, 3),
    sW: randInt(1, 3),
    dH: randInt(1, 2),
    dW: randInt(1, 2),
    pH: randInt(0, 2),
    pW: randInt(0, 2),
    peH: randInt(0, 2),
    peW: randInt(0, 2),
  };
}

const convAttrs = (s: Spec) => ({
  kernel_shape: [s.kH, s.kW],
  strides: [s.sH, s.sW],
  dilations: [s.dH, s.dW],
  pads: [s.pH, s.pW, s.peH, s.peW],
  group: s.group,
});

test('conv2dWasm matches a direct convolution on random shapes (groups, strides, dilations, pads, 1x1)', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  const specs = Array.from({ length: 40 }, randomSpec);
  // 1x1 with unit strides and no padding: the product reads X in place.
  specs.push({
    N: 2,
    C: 6,
    H: 5,
    W: 7,
    M: 4,
    group: 2,
    kH: 1,
    kW: 1,
    sH: 1,
    sW: 1,
    dH: 1,
    dW: 1,
    pH: 0,
    pW: 0,
    peH: 0,
    peW: 0,
  });
  // Large enough for the worker pool to split the product.
  specs.push({
    N: 1,
    C: 32,
    H: 40,
    W: 40,
    M: 64,
    group: 1,
    kH: 3,
    kW: 3,
    sH: 1,
    sW: 1,
    dH: 1,
    dW: 1,
    pH: 1,
    pW: 1,
    peH: 1,
    peW: 1,
  });
  for (const [i, s] of specs.entries()) {
    if (outDim(s.H, s.kH, s.sH, s.dH, s.pH, s.peH) < 1 || outDim(s.W, s.kW, s.sW, s.dW, s.pW, s.peW) < 1)
      continue;
    const x = rnd(s.N * s.C * s.H * s.W);
    const w = rnd((s.M * s.C * s.kH * s.kW) / s.group);
    const b = i % 3 === 0 ? undefined : rnd(s.M);
    const relu = i % 2 === 1;
    if (i % 4 === 0) markConstant(w);
    const ref = naiveConv(s, x, w, b, relu);
    const got = conv2dWasm({ ...s, oH: ref.oH, oW: ref.oW }, x, w, b, relu)!;
    assertNear(got, ref.y, (s.C / s.group) * s.kH * s.kW, `spec ${i} ${JSON.stringify(s)}`);
    // Through the op: the registry's Conv takes the same path for float32.
    const y = dispatch1(
      'Conv',
      [
        Tensor.fromData(x, [s.N, s.C, s.H, s.W], 'float32'),
        Tensor.fromData(w, [s.M, s.C / s.group, s.kH, s.kW], 'float32'),
        b ? Tensor.fromData(b, [s.M], 'float32') : undefined,
      ],
      convAttrs(s),
    );
    assert.deepEqual(y.shape, [s.N, s.M, ref.oH, ref.oW]);
    if (!relu)
      assertNear(y.dataSync() as Float32Array, ref.y, (s.C / s.group) * s.kH * s.kW, `Conv op, spec ${i}`);
  }
});

test('the TypeScript im2col path (float64 Conv) matches a direct convolution, strides and pads included', () => {
  for (let i = 0; i < 25; i++) {
    const s = randomSpec();
    if (outDim(s.H, s.kH, s.sH, s.dH, s.pH, s.peH) < 1 || outDim(s.W, s.kW, s.sW, s.dW, s.pW, s.peW) < 1)
      continue;
    const x = rnd(s.N * s.C * s.H * s.W);
    const w = rnd((s.M * s.C * s.kH * s.kW) / s.group);
    const ref = naiveConv(s, x, w, undefined, false);
    const y = dispatch1(
      'Conv',
      [
        Tensor.fromData(Float64Array.from(x), [s.N, s.C, s.H, s.W], 'float64'),
        Tensor.fromData(Float64Array.from(w), [s.M, s.C / s.group, s.kH, s.kW], 'float64'),
      ],
      convAttrs(s),
    );
    const got = y.dataSync() as Float64Array;
    for (let k = 0; k < ref.y.length; k++)
      assert.ok(Math.abs(got[k]! - ref.y[k]!) < 1e-12, `spec ${i} at ${k}`);
  }
});

test('weights marked constant stay resident in WASM memory and give the TypeScript GEMM result', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  for (const [transA, transB, M, N, K] of [
    [false, true, 1, 37, 29],
    [false, false, 2, 19, 300],
    [true, false, 13, 9, 7],
    [false, true, 64, 50, 77],
    [true, true, 7, 33, 5],
  ] as const) {
    const A = rnd(M * K + 3);
    const B = rnd(K * N + 5);
    markConstant(A);
    markConstant(B);
    assert.ok(isConstant(A) && isConstant(B));
    const ref = new Float64Array(M * N);
    gemm(transA, transB, M, N, K, Float64Array.from(A), 3, Float64Array.from(B), 5, ref, 0, false);
    const C1 = new Float32Array(M * N);
    assert.ok(sgemm(transA, transB, M, N, K, A, 3, B, 5, C1, 0, false));
    const held = residentBytes();
    assert.ok(held >= (M * K + K * N) * 4, `resident ${held} bytes`);
    const C2 = new Float32Array(M * N);
    sgemm(transA, transB, M, N, K, A, 3, B, 5, C2, 0, false);
    assert.equal(residentBytes(), held, 'a second product reuses the resident copies');
    assertNear(C1, ref, K, `resident ${transA} ${transB} ${M}x${N}x${K}`);
    assert.deepEqual(C2, C1);
    // Accumulating into C with resident operands.
    const C0 = rnd(M * N);
    const C3 = Float32Array.from(C0);
    sgemm(transA, transB, M, N, K, A, 3, B, 5, C3, 0, true);
    assertNear(
      C3,
      ref.map((v, i) => v + C0[i]!),
      K,
      'accumulate',
    );
  }
});

/** MaxPool by the definition: the first largest in-bounds tap; only NaN/-inf: the first tap. */
function naiveMaxPool(
  x: Float32Array,
  [N, C, H, W]: number[],
  k: number[],
  s: number[],
  d: number[],
  p: number[],
  oH: number,
  oW: number,
) {
  const y: number[] = [];
  const idx: number[] = [];
  for (let q = 0; q < N * C; q++)
    for (let oh = 0; oh < oH; oh++)
      for (let ow = 0; ow < oW; ow++) {
        let best = Number.NEGATIVE_INFINITY;
        let arg = -1;
        let first = -1;
        for (let i = 0; i < k[0]!; i++)
          for (let j = 0; j < k[1]!; j++) {
            const h = oh * s[0]! - p[0]! + i * d[0]!;
            const w = ow * s[1]! - p[1]! + j * d[1]!;
            if (h < 0 || h >= H || w < 0 || w >= W) continue;
            const at = (q * H + h) * W + w;
            if (first < 0) first = at;
            if (x[at]! > best) {
              best = x[at]!;
              arg = at;
            }
          }
        if (arg < 0) arg = first;
        y.push(x[arg]!);
        idx.push(arg);
      }
  return { y, idx };
}

test('MaxPool 2-D fast loop matches the definition (pads, strides, dilations, NaN, -inf) with and without Indices', () => {
  const cases = [
    { shape: [1, 2, 8, 8], k: [2, 2], s: [2, 2], d: [1, 1], p: [0, 0, 0, 0] },
    { shape: [2, 3, 7, 9], k: [3, 3], s: [2, 2], d: [1, 1], p: [1, 1, 1, 1] },
    { shape: [1, 1, 11, 6], k: [2, 3], s: [1, 2], d: [2, 1], p: [1, 0, 0, 2] },
    { shape: [1, 2, 5, 5], k: [2, 2], s: [1, 1], d: [1, 1], p: [1, 1, 0, 0] },
  ];
  for (const c of cases) {
    const n = c.shape.reduce((a, b) => a * b, 1);
    const x = rnd(n);
    x[3] = Number.NaN;
    x[7] = Number.NEGATIVE_INFINITY;
    x[8] = Number.NEGATIVE_INFINITY;
    x[9] = Number.NaN;
    const [H, W] = [c.shape[2]!, c.shape[3]!];
    const oH = outDim(H, c.k[0]!, c.s[0]!, c.d[0]!, c.p[0]!, c.p[2]!);
    const oW = outDim(W, c.k[1]!, c.s[1]!, c.d[1]!, c.p[1]!, c.p[3]!);
    const ref = naiveMaxPool(x, c.shape, c.k, c.s, c.d, c.p, oH, oW);
    const attrs = { kernel_shape: c.k, strides: c.s, dilations: c.d, pads: c.p };
    const xt = Tensor.fromData(x, c.shape, 'float32');
    const [y, ind] = dispatch('MaxPool', [xt], attrs, { opset: 12 });
    assert.deepEqual(y!.shape, [c.shape[0], c.shape[1], oH, oW]);
    assert.deepEqual([...(y!.dataSync() as Float32Array)], ref.y.map(Math.fround));
    assert.deepEqual([...(ind!.dataSync() as BigInt64Array)].map(Number), ref.idx);
    // A graph node with one output gets Y alone, with the same values.
    const only = dispatch('MaxPool', [xt], attrs, { opset: 12, numOutputs: 1 });
    assert.equal(only.length, 1);
    assert.deepEqual([...(only[0]!.dataSync() as Float32Array)], ref.y.map(Math.fround));
  }
});

test('FusedConv/FusedGemm with Relu (in place on CPU) equal the base op followed by Relu, -0 and NaN included', () => {
  const x = Tensor.fromData(rnd(2 * 3 * 6 * 6), [2, 3, 6, 6], 'float32');
  const w = Tensor.fromData(rnd(4 * 3 * 3 * 3), [4, 3, 3, 3], 'float32');
  const b = Tensor.fromData(rnd(4), [4], 'float32');
  const attrs = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const xBefore = Float32Array.from(x.dataSync() as Float32Array);
  const want = dispatch1('Relu', [dispatch1('Conv', [x, w, b], attrs)]);
  const got = dispatch1('FusedConv', [x, w, b], { ...attrs, activation: 'Relu' }, { domain: 'com.tessera' });
  assert.deepEqual(got.dataSync(), want.dataSync());
  assert.deepEqual(x.dataSync(), xBefore, 'the input is not written');
  // Gemm whose output holds -0 and NaN: Relu gives +0 and keeps NaN.
  const a = Tensor.fromData(new Float32Array([Number.NaN, 1, -0, 0, -2, 3]), [3, 2], 'float32');
  const eye = Tensor.fromData(new Float32Array([1, 0, 0, 1]), [2, 2], 'float32');
  const g = dispatch1('FusedGemm', [a, eye], { activation: 'Relu' }, { domain: 'com.tessera' });
  const r = dispatch1('Relu', [dispatch1('Gemm', [a, eye])]);
  const gv = [...(g.dataSync() as Float32Array)];
  const rv = [...(r.dataSync() as Float32Array)];
  assert.ok(Number.isNaN(gv[0]!) && Number.isNaN(rv[0]!));
  assert.deepEqual(gv.slice(1), rv.slice(1));
  assert.ok(gv.slice(1).every((v) => !Object.is(v, -0)));
});

test('a session with resident weights (imported from bytes) gives the outputs of one without (fromModel)', async () => {
  const models = [
    mlpModel(3, { inputs: 20, hidden: 16, outputs: 5 }, 9),
    cnnModel(2, { size: 8, c1: 4, c2: 6, hidden: 12, classes: 3 }, 9),
  ];
  for (const m of models) {
    const resident = await InferenceSession.create(m.bytes);
    const plain = InferenceSession.fromModel(importOnnxBytes(m.bytes));
    const name = resident.inputNames[0]!;
    const shape = (resident.inputMetadata[0] as unknown as { shape: (number | string)[] }).shape.map((d) =>
      typeof d === 'number' ? d : 1,
    );
    const x = Tensor.fromData(rnd(shape.reduce((p, q) => p * q, 1)), shape, 'float32');
    const held = residentBytes();
    for (let run = 0; run < 2; run++) {
      const a = await resident.run({ [name]: x });
      if (wasm) assert.ok(residentBytes() > held, 'the imported session keeps its weights resident');
      const b = await plain.run({ [name]: x });
      // The resident (pre-transposed) weight may take another kernel path: equal up to rounding.
      for (const k of Object.keys(b))
        assertNear(
          a[k]!.dataSync() as Float32Array,
          b[k]!.dataSync() as Float32Array,
          64,
          `${k}, run ${run}`,
        );
    }
  }
});

test('Gemm adds C read in place ([N], [1, N], [M, N]) or broadcast ([M, 1], scalar) as the definition', () => {
  const [M, N, K] = [5, 7, 6];
  for (const cShape of [[N], [1, N], [M, N], [M, 1], [], [1, 1]]) {
    for (const [alpha, beta, transA, transB] of [
      [1, 1, 0, 1],
      [2, 0.5, 1, 0],
    ] as const) {
      const a = rnd(M * K);
      const b = rnd(K * N);
      const cn = cShape.reduce((p, q) => p * q, 1);
      const c = rnd(cn);
      const y = dispatch1(
        'Gemm',
        [
          Tensor.fromData(a, transA ? [K, M] : [M, K], 'float32'),
          Tensor.fromData(b, transB ? [N, K] : [K, N], 'float32'),
          Tensor.fromData(c, cShape, 'float32'),
        ],
        { alpha, beta, transA, transB },
      );
      const want = new Float64Array(M * N);
      for (let i = 0; i < M; i++)
        for (let j = 0; j < N; j++) {
          let acc = 0;
          for (let k = 0; k < K; k++)
            acc += a[transA ? k * M + i : i * K + k]! * b[transB ? j * K + k : k * N + j]!;
          const ci =
            cShape.length === 2
              ? (cShape[0] === 1 ? 0 : i) * cShape[1]! + (cShape[1] === 1 ? 0 : j)
              : cShape.length === 1
                ? j
                : 0;
          want[i * N + j] = alpha * acc + beta * c[ci]!;
        }
      assertNear(y.dataSync() as Float32Array, want, K, `C ${JSON.stringify(cShape)} alpha ${alpha}`);
    }
  }
});

test('initializers listed as inputs (IR < 4) are folded, and a run feeding one over runs unfolded', async () => {
  // y = x * ConstantOfShape(shape, value 2) + w, where shape and w are initializers that are also inputs.
  const m = model(
    {
      nodes: [
        node('ConstantOfShape', ['shape'], ['k'], {
          value: Tensor.fromData(new Float32Array([2]), [1], 'float32'),
        }),
        node('Mul', ['x', 'k'], ['xk']),
        node('Add', ['xk', 'w'], ['y']),
      ],
      inputs: [
        { name: 'x', type: { kind: 'tensor', dtype: 'float32', shape: [3] } },
        { name: 'shape', type: { kind: 'tensor', dtype: 'int64', shape: [1] } },
        { name: 'w', type: { kind: 'tensor', dtype: 'float32', shape: [3] } },
      ],
      outputs: [{ name: 'y', type: { kind: 'tensor', dtype: 'float32', shape: [3] } }],
      initializers: new Map<string, Tensor>([
        ['shape', Tensor.fromData(new BigInt64Array([3n]), [1], 'int64')],
        ['w', Tensor.fromData(new Float32Array([10, 20, 30]), [3], 'float32')],
      ]),
    },
    13,
  );
  const s = InferenceSession.fromModel(m);
  assert.deepEqual(s.inputNames, ['x'], 'initializer inputs stay optional');
  const folded = s.optimizations.find((o) => o.name === 'constantFolding')!;
  assert.ok(folded.changes >= 1, 'ConstantOfShape folded at load');
  const x = Tensor.fromData(new Float32Array([1, 2, 3]), [3], 'float32');
  // By hand: x * 2 + w.
  assert.deepEqual([...((await s.run({ x })).y!.dataSync() as Float32Array)], [12, 24, 36]);
  // Feeding w over: x * 2 + [-1, -2, -3], by hand.
  const w = Tensor.fromData(new Float32Array([-1, -2, -3]), [3], 'float32');
  assert.deepEqual([...((await s.run({ x, w })).y!.dataSync() as Float32Array)], [1, 2, 3]);
  // A fed shape changes the folded ConstantOfShape: [1] broadcasts against x.
  const shape = Tensor.fromData(new BigInt64Array([1n]), [1], 'int64');
  assert.deepEqual([...((await s.run({ x, shape })).y!.dataSync() as Float32Array)], [12, 24, 36]);
  // And back to the folded graph.
  assert.deepEqual([...((await s.run({ x })).y!.dataSync() as Float32Array)], [12, 24, 36]);
  // The caller's model is untouched: its graph still has the three nodes.
  assert.equal(m.graph.nodes.length, 3);
});

test('copyContiguous of strided views (permutes, slices, broadcasts, every dtype kind) equals the element-by-element gather', () => {
  // The native gather (strided.cc) when loaded, and the TypeScript runs.
  const engines = native ? [true, false] : [false];
  try {
    for (const on of engines) {
      setNativeGemm(on);
      checkStridedCopies();
    }
  } finally {
    if (native) setNativeGemm(true);
  }
});

function checkStridedCopies(): void {
  const perms = [
    [0, 2, 1, 3, 4],
    [4, 3, 2, 1, 0],
    [0, 1, 2, 4, 3],
    [1, 0, 2, 3, 4],
  ];
  for (const dtype of ['float32', 'float64', 'int64', 'bool', 'int8', 'float16'] as const) {
    const shape = [2, 3, 4, 5, 9];
    const n = shape.reduce((a, b) => a * b, 1);
    const base = Tensor.fromData(
      dtype === 'int64'
        ? BigInt64Array.from({ length: n }, (_, i) => BigInt(i * 7 - 300))
        : dtype === 'bool'
          ? Uint8Array.from({ length: n }, (_, i) => ((i * 7) % 3 === 0 ? 1 : 0))
          : dtype === 'int8'
            ? Int8Array.from({ length: n }, (_, i) => (i % 200) - 100)
            : dtype === 'float16'
              ? Uint16Array.from({ length: n }, (_, i) => (i * 37) & 0x7bff)
              : dtype === 'float32'
                ? Float32Array.from({ length: n }, (_, i) => i * 0.5 - 3)
                : Float64Array.from({ length: n }, (_, i) => i * 0.5 - 3),
      shape,
      dtype === 'bool' ? 'bool' : dtype,
    );
    for (const perm of perms) {
      const v = base.asStrided(
        perm.map((d) => shape[d]!),
        perm.map((d) => base.strides[d]!),
      );
      // dataSync() of a strided view is the element-by-element gather (the reference).
      assert.deepEqual(
        Array.from(reshapeCopy(v) as ArrayLike<unknown>),
        Array.from(v.dataSync() as ArrayLike<unknown>),
        `${dtype} ${perm}`,
      );
    }
    // A slice with an offset, and a broadcast (stride 0) view.
    const slice = base.asStrided([2, 2, 4], [base.strides[0]!, base.strides[1]!, 1], 5);
    assert.deepEqual(
      Array.from(reshapeCopy(slice) as ArrayLike<unknown>),
      Array.from(slice.dataSync() as ArrayLike<unknown>),
    );
    const bc = base.asStrided([3, 10], [0, 1], 2);
    assert.deepEqual(
      Array.from(reshapeCopy(bc) as ArrayLike<unknown>),
      Array.from(bc.dataSync() as ArrayLike<unknown>),
    );
    // DepthToSpace's view (DCR, blocksize 3): innermost runs of 3 elements a plane apart.
    const d2s = base.asStrided([1, 2, 3, 5, 3], [0, 5 * 9, 3 * 5 * 9, 1, 5 * 9 * 2], 0);
    assert.deepEqual(
      Array.from(reshapeCopy(d2s) as ArrayLike<unknown>),
      Array.from(d2s.dataSync() as ArrayLike<unknown>),
      `${dtype} short runs`,
    );
  }
}

function reshapeCopy(t: Tensor) {
  const c = copyContiguous(t);
  assert.ok(c.isContiguous());
  assert.deepEqual(c.shape, t.shape);
  return c.storage.data;
}

test('Conv + BatchNormalization over initializers listed as inputs is fused, and overriding one still runs unfused', async () => {
  const t = (shape: number[], data: Float32Array) => Tensor.fromData(data, shape, 'float32');
  const inits: [string, Tensor][] = [
    ['w', t([2, 1, 3, 3], rnd(18))],
    ['scale', t([2], new Float32Array([1.5, -0.5]))],
    ['bias', t([2], new Float32Array([0.25, 2]))],
    ['mean', t([2], new Float32Array([0.1, -0.2]))],
    ['var', t([2], new Float32Array([0.5, 2]))],
  ];
  const m = model(
    {
      nodes: [
        node('Conv', ['x', 'w'], ['c'], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }),
        node('BatchNormalization', ['c', 'scale', 'bias', 'mean', 'var'], ['y']),
      ],
      inputs: [
        { name: 'x', type: { kind: 'tensor', dtype: 'float32', shape: [1, 1, 5, 5] } },
        ...inits.map(([name, v]) => ({
          name,
          type: { kind: 'tensor' as const, dtype: 'float32' as const, shape: [...v.shape] },
        })),
      ],
      outputs: [{ name: 'y', type: { kind: 'tensor', dtype: 'float32', shape: [1, 2, 5, 5] } }],
      initializers: new Map(inits),
    },
    13,
  );
  const fused = InferenceSession.fromModel(m);
  assert.equal(fused.optimizations.find((o) => o.name === 'convBatchNormFusion')!.changes, 1);
  const plain = InferenceSession.fromModel(m, { graphOptimizationLevel: 'disabled' });
  const x = t([1, 1, 5, 5], rnd(25));
  const scale = t([2], new Float32Array([-2, 3]));
  for (const feeds of [{ x }, { x, scale }] as Record<string, Tensor>[]) {
    const a = (await fused.run(feeds)).y!.dataSync() as Float32Array;
    const b = (await plain.run(feeds)).y!.dataSync() as Float32Array;
    assertNear(a, b, 9, `feeds ${Object.keys(feeds)}`);
  }
});
