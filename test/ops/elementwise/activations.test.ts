import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, type Tensor, tensor } from '../../../src/index.js';
import type { Attrs } from '../../../src/ops/index.js';
import { assertClose } from '../../helpers/close.js';
import { f64, leaf, run } from './util.js';

// Expected values: Python 3 `math` on the same doubles, using each op's ONNX definition, e.g.
// Selu: gamma*(alpha*exp(x) - alpha) for x <= 0, gamma*x otherwise (alpha, gamma the ONNX defaults);
// Gelu: 0.5*x*(1 + math.erf(x/math.sqrt(2))); Mish: x*math.tanh(math.log1p(math.exp(x))).
const X = [-2.5, -1.0, -0.25, 0.0, 0.3, 1.0, 2.75];
const CASES: [string, Attrs, number[]][] = [
  [
    'Sigmoid',
    {},
    [
      0.07585818002124355, 0.2689414213699951, 0.43782349911420193, 0.5, 0.574442516811659,
      0.7310585786300049, 0.9399133498259924,
    ],
  ],
  [
    'Tanh',
    {},
    [
      -0.9866142981514303, -0.7615941559557649, -0.24491866240370913, 0.0, 0.2913126124515909,
      0.7615941559557649, 0.9918597245682077,
    ],
  ],
  [
    'Softplus',
    {},
    [
      0.07888973429254963,
      0.31326168751822286,
      0.5759394198788436,
      Math.LN2,
      0.8543552444685272,
      1.3132616875182228,
      2.8119675890031988,
    ],
  ],
  ['Softsign', {}, [-0.7142857142857143, -0.5, -0.2, 0.0, 0.23076923076923075, 0.5, 0.7333333333333333]],
  ['Elu', {}, [-0.9179150013761012, -0.6321205588285577, -0.22119921692859512, 0.0, 0.3, 1.0, 2.75]],
  [
    'Elu',
    { alpha: 2 },
    [-1.8358300027522023, -1.2642411176571153, -0.44239843385719024, 0.0, 0.3, 1.0, 2.75],
  ],
  [
    'Selu',
    {},
    [
      -1.6137857639177853, -1.1113307412864781, -0.3888901986937533, 0.0, 0.31521030664443966,
      1.0507010221481323, 2.889427810907364,
    ],
  ],
  [
    'Selu',
    { alpha: 1.5, gamma: 2 },
    [-2.7537450041283034, -1.896361676485673, -0.6635976507857855, 0.0, 0.6, 2.0, 5.5],
  ],
  ['Celu', {}, [-0.9179150013761012, -0.6321205588285577, -0.22119921692859512, 0, 0.3, 1.0, 2.75]],
  ['Celu', { alpha: 2 }, [-1.4269904062796197, -0.7869386805747332, -0.2350061948308091, 0, 0.3, 1.0, 2.75]],
  [
    'Gelu',
    {},
    [
      -0.015524163314440398, -0.15865525393145707, -0.10032341857926907, 0.0, 0.18537342665668577,
      0.8413447460685429, 2.7418056511035998,
    ],
  ],
  [
    'Gelu',
    { approximate: 'tanh' },
    [
      -0.015084266089998577, -0.15880800939172324, -0.100324649298315, 0.0, 0.18537092354275922,
      0.8411919906082768, 2.742276855926382,
    ],
  ],
  ['HardSigmoid', {}, [0, 0.3, 0.45, 0.5, 0.56, 0.7, 1]],
  ['HardSigmoid', { alpha: 0.5, beta: 0.25 }, [0, 0, 0.125, 0.25, 0.4, 0.75, 1]],
  [
    'HardSwish',
    {},
    [
      -0.2083333333333333, -0.33333333333333337, -0.11458333333333333, 0.0, 0.165, 0.6666666666666666,
      2.6354166666666665,
    ],
  ],
  [
    'Mish',
    {},
    [
      -0.19681620390653337, -0.30340146137410895, -0.129926963679141, 0.0, 0.20800137234811503,
      0.8650983882673103, 2.7302142043358297,
    ],
  ],
  // By hand: max(0, x); x < 0 ? alpha*x : x (default alpha 0.01); x > alpha ? x : 0 (default alpha 1).
  ['Relu', {}, [0, 0, 0, 0, 0.3, 1, 2.75]],
  ['LeakyRelu', {}, [-0.025, -0.01, -0.0025, 0, 0.3, 1, 2.75]],
  ['LeakyRelu', { alpha: 0.5 }, [-1.25, -0.5, -0.125, 0, 0.3, 1, 2.75]],
  ['ThresholdedRelu', {}, [0, 0, 0, 0, 0, 0, 2.75]],
  ['ThresholdedRelu', { alpha: 0.2 }, [0, 0, 0, 0, 0.3, 1, 2.75]],
  // Shrink: x < -lambd ? x + bias : x > lambd ? x - bias : 0 (defaults lambd 0.5, bias 0).
  ['Shrink', {}, [-2.5, -1, 0, 0, 0, 1, 2.75]],
  ['Shrink', { lambd: 0.9, bias: 0.5 }, [-2, -0.5, 0, 0, 0, 0.5, 2.25]],
];

test('activations match their definitions (float64, defaults and attributes)', () => {
  for (const [name, attrs, want] of CASES) {
    assertClose(run(name, [f64(X)], attrs), want, { rtol: 1e-13, atol: 1e-15 });
  }
});

