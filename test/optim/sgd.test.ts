import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim, TesseraError, tensor } from '../../src/index.js';
import { assertTrajectory, GRADS, P0, trajectory } from './trajectory.js';

interface H {
  lr: number;
  momentum?: number;
  dampening?: number;
  wd?: number;
  nesterov?: boolean;
  maximize?: boolean;
}

/**
 * torch.optim.SGD's update, written from its documentation, element by element:
 *   g = grad + wd*p; b = (t > 1) ? mu*b + (1 - tau)*g : g; g = nesterov ? g + mu*b : b; p = p - lr*g.
 * maximize: torch >= 1.13 negates the gradient before adding weight decay (the code, which is what
 * PyTorch computes; the docs' "p + lr*g" form differs from it only in the sign of the decay term).
 */
function sgdRef(h: H, grads: number[][] = GRADS): number[][] {
  const { lr, momentum = 0, dampening = 0, wd = 0, nesterov = false, maximize = false } = h;
  const p = [...P0];
  const b = [0, 0, 0];
  return grads.map((grad, k) => {
    for (let i = 0; i < p.length; i++) {
      let g = (maximize ? -grad[i]! : grad[i]!) + wd * p[i]!;
      if (momentum !== 0) {
        b[i] = k === 0 ? g : momentum * b[i]! + (1 - dampening) * g;
        g = nesterov ? g + momentum * b[i]! : b[i]!;
      }
      p[i] = p[i]! - lr * g;
    }
    return [...p];
  });
}

test('SGD: plain steps match hand values', () => {
  const got = trajectory((p) => new optim.SGD([p], { lr: 0.1 }));
  // By hand: p1 = p0 - 0.1*g1, p2 = p1 - 0.1*g2, p3 = p2 - 0.1*g3.
  assertTrajectory(got, [
    [0.95, -1.9, 0.3],
    [0.98, -1.98, 0.45],
    [0.86, -1.99, 0.52],
  ]);
  assertTrajectory(got, sgdRef({ lr: 0.1 }));
});

test('SGD: momentum with dampening', () => {
  const h = { lr: 0.05, momentum: 0.9, dampening: 0.3 };
  const got = trajectory((p) => new optim.SGD([p], { lr: 0.05, momentum: 0.9, dampening: 0.3 }));
  assertTrajectory(got, sgdRef(h));
  // By hand, element 0: b1 = 0.5 -> p1 = 0.975; b2 = 0.9*0.5 + 0.7*(-0.3) = 0.24 -> p2 = 0.963.
  assert.ok(Math.abs(got[0]![0]! - 0.975) < 1e-12 && Math.abs(got[1]![0]! - 0.963) < 1e-12);
});

test('SGD: nesterov momentum with weight decay', () => {
  const h = { lr: 0.1, momentum: 0.8, wd: 0.01, nesterov: true };
  const got = trajectory(
    (p) => new optim.SGD([p], { lr: 0.1, momentum: 0.8, weightDecay: 0.01, nesterov: true }),
  );
  assertTrajectory(got, sgdRef(h));
  // By hand, element 0 step 1: g = 0.5 + 0.01 = 0.51, b = 0.51, g' = 0.51 + 0.8*0.51 = 0.918, p = 0.9082.
  assert.ok(Math.abs(got[0]![0]! - 0.9082) < 1e-12);
});

test('SGD: maximize ascends, with and without weight decay', () => {
  const up = trajectory((p) => new optim.SGD([p], { lr: 0.1, maximize: true }));
  // Without weight decay maximize is p + lr*g (the documented rule).
  assertTrajectory(up, [
    [1.05, -2.1, 0.7],
    [1.02, -2.02, 0.55],
    [1.14, -2.01, 0.48],
  ]);
  const h = { lr: 0.1, momentum: 0.5, wd: 0.1, maximize: true };
  assertTrajectory(
    trajectory((p) => new optim.SGD([p], { lr: 0.1, momentum: 0.5, weightDecay: 0.1, maximize: true })),
    sgdRef(h),
  );
});

test('SGD: per-group hyper-parameters', () => {
  const got = trajectory((p) => new optim.SGD([{ params: [p], lr: 0.1 }], { lr: 99 }));
  assertTrajectory(got, sgdRef({ lr: 0.1 }));
});

test('SGD: invalid hyper-parameters throw naming the value', () => {
  const make = (o: Partial<optim.SGDOptions>) => () =>
    new optim.SGD([tensor([1, 2], { dtype: 'float64', requiresGrad: true })], o);
  assert.throws(
    make({ lr: -1 }),
    (e: unknown) => e instanceof TesseraError && /SGD: lr must be .*got -1/.test(e.message),
  );
  assert.throws(make({ momentum: -0.1 }), /SGD: momentum must be a number >= 0, got -0.1/);
  assert.throws(make({ nesterov: true }), /SGD: nesterov momentum requires momentum > 0/);
  assert.throws(
    make({ nesterov: true, momentum: 0.9, dampening: 0.1 }),
    /dampening = 0, got momentum 0.9 and dampening 0.1/,
  );
});
