import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim, TesseraError, tensor } from '../../src/index.js';
import { assertTrajectory, FALLING_GRADS, GRADS, P0, trajectory } from './trajectory.js';

interface H {
  lr: number;
  b1?: number;
  b2?: number;
  eps?: number;
  wd?: number;
  amsgrad?: boolean;
  maximize?: boolean;
  /** AdamW: p <- p - lr*wd*p instead of g <- g + wd*p. */
  decoupled?: boolean;
}

/**
 * torch.optim.Adam / AdamW as their documentation writes the algorithm:
 *   g = maximize ? -grad : grad; (Adam) g += wd*p | (AdamW) p -= lr*wd*p
 *   m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2; mhat = m/(1-b1^t)
 *   amsgrad: vmax = max(vmax, v), vhat = vmax/(1-b2^t); else vhat = v/(1-b2^t)
 *   p = p - lr*mhat/(sqrt(vhat) + eps)
 */
function adamRef(h: H, grads: number[][] = GRADS): number[][] {
  const {
    lr,
    b1 = 0.9,
    b2 = 0.999,
    eps = 1e-8,
    wd = 0,
    amsgrad = false,
    maximize = false,
    decoupled = false,
  } = h;
  const p = [...P0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  const vmax = [0, 0, 0];
  return grads.map((grad, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (decoupled) p[i] = p[i]! - lr * wd * p[i]!;
      else g = g + wd * p[i]!;
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      const mhat = m[i]! / (1 - b1 ** t);
      let vhat: number;
      if (amsgrad) {
        vmax[i] = Math.max(vmax[i]!, v[i]!);
        vhat = vmax[i]! / (1 - b2 ** t);
      } else vhat = v[i]! / (1 - b2 ** t);
      p[i] = p[i]! - (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
    return [...p];
  });
}

test('Adam: first step moves each element by lr against the gradient sign', () => {
  const got = trajectory((p) => new optim.Adam([p], { lr: 0.1 }));
  // By hand: mhat = g and vhat = g^2 at t = 1, so p1 = p0 - lr*g/(|g| + eps).
  const step1 = P0.map((p, i) => p - (0.1 * GRADS[0]![i]!) / (Math.abs(GRADS[0]![i]!) + 1e-8));
  assertTrajectory([got[0]!], [step1]);
  assertTrajectory(got, adamRef({ lr: 0.1 }));
});

test('Adam: betas, eps and L2 weight decay', () => {
  const h = { lr: 0.01, b1: 0.8, b2: 0.9, eps: 1e-3, wd: 0.1 };
  const got = trajectory(
    (p) => new optim.Adam([p], { lr: 0.01, betas: [0.8, 0.9], eps: 1e-3, weightDecay: 0.1 }),
  );
  assertTrajectory(got, adamRef(h));
});

test('Adam: amsgrad keeps the largest second moment', () => {
  const h = { lr: 0.1, b2: 0.5, amsgrad: true };
  const got = trajectory(
    (p) => new optim.Adam([p], { lr: 0.1, betas: [0.9, 0.5], amsgrad: true }),
    FALLING_GRADS,
  );
  assertTrajectory(got, adamRef(h, FALLING_GRADS));
  // The variant really differs from plain Adam on these gradients.
  const plain = adamRef({ lr: 0.1, b2: 0.5 }, FALLING_GRADS);
  assert.ok(Math.abs(plain[2]![0]! - got[2]![0]!) > 1e-3);
});

test('Adam: maximize', () => {
  const got = trajectory((p) => new optim.Adam([p], { lr: 0.1, maximize: true, weightDecay: 0.05 }));
  assertTrajectory(got, adamRef({ lr: 0.1, maximize: true, wd: 0.05 }));
});

test('AdamW: decoupled weight decay (default 1e-2)', () => {
  const got = trajectory((p) => new optim.AdamW([p], { lr: 0.1 }));
  assertTrajectory(got, adamRef({ lr: 0.1, wd: 0.01, decoupled: true }));
  // By hand, step 1 element 0: p = 1 - 0.1*0.01*1 = 0.999, then - 0.1*0.5/(0.5 + 1e-8).
  assert.ok(Math.abs(got[0]![0]! - (0.999 - 0.05 / (0.5 + 1e-8))) < 1e-12);
  const ams = trajectory(
    (p) => new optim.AdamW([p], { lr: 0.05, weightDecay: 0.2, amsgrad: true, betas: [0.9, 0.5] }),
    FALLING_GRADS,
  );
  assertTrajectory(
    ams,
    adamRef({ lr: 0.05, wd: 0.2, amsgrad: true, b2: 0.5, decoupled: true }, FALLING_GRADS),
  );
});

test('Adam: invalid betas throw naming the optimizer', () => {
  const p = tensor([1], { dtype: 'float64', requiresGrad: true });
  assert.throws(
    () => new optim.Adam([p], { betas: [0.9, 1] }),
    (e: unknown) => e instanceof TesseraError && e.message === 'Adam: betas[1] must be in [0, 1), got 1',
  );
  assert.throws(() => new optim.AdamW([p], { eps: -1 }), /AdamW: eps must be a number >= 0, got -1/);
});
