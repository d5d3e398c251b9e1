/**
 * QuantizeLinear / DequantizeLinear: per-tensor, per-axis and blocked scales, round half to even,
 * saturation for every quantized type, float8 targets, output_dtype / precision, errors, and
 * gradcheck of DequantizeLinear with respect to its scale. Expected values are computed by hand.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, ops, randint, randn, Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;
const q = (x: Tensor, s: Tensor, zp?: Tensor, attrs = {}) =>
  dispatch1('QuantizeLinear', zp ? [x, s, zp] : [x, s], attrs);
const dq = (x: Tensor, s: Tensor, zp?: Tensor, attrs = {}) =>
  dispatch1('DequantizeLinear', zp ? [x, s, zp] : [x, s], attrs);

test('QuantizeLinear per tensor: uint8 by default, round half to even, saturation', () => {
  // x / 2 = [0, 1, 1.5, 500, -127] -> rint [0, 1, 2, 500, -127] + 128, clamped to [0, 255]
  const y = q(tensor([0, 2, 3, 1000, -254]), tensor(2), tensor(128, { dtype: 'uint8' }));
  assert.equal(y.dtype, 'uint8');
  assert.deepEqual(y.toArray(), [128, 129, 130, 255, 1]);
  // ties: 0.5 -> 0, 1.5 -> 2, 2.5 -> 2, -0.5 -> 0, -1.5 -> -2
  const t = q(tensor([1, 3, 5, -1, -3]), tensor(2), tensor(0, { dtype: 'int8' }));
  assert.deepEqual(t.toArray(), [0, 2, 2, 0, -2]);
  // no zero point: uint8, zero point 0
  assert.deepEqual(q(tensor([-5, 5.5]), tensor(1)).toArray(), [0, 6]);
});

test('QuantizeLinear saturates to every integer type', () => {
  const x = tensor([100000, -100000, 3]);
  const cases: [number, number[]][] = [
    [3, [127, -128, 3]], // int8
    [4, [65535, 0, 3]], // uint16
    [5, [32767, -32768, 3]], // int16
    [22, [7, -8, 3]], // int4
    [21, [15, 0, 3]], // uint4
    [26, [1, -2, 1]], // int2
    [25, [3, 0, 3]], // uint2
  ];
  for (const [od, want] of cases) {
    const y = q(x, tensor(1), undefined, { output_dtype: od });
    assert.deepEqual(y.toArray(), want, `output_dtype ${od}`);
  }
});

test('QuantizeLinear per axis (negative axis too) and blocked with a short last block', () => {
  const x = tensor([
    [1, 2, 4],
    [-3, 6, -8],
  ]);
  const s = tensor([1, 2, 4]);
  const zp = tensor([0, 1, 2], { dtype: 'int8' });
  // column j: rint(x / s[j]) + zp[j]
  const want = [
    [1, 2, 3],
    [-3, 4, 0],
  ];
  assert.deepEqual(q(x, s, zp, { axis: 1 }).toArray(), want);
  assert.deepEqual(q(x, s, zp, { axis: -1 }).toArray(), want);
  // blocks of 3 along axis 1 of a [2, 4] input: scale [2, 2], the second block has one element
  const xb = tensor([
    [3, 6, 9, 12],
    [1, 2, 3, 4],
  ]);
  const sb = tensor([
    [3, 4],
    [1, 2],
  ]);
  assert.deepEqual(q(xb, sb, undefined, { axis: 1, block_size: 3, output_dtype: 3 }).toArray(), [
    [1, 2, 3, 3],
    [1, 2, 3, 2],
  ]);
  // blocked along axis 0 of a 3-D input: x[i, j, k] / s[floor(i / 2), j, k]
  const x3 = tensor([[[2, 4]], [[6, 8]], [[10, 12]]]);
  const s3 = tensor([[[2, 4]], [[5, 3]]]);
  assert.deepEqual(q(x3, s3, undefined, { axis: 0, block_size: 2, output_dtype: 3 }).toArray(), [
    [[1, 1]],
    [[3, 2]],
    [[2, 4]],
  ]);
});

test('QuantizeLinear to float8/float4: nearest even, saturate attribute', () => {
  const x = tensor([1000, 1, -2000, 0.3]);
  const zp8 = Tensor.fromData(new Uint8Array(1), [1], 'float8e4m3fn');
  // x / 2 = [500, 0.5, -1000, 0.15]; 0.15 = 1.2 * 2^-3 -> 1.25 * 2^-3 = 0x22
  const y = q(x, tensor(2), zp8);
  assert.equal(y.dtype, 'float8e4m3fn');
  assert.deepEqual([...(y.dataSync() as Uint8Array)], [0x7e, 0x30, 0xfe, 0x22]);
  const ns = q(x, tensor(2), zp8, { saturate: 0 });
  assert.deepEqual([...(ns.dataSync() as Uint8Array)], [0x7f, 0x30, 0xff, 0x22]);
  // float4e2m1 through output_dtype: x / 1 = [1000 -> 6, 1, -2000 -> -6, 0.3 -> 0.5]
  assert.deepEqual(q(x, tensor(1), undefined, { output_dtype: 23 }).toArray(), [6, 1, -6, 0.5]);
});

test('QuantizeLinear divides in the precision of y_scale (or of the precision attribute)', () => {
  // 2049 is exact in float32 but not in float16 (11 significant bits: a tie between 2048 and
  // 2050, to the even 2048): a float16 y_scale divides in float16.
  const x = tensor([2049]);
  assert.deepEqual(q(x, tensor(1), undefined, { output_dtype: 5 }).toArray(), [2049]);
  assert.deepEqual(q(x, tensor(1, { dtype: 'float16' }), undefined, { output_dtype: 5 }).toArray(), [2048]);
  assert.deepEqual(
    q(x, tensor(1, { dtype: 'float16' }), undefined, { output_dtype: 5, precision: 1 }).toArray(),
    [2049],
  );
});

test('DequantizeLinear: (x - zp) * scale per tensor, per axis, blocked, float8, output_dtype', () => {
  const x = tensor([-128, 0, 127], { dtype: 'int8' });
  assertClose(dq(x, tensor(0.5), tensor(-1, { dtype: 'int8' })), [-63.5, 0.5, 64]);
  const y16 = dq(x, tensor(0.5), tensor(-1, { dtype: 'int8' }), { output_dtype: 10 });
  assert.equal(y16.dtype, 'float16');
  assert.deepEqual(y16.toArray(), [-63.5, 0.5, 64]);
  assert.equal(dq(x, tensor(2, { dtype: 'float16' })).dtype, 'float16');

  const xa = tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { dtype: 'uint8' },
  );
  // axis 0: row i uses s[i], zp[i]
  assertClose(dq(xa, tensor([2, 10]), tensor([1, 4], { dtype: 'uint8' }), { axis: 0 }), [0, 2, -10, 0]);
  // blocked along axis 1, block 1 (each element its own scale)
  assertClose(
    dq(
      xa,
      tensor([
        [1, 2],
        [3, 4],
      ]),
      undefined,
      { axis: 1, block_size: 1 },
    ),
    [1, 4, 9, 16],
  );
  const f8 = Tensor.fromData(Uint8Array.of(0x30, 0x7e, 0xc4), [3], 'float8e4m3fn');
  assertClose(dq(f8, tensor(2)), [1, 896, -6]);
  const i4 = tensor([-8, 7], { dtype: 'int4' });
  assertClose(dq(i4, tensor(0.25), tensor(-1, { dtype: 'int4' })), [-1.75, 2]);
  assertClose(dq(tensor([70000, -5], { dtype: 'int32' }), tensor(0.5)), [35000, -2.5]);
});

test('Quantize then dequantize is within half a step, per axis', () => {
  const x = randn([3, 4, 5]);
  const s = tensor([0.02, 0.05, 0.1, 0.01]);
  const zp = tensor([0, 3, -2, 1], { dtype: 'int8' });
  const back = dq(q(x, s, zp, { axis: 1 }), s, zp, { axis: 1 }).numbers();
  const xs = x.numbers();
  for (let i = 0; i < xs.length; i++) {
    const c = Math.floor(i / 5) % 4;
    const step = s.numbers()[c]!;
    if (Math.abs(xs[i]! / step) < 120)
      assert.ok(Math.abs(back[i]! - xs[i]!) <= step / 2 + 1e-7, `element ${i}`);
  }
});

test('errors name the op, the expectation and what was got', () => {
  const x = tensor([1, 2, 3]);
  assert.throws(
    () => q(x, tensor([1, 2]), undefined, { axis: 0 }),
    /QuantizeLinear: per-axis y_scale must be 1-D with X.shape\[0\] = 3 elements, got shape \[2\]/,
  );
  assert.throws(
    () => q(x, tensor(1), tensor(0, { dtype: 'int8' }), { output_dtype: 2 }),
    /QuantizeLinear: output_dtype is uint8 but y_zero_point is int8/,
  );
  assert.throws(
    () => q(x, tensor(1), tensor(0, { dtype: 'int32' })),
    /QuantizeLinear: the quantized type must be .*got int32/,
  );
  assert.throws(
    () => q(x, tensor(1, { dtype: 'int32' })),
    /QuantizeLinear: y_scale must be a float tensor, got int32/,
  );
  assert.throws(
    () => q(tensor([[1, 2, 3]]), tensor([[1, 2]]), undefined, { axis: 1, block_size: 1 }),
    /QuantizeLinear: blocked y_scale for X \[1, 3\], axis 1 and block_size 1 must have shape \[1, 3\], got \[1, 2\]/,
  );
  assert.throws(
    () => dq(tensor([1], { dtype: 'int8' }), tensor(1), tensor(0, { dtype: 'uint8' })),
    /DequantizeLinear: x_zero_point must have x's dtype int8, got uint8/,
  );
  assert.throws(
    () => dq(tensor([1]), tensor(1)),
    /DequantizeLinear: x must be a quantized type .*got float32/,
  );
  assert.throws(() => q(x, tensor([1, 2, 3]), undefined, { axis: 3 }), /axis 3 is out of range for rank 1/);
});

test('gradcheck: DequantizeLinear w.r.t. x_scale, per tensor / per axis / blocked', () => {
  const x = randint(-128, 128, [3, 5], { dtype: 'int8' });
  const zp = randint(-3, 4, [5], { dtype: 'int8' });
  const s1 = randn([], { dtype: 'float64' }).requiresGrad_();
  assert.equal(
    gradcheck((s) => dq(x, s), [s1]),
    true,
  );
  const s5 = randn([5], { dtype: 'float64' }).requiresGrad_();
  assert.equal(
    gradcheck((s) => dq(x, s, zp, { axis: 1 }).mul(dq(x, s, zp, { axis: 1 })), [s5]),
    true,
  );
  // blocks of 2 along axis 1 of [3, 5]: scale [3, 3], the last block is short
  const sb = randn([3, 3], { dtype: 'float64' }).requiresGrad_();
  assert.equal(
    gradcheck((s) => dq(x, s, undefined, { axis: 1, block_size: 2 }), [sb]),
    true,
  );
  // the gradient of a sum is the sum of (x - zp) over each block
  sb.grad = null;
  dq(x, sb, undefined, { axis: 1, block_size: 2 }).sum().backward();
  const xv = x.numbers();
  const want = [0, 1, 2].flatMap((r) => [
    xv[r * 5]! + xv[r * 5 + 1]!,
    xv[r * 5 + 2]! + xv[r * 5 + 3]!,
    xv[r * 5 + 4]!,
  ]);
  assertClose(sb.grad!, want);
});
