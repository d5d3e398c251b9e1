import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, randn, type Tensor } from '../../src/index.js';

test('gradcheck passes for broadcasting add/mul/div', () => {
  const a = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  const b = randn([4], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x, y) => x.mul(y).add(x).div(y.mul(y).add(1)), [a, b]),
    true,
  );
});

test('gradcheck catches a wrong gradient', () => {
  const a = randn([2], { dtype: 'float64', requiresGrad: true });
  // exp registered with a deliberately wrong backward via a hook that doubles the gradient
  const f = (x: Tensor) => {
    const y = x.exp();
    y.registerHook((g) => g.mul(2));
    return y;
  };
  assert.throws(() => gradcheck(f, [a]), /gradcheck/);
});

test('sum over dims and keepdim backward', () => {
  const a = randn([2, 3, 4], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => x.sum([0, 2], true).mul(x), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.sum(1), [a]),
    true,
  );
});
