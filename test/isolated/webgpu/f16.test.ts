/**
 * Native float16 on WebGPU: where the device has 'shader-f16', float16 tensors live in GPU buffers
 * as WGSL f16 (2 bytes an element) and the kernels read and write f16 while computing in f32. Every
 * kernel family is checked against the CPU's float16 kernel on random inputs (odd sizes,
 * broadcasting, padding, strides, dilations, groups, ceil_mode, empty tensors) and the storage
 * itself against exact bit patterns. Skipped, with the reason, on adapters without shader-f16
 * (Dawn's OpenGL ES backend): there float16 is emulated in f32, which the other files test.
 *
 * Tolerances: elementwise results are rounded once from f32 like the CPU rounds its double result,
 * so they agree within one float16 ulp (rtol 2^-10); sums (MatMul, Conv, reductions, norms)
 * accumulate in f32 on both sides in different orders, then round: within an ulp and a small
 * absolute term for cancellation.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { disposeWebGPU, initWebGPU, webgpuInfo } from '../../../src/backends/webgpu/index.js';
import { reprOf } from '../../../src/backends/webgpu/repr.js';
import { handleOf } from '../../../src/backends/webgpu/runtime.js';
import { int64s, Tensor, tensor } from '../../../src/index.js';
import { dispatch1 } from '../../../src/ops/registry.js';
import type { DType } from '../../../src/runtime/dtype.js';
import { assertSameValues, compareOp, gpuReady, rn, ru } from './helpers.js';

const info = await gpuReady();
const skip =
  info.float16 === 'native' ? false : 'the adapter lacks shader-f16 (float16 is emulated in f32 here)';
if (skip) {
  console.log(
    `# native float16 tests skipped: ${info.device || info.description} (${info.backend} backend) lacks shader-f16; the other files cover the emulated float16 path. Native f16 runs on Vulkan (lavapipe from Mesa 25, or a GPU).`,
  );
}

/** float16 tensors: normal values times `scale`, or uniform in [lo, hi). */
const hn = (shape: number[], scale = 1) => rn(shape, scale).to('float16');
const hu = (shape: number[], lo: number, hi: number) => ru(shape, lo, hi).to('float16');

const ONE_ULP = { rtol: 2 ** -10, atol: 2 ** -24 };
const SUMS = { rtol: 2e-3, atol: 2e-3 };

/** f16 bits of every float16 value (NaN payloads and subnormals included). */
const ALL_BITS = Uint16Array.from({ length: 65536 }, (_, i) => i);

test('float16 lives in f16 buffers: 2 bytes an element, bit-exact round trips of all 65536 patterns', {
  skip,
}, async () => {
  assert.equal(reprOf('float16').wgsl, 'f16');
  assert.equal(reprOf('float16').bytes, 2);
  // bfloat16 has no WGSL type: it stays emulated in f32.
  assert.equal(reprOf('bfloat16').wgsl, 'f32');
  for (const n of [1, 3, 8, 1001]) {
    const g = hn([n]).to('webgpu');
    assert.equal(handleOf(g).bytes, Math.ceil((n * 2) / 4) * 4, `buffer bytes for ${n} elements`);
  }
  const all = Tensor.fromData(ALL_BITS.slice(), [65536], 'float16');
  const g = all.to('webgpu');
  assert.equal(handleOf(g).bytes, 65536 * 2);
  assert.deepEqual(new Uint16Array((await g.data()) as Uint16Array), ALL_BITS, 'upload and readback');
  // A GPU copy (a strided view packed by a kernel) moves the bits unchanged too.
  const odd = dispatch1('Slice', [g, int64s([1]), int64s([65535])]);
  const copied = dispatch1('Identity', [odd], { copy: true });
  assert.deepEqual(new Uint16Array((await copied.data()) as Uint16Array), ALL_BITS.subarray(1, 65535));
});

