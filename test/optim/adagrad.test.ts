import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim } from '../../src/index.js';
import { assertTrajectory, GRADS, P0, trajectory } from './trajectory.js';

interface H {
  lr: number;
  lrDecay?: number;
  wd?: number;
  init?: number;
  eps?: number;
  maximize?: boolean;
}

/**
 * torch.optim.Adagrad as documented:
 *   g = (maximize ? -grad : grad) + wd*p; clr = lr/(1 + (t-1)*lrDecay)
 *   sum = sum + g^2 (sum starts at initialAccumulatorValue); p = p - clr*g/(sqrt(sum) + eps)
 */
function adagradRef(h: H): number[][] {
  const { lr, lrDecay = 0, wd = 0, init = 0, eps = 1e-10, maximize = false } = h;
  const p = [...P0];
  const sum = [init, init, init];
  return GRADS.map((grad, k) => {
    const clr = lr / (1 + k * lrDecay);
    for (let i = 0; i < p.length; i++) {
      const g = (maximize ? -grad[i]! : grad[i]!) + wd * p[i]!;
      sum[i] = sum[i]! + g * g;
      p[i] = p[i]! - (clr * g) / (Math.sqrt(sum[i]!) + eps);
    }
    return [...p];
  });
}

test('Adagrad: defaults match hand values', () => {
  const got = trajectory((p) => new optim.Adagrad([p], { lr: 0.1 }));
  // By hand, element 0: sum1 = 0.25 -> p1 = 1 - 0.1*0.5/0.5 = 0.9;
  // sum2 = 0.34 -> p2 = 0.9 + 0.03/sqrt(0.34).
  assert.ok(Math.abs(got[0]![0]! - (1 - 0.05 / (0.5 + 1e-10))) < 1e-12);
  assert.ok(Math.abs(got[1]![0]! - (got[0]![0]! + 0.03 / (Math.sqrt(0.34) + 1e-10))) < 1e-12);
  assertTrajectory(got, adagradRef({ lr: 0.1 }));
});

test('Adagrad: lr decay, weight decay, initial accumulator, eps', () => {
  const got = trajectory(
    (p) =>
      new optim.Adagrad([p], {
        lr: 0.1,
        lrDecay: 0.5,
        weightDecay: 0.2,
        initialAccumulatorValue: 0.3,
        eps: 1e-3,
      }),
  );
  assertTrajectory(got, adagradRef({ lr: 0.1, lrDecay: 0.5, wd: 0.2, init: 0.3, eps: 1e-3 }));
});

test('Adagrad: maximize', () => {
  const got = trajectory((p) => new optim.Adagrad([p], { lr: 0.1, maximize: true }));
  assertTrajectory(got, adagradRef({ lr: 0.1, maximize: true }));
});
