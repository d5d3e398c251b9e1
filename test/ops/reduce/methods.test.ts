/**
 * The chained reductions (torch semantics): values by hand, dim lists, negative dims, keepdim, int
 * and bool inputs, errors; gradcheck for var, std, norm, logsumexp, amax, mean and prod.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, randn, type Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

// x = [[1, 5, 3], [4, 2, 6]]
const x = () =>
  tensor([
    [1, 5, 3],
    [4, 2, 6],
  ]);

test('mean, max, min, amax, amin with dims and keepdim', () => {
  assertClose(x().mean(), 3.5);
  assertClose(x().mean(1), [3, 4]);
  const m = x().mean(-2, true);
  assert.deepEqual(m.shape, [1, 3]);
  assertClose(m, [2.5, 3.5, 4.5]);
  assert.equal(x().max().item(), 6);
  assert.deepEqual(x().max().shape, []);
  assertClose(x().max(1), [5, 6]);
  assert.deepEqual(x().min(0, true).shape, [1, 3]);
  assertClose(x().min(0, true), [1, 2, 3]);
  assertClose(x().amax([0, 1]), 6);
  assertClose(x().amin(-1), [1, 2]);
});

test('prod of ints and bools gives int64; max keeps the dtype', () => {
  const i = tensor([[2, 3, 4]], { dtype: 'int32' });
  const p = i.prod(1);
  assert.equal(p.dtype, 'int64');
  assert.deepEqual(p.toArray(), [24]);
  assert.deepEqual(tensor([true, true, false]).prod().toArray(), 0);
  assert.equal(i.max().dtype, 'int32');
  assert.equal(i.max().item(), 4);
});

test('argmax / argmin: flattened without dim, per dim with keepdim', () => {
  const a = x().argmax();
  assert.equal(a.dtype, 'int64');
  assert.deepEqual(a.toArray(), 5);
  assert.deepEqual(x().argmax(1).toArray(), [1, 2]);
  assert.deepEqual(x().argmin(0, true).toArray(), [[0, 1, 0]]);
  assert.deepEqual(x().argmin(undefined, true).shape, [1, 1]);
});

test('var and std: Bessel correction by default, correction=0, dims, keepdim', () => {
  const v = tensor([1, 2, 3, 4]);
  // squared deviations from 2.5: 2.25 + 0.25 + 0.25 + 2.25 = 5
  assertClose(v.var(), 5 / 3);
  assertClose(v.var(0, 0), 5 / 4);
  assertClose(v.var(undefined, { correction: 0 }), 5 / 4);
  assertClose(v.std(), Math.sqrt(5 / 3));
  // rows of x: [1,5,3] has mean 3, deviations 4+4+0 = 8; [4,2,6] mean 4, 0+4+4 = 8
  const s = x().std(1, 1, true);
  assert.deepEqual(s.shape, [2, 1]);
  assertClose(s, [2, 2]);
  // all six: mean 3.5, squared deviations sum to 17.5
  assertClose(x().var([0, 1]), 17.5 / 5);
});

test('logsumexp, all, any, norm', () => {
  assertClose(tensor([1, 2, 3]).logsumexp(0), 3 + Math.log(1 + Math.exp(-1) + Math.exp(-2)));
  const l = tensor([1, 2, 3], { dtype: 'int64' }).logsumexp();
  assert.equal(l.dtype, 'float32');
  const b = tensor([
    [1, 0],
    [2, 3],
  ]);
  const all = b.all(1);
  assert.equal(all.dtype, 'bool');
  assert.deepEqual(all.toArray(), [false, true]);
  assert.deepEqual(b.any(0).toArray(), [true, true]);
  assert.equal(b.all().item(), false);
  assert.equal(tensor(new Float32Array(0)).all().item(), true);
  assert.equal(tensor(new Float32Array(0)).any().item(), false);
  const n = tensor([
    [3, -4],
    [0, 0],
  ]);
  assertClose(n.norm(), 5);
  assertClose(n.norm(2, 1), [5, 0]);
  assertClose(n.norm('fro', [0, 1], true), [5]);
  assertClose(n.norm(1, -1), [7, 0]);
  assertClose(n.norm(Number.POSITIVE_INFINITY), 4);
  assertClose(n.norm(Number.NEGATIVE_INFINITY, 1), [3, 0]);
  assertClose(n.norm(0), 2);
});

test('errors follow torch: float-only reductions, empty max', () => {
  const i = tensor([1, 2], { dtype: 'int64' });
  assert.throws(() => i.mean(), /mean\(\): expected a floating-point input, got int64/);
  assert.throws(() => i.var(), /var\(\): expected a floating-point input/);
  assert.throws(() => tensor(new Float32Array(0)).max(), /max\(\): cannot reduce over an empty dimension/);
  assert.throws(() => x().sum(2), /axis 2 is out of range for rank 2/);
});

test('gradcheck: mean, amax, prod, var, std, norm, logsumexp', () => {
  const a = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  const checks: ((t: Tensor) => Tensor)[] = [
    (t) => t.mean([0, 1]),
    (t) => t.mean(-1, true),
    (t) => t.amax(0),
    (t) => t.max(),
    (t) => t.prod(1),
    (t) => t.var(1),
    (t) => t.var(undefined, 0),
    (t) => t.std(0, 1, true),
    (t) => t.norm(),
    (t) => t.norm(1, 1),
    (t) => t.norm(Number.POSITIVE_INFINITY, 0),
    (t) => t.logsumexp(1),
  ];
  for (const f of checks) assert.ok(gradcheck(f, [a]), f.toString());
});