test('Cast to and from float16 matches the CPU bit for bit (round to nearest even, overflow, subnormals)', {
  skip,
}, async () => {
  const all = Tensor.fromData(ALL_BITS.slice(), [65536], 'float16');
  // Every float16 value widened (NaN compares as NaN).
  await compareOp('Cast', [all], { to: 'float32' }, { rtol: 0, atol: 0 });
  await compareOp('Cast', [all], { to: 'bfloat16' }, { rtol: 0, atol: 0 });
  // float32 values at and around float16 rounding boundaries: ties, the largest finite, overflow,
  // the subnormal range and its ties, signed zeros, infinities and NaN.
  const vals: number[] = [0, -0, Number.NaN, Infinity, -Infinity, 65504, 65519.99, 65520, -65520, 1e6];
  for (const base of [1, 2 ** -14, 2 ** -24, 2 ** -25, 1024, 0.1, Math.PI]) {
    for (const d of [-1.5, -1, -0.5, 0, 0.5, 1, 1.5, 2.5]) {
      const v = base + d * 2 ** (Math.floor(Math.log2(base)) - 11);
      vals.push(v, -v);
    }
  }
  for (let i = 0; i < 400; i++) vals.push((Math.random() - 0.5) * 2 ** Math.floor(Math.random() * 40 - 28));
  const f32 = tensor(vals, { dtype: 'float32' });
  await compareOp('Cast', [f32], { to: 'float16' }, { rtol: 0, atol: 0 });
  await compareOp('Cast', [f32.to('bfloat16')], { to: 'float16' }, { rtol: 0, atol: 0 });
  const ints = tensor([0, 1, -1, 2049, 2051, -4097, 65504, 65519, 65520, 70000, -2147483648, 2147483647], {
    dtype: 'int32',
  });
  await compareOp('Cast', [ints], { to: 'float16' }, { rtol: 0, atol: 0 });
  await compareOp(
    'Cast',
    [tensor([0, 1, 200, 255], { dtype: 'uint8' })],
    { to: 'float16' },
    { rtol: 0, atol: 0 },
  );
  await compareOp(
    'Cast',
    [tensor([true, false, true], { dtype: 'bool' })],
    { to: 'float16' },
    { rtol: 0, atol: 0 },
  );
  // float16 to integers truncates toward zero with the CPU's wrap-around; NaN and -0 to bool.
  const h = tensor([0, -0, 0.5, -0.5, 1.5, -2.75, 300.5, -300.5, 65504, Number.NaN, Infinity], {
    dtype: 'float16',
  });
  for (const to of ['int32', 'int8', 'uint8', 'uint16', 'int64', 'uint64', 'bool'] as DType[]) {
    await compareOp('Cast', [h], { to }, { rtol: 0, atol: 0 });
  }
  await compareOp('CastLike', [hn([7]), tensor([1], { dtype: 'float32' })], {}, { rtol: 0, atol: 0 });
});

const UNARY: [string, number, number][] = [
  ['Abs', -3, 3],
  ['Neg', -3, 3],
  ['Sign', -3, 3],
  ['Sqrt', 0, 9],
  ['Reciprocal', 0.2, 4],
  ['Exp', -5, 5],
  ['Log', 0.01, 50],
  ['Sin', -3, 3],
  ['Cos', -3, 3],
  ['Tan', -1.2, 1.2],
  ['Asin', -0.99, 0.99],
  ['Acos', -0.99, 0.99],
  ['Atan', -5, 5],
  ['Sinh', -3, 3],
  ['Cosh', -3, 3],
  ['Asinh', -5, 5],
  ['Acosh', 1, 9],
  ['Atanh', -0.95, 0.95],
  ['Erf', -3, 3],
  ['Floor', -5, 5],
  ['Ceil', -5, 5],
  ['Round', -5, 5],
  ['Relu', -3, 3],
  ['Sigmoid', -8, 8],
  ['Tanh', -4, 4],
  ['Softplus', -6, 6],
  ['Softsign', -4, 4],
  ['Elu', -4, 4],
  ['Selu', -4, 4],
  ['Celu', -4, 4],
  ['LeakyRelu', -4, 4],
  ['HardSigmoid', -5, 5],
  ['HardSwish', -5, 5],
  ['Mish', -4, 4],
  ['Gelu', -4, 4],
  ['ThresholdedRelu', -3, 3],
  ['Shrink', -3, 3],
];

