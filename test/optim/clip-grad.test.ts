import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim, TesseraError, tensor } from '../../src/index.js';

const withGrad = (v: number[], g: number[]) => {
  const p = tensor(v, { dtype: 'float64', requiresGrad: true });
  p.grad = tensor(g, { dtype: 'float64' });
  return p;
};

test('clipGradNorm: total 2-norm over all gradients, scaled by maxNorm/(total + 1e-6)', () => {
  const a = withGrad([0, 0], [3, 4]);
  const b = withGrad([0], [12]);
  const gradA = a.grad;
  // By hand: sqrt(9 + 16 + 144) = 13.
  const total = optim.clipGradNorm([a, b], 6.5);
  assert.equal(total, 13);
  const c = 6.5 / (13 + 1e-6);
  assert.deepEqual(Array.from(a.grad!.numbers()), [3 * c, 4 * c]);
  assert.deepEqual(Array.from(b.grad!.numbers()), [12 * c]);
  assert.equal(a.grad, gradA, 'clipped in place');
});

test('clipGradNorm: gradients under the limit are unchanged; other norm types', () => {
  const mk = () => [withGrad([0, 0], [3, -4]), withGrad([0], [12]), tensor([1], { requiresGrad: true })];
  const ps = mk();
  assert.equal(optim.clipGradNorm(ps, 100), 13);
  assert.deepEqual(Array.from(ps[0]!.grad!.numbers()), [3, -4]);
  // 1-norm: 3 + 4 + 12 = 19; inf-norm: 12; 3-norm: (27 + 64 + 1728)^(1/3).
  assert.equal(optim.clipGradNorm(mk(), 100, 1), 19);
  assert.equal(optim.clipGradNorm(mk(), 100, 'inf'), 12);
  assert.equal(optim.clipGradNorm(mk(), 100, Number.POSITIVE_INFINITY), 12);
  assert.ok(Math.abs(optim.clipGradNorm(mk(), 100, 3) - 1819 ** (1 / 3)) < 1e-12);
  const inf = mk();
  optim.clipGradNorm(inf, 6, 'inf');
  assert.deepEqual(Array.from(inf[1]!.grad!.numbers()), [(12 * 6) / (12 + 1e-6)]);
  assert.equal(optim.clipGradNorm([tensor([1], { requiresGrad: true })], 1), 0, 'no gradients: norm 0');
});

test('clipGradNorm: non-finite norms and bad arguments', () => {
  const p = withGrad([0, 0], [Number.POSITIVE_INFINITY, 1]);
  assert.throws(
    () => optim.clipGradNorm(p, 1, 2, true),
    (e: unknown) =>
      e instanceof TesseraError && /total norm of order 2 of the gradients is Infinity/.test(e.message),
  );
  assert.throws(
    () => optim.clipGradNorm(p, 1, 0),
    /clipGradNorm: normType must be a positive number or Infinity, got 0/,
  );
});

test('clipGradNorm: a non-contiguous gradient is replaced by a clipped copy', () => {
  const p = tensor([0, 0, 0, 0], { dtype: 'float64', requiresGrad: true })
    .reshape(2, 2)
    .detach()
    .requiresGrad_();
  p.grad = tensor([[3], [4]], { dtype: 'float64' }).expand(2, 2);
  // By hand: sqrt(3^2 * 2 + 4^2 * 2) = sqrt(50).
  const total = optim.clipGradNorm(p, 1);
  assert.ok(Math.abs(total - Math.sqrt(50)) < 1e-12);
  const c = 1 / (Math.sqrt(50) + 1e-6);
  assert.deepEqual(Array.from(p.grad!.numbers()), [3 * c, 3 * c, 4 * c, 4 * c]);
});

test('clipGradValue clamps every element', () => {
  const p = withGrad([0, 0, 0, 0], [-3, 0.5, 2, -1]);
  optim.clipGradValue([p], 1);
  assert.deepEqual(Array.from(p.grad!.numbers()), [-1, 0.5, 1, -1]);
  assert.throws(() => optim.clipGradValue(p, -1), /clipGradValue: clipValue must be a number >= 0, got -1/);
});
