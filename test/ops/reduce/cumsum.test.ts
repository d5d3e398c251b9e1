/** CumSum: running sums by hand (the ONNX doc examples), exclusive/reverse, axes, ints; gradcheck. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, ops, randn, Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;
const axis0d = (a: number, dtype: 'int32' | 'int64' = 'int64') => tensor(a, { dtype });
const cumsum = (x: Tensor, axis: number, attrs: Record<string, number> = {}) =>
  dispatch1('CumSum', [x, axis0d(axis)], attrs);

test('1-D: plain, exclusive, reverse, reverse exclusive', () => {
  const x = tensor([1, 2, 3, 4, 5], { dtype: 'float64' });
  assertClose(cumsum(x, 0), [1, 3, 6, 10, 15]);
  assertClose(cumsum(x, 0, { exclusive: 1 }), [0, 1, 3, 6, 10]);
  assertClose(cumsum(x, 0, { reverse: 1 }), [15, 14, 12, 9, 5]);
  assertClose(cumsum(x, 0, { reverse: 1, exclusive: 1 }), [14, 12, 9, 5, 0]);
});

test('2-D along axis 0, 1 and -1; axis given as int32', () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assertClose(cumsum(x, 0), [1, 2, 3, 5, 7, 9]);
  assertClose(cumsum(x, 1), [1, 3, 6, 4, 9, 15]);
  assertClose(cumsum(x, -1), [1, 3, 6, 4, 9, 15]);
  assertClose(dispatch1('CumSum', [x, axis0d(1, 'int32')]), [1, 3, 6, 4, 9, 15]);
});

test('integer dtypes: int32 keeps its dtype, int64 sums exactly past 2^53', () => {
  const i = tensor([1, 2, 3, 4, 5], { dtype: 'int32' });
  const y = cumsum(i, 0, { exclusive: 1 });
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(y.toArray(), [0, 1, 3, 6, 10]);
  const big = Tensor.fromData(BigInt64Array.of(2n ** 53n, 1n, 1n), [3], 'int64');
  assert.deepEqual(
    [...(cumsum(big, 0).dataSync() as BigInt64Array)],
    [2n ** 53n, 2n ** 53n + 1n, 2n ** 53n + 2n],
  );
});

test('errors: axis must be a single int', () => {
  const x = tensor([1, 2]);
  assert.throws(
    () => dispatch1('CumSum', [x, tensor([0, 1], { dtype: 'int64' })]),
    /CumSum: axis must be a 0-d tensor/,
  );
  assert.throws(
    () => dispatch1('CumSum', [x, tensor(0)]),
    /CumSum: axis must be an int32 or int64 tensor, got float32/,
  );
  assert.throws(() => cumsum(x, 1), /CumSum: axis 1 is out of range for rank 1/);
});

test('gradcheck for every exclusive/reverse combination', () => {
  const a = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  for (const exclusive of [0, 1]) {
    for (const reverse of [0, 1]) {
      assert.ok(gradcheck((t) => cumsum(t, 1, { exclusive, reverse }), [a]));
      assert.ok(gradcheck((t) => cumsum(t, -2, { exclusive, reverse }), [a]));
    }
  }
});

test('cumsum method: ints and bools accumulate as int64', () => {
  const b = tensor([true, false, true]);
  const y = b.cumsum(0);
  assert.equal(y.dtype, 'int64');
  assert.deepEqual(y.toArray(), [1, 1, 2]);
  assertClose(
    tensor([
      [1, 2],
      [3, 4],
    ]).cumsum(-1),
    [1, 3, 3, 7],
  );
});