test('activations in float32 and float16', () => {
  for (const [name, attrs, want] of CASES) {
    const y = run(name, [tensor(X, { dtype: 'float32' })], attrs);
    assert.equal(y.dtype, 'float32');
    assertClose(y, want, { rtol: 1e-6, atol: 1e-7 });
    const h = run(name, [tensor(X, { dtype: 'float16' })], attrs);
    assert.equal(h.dtype, 'float16');
    assertClose(h, want, { rtol: 2e-3, atol: 1e-3 });
  }
});

test('NaN passes through activations (ThresholdedRelu gives 0, as NaN > alpha is false)', () => {
  for (const name of [
    'Relu',
    'LeakyRelu',
    'Elu',
    'Selu',
    'Celu',
    'Gelu',
    'HardSigmoid',
    'Sigmoid',
    'Softplus',
    'Mish',
  ]) {
    assert.ok(Number.isNaN(run(name, [f64([Number.NaN])]).item() as number), name);
  }
  assert.equal(run('ThresholdedRelu', [f64([Number.NaN])]).item(), 0);
});

test('large inputs do not overflow sigmoid and softplus', () => {
  assert.deepEqual(run('Sigmoid', [f64([-800, 800])]).toArray(), [0, 1]);
  assert.deepEqual(run('Softplus', [f64([-800, 800])]).toArray(), [0, 800]);
});

test('Relu and Shrink on integer dtypes (int64 exact past 2^53)', () => {
  assert.deepEqual(run('Relu', [tensor([-3, 0, 5], { dtype: 'int32' })]).toArray(), [0, 0, 5]);
  assert.deepEqual(run('Relu', [tensor([-9007199254740993n, 9007199254740993n])]).toArray(), [
    0,
    9007199254740993n,
  ]);
  // int8 Shrink with lambd 1, bias 2 (by hand): -5 -> -3, 0 -> 0, 5 -> 3
  assert.deepEqual(
    run('Shrink', [tensor([-5, 0, 5], { dtype: 'int8' })], { lambd: 1, bias: 2 }).toArray(),
    [-3, 0, 3],
  );
});

test('Gelu rejects an unknown approximation', () => {
  assert.throws(
    () => run('Gelu', [f64([1])], { approximate: 'erf' }),
    /Gelu: approximate must be 'none' or 'tanh', got 'erf'/,
  );
});

test('PRelu broadcasts the slope; before opset 7 a 1-d slope runs along the channel axis', () => {
  // By hand: x < 0 ? slope*x : x
  const x = f64([-1, 2, -3, 4]).reshape(2, 2);
  assertClose(run('PRelu', [x, f64([0.1, 0.5])]), [-0.1, 2, -0.3, 4]);
  const x3 = f64([-1, -2, -3, 4]).reshape(1, 2, 2);
  const slope = f64([0.5, 0.25]);
  // opset 9: slope [2] aligns with the last axis.
  assert.deepEqual(run('PRelu', [x3, slope], {}, 9).toArray(), [
    [
      [-0.5, -0.5],
      [-1.5, 4],
    ],
  ]);
  // opset 6: slope [2] is per channel (axis 1).
  assert.deepEqual(run('PRelu', [x3, slope], {}, 6).toArray(), [
    [
      [-0.5, -1],
      [-0.75, 4],
    ],
  ]);
  assert.deepEqual(
    run('PRelu', [tensor([-4, 4], { dtype: 'int32' }), tensor([3], { dtype: 'int32' })]).toArray(),
    [-12, 4],
  );
});

test('activation gradients pass gradcheck', () => {
  const cases: [string, Attrs, [number, number]][] = [
    ['Relu', {}, [-2, 2]],
    ['LeakyRelu', { alpha: 0.2 }, [-2, 2]],
    ['Elu', { alpha: 1.5 }, [-2, 2]],
    ['Selu', {}, [-2, 2]],
    ['Celu', { alpha: 0.7 }, [-2, 2]],
    ['Gelu', {}, [-3, 3]],
    ['Gelu', { approximate: 'tanh' }, [-3, 3]],
    ['HardSigmoid', {}, [-4, 4]],
    ['HardSigmoid', { alpha: 0.5, beta: 0.1 }, [-3, 3]],
    ['HardSwish', {}, [-5, 5]],
    ['Sigmoid', {}, [-4, 4]],
    ['Tanh', {}, [-3, 3]],
    ['Softplus', {}, [-4, 4]],
    ['Softsign', {}, [-3, 3]],
    ['ThresholdedRelu', { alpha: 0.5 }, [-2, 2]],
    ['Mish', {}, [-3, 3]],
    ['Shrink', { lambd: 0.3, bias: 0.2 }, [-2, 2]],
  ];
  cases.forEach(([name, attrs, [lo, hi]], i) => {
    const x = leaf([[3, 4], [5], [2, 1, 3]][i % 3]!, lo, hi);
    assert.equal(
      gradcheck((t: Tensor) => run(name, [t], attrs), [x]),
      true,
      `${name} ${JSON.stringify(attrs)}`,
    );
  });
});

test('PRelu gradient reaches x and the broadcast slope (both layouts)', () => {
  const x = leaf([2, 3, 4]);
  const slope = leaf([4], 0.1, 0.9);
  assert.equal(
    gradcheck((a: Tensor, s: Tensor) => run('PRelu', [a, s]), [x, slope]),
    true,
  );
  const perChannel = leaf([3], 0.1, 0.9);
  assert.equal(
    gradcheck((a: Tensor, s: Tensor) => run('PRelu', [a, s], {}, 6), [x, perChannel]),
    true,
  );
});
