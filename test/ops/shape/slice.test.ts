import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, gradcheck, int64s, ops, randn, Tensor, tensor } from '../../../src/index.js';

const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);
const i64 = (...v: (number | bigint)[]) =>
  Tensor.fromData(
    BigInt64Array.from(v, (x) => BigInt(x)),
    [v.length],
    'int64',
  );
const slice = (x: Tensor, starts: Tensor, ends: Tensor, axes?: Tensor, steps?: Tensor) =>
  ops.dispatch1('Slice', [x, starts, ends, axes, steps]);
const v10 = arange(10);

test('Slice matches Python/NumPy slicing (values from numpy 2.4 on arange(10))', () => {
  // v[::-2] = [9, 7, 5, 3, 1]
  assert.deepEqual(slice(v10, i64(-1), i64(INT64_MIN), i64(0), i64(-2)).toArray(), [9, 7, 5, 3, 1]);
  // v[-100:100] = everything
  assert.deepEqual(slice(v10, i64(-100), i64(100)).toArray(), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // v[5:-100:-1] = [5, 4, 3, 2, 1, 0]
  assert.deepEqual(slice(v10, i64(5), i64(-100), i64(0), i64(-1)).toArray(), [5, 4, 3, 2, 1, 0]);
  // v[8:2:-3] = [8, 5]
  assert.deepEqual(slice(v10, i64(8), i64(2), i64(0), i64(-3)).toArray(), [8, 5]);
  // v[-3:] = [7, 8, 9]
  assert.deepEqual(slice(v10, i64(-3), i64(INT64_MAX)).toArray(), [7, 8, 9]);
  // v[100:] = []
  assert.deepEqual(slice(v10, i64(100), i64(INT64_MAX)).shape, [0]);
});

test('Slice clamps per the ONNX spec where it differs from Python (start clamps to [0, dim-1] on negative steps)', () => {
  // ONNX: start -10 -> 0 after adding dim, then clamped into [0, 9]; end INT64_MIN -> -1: one element.
  // (Python's v[-10::-1] gives [0] too; v[-11::-1] gives [] in Python but [0] under ONNX clamping.)
  assert.deepEqual(slice(v10, i64(-11), i64(INT64_MIN), i64(0), i64(-1)).toArray(), [0]);
  // start beyond the end on a negative step clamps to dim-1
  assert.deepEqual(slice(v10, i64(1000), i64(6), i64(0), i64(-1)).toArray(), [9, 8, 7]);
  // start past the end with a positive step: empty
  assert.deepEqual(slice(v10, i64(12), i64(20)).shape, [0]);
});

test('Slice on several axes, negative axes, default axes and steps (ONNX spec example)', () => {
  // ONNX Slice example 1: data [[1,2,3,4],[5,6,7,8]], axes [0,1], starts [1,0], ends [2,3], steps [1,2] -> [[5,7]]
  const data = tensor([
    [1, 2, 3, 4],
    [5, 6, 7, 8],
  ]);
  assert.deepEqual(slice(data, i64(1, 0), i64(2, 3), i64(0, 1), i64(1, 2)).toArray(), [[5, 7]]);
  // Example 2: starts [0,1], ends [-1,1000] -> [[2,3,4]]
  assert.deepEqual(slice(data, i64(0, 1), i64(-1, 1000)).toArray(), [[2, 3, 4]]);
  assert.deepEqual(slice(data, i64(1), i64(3), i64(-1)).toArray(), [
    [2, 3],
    [6, 7],
  ]);
  // int32 starts/ends work too
  const i32 = (v: number) => Tensor.fromData(Int32Array.of(v), [1], 'int32');
  assert.deepEqual(slice(data, i32(1), i32(2), i32(0)).toArray(), [[5, 6, 7, 8]]);
});

test('Slice opset 1 takes starts/ends/axes attributes', () => {
  const data = arange(12).reshape(3, 4);
  const out = ops.dispatch1(
    'Slice',
    [data],
    { starts: [1, -2], ends: [3, 1000], axes: [0, 1] },
    { opset: 9 },
  );
  assert.deepEqual(out.toArray(), [
    [6, 7],
    [10, 11],
  ]);
});

test('Slice returns a view: writes through it are seen by the base', () => {
  const base = arange(12, undefined, 1, { dtype: 'float32' }).reshape(3, 4);
  const v = slice(base, i64(2, 3), i64(INT64_MIN, 0), i64(0, 1), i64(-2, -1));
  assert.deepEqual(v.toArray(), [
    [11, 10, 9],
    [3, 2, 1],
  ]);
  assert.equal(v.storage, base.storage);
  (v.storage.data as Float32Array)[v.offset] = -1;
  assert.equal((base.toArray() as number[][])[2]![3], -1);
});

test('Slice errors: zero step, repeated axes, mismatched lengths, rank 0', () => {
  assert.throws(
    () => slice(v10, i64(0), i64(3), i64(0), i64(0)),
    /Slice: step for axis 0 is 0, expected a nonzero integer/,
  );
  const m = arange(4).reshape(2, 2);
  assert.throws(() => slice(m, i64(0, 0), i64(1, 1), i64(1, -1)), /Slice: axes \[1, -1\] repeat an axis/);
  assert.throws(() => slice(m, i64(0, 0), i64(1)), /Slice: starts has 2 entries and ends 1/);
  assert.throws(() => slice(tensor(3), i64(0), i64(1)), /Slice: input must have rank >= 1/);
});

test('Slice gradient scatters back, with negative steps and several axes (gradcheck)', () => {
  const a = randn([4, 5], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => slice(x, i64(3, 1), i64(INT64_MIN, 5), i64(0, 1), i64(-2, 2)), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => slice(x, i64(1), i64(-1)).mul(slice(x, i64(0), i64(2))), [a]),
    true,
  );
});

test('Slice double backward: the gradient of the scatter is a gather', () => {
  const x = tensor([1, 2, 3, 4], { dtype: 'float64', requiresGrad: true });
  const s = slice(x, i64(1), i64(3));
  s.mul(s).sum().backward(undefined, { createGraph: true });
  const g = x.grad!;
  // d/dx sum(x[1:3]^2) = [0, 2*2, 2*3, 0]
  assert.deepEqual(g.toArray(), [0, 4, 6, 0]);
  x.grad = null;
  g.mul(tensor([1, 10, 100, 1000], { dtype: 'float64' }))
    .sum()
    .backward();
  // d/dx sum(w * g) = [0, 2*10, 2*100, 0]
  assert.deepEqual(x.grad!.toArray(), [0, 20, 200, 0]);
});

test('int64s helper and Slice agree with the methods narrow()', () => {
  const x = arange(10);
  assert.deepEqual(x.narrow(0, -4, 2).toArray(), slice(x, int64s([6]), int64s([8])).toArray());
});