test('every unary op and activation on float16, and IEEE special values', { skip }, async () => {
  for (const [op, lo, hi] of UNARY) await compareOp(op, [hu([3, 37], lo, hi)], {}, ONE_ULP);
  const special = tensor(
    [0, -0, Number.NaN, Infinity, -Infinity, 65504, -65504, 6e-8, -6e-8, 6.1e-5, 1, -1, 0.5, 11.5],
    { dtype: 'float16' },
  );
  for (const op of ['Abs', 'Neg', 'Sign', 'Relu', 'Sigmoid', 'Tanh', 'Exp', 'Floor', 'Reciprocal', 'Sqrt']) {
    await compareOp(op, [special], {}, ONE_ULP);
  }
  for (const op of ['IsNaN', 'IsInf']) await compareOp(op, [special], {}, { rtol: 0, atol: 0 });
  // Results past 65504 overflow to infinity exactly like the CPU's rounding.
  await compareOp('Exp', [tensor([10, 11, 11.09, 11.1, 12], { dtype: 'float16' })], {}, ONE_ULP);
});

test('binary ops broadcast on float16 (odd shapes, scalars, both sides), comparisons, Where, Clip, variadic', {
  skip,
}, async () => {
  const pairs: [number[], number[]][] = [
    [[7], [7]],
    [[5, 7], [7]],
    [
      [3, 1, 5],
      [1, 4, 1],
    ],
    [
      [2, 3, 5, 3],
      [3, 1, 3],
    ],
    [[1], [9, 3]],
    [[], [3, 5]],
    [[0, 3], [3]],
  ];
  for (const [sa, sb] of pairs) {
    const a = hu(sa, -30, 30);
    const b = hu(sb, 0.5, 3);
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'PRelu', 'Max', 'Min', 'Sum', 'Mean', 'Mod']) {
      await compareOp(op, [a, b], op === 'Mod' ? { fmod: 1 } : {}, ONE_ULP);
    }
    await compareOp('Pow', [b, hu(sa, -3, 3)], {}, ONE_ULP);
    for (const op of ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']) {
      await compareOp(op, [a, a.mul(b).to('float16')], {}, { rtol: 0, atol: 0 });
    }
  }
  const c = tensor([true, false, true, false, true], { dtype: 'bool' });
  await compareOp('Where', [c, hn([3, 5]), hn([5])], {}, { rtol: 0, atol: 0 });
  await compareOp(
    'Sum',
    [hn([2, 5]), hn([5]), hn([2, 1]), hn([1]), hn([2, 5]), hn([5]), hn([2, 5])],
    {},
    SUMS,
  );
  await compareOp(
    'Clip',
    [hu([4, 9], -5, 5), tensor(-1.5, { dtype: 'float16' }), tensor(2.25, { dtype: 'float16' })],
    {},
    ONE_ULP,
  );
  await compareOp(
    'Clip',
    [tensor([Number.NaN, -7, 7, 0.1], { dtype: 'float16' })],
    { min: -2, max: 2 },
    { ...ONE_ULP, opset: 6 },
  );
  await compareOp('Indicator', [hn([3, 4]), hn([4])], { cmp: 'gt' }, { rtol: 0, atol: 0, domain: 'tessera' });
});

test('MatMul and Gemm on float16: tiles, skinny rows, vectors, batch broadcasting, transposes, empty K', {
  skip,
}, async () => {
  const cases: [number[], number[]][] = [
    [
      [1, 1],
      [1, 1],
    ],
    [
      [7, 13],
      [13, 5],
    ],
    [
      [65, 33],
      [33, 71],
    ],
    [
      [3, 129],
      [129, 67],
    ],
    [[9], [9, 4]],
    [[4, 9], [9]],
    [
      [2, 3, 17, 11],
      [11, 6],
    ],
    [
      [5, 1, 6, 7],
      [1, 3, 7, 9],
    ],
    [
      [3, 0],
      [0, 4],
    ],
    [
      [0, 5],
      [5, 2],
    ],
  ];
  for (const [a, b] of cases) await compareOp('MatMul', [hn(a), hn(b)], {}, SUMS);
  // A transposed view is read through its strides.
  const t = dispatch1('Transpose', [hn([6, 10]).to('webgpu')], { perm: [1, 0] });
  await compareOp('MatMul', [t.to('cpu'), hn([6, 3])], {}, SUMS);
  const [M, K, N] = [7, 19, 10];
  for (const [ta, tb] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ]) {
    const a = hn(ta ? [K, M] : [M, K]);
    const b = hn(tb ? [N, K] : [K, N]);
    for (const c of [undefined, hn([N]), hn([M, 1]), hn([1]), hn([M, N])]) {
      await compareOp('Gemm', [a, b, c], { transA: ta, transB: tb, alpha: 0.5, beta: 1.5 }, SUMS);
    }
  }
  await compareOp('Einsum', [hn([2, 5, 7]), hn([2, 7, 3])], { equation: 'bij,bjk->bik' }, SUMS);
  await compareOp('Einsum', [hn([4, 4]), hn([4])], { equation: 'ii,i->i' }, SUMS);
});

