/**
 * ReduceMax, ReduceMin, ReduceProd, ArgMax, ArgMin: hand-checked values, exact int64 and bool,
 * empty sets, NaN, tie handling of the gradient and of select_last_index; gradcheck.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, int64s, ops, randn, Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;
const r18 = (op: string, x: Tensor, axes?: number[], attrs: Record<string, number> = {}) =>
  dispatch1(op, axes ? [x, int64s(axes)] : [x], attrs, { opset: 18 });
const r13 = (op: string, x: Tensor, axes?: number[], attrs: Record<string, number> = {}) =>
  dispatch1(op, [x], { ...attrs, axes }, { opset: 13 });

// Rows [5, 1, 20] and [2, 20, 3]; columns [5, 2], [1, 20], [20, 3].
const x = () =>
  tensor([
    [5, 1, 20],
    [2, 20, 3],
  ]);

test('ReduceMax / ReduceMin values with keepdims and negative axes', () => {
  assertClose(r18('ReduceMax', x(), [1], { keepdims: 0 }), [20, 20]);
  assertClose(r18('ReduceMin', x(), [-1], { keepdims: 0 }), [1, 2]);
  const k = r13('ReduceMax', x(), [0]);
  assert.deepEqual(k.shape, [1, 3]);
  assertClose(k, [5, 20, 20]);
  assertClose(r18('ReduceMin', x(), undefined, { keepdims: 0 }), 1);
});

test('ReduceMax compares int64 exactly past 2^53 and handles bool (opset 20)', () => {
  const big = Tensor.fromData(BigInt64Array.of(2n ** 53n, 2n ** 53n + 1n, -5n), [3], 'int64');
  const m = r18('ReduceMax', big, [0], { keepdims: 0 });
  assert.equal((m.dataSync() as BigInt64Array)[0], 2n ** 53n + 1n);
  const b = tensor([
    [true, false],
    [false, false],
  ]);
  const any = r18('ReduceMax', b, [1], { keepdims: 0 });
  assert.equal(any.dtype, 'bool');
  assert.deepEqual(any.toArray(), [true, false]);
  assert.deepEqual(r18('ReduceMin', b, [0], { keepdims: 0 }).toArray(), [false, false]);
});

test('max/min of an empty set: -inf/+inf for floats, the dtype limits for ints', () => {
  const f = tensor(new Float32Array(0), { shape: [2, 0, 4] });
  assert.equal(r18('ReduceMax', f, [1]).numbers()[0], Number.NEGATIVE_INFINITY);
  assert.equal(r18('ReduceMin', f, [1]).numbers()[0], Number.POSITIVE_INFINITY);
  const i = tensor(new Int32Array(0), { shape: [3, 0] });
  assert.deepEqual(
    r18('ReduceMax', i, [1], { keepdims: 0 }).toArray(),
    [-2147483648, -2147483648, -2147483648],
  );
  const u = Tensor.fromData(new BigUint64Array(0), [1, 0], 'uint64');
  assert.equal((r18('ReduceMin', u, [1]).dataSync() as BigUint64Array)[0], 2n ** 64n - 1n);
  assert.equal(r18('ReduceProd', f, [1]).numbers()[0], 1);
});

test('NaN propagates through ReduceMax / ReduceMin', () => {
  const v = tensor([1, Number.NaN, 3]);
  assert.ok(Number.isNaN(r18('ReduceMax', v).item() as number));
  assert.ok(Number.isNaN(r18('ReduceMin', v).item() as number));
});

test('ReduceProd values, int dtype, float16', () => {
  // 5*1*20 = 100, 2*20*3 = 120
  assertClose(r18('ReduceProd', x(), [1], { keepdims: 0 }), [100, 120]);
  const i = tensor([[2, -3, 4]], { dtype: 'int64' });
  assert.deepEqual(r18('ReduceProd', i, [1], { keepdims: 0 }).toArray(), [-24]);
  const h = tensor([1.5, 2, 4], { dtype: 'float16' });
  assert.equal(r18('ReduceProd', h).item(), 12);
  assert.equal(r18('ReduceMax', h, [0], { keepdims: 0 }).item(), 4);
});

test('ReduceMax gradient splits dy evenly between ties (as torch.amax)', () => {
  const v = tensor([1, 3, 3, 2], { dtype: 'float64', requiresGrad: true });
  r18('ReduceMax', v, [0], { keepdims: 0 }).backward();
  assertClose(v.grad!, [0, 0.5, 0.5, 0]);
  const w = tensor(
    [
      [1, 1],
      [0, 2],
    ],
    { dtype: 'float64', requiresGrad: true },
  );
  r18('ReduceMin', w, [1], { keepdims: 0 })
    .mul(tensor([10, 100], { dtype: 'float64' }))
    .sum()
    .backward();
  assertClose(w.grad!, [5, 5, 100, 0]);
});

test('ReduceProd gradient is exact with zeros (product of the other elements)', () => {
  const v = tensor([2, 0, 3], { dtype: 'float64', requiresGrad: true });
  r18('ReduceProd', v).backward();
  assertClose(v.grad!, [0, 6, 0]);
  const w = tensor([0, 0, 3], { dtype: 'float64', requiresGrad: true });
  r18('ReduceProd', w).backward();
  assertClose(w.grad!, [0, 0, 0]);
});

test('gradcheck ReduceMax / ReduceMin / ReduceProd', () => {
  const opts = { dtype: 'float64' as const, requiresGrad: true };
  for (const op of ['ReduceMax', 'ReduceMin', 'ReduceProd']) {
    const a = randn([3, 2, 4], opts);
    assert.ok(
      gradcheck((t) => r18(op, t, [0, 2], { keepdims: 0 }), [a]),
      op,
    );
    assert.ok(
      gradcheck((t) => r13(op, t, [-2]), [a]),
      op,
    );
    assert.ok(
      gradcheck((t) => r18(op, t), [a]),
      op,
    );
  }
});

test('ArgMax / ArgMin: axis, keepdims, negative axis, int64 output (ONNX doc examples)', () => {
  // data [[2, 1], [3, 10]]: argmax over axis 0 -> [[1, 1]], over axis 1 -> [[0], [1]]
  const d = tensor([
    [2, 1],
    [3, 10],
  ]);
  const a0 = dispatch1('ArgMax', [d]);
  assert.equal(a0.dtype, 'int64');
  assert.deepEqual(a0.toArray(), [[1, 1]]);
  assert.deepEqual(dispatch1('ArgMax', [d], { axis: -1 }).toArray(), [[0], [1]]);
  assert.deepEqual(dispatch1('ArgMin', [d], { axis: 1, keepdims: 0 }).toArray(), [1, 0]);
});

test('ArgMax select_last_index picks the last of tied maxima', () => {
  const d = tensor([
    [2, 2],
    [3, 10],
  ]);
  assert.deepEqual(dispatch1('ArgMax', [d], { axis: 1, keepdims: 0 }).toArray(), [0, 1]);
  assert.deepEqual(
    dispatch1('ArgMax', [d], { axis: 1, keepdims: 0, select_last_index: 1 }).toArray(),
    [1, 1],
  );
  const m = tensor([4, 1, 1, 7], { dtype: 'int32' });
  assert.deepEqual(dispatch1('ArgMin', [m], { select_last_index: 1 }).toArray(), [2]);
  // NaN counts as the maximum, as numpy.argmax.
  assert.deepEqual(dispatch1('ArgMax', [tensor([1, Number.NaN, 5])], { keepdims: 0 }).toArray(), 1);
});

test('ArgMax over an empty axis is an error naming the op', () => {
  const e = tensor(new Float32Array(0), { shape: [2, 0] });
  assert.throws(() => dispatch1('ArgMax', [e], { axis: 1 }), /ArgMax: cannot reduce over axis 1 of size 0/);
  assert.deepEqual(dispatch1('ArgMax', [e], { axis: 0 }).shape, [1, 0]);
});
