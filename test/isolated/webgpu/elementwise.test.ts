/**
 * Elementwise WebGPU kernels against the CPU kernels: every unary op and activation (special
 * values included), broadcasting binary ops on odd shapes, integer wrap-around and division by
 * zero, comparisons and logic on every dtype class, Pow/Mod edge cases, variadic ops past one
 * launch, Where, Clip, the Cast matrix, and the counted CPU fallbacks (float64, legacy broadcast).
 */
import { before, test } from 'node:test';
import { int64s, Tensor, tensor } from '../../../src/index.js';
import type { DType } from '../../../src/runtime/dtype.js';
import { compareOp, gpuReady, rn, ru } from './helpers.js';

before(async () => {
  await gpuReady();
});

// IEEE special values every float kernel must pass through like the CPU does.
const SPECIAL = [
  0,
  -0,
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e-30,
  -1e-30,
  65504,
  -7.5,
  3.25,
  0.5,
  -0.5,
  1,
  -1,
  2.5,
];

const UNARY: [string, number, number][] = [
  ['Abs', -3, 3],
  ['Neg', -3, 3],
  ['Sign', -3, 3],
  ['Sqrt', -1, 9],
  ['Reciprocal', 0.2, 4],
  ['Exp', -5, 5],
  ['Log', -0.5, 8],
  ['Sin', -3, 3],
  ['Cos', -3, 3],
  ['Tan', -1.2, 1.2],
  ['Asin', -1.1, 1.1],
  ['Acos', -1.1, 1.1],
  ['Atan', -4, 4],
  ['Sinh', -3, 3],
  ['Cosh', -3, 3],
  ['Asinh', -4, 4],
  ['Acosh', 0.8, 5],
  ['Atanh', -1.1, 1.1],
  ['Erf', -4.5, 4.5],
  ['Floor', -4, 4],
  ['Ceil', -4, 4],
  ['Round', -4, 4],
  ['Relu', -2, 2],
  ['Sigmoid', -8, 8],
  ['Tanh', -6, 6],
  ['Softplus', -8, 8],
  ['Softsign', -4, 4],
  ['HardSwish', -5, 5],
  ['Mish', -4, 4],
  ['IsNaN', -1, 1],
];

test('unary float ops match the CPU on random [3, 5, 7] inputs and on special values', async () => {
  for (const [op, lo, hi] of UNARY) {
    await compareOp(op, [ru([3, 5, 7], lo, hi)], {}, { rtol: 2e-5, atol: 2e-6 });
    await compareOp(op, [tensor(SPECIAL)], {}, { rtol: 2e-5, atol: 2e-6 });
  }
  // Round is half-to-even, exactly.
  await compareOp('Round', [tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 3.49999])]);
});

test('activations with attributes', async () => {
  const x = ru([4, 9], -4, 4);
  const cases: [string, Record<string, unknown>][] = [
    ['LeakyRelu', { alpha: 0.3 }],
    ['LeakyRelu', {}],
    ['Elu', { alpha: 0.7 }],
    ['Selu', {}],
    ['Celu', { alpha: 1.5 }],
    ['HardSigmoid', { alpha: 0.25, beta: 0.4 }],
    ['ThresholdedRelu', { alpha: 0.5 }],
    ['Shrink', { bias: 0.2, lambd: 0.7 }],
    ['Gelu', {}],
    ['Gelu', { approximate: 'tanh' }],
    ['IsInf', {}],
    ['IsInf', { detect_negative: 0 }],
    ['IsInf', { detect_positive: 0 }],
  ];
  for (const [op, attrs] of cases) {
    await compareOp(op, [x], attrs as any, { rtol: 2e-5, atol: 2e-6 });
    await compareOp(op, [tensor(SPECIAL)], attrs as any, { rtol: 2e-5, atol: 2e-6 });
  }
});