test('Conv, ConvTranspose and ConvWeightGrad on float16: pads, strides, dilations, groups, depthwise, 1-D/3-D', {
  skip,
}, async () => {
  const convs: [number[], number[], Record<string, unknown>][] = [
    [[1, 3, 9, 11], [8, 3, 3, 3], {}],
    [[2, 5, 10, 9], [17, 5, 3, 3], { pads: [1, 2, 0, 1], strides: [2, 1] }],
    [[1, 4, 13, 12], [6, 2, 3, 2], { group: 2, dilations: [2, 3], pads: [2, 1, 2, 1] }],
    [[1, 6, 9, 9], [6, 1, 3, 3], { group: 6, pads: [1, 1, 1, 1] }],
    [[2, 16, 5, 7], [24, 16, 1, 1], {}],
    [[1, 3, 8, 8], [20, 3, 2, 2], { auto_pad: 'SAME_UPPER', strides: [2, 2] }],
    [[2, 3, 17], [9, 3, 4], { pads: [2, 1], dilations: [2] }],
    [[1, 2, 5, 6, 4], [4, 2, 3, 3, 2], { pads: [1, 1, 0, 1, 1, 1] }],
  ];
  // With and without a bias on alternate cases (each is a shader variant to compile).
  for (const [i, [xs, ws, attrs]] of convs.entries()) {
    const bias = i % 2 === 0 ? [hn([ws[0]!])] : [];
    await compareOp('Conv', [hn(xs), hn(ws, 0.3), ...bias], attrs as any, SUMS);
  }
  const transposed: [number[], number[], Record<string, unknown>][] = [
    [[1, 3, 5, 4], [3, 20, 3, 3], { strides: [2, 2], pads: [1, 0, 1, 0], output_padding: [1, 1] }],
    [[2, 4, 6, 5], [4, 3, 2, 3], { group: 2, dilations: [2, 1] }],
    [[1, 2, 7], [2, 5, 3], { strides: [3] }],
  ];
  for (const [xs, ws, attrs] of transposed) {
    const M = ws[1]! * ((attrs.group as number) ?? 1);
    await compareOp('ConvTranspose', [hn(xs), hn(ws, 0.3), hn([M])], attrs as any, SUMS);
  }
  const x = hn([2, 4, 9, 8]);
  const dy = hn([2, 20, 5, 8]);
  await compareOp(
    'ConvWeightGrad',
    [x, dy],
    { kernel_shape: [3, 3], strides: [2, 1], pads: [1, 1, 1, 1] },
    { rtol: 2e-3, atol: 2e-2, domain: 'com.tessera' },
  );
});

