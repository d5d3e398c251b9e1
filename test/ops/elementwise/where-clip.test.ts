import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, type Tensor, tensor } from '../../../src/index.js';
import { f64, leaf, run } from './util.js';

// Expectations by hand.

test('Where broadcasts condition, X and Y', () => {
  const c = tensor([true, false]).reshape(2, 1);
  const y = run('Where', [c, f64([1, 2, 3]), f64([-1]).reshape()]);
  assert.deepEqual(y.toArray(), [
    [1, 2, 3],
    [-1, -1, -1],
  ]);
});

test('Where copies any dtype exactly: int64 past 2^53, float16, strings, bool', () => {
  const c = tensor([true, false]);
  assert.deepEqual(
    run('Where', [c, tensor([9007199254740993n, 1n]), tensor([0n, -9007199254740993n])]).toArray(),
    [9007199254740993n, -9007199254740993n],
  );
  const h = run('Where', [
    c,
    tensor([0.1, 0.2], { dtype: 'float16' }),
    tensor([0.3, 0.4], { dtype: 'float16' }),
  ]);
  assert.equal(h.dtype, 'float16');
  // float16 bits of 0.1 and 0.4 are 0x2E66 and 0x3666.
  assert.deepEqual(Array.from(h.dataSync() as Uint16Array), [0x2e66, 0x3666]);
  assert.deepEqual(run('Where', [c, tensor(['a', 'b']), tensor(['x', 'y'])]).toArray(), ['a', 'y']);
  assert.deepEqual(run('Where', [c, tensor([false, false]), tensor([true, true])]).toArray(), [false, true]);
  assert.throws(
    () => run('Where', [f64([1]), f64([1]), f64([2])]),
    /Where: input 0 must be a bool tensor, got float64/,
  );
  assert.throws(
    () => run('Where', [c, f64([1]), tensor([1], { dtype: 'float32' })]),
    /Where: inputs must share one dtype, got float64, float32/,
  );
});

test('Where gradient flows to X and Y through broadcasting', () => {
  const cond = tensor([true, false, true, false, false, true]).reshape(2, 3);
  assert.equal(
    gradcheck((x: Tensor, y: Tensor) => run('Where', [cond, x, y]), [leaf([3]), leaf([2, 1])]),
    true,
  );
});

test('Clip opset 11+: optional scalar bounds, min > max gives max, NaN passes', () => {
  const x = f64([-2, 0.5, 3, Number.NaN]);
  const lo = f64([-1]).reshape();
  const hi = f64([1]).reshape();
  const both = run('Clip', [x, lo, hi]).toArray() as number[];
  assert.deepEqual(both.slice(0, 3), [-1, 0.5, 1]);
  assert.ok(Number.isNaN(both[3]));
  assert.deepEqual((run('Clip', [x, lo]).toArray() as number[]).slice(0, 3), [-1, 0.5, 3]);
  assert.deepEqual((run('Clip', [x, undefined, hi]).toArray() as number[]).slice(0, 3), [-2, 0.5, 1]);
  assert.deepEqual((run('Clip', [x]).toArray() as number[]).slice(0, 3), [-2, 0.5, 3]);
  // numpy.clip semantics: every element becomes max when min > max.
  assert.deepEqual((run('Clip', [x, hi, lo]).toArray() as number[]).slice(0, 3), [-1, -1, -1]);
  assert.throws(() => run('Clip', [x, f64([0, 1])]), /Clip: input 'min' must be a scalar, got shape \[2\]/);
});

test('Clip on ints (int8, int64 past 2^53) and with a float16 input', () => {
  const i8 = (v: number[]) => tensor(v, { dtype: 'int8' });
  assert.deepEqual(run('Clip', [i8([-128, 0, 127]), i8([-5]).reshape()]).toArray(), [-5, 0, 127]);
  const big = tensor([9007199254740993n, -9007199254740993n, 4n]);
  assert.deepEqual(
    run('Clip', [big, tensor([0n]).reshape(), tensor([9007199254740992n]).reshape()]).toArray(),
    [9007199254740992n, 0, 4],
  );
  const h = run('Clip', [
    tensor([-3, 0.5, 3], { dtype: 'float16' }),
    tensor(-1, { dtype: 'float16' }),
    tensor(1, { dtype: 'float16' }),
  ]);
  assert.deepEqual(h.toArray(), [-1, 0.5, 1]);
  assert.throws(
    () => run('Clip', [i8([1]), f64([0]).reshape()]),
    /Clip: inputs must share one dtype, got int8, float64/,
  );
});

test('Clip opset 6: min/max attributes with FLT_MAX defaults, floats only', () => {
  assert.deepEqual(run('Clip', [f64([-2, 0.5, 3])], { min: -1, max: 1 }, 6).toArray(), [-1, 0.5, 1]);
  assert.deepEqual(run('Clip', [f64([-2, 0.5, 3])], { min: 0 }, 6).toArray(), [0, 0.5, 3]);
  // The default max is FLT_MAX = 3.4028234663852886e38.
  assert.deepEqual(
    run('Clip', [f64([1e39, -1e39])], {}, 6).toArray(),
    [3.4028234663852886e38, -3.4028234663852886e38],
  );
  assert.throws(
    () => run('Clip', [tensor([1], { dtype: 'int32' })], {}, 6),
    /Clip: input 0 must be a float tensor, got int32/,
  );
});

test('Clip gradient passes inside [min, max] (both opsets)', () => {
  const x = leaf([3, 4]);
  const lo = f64([-0.7]).reshape();
  const hi = f64([0.9]).reshape();
  assert.equal(
    gradcheck((t: Tensor) => run('Clip', [t, lo, hi]), [x]),
    true,
  );
  assert.equal(
    gradcheck((t: Tensor) => run('Clip', [t, undefined, hi]), [x]),
    true,
  );
  assert.equal(
    gradcheck((t: Tensor) => run('Clip', [t], { min: -0.5, max: 0.5 }, 6), [x]),
    true,
  );
  const p = f64([-2, 0, 2]).requiresGrad_();
  run('Clip', [p, lo, hi]).sum().backward();
  assert.deepEqual(p.grad!.toArray(), [0, 1, 0]);
});