test('integer unary ops wrap like the CPU (int8 -128 negated is -128)', async () => {
  for (const dtype of ['int32', 'int8', 'int16', 'uint8', 'uint32'] as DType[]) {
    const x = tensor([0, 1, -1, 5, -7, 127, -128, 100], { dtype });
    for (const op of ['Abs', 'Neg', 'Sign', 'Relu']) await compareOp(op, [x]);
  }
  await compareOp('Not', [tensor([true, false, true])]);
  await compareOp('BitwiseNot', [tensor([0, 1, -5, 2147483647], { dtype: 'int32' })]);
  await compareOp('BitwiseNot', [tensor([0, 1, 200], { dtype: 'uint8' })]);
  await compareOp('BitwiseNot', [int64s([0, 1, -5, 2 ** 40])]);
});

test('binary arithmetic broadcasts over odd shapes, in every float width', async () => {
  const pairs: [number[], number[]][] = [
    [
      [3, 1, 5],
      [4, 1],
    ],
    [[7], [2, 3, 7]],
    [[1], [5, 1, 1, 3]],
    [
      [2, 3, 4],
      [2, 3, 4],
    ],
    [[], [6]],
  ];
  for (const [sa, sb] of pairs) {
    const a = ru(sa, -3, 3);
    const b = ru(sb, 0.5, 3);
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'PRelu', 'Max', 'Min', 'Sum', 'Mean']) {
      await compareOp(op, [op === 'Pow' ? b : a, op === 'Pow' ? a : b], {}, { rtol: 3e-5, atol: 1e-5 });
    }
  }
  for (const dtype of ['float16', 'bfloat16'] as DType[]) {
    const a = ru([5, 6], -100, 100).to(dtype);
    const b = ru([6], -3, 3).to(dtype);
    // Each kernel rounds its f32 result to the 16-bit type, as the CPU rounds its double result.
    for (const op of ['Add', 'Sub', 'Mul', 'Div'])
      await compareOp(op, [a, b], {}, { rtol: 1e-2, atol: 1e-3 });
    await compareOp('Sqrt', [a.abs()], {}, { rtol: 1e-2 });
  }
});

test('integer arithmetic wraps, divides toward zero and gives 0 for division by zero', async () => {
  const a = tensor([7, -7, 7, -7, 0, 2147483647, -2147483648, 100, 3], { dtype: 'int32' });
  const b = tensor([2, 2, -2, -2, 5, 1, -1, 0, 0], { dtype: 'int32' });
  for (const op of ['Add', 'Sub', 'Mul', 'Div']) await compareOp(op, [a, b]);
  await compareOp('Mod', [a, b]);
  await compareOp('Mod', [a, b], { fmod: 1 });
  await compareOp('Pow', [
    tensor([2, -3, 5, 1, -1, 0], { dtype: 'int32' }),
    tensor([10, 3, -1, -5, -3, 0], { dtype: 'int32' }),
  ]);
  for (const dtype of ['int8', 'uint8', 'int16', 'uint16', 'uint32'] as DType[]) {
    const x = tensor([100, 120, 3, 255, 7], { dtype });
    const y = tensor([100, 10, 2, 2, 0], { dtype });
    for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Mod']) await compareOp(op, [x, y]);
  }
  const u = tensor([1, 255, 16, 3], { dtype: 'uint8' });
  await compareOp('BitShift', [u, tensor([1, 1, 9, 0], { dtype: 'uint8' })], { direction: 'LEFT' });
  await compareOp('BitShift', [u, tensor([1, 4, 8, 1], { dtype: 'uint8' })], { direction: 'RIGHT' });
  await compareOp('BitShift', [tensor([1, 3], { dtype: 'uint32' }), tensor([31, 32], { dtype: 'uint32' })], {
    direction: 'LEFT',
  });
  await compareOp('Add', [tensor([true, false, true, false]), tensor([true, true, false, false])]);
  await compareOp('Mul', [tensor([true, false, true, false]), tensor([true, true, false, false])]);
});

