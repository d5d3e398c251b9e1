/**
 * DynamicQuantizeLinear, QLinearMatMul, ConvInteger and QLinearConv on small inputs whose results
 * are worked out by hand (integer products, then the scale multiplier, rint and saturation).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ops, tensor } from '../../../src/index.js';

const { dispatch, dispatch1 } = ops;
const u8 = (v: Parameters<typeof tensor>[0]) => tensor(v, { dtype: 'uint8' });

test('DynamicQuantizeLinear: range widened to 0, float32 scale, rint zero point', () => {
  // range [-3, 2] -> scale = float32(5 / 255); zero point = rint(3 / scale) = 153
  const [y, scale, zp] = dispatch('DynamicQuantizeLinear', [tensor([0, 2, -3])]);
  assert.equal(scale!.dtype, 'float32');
  assert.deepEqual(scale!.shape, []);
  assert.equal(scale!.item(), Math.fround(5 / 255));
  assert.equal(zp!.dtype, 'uint8');
  assert.equal(zp!.item(), 153);
  assert.deepEqual(y!.toArray(), [153, 255, 0]); // 2 / scale = 102 -> 255 (saturated)
  // all positive: min is taken as 0, zero point 0; all zeros: scale 1
  const [y2, s2, z2] = dispatch('DynamicQuantizeLinear', [tensor([0.5, 2.55])]);
  assert.equal(s2!.item(), Math.fround(Math.fround(2.55) / 255)); // x is float32
  assert.equal(z2!.item(), 0);
  assert.deepEqual(y2!.toArray(), [50, 255]);
  const [y3, s3, z3] = dispatch('DynamicQuantizeLinear', [tensor([0, 0])]);
  assert.deepEqual([s3!.item(), z3!.item(), ...(y3!.toArray() as number[])], [1, 0, 0, 0]);
  assert.throws(
    () => dispatch('DynamicQuantizeLinear', [tensor([1], { dtype: 'float64' })]),
    /DynamicQuantizeLinear: x must be float32, got float64/,
  );
});

test('QLinearMatMul: integer product, scale multiplier, rint, per-row a / y and per-column b', () => {
  const a = u8([
    [130, 128],
    [126, 132],
  ]); // - 128 -> [[2, 0], [-2, 4]]
  const b = u8([
    [129, 128],
    [128, 130],
  ]); // - 128 -> [[1, 0], [0, 2]]
  const zp = u8(128);
  const yzp = u8(10);
  // C = [[2, 0], [-2, 8]]; multiplier 0.5 * 0.25 / 0.125 = 1
  const y = dispatch1('QLinearMatMul', [a, tensor(0.5), zp, b, tensor(0.25), zp, tensor(0.125), yzp]);
  assert.equal(y.dtype, 'uint8');
  assert.deepEqual(y.toArray(), [
    [12, 10],
    [8, 18],
  ]);
  // multiplier 0.75: C * 0.75 = [[1.5, 0], [-1.5, 6]] -> rint [[2, 0], [-2, 6]]
  const y2 = dispatch1('QLinearMatMul', [a, tensor(0.75), zp, b, tensor(0.25), zp, tensor(0.25), yzp]);
  assert.deepEqual(y2.toArray(), [
    [12, 10],
    [8, 16],
  ]);
  // per-row a_scale [0.5, 1]: row 1 multiplier 2 -> [-4, 16]
  const y3 = dispatch1('QLinearMatMul', [a, tensor([0.5, 1]), zp, b, tensor(0.25), zp, tensor(0.125), yzp]);
  assert.deepEqual(y3.toArray(), [
    [12, 10],
    [6, 26],
  ]);
  // per-column b zero point [128, 129]: B = [[1, -1], [0, 1]] -> C = [[2, -2], [-2, 6]]; int8 output saturates
  const y4 = dispatch1('QLinearMatMul', [
    a,
    tensor(0.5),
    zp,
    b,
    tensor(0.25),
    u8([128, 129]),
    tensor(0.001),
    tensor(0, { dtype: 'int8' }),
  ]);
  assert.equal(y4.dtype, 'int8');
  assert.deepEqual(y4.toArray(), [
    [127, -128],
    [-128, 127],
  ]);
  // batched: a [2, 1, 2] against one b
  const ab = u8([[[130, 128]], [[126, 132]]]);
  const yb = dispatch1('QLinearMatMul', [ab, tensor(0.5), zp, b, tensor(0.25), zp, tensor(0.125), yzp]);
  assert.deepEqual(yb.toArray(), [[[12, 10]], [[8, 18]]]);
  assert.throws(
    () => dispatch1('QLinearMatMul', [a, tensor([1, 2, 3]), zp, b, tensor(1), zp, tensor(1), yzp]),
    /QLinearMatMul: a_scale must be a scalar or 1-D with 2 elements \(the rows of a\), got shape \[3\]/,
  );
  assert.throws(
    () =>
      dispatch1('QLinearMatMul', [
        a,
        tensor(1),
        tensor(0, { dtype: 'int8' }),
        b,
        tensor(1),
        zp,
        tensor(1),
        yzp,
      ]),
    /QLinearMatMul: a_zero_point must have a's dtype uint8, got int8/,
  );
});

test('ConvInteger: conv of (x - x_zp) and (w - w_zp) in int32, per-channel w zero point', () => {
  const x = u8([
    [
      [
        [3, 4],
        [5, 6],
      ],
    ],
  ]); // - 2 -> [[1, 2], [3, 4]]
  const w = u8([[[[3]]], [[[1]]]]); // M = 2 1x1 kernels; - [1, 0] -> [2, 1]
  const y = dispatch1('ConvInteger', [x, w, u8(2), u8([1, 0])]);
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(y.toArray(), [
    [
      [
        [2, 4],
        [6, 8],
      ],
      [
        [1, 2],
        [3, 4],
      ],
    ],
  ]);
  // a 2x2 kernel of ones with pads 1 on x - 0: every 2x2 window sum of [[3, 4], [5, 6]]
  const ones = u8([
    [
      [
        [1, 1],
        [1, 1],
      ],
    ],
  ]);
  const p = dispatch1('ConvInteger', [x, ones], { pads: [1, 1, 1, 1] });
  assert.deepEqual(p.toArray(), [
    [
      [
        [3, 7, 4],
        [8, 18, 10],
        [5, 11, 6],
      ],
    ],
  ]);
  assert.throws(
    () => dispatch1('ConvInteger', [tensor([[[[1]]]]), w]),
    /ConvInteger: x must be int8 or uint8, got float32/,
  );
  assert.throws(
    () => dispatch1('ConvInteger', [x, w, u8(0), u8([1, 2, 3])]),
    /ConvInteger: w_zero_point must be a scalar or 1-D with 2 elements \(one per output channel\), got shape \[3\]/,
  );
});

test('QLinearConv: requantized int conv with int32 bias and per-channel w_scale', () => {
  const x = u8([
    [
      [
        [3, 4],
        [5, 6],
      ],
    ],
  ]);
  const w = u8([[[[3]]]]);
  // conv(x - 2, w - 1) = 2 * [[1, 2], [3, 4]]; multiplier 0.5 * 0.25 / 0.25 = 0.5 -> [1, 2, 3, 4] + 100
  const args = [x, tensor(0.5), u8(2), w, tensor([0.25]), u8([1]), tensor(0.25), u8(100)];
  assert.deepEqual(dispatch1('QLinearConv', args).toArray(), [
    [
      [
        [101, 102],
        [103, 104],
      ],
    ],
  ]);
  // with B = [1]: [3, 5, 7, 9] * 0.5 = [1.5, 2.5, 3.5, 4.5] -> rint [2, 2, 4, 4]
  const withBias = dispatch1('QLinearConv', [...args, tensor([1], { dtype: 'int32' })]);
  assert.deepEqual(withBias.toArray(), [
    [
      [
        [102, 102],
        [104, 104],
      ],
    ],
  ]);
  // two output channels with w_scale [0.25, 1]: channel 1 multiplier 0.5 * 1 / 0.25 = 2
  const w2 = u8([[[[3]]], [[[2]]]]);
  const two = dispatch1('QLinearConv', [
    x,
    tensor(0.5),
    u8(2),
    w2,
    tensor([0.25, 1]),
    u8([1, 1]),
    tensor(0.25),
    u8(100),
  ]);
  assert.deepEqual(two.toArray(), [
    [
      [
        [101, 102],
        [103, 104],
      ],
      [
        [102, 104],
        [106, 108],
      ],
    ],
  ]);
  assert.throws(
    () =>
      dispatch1('QLinearConv', [
        x,
        tensor([0.5, 1]),
        u8(2),
        w,
        tensor([0.25]),
        u8([1]),
        tensor(0.25),
        u8(100),
      ]),
    /QLinearConv: x_scale must be a scalar, got shape \[2\]/,
  );
});
