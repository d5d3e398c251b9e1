/**
 * ReduceMean, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp: values worked out
 * by hand (or with Math.* on the same numbers), both opset forms, keepdims, negative and multiple
 * axes, noop_with_empty_axes, empty sets, int dtypes; gradcheck for every op.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, int64s, ops, rand, randn, type Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;
/** Opset 18 form: axes as an int64 input. */
const r18 = (op: string, x: Tensor, axes?: number[], attrs: Record<string, number> = {}) =>
  dispatch1(op, axes ? [x, int64s(axes)] : [x], attrs, { opset: 18 });
/** Opset 13 form: axes as an attribute. */
const r13 = (op: string, x: Tensor, axes?: number[], attrs: Record<string, number> = {}) =>
  dispatch1(op, [x], { ...attrs, axes }, { opset: 13 });

// x = [[1, 2, 3], [4, 5, 6]]
const x = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

test('ReduceMean: axes, keepdims, negative axes, both opset forms', () => {
  // row means 2 and 5; column means 2.5, 3.5, 4.5; overall 3.5
  for (const r of [r18, r13]) {
    assertClose(r('ReduceMean', x(), [1], { keepdims: 0 }), [2, 5]);
    const kept = r('ReduceMean', x(), [-2]);
    assert.deepEqual(kept.shape, [1, 3]);
    assertClose(kept, [2.5, 3.5, 4.5]);
    const all = r('ReduceMean', x(), undefined, { keepdims: 0 });
    assert.deepEqual(all.shape, []);
    assertClose(all, 3.5);
    assert.deepEqual(r('ReduceMean', x(), [0, -1]).shape, [1, 1]);
  }
});

test('ReduceL1, ReduceL2, ReduceSumSquare by hand', () => {
  const v = tensor([
    [3, -4],
    [-6, 8],
  ]);
  assertClose(r18('ReduceL1', v, [1], { keepdims: 0 }), [7, 14]);
  assertClose(r18('ReduceL2', v, [1], { keepdims: 0 }), [5, 10]);
  assertClose(r18('ReduceSumSquare', v, [1], { keepdims: 0 }), [25, 100]);
  assertClose(r18('ReduceL2', v, [0], { keepdims: 0 }), [Math.sqrt(45), Math.sqrt(80)]);
  // Rank-0 input over "all axes" (none): L2 is |x|, not x.
  assertClose(r18('ReduceL2', tensor(-3)), 3);
  assertClose(r18('ReduceSumSquare', tensor(-3)), 9);
});

test('ReduceLogSum and ReduceLogSumExp, stable for large inputs', () => {
  assertClose(r18('ReduceLogSum', x(), [1], { keepdims: 0 }), [Math.log(6), Math.log(15)]);
  // log(e^1 + e^2 + e^3) = 3 + log(1 + e^-1 + e^-2)
  const lse = 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2));
  assertClose(r18('ReduceLogSumExp', x(), [1], { keepdims: 0 }), [lse, lse + 3]);
  // Shifting by 1000 shifts the result by 1000 (no overflow to inf).
  const big = tensor([1001, 1002, 1003], { dtype: 'float64' });
  assertClose(r18('ReduceLogSumExp', big, [0], { keepdims: 0 }), 1000 + lse, { rtol: 1e-12 });
  const ninf = tensor([Number.NEGATIVE_INFINITY, Number.NEGATIVE_INFINITY]);
  assert.equal(r18('ReduceLogSumExp', ninf, [0], { keepdims: 0 }).item(), Number.NEGATIVE_INFINITY);
});

test('noop_with_empty_axes and empty axes', () => {
  const y = r18('ReduceMean', x(), [], { noop_with_empty_axes: 1 });
  assert.deepEqual(y.shape, [2, 3]);
  assertClose(y, [1, 2, 3, 4, 5, 6]);
  // Without the flag, empty axes reduce everything.
  assertClose(r18('ReduceL1', x(), [], { keepdims: 0 }), 21);
  // Identity even for L2 (the spec says the input is returned unchanged).
  assertClose(r18('ReduceL2', tensor([-1, 2]), [], { noop_with_empty_axes: 1 }), [-1, 2]);
});

test('reductions over an empty set follow the ONNX reference', () => {
  const e = tensor(new Float32Array(0), { shape: [2, 0, 4] });
  const out = (op: string) => {
    const y = r18(op, e, [1]);
    assert.deepEqual(y.shape, [2, 1, 4], op);
    return y.numbers()[0];
  };
  assert.equal(out('ReduceL1'), 0);
  assert.equal(out('ReduceL2'), 0);
  assert.equal(out('ReduceSumSquare'), 0);
  assert.equal(out('ReduceLogSum'), Number.NEGATIVE_INFINITY);
  assert.equal(out('ReduceLogSumExp'), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(out('ReduceMean')));
  // Reducing a non-empty axis of an empty tensor gives an empty result.
  assert.deepEqual(r18('ReduceMean', e, [2]).shape, [2, 0, 1]);
});

test('integer inputs keep their dtype; the mean truncates like a C cast', () => {
  const i = tensor(
    [
      [1, 2],
      [3, 5],
      [-3, -4],
    ],
    { dtype: 'int32' },
  );
  const m = r18('ReduceMean', i, [1], { keepdims: 0 });
  assert.equal(m.dtype, 'int32');
  assert.deepEqual(m.toArray(), [1, 4, -3]); // 1.5, 4, -3.5 truncated
  const l = tensor([[3, 4]], { dtype: 'int64' });
  assert.deepEqual(r18('ReduceSumSquare', l, [1], { keepdims: 0 }).toArray(), [25]);
  assert.deepEqual(r18('ReduceL2', l, [1], { keepdims: 0 }).toArray(), [5]);
});

test('errors name the op, the expectation and the input', () => {
  assert.throws(() => r18('ReduceMean', x(), [2]), /ReduceMean: axis 2 is out of range for rank 2/);
  assert.throws(
    () => r18('ReduceL2', tensor([true, false])),
    /ReduceL2: input must be a numeric tensor, got bool/,
  );
});

test('gradcheck: every op, several axes, keepdims on and off, both opset forms', () => {
  const opts = { dtype: 'float64' as const, requiresGrad: true };
  for (const op of ['ReduceMean', 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp']) {
    const a = randn([2, 3, 4], opts);
    assert.ok(
      gradcheck((t) => r18(op, t, [0, 2], { keepdims: 0 }), [a]),
      op,
    );
    assert.ok(
      gradcheck((t) => r13(op, t, [-1], { keepdims: 1 }), [a]),
      op,
    );
    assert.ok(
      gradcheck((t) => r18(op, t), [a]),
      op,
    );
  }
  // LogSum needs positive sums.
  const p = rand([3, 4], opts);
  assert.ok(gradcheck((t) => r18('ReduceLogSum', t.add(0.5), [1], { keepdims: 0 }), [p]));
  assert.ok(gradcheck((t) => r13('ReduceLogSum', t.add(0.5), [0]), [p]));
});

test('ReduceL2 gradient at a zero group is 0, not NaN', () => {
  const z = tensor(
    [
      [0, 0],
      [3, 4],
    ],
    { dtype: 'float64', requiresGrad: true },
  );
  r18('ReduceL2', z, [1], { keepdims: 0 }).sum().backward();
  assertClose(z.grad!, [0, 0, 0.6, 0.8]);
});