test('float Pow and Mod follow C (negative bases, zero, infinities)', async () => {
  const x = tensor([-2, -2, -8, 0, 0, -0, 1, -1, 2, Number.NaN, 4, -3]);
  const y = tensor([3, 0.5, 1 / 3, -1, 2, -3, Number.NaN, Number.POSITIVE_INFINITY, 0.5, 0, -2, 2]);
  await compareOp('Pow', [x, y], {}, { rtol: 1e-5 });
  await compareOp(
    'Pow',
    [ru([4, 4], 0.1, 3), tensor([2, 3, -1, 0.5], { dtype: 'int32' })],
    {},
    { rtol: 1e-5 },
  );
  await compareOp('Pow', [tensor([2, 3, -2], { dtype: 'int32' }), tensor([1.5, 2, 3])]);
  await compareOp(
    'Mod',
    [tensor([5.5, -5.5, 5.5, -5.5, 1, 0]), tensor([2, 2, -2, -2, 0, 3])],
    { fmod: 1 },
    { rtol: 1e-6 },
  );
});

test('comparisons and logic give bool on every dtype class, NaN compares false', async () => {
  const a = tensor([1, Number.NaN, 3, -0, 5, 2]);
  const b = tensor([1, Number.NaN, 2, 0, 6, 2]);
  const ia = tensor([1, -5, 3, 0, 2147483647], { dtype: 'int32' });
  const ib = tensor([1, 5, 2, 0, -1], { dtype: 'int32' });
  const big = int64s([1, -(2 ** 40), 2 ** 33 + 1, -1, 5]);
  const big2 = int64s([1, 2 ** 40, 2 ** 33, 1, 5]);
  const ua = tensor([0, 255, 3], { dtype: 'uint8' });
  const ub = tensor([1, 254, 3], { dtype: 'uint8' });
  for (const op of ['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual']) {
    await compareOp(op, [a, b]);
    await compareOp(op, [ia, ib]);
    await compareOp(op, [big, big2]);
    await compareOp(op, [ua, ub]);
    await compareOp(op, [rn([3, 1]), rn([1, 4])]);
  }
  await compareOp('Equal', [tensor([true, false]), tensor([true, true])]);
  const p = tensor([true, false, true, false]);
  const q = tensor([[true], [false]]);
  for (const op of ['And', 'Or', 'Xor']) await compareOp(op, [p, q]);
  for (const op of ['BitwiseAnd', 'BitwiseOr', 'BitwiseXor']) {
    await compareOp(op, [ia, ib]);
    await compareOp(op, [big, big2]);
    await compareOp(op, [ua, ub]);
  }
});

test('variadic Max/Min/Sum/Mean over 1, 3 and 8 inputs (two launches), NaN propagating', async () => {
  const xs = [[5], [2, 5], [3, 1, 1], [5], [1], [1, 2, 5], [3, 2, 1], [5]].map((s) => ru(s, -2, 2));
  for (const op of ['Max', 'Min', 'Sum', 'Mean']) {
    await compareOp(op, xs.slice(0, 1));
    await compareOp(op, xs.slice(0, 3), {}, { rtol: 1e-5 });
    await compareOp(op, xs, {}, { rtol: 1e-5 });
    await compareOp(op, [tensor([1, Number.NaN, 3]), tensor([Number.NaN, 2, 4])]);
  }
  await compareOp('Max', [tensor([1, -5, 3], { dtype: 'int32' }), tensor([2, -6, 3], { dtype: 'int32' })]);
});

test('Where broadcasts condition and values of any dtype (int64 exactly)', async () => {
  const c = tensor([[true], [false], [true]]);
  await compareOp('Where', [c, rn([3, 4]), rn([4])]);
  await compareOp('Where', [c, int64s([2 ** 40, -3, 7, 8]), int64s([-(2 ** 35)])]);
  await compareOp('Where', [
    tensor([true, false]),
    tensor([1, 2], { dtype: 'uint8' }),
    tensor([3, 4], { dtype: 'uint8' }),
  ]);
});

