/**
 * CumProd and Det: values by hand (running products with every flag, integer wrap-around,
 * exact int64, determinants with pivoting and of singular matrices), errors, gradcheck of
 * CumProd with a zero in the input, conformance cases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, randn, Tensor, tensor } from '../../../src/index.js';
import { dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { conformanceCases } from '../transformer/conformance-cases.js';

const gen = new Generator(13);
const axis = (a: number) => tensor(a, { dtype: 'int64' });
const cumprod = (x: Tensor, a: number, attrs: Record<string, number> = {}) =>
  dispatch1('CumProd', [x, axis(a)], attrs);

test('CumProd by hand: plain, exclusive, reverse, both; 2-D along each axis', () => {
  const x = tensor([1, 2, 3, 4], { dtype: 'float64' });
  assertClose(cumprod(x, 0), [1, 2, 6, 24]);
  assertClose(cumprod(x, 0, { exclusive: 1 }), [1, 1, 2, 6]);
  assertClose(cumprod(x, 0, { reverse: 1 }), [24, 24, 12, 4]);
  assertClose(cumprod(x, 0, { exclusive: 1, reverse: 1 }), [24, 12, 4, 1]);
  const m = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assertClose(cumprod(m, 0), [1, 2, 3, 4, 10, 18]);
  assertClose(cumprod(m, -1), [1, 2, 6, 4, 20, 120]);
  assertClose(dispatch1('CumProd', [m, tensor(1, { dtype: 'int32' })]), [1, 2, 6, 4, 20, 120]);
});

test('CumProd integers: int32 wraps like C, int64 stays exact past 2^53', () => {
  const i = tensor([65536, 65536, 3], { dtype: 'int32' });
  const y = cumprod(i, 0);
  assert.equal(y.dtype, 'int32');
  // 2^32 wraps to 0 in 32 bits.
  assert.deepEqual(y.toArray(), [65536, 0, 0]);
  // 3 * 2^60 is exact (past 2^53); times 4 it wraps past 2^63: 12 * 2^60 - 2^64 = -2^62.
  const big = Tensor.fromData(BigInt64Array.of(2n ** 30n, 2n ** 30n, 3n, 4n), [4], 'int64');
  assert.deepEqual(
    [...(cumprod(big, 0).dataSync() as BigInt64Array)],
    [2n ** 30n, 2n ** 60n, 3n * 2n ** 60n, -(2n ** 62n)],
  );
});

test('CumProd: errors', () => {
  const x = tensor([1, 2]);
  assert.throws(
    () => dispatch1('CumProd', [x, tensor([0, 1], { dtype: 'int64' })]),
    /CumProd: axis must be a 0-d tensor holding one axis/,
  );
  assert.throws(
    () => dispatch1('CumProd', [x, tensor(0)]),
    /CumProd: axis must be an int32 or int64 tensor, got float32/,
  );
  assert.throws(() => cumprod(x, 2), /axis 2 is out of range/);
});

test('CumProd: gradcheck for every flag combination, with a zero in the input', () => {
  const base = randn([2, 4], { dtype: 'float64', generator: gen });
  const data = Float64Array.from(base.numbers());
  data[1] = 0; // d/dx of products through a zero factor must not divide by it
  for (const exclusive of [0, 1])
    for (const reverse of [0, 1]) {
      const x = Tensor.fromData(Float64Array.from(data), [2, 4], 'float64').requiresGrad_();
      assert.ok(gradcheck((t) => cumprod(t, 1, { exclusive, reverse }), [x]));
      assert.ok(gradcheck((t) => cumprod(t, 0, { exclusive, reverse }), [x]));
    }
});

test('Det by hand: 2 x 2, diagonal, a row swap (pivot sign), singular, batched', () => {
  const det = (v: number[], shape: number[]) =>
    dispatch1('Det', [tensor(v, { dtype: 'float64' }).reshape(shape)]);
  assertClose(det([1, 2, 3, 4], [2, 2]), -2);
  assertClose(det([2, 0, 0, 0, 3, 0, 0, 0, 4], [3, 3]), 24);
  assertClose(det([0, 1, 1, 0], [2, 2]), -1);
  assertClose(det([1, 2, 2, 4], [2, 2]), 0);
  const y = det([1, 2, 3, 4, 0, 1, 1, 0, 2, 0, 0, 2], [3, 2, 2]);
  assert.deepEqual([...y.shape], [3]);
  assertClose(y, [-2, -1, 4]);
  assert.throws(
    () => dispatch1('Det', [tensor([1, 2, 3, 4, 5, 6]).reshape([2, 3])]),
    /Det: X must have shape \[\*, M, M\], got \[2, 3\]/,
  );
});

conformanceCases([
  'test_cumprod_1d_reverse_exclusive',
  'test_cumprod_1d_int32_exclusive',
  'test_cumprod_2d_negative_axis',
  'test_det_2d',
  'test_det_nd',
]);
