/** Shared fixture for the optimizer tests: one small parameter, fixed gradients set by hand each step. */
import assert from 'node:assert/strict';
import { type optim, type Tensor, tensor } from '../../src/index.js';

export const P0 = [1.0, -2.0, 0.5];
/** Gradients for steps 1..3 (varied signs and magnitudes). */
export const GRADS = [
  [0.5, -1.0, 2.0],
  [-0.3, 0.8, -1.5],
  [1.2, 0.1, -0.7],
];
/** Large then small gradients, so the second-moment estimate falls and AMSGrad's max matters. */
export const FALLING_GRADS = [
  [3.0, -4.0, 5.0],
  [0.1, 0.2, -0.1],
  [0.05, -0.3, 0.2],
];

/** Runs `steps` updates of the optimizer `make` builds, setting p.grad by hand; returns p after each. */
export function trajectory(
  make: (p: Tensor) => optim.Optimizer<any>,
  grads: number[][] = GRADS,
  p0: number[] = P0,
): number[][] {
  const p = tensor(p0, { dtype: 'float64', requiresGrad: true });
  const opt = make(p);
  return grads.map((g) => {
    p.grad = tensor(g, { dtype: 'float64' });
    opt.step();
    return Array.from(p.numbers());
  });
}

export function assertTrajectory(actual: number[][], expected: number[][], tol = 1e-12): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, t) => {
    assert.equal(row.length, expected[t]!.length);
    row.forEach((v, i) => {
      const e = expected[t]![i]!;
      assert.ok(
        Math.abs(v - e) <= tol * Math.max(1, Math.abs(e)),
        `step ${t + 1}, element ${i}: got ${v}, expected ${e}`,
      );
    });
  });
}