test('Clip: attributes (opset 6), optional scalar inputs (opset 11+), ints, NaN passing through', async () => {
  const x = tensor([-3, -1, 0, 0.5, 2, 5, Number.NaN]);
  await compareOp('Clip', [x], { min: -1, max: 2 }, { opset: 6 });
  await compareOp('Clip', [x, tensor(-1), tensor(2)], {}, { opset: 13 });
  await compareOp('Clip', [x, undefined, tensor(2)], {}, { opset: 13 });
  await compareOp('Clip', [x, tensor(0.5)], {}, { opset: 13 });
  await compareOp('Clip', [x, tensor(3), tensor(1)], {}, { opset: 13 });
  const i = tensor([-300, -5, 0, 7, 300], { dtype: 'int32' });
  await compareOp(
    'Clip',
    [i, tensor(-5, { dtype: 'int32' }), tensor(100, { dtype: 'int32' })],
    {},
    { opset: 13 },
  );
});

test('Cast between every dtype the GPU holds, with C-like truncation and wrap-around', async () => {
  const dtypes: DType[] = [
    'float32',
    'float16',
    'bfloat16',
    'int8',
    'uint8',
    'int16',
    'uint16',
    'int32',
    'uint32',
    'int64',
    'uint64',
    'bool',
  ];
  const src = tensor([-3.7, -1.5, -0.5, 0, 0.4, 1.5, 2.5, 127.9, 200.2, 65000.5, -70000.25, 3e9, -3e9]);
  for (const to of dtypes) await compareOp('Cast', [src], { to });
  for (const from of dtypes) {
    const x = tensor([0, 1, 5, 100, 127], { dtype: from });
    for (const to of dtypes) await compareOp('Cast', [x], { to });
  }
  await compareOp('Cast', [tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0])], {
    to: 'bool',
  });
  await compareOp('Cast', [int64s([2 ** 40 + 3, -(2 ** 36), -1])], { to: 'int32' });
  await compareOp('Cast', [int64s([2 ** 40 + 3, -(2 ** 36), -1])], { to: 'float32' });
  await compareOp('CastLike', [rn([3]), tensor([1], { dtype: 'int16' })]);
});

test('legacy (opset < 7) broadcasting aligns B at axis; float64 falls back to the CPU, counted', async () => {
  await compareOp('Mul', [rn([2, 3, 4]), rn([3])], { broadcast: 1, axis: 1 }, { opset: 6 });
  await compareOp('Add', [rn([2, 3, 4]), rn([3, 4])], { broadcast: 1 }, { opset: 6 });
  await compareOp('PRelu', [rn([2, 3, 4]), rn([3])], {}, { opset: 6 });
  const a = rn([3, 4]).to('float64');
  await compareOp('Add', [a, a], {}, { fallback: true });
  await compareOp('Exp', [a], {}, { fallback: true });
});

test('int64 and uint64 arithmetic is exact on word pairs (carries, wrap, signed division and modulo)', async () => {
  const big = (xs: bigint[]) => Tensor.fromData(BigInt64Array.from(xs), [xs.length], 'int64');
  const a = big([
    2n ** 32n - 1n,
    -1n,
    2n ** 40n + 5n,
    -(2n ** 50n),
    2n ** 62n,
    7n,
    -7n,
    9223372036854775807n,
    -9223372036854775808n,
    0n,
  ]);
  const b = big([1n, 2n ** 33n, -(2n ** 35n) + 3n, 3n, 2n ** 62n, -2n, 2n, 1n, -1n, 5n]);
  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Max', 'Min', 'Sum']) await compareOp(op, [a, b]);
  await compareOp('Mod', [a, b]);
  await compareOp('Mod', [a, b], { fmod: 1 });
  await compareOp('Div', [a, big([0n, 0n, 1n, 1n, 1n, 1n, 1n, 1n, 1n, 1n])]);
  for (const op of ['Neg', 'Abs', 'Sign', 'Relu']) await compareOp(op, [a]);
  const ua = Tensor.fromData(BigUint64Array.from([2n ** 64n - 1n, 2n ** 33n, 5n]), [3], 'uint64');
  const ub = Tensor.fromData(BigUint64Array.from([2n, 2n ** 31n, 0n]), [3], 'uint64');
  for (const op of ['Add', 'Sub', 'Mul', 'Div', 'Mod']) await compareOp(op, [ua, ub]);
  // Shape arithmetic as exported models write it: broadcast int64 scalars.
  await compareOp('Mul', [int64s([2, 3, 4]), int64s([-1])]);
});