test('reductions, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax on float16 (short and long rows)', {
  skip,
}, async () => {
  const x = hu([3, 5, 7], 0.1, 2);
  for (const op of [
    'ReduceMax',
    'ReduceMin',
    'ReduceMean',
    'ReduceProd',
    'ReduceL1',
    'ReduceL2',
    'ReduceSumSquare',
    'ReduceLogSum',
    'ReduceLogSumExp',
  ]) {
    for (const axes of [[0], [2], [0, 2], [0, 1, 2]]) {
      await compareOp(op, [x, int64s(axes)], { keepdims: axes.length % 2 }, { ...SUMS, opset: 18 });
    }
  }
  await compareOp('ReduceSum', [x, int64s([1])], {}, SUMS);
  // Long rows take the workgroup path.
  await compareOp('ReduceSum', [hn([3, 1001]), int64s([1])], {}, { rtol: 3e-3, atol: 3e-2 });
  await compareOp('ReduceMax', [hn([2, 3001]), int64s([1])], {}, { rtol: 0, atol: 0, opset: 18 });
  await compareOp('ReduceMean', [hn([0, 3]), int64s([1])], {}, SUMS);
  const withNaN = tensor([1, Number.NaN, 3, 4, 5, 6], { dtype: 'float16' }).reshape([2, 3]);
  for (const op of ['ReduceMax', 'ReduceMin', 'ReduceSum'])
    await compareOp(op, [withNaN, int64s([1])], {}, { rtol: 0, atol: 0, opset: 18 });
  for (const op of ['ArgMax', 'ArgMin']) {
    await compareOp(op, [hn([4, 9, 5])], { axis: 1 }, { rtol: 0, atol: 0 });
    await compareOp(
      op,
      [tensor([1, 3, 3, 2, Number.NaN, 3], { dtype: 'float16' })],
      { select_last_index: 1 },
      { rtol: 0, atol: 0 },
    );
  }
  for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
    for (const [shape, axis] of [
      [[4, 13], -1],
      [[3, 200], 1],
      [[2, 7, 5], 1],
      [[2, 300, 3], 1],
    ] as [number[], number][]) {
      await compareOp(op, [hn(shape, 3)], { axis }, op === 'Hardmax' ? { rtol: 0, atol: 0 } : SUMS);
    }
  }
  await compareOp('CumSum', [hn([3, 11]), int64s([1]).reshape([])], { exclusive: 1 }, SUMS);
  await compareOp('CumSum', [hn([7, 2]), int64s([0]).reshape([])], { reverse: 1 }, SUMS);
});

test('normalizations on float16: BatchNorm (inference, training), Layer/Instance/Group norm, LRN, Lp, MVN', {
  skip,
}, async () => {
  const C = 5;
  const x = hn([2, C, 7, 3], 2);
  const s = hu([C], 0.5, 1.5);
  const b = hn([C]);
  const mean = hn([C], 0.3);
  const variance = hu([C], 0.5, 2);
  await compareOp('BatchNormalization', [x, s, b, mean, variance], { epsilon: 1e-3 }, SUMS);
  await compareOp(
    'BatchNormalization',
    [x, s, b, mean, variance],
    { training_mode: 1, momentum: 0.8 },
    { ...SUMS, numOutputs: 3 },
  );
  for (const axis of [-1, 1]) {
    const shape = axis === -1 ? [3] : [C, 7, 3];
    await compareOp(
      'LayerNormalization',
      [x, hu(shape, 0.5, 1.5), hn(shape)],
      { axis },
      { ...SUMS, numOutputs: 3 },
    );
  }
  await compareOp('InstanceNormalization', [x, s, b], { epsilon: 1e-4 }, SUMS);
  await compareOp(
    'GroupNormalization',
    [hn([2, 6, 5]), hu([6], 0.5, 1.5), hn([6])],
    { num_groups: 3 },
    { ...SUMS, opset: 21 },
  );
  await compareOp('LRN', [x], { size: 3, alpha: 1e-2, beta: 0.75, bias: 1 }, SUMS);
  await compareOp('LpNormalization', [x], { axis: 1, p: 2 }, SUMS);
  await compareOp('MeanVarianceNormalization', [x], {}, { rtol: 3e-3, atol: 3e-3 });
});

test('pooling on float16: max (indices, ceil_mode, dilations), average (count_include_pad), Lp, global', {
  skip,
}, async () => {
  const x = hn([2, 3, 11, 10]);
  const cases: Record<string, unknown>[] = [
    { kernel_shape: [3, 3] },
    { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 0, 1, 1], ceil_mode: 1 },
    { kernel_shape: [2, 2], dilations: [2, 3] },
  ];
  for (const attrs of cases) {
    await compareOp('MaxPool', [x], attrs as any, { rtol: 0, atol: 0, numOutputs: 2 });
    if (!attrs.dilations) {
      await compareOp('AveragePool', [x], attrs as any, SUMS);
      await compareOp('AveragePool', [x], { ...attrs, count_include_pad: 1 } as any, SUMS);
    }
    await compareOp('LpPool', [x], { ...attrs, p: 2 } as any, SUMS);
  }
  for (const op of ['GlobalAveragePool', 'GlobalMaxPool']) await compareOp(op, [x], {}, SUMS);
});

