import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim } from '../../src/index.js';
import { assertTrajectory, GRADS, P0, trajectory } from './trajectory.js';

interface H {
  lr: number;
  alpha?: number;
  eps?: number;
  wd?: number;
  momentum?: number;
  centered?: boolean;
  maximize?: boolean;
}

/**
 * torch.optim.RMSprop as documented:
 *   g = (maximize ? -grad : grad) + wd*p; v = alpha*v + (1-alpha)*g^2
 *   centered: ga = alpha*ga + (1-alpha)*g, vt = v - ga^2 (else vt = v)
 *   momentum > 0: b = mu*b + g/(sqrt(vt) + eps), p = p - lr*b;  else p = p - lr*g/(sqrt(vt) + eps)
 */
function rmspropRef(h: H): number[][] {
  const { lr, alpha = 0.99, eps = 1e-8, wd = 0, momentum = 0, centered = false, maximize = false } = h;
  const p = [...P0];
  const v = [0, 0, 0];
  const ga = [0, 0, 0];
  const b = [0, 0, 0];
  return GRADS.map((grad) => {
    for (let i = 0; i < p.length; i++) {
      const g = (maximize ? -grad[i]! : grad[i]!) + wd * p[i]!;
      v[i] = alpha * v[i]! + (1 - alpha) * g * g;
      let vt = v[i]!;
      if (centered) {
        ga[i] = alpha * ga[i]! + (1 - alpha) * g;
        vt = vt - ga[i]! ** 2;
      }
      if (momentum > 0) {
        b[i] = momentum * b[i]! + g / (Math.sqrt(vt) + eps);
        p[i] = p[i]! - lr * b[i]!;
      } else p[i] = p[i]! - (lr * g) / (Math.sqrt(vt) + eps);
    }
    return [...p];
  });
}

test('RMSprop: defaults; first step by hand', () => {
  const got = trajectory((p) => new optim.RMSprop([p]));
  // By hand: v1 = 0.01*g^2, so p1 = p0 - 0.01*g/(0.1*|g| + 1e-8) ~ p0 - 0.1*sign(g).
  assert.ok(Math.abs(got[0]![0]! - (1 - 0.005 / (0.05 + 1e-8))) < 1e-12);
  assertTrajectory(got, rmspropRef({ lr: 0.01 }));
});

test('RMSprop: momentum and weight decay', () => {
  const got = trajectory(
    (p) => new optim.RMSprop([p], { lr: 0.01, alpha: 0.9, momentum: 0.7, weightDecay: 0.1 }),
  );
  assertTrajectory(got, rmspropRef({ lr: 0.01, alpha: 0.9, momentum: 0.7, wd: 0.1 }));
});

test('RMSprop: centered, with momentum and maximize', () => {
  const got = trajectory((p) => new optim.RMSprop([p], { lr: 0.01, alpha: 0.8, centered: true, eps: 1e-4 }));
  assertTrajectory(got, rmspropRef({ lr: 0.01, alpha: 0.8, centered: true, eps: 1e-4 }));
  const got2 = trajectory(
    (p) => new optim.RMSprop([p], { lr: 0.01, alpha: 0.8, centered: true, momentum: 0.5, maximize: true }),
  );
  assertTrajectory(got2, rmspropRef({ lr: 0.01, alpha: 0.8, centered: true, momentum: 0.5, maximize: true }));
});

test('RMSprop: invalid alpha throws', () => {
  assert.throws(
    () => trajectory((p) => new optim.RMSprop([p], { alpha: -0.5 })),
    /RMSprop: alpha must be a number >= 0, got -0.5/,
  );
});