test('data movement on float16: views, Concat, Gather, Pad values, Tile, Resize, constants', {
  skip,
}, async () => {
  const x = hn([3, 5, 7]);
  const g = x.to('webgpu');
  const exact = { rtol: 0, atol: 0 };
  // Strided views packed on the GPU.
  await assertSameValues(
    dispatch1('Transpose', [g], { perm: [2, 0, 1] }).to('cpu'),
    dispatch1('Transpose', [x], { perm: [2, 0, 1] }),
    0,
    0,
    'Transpose',
  );
  await compareOp('Slice', [x, int64s([1, 1]), int64s([3, 6]), int64s([0, 2])], {}, exact);
  await compareOp('Expand', [hn([3, 1]), int64s([2, 3, 5])], {}, exact);
  for (const axis of [0, 1, 2]) await compareOp('Concat', [x, hn([3, 5, 7]), x], { axis }, exact);
  await compareOp('Concat', [hn([1, 3]), hn([0, 3]), hn([2, 3])], { axis: 0 }, exact);
  await compareOp('Gather', [x, tensor([2, 0, -1, 1], { dtype: 'int64' })], { axis: 1 }, exact);
  await compareOp(
    'Gather',
    [
      x,
      tensor(
        [
          [0, 2],
          [1, 1],
        ],
        { dtype: 'int32' },
      ),
    ],
    { axis: 0 },
    exact,
  );
  // Pad's constant arrives as a stored float16 word (odd element counts and offsets).
  await compareOp('Pad', [hn([3, 5]), int64s([1, 2, 0, 3]), tensor(1.5, { dtype: 'float16' })], {}, exact);
  await compareOp('Pad', [hn([3, 5]), int64s([1, 2, 0, 3])], { mode: 'reflect' }, exact);
  await compareOp('Tile', [hn([3, 1, 2]), int64s([2, 3, 1])], {}, exact);
  await compareOp(
    'ConstantOfShape',
    [int64s([3, 5])],
    { value: tensor([-2.5], { dtype: 'float16' }) },
    exact,
  );
  await compareOp('EyeLike', [hn([4, 7])], { k: 1 }, exact);
  await compareOp(
    'Range',
    [tensor(0.5, { dtype: 'float16' }), tensor(9, { dtype: 'float16' }), tensor(0.75, { dtype: 'float16' })],
    {},
    ONE_ULP,
  );
  await compareOp('Resize', [hn([1, 2, 5, 3]), undefined, tensor([1, 1, 2, 1.5])], { mode: 'linear' }, SUMS);
  await compareOp(
    'Resize',
    [hn([1, 2, 5, 3]), undefined, tensor([1, 1, 0.6, 2])],
    { mode: 'nearest' },
    exact,
  );
  await compareOp('Resize', [hn([1, 1, 4, 6]), undefined, tensor([1, 1, 1.5, 0.5])], { mode: 'cubic' }, SUMS);
  await compareOp('Dropout', [x], {}, { ...exact, numOutputs: 2 });
  await compareOp(
    'Where',
    [tensor([true, false, true, true, false, false, true], { dtype: 'bool' }), x, hn([5, 1])],
    {},
    exact,
  );
});

test("float16: 'emulated' keeps f32 storage on a shader-f16 device, with the same results", {
  skip,
}, async () => {
  const a = hn([9, 33]);
  const b = hn([33, 5]);
  const native = await dispatch1('MatMul', [a.to('webgpu'), b.to('webgpu')]).data();
  const ex = await dispatch1('Exp', [a.to('webgpu')]).data();
  await disposeWebGPU();
  try {
    const emulated = await initWebGPU({ software: 'allow', log: () => {}, float16: 'emulated' });
    assert.equal(emulated.float16, 'emulated');
    assert.equal(webgpuInfo()?.float16, 'emulated');
    assert.equal(reprOf('float16').wgsl, 'f32');
    const g = a.to('webgpu');
    assert.equal(handleOf(g).bytes, 9 * 33 * 4);
    const m = await dispatch1('MatMul', [g, b.to('webgpu')]).data();
    const e = await dispatch1('Exp', [g]).data();
    // Both compute in f32 and round once; only the summation order may differ.
    await assertSameValues(
      Tensor.fromData(m, [9, 5], 'float16'),
      Tensor.fromData(native, [9, 5], 'float16'),
      SUMS.rtol,
      SUMS.atol,
      'MatMul',
    );
    assert.deepEqual(e, ex, 'Exp: identical bits');
  } finally {
    await disposeWebGPU();
  }
});
