/**
 * Initializers: bounds and moments of the documented distributions (torch.nn.init), fan
 * computation, gains, determinism under a seeded generator, and the default init of Linear,
 * Conv2d, Bilinear and Embedding. Expected bounds are derived here from the formulas in PyTorch's
 * documentation; the moment tolerances are about 5 standard errors of the estimate.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, nn, TesseraError, tensor, zeros } from '../../src/index.js';

const { init } = nn;

function stats(v: ArrayLike<number>): { min: number; max: number; mean: number; std: number } {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  let s = 0;
  for (let i = 0; i < v.length; i++) {
    min = Math.min(min, v[i]!);
    max = Math.max(max, v[i]!);
    s += v[i]!;
  }
  const mean = s / v.length;
  let q = 0;
  for (let i = 0; i < v.length; i++) q += (v[i]! - mean) ** 2;
  return { min, max, mean, std: Math.sqrt(q / (v.length - 1)) };
}

test('calculateGain and fans follow torch', () => {
  assert.equal(init.calculateGain('linear'), 1);
  assert.equal(init.calculateGain('conv2d'), 1);
  assert.equal(init.calculateGain('sigmoid'), 1);
  assert.equal(init.calculateGain('tanh'), 5 / 3);
  assert.equal(init.calculateGain('relu'), Math.sqrt(2));
  assert.equal(init.calculateGain('leaky_relu'), Math.sqrt(2 / (1 + 0.01 ** 2)));
  // a = sqrt(5) gives gain sqrt(1/3): the Linear/Conv default.
  assert.ok(Math.abs(init.calculateGain('leaky_relu', Math.sqrt(5)) - Math.sqrt(1 / 3)) < 1e-15);
  assert.equal(init.calculateGain('selu'), 0.75);
  assert.throws(() => init.calculateGain('swish'), /unsupported nonlinearity 'swish'/);
  // [out, in, kh, kw]: fan_in = in * kh * kw, fan_out = out * kh * kw
  assert.deepEqual(init.calculateFanInAndFanOut(zeros([8, 3, 5, 2])), { fanIn: 30, fanOut: 80 });
  assert.throws(
    () => init.calculateFanInAndFanOut(zeros([4])),
    (e: unknown) => {
      return e instanceof TesseraError && /fewer than 2 dimensions, got shape \[4\]/.test(e.message);
    },
  );
});

test('uniform_, normal_, constant_, zeros_, ones_, eye_ write in place', () => {
  const t = zeros([200, 50]);
  const storage = t.storage;
  assert.equal(init.uniform_(t, -0.3, 0.7), t);
  assert.equal(t.storage, storage);
  let s = stats(t.numbers());
  assert.ok(s.min >= -0.3 && s.max < 0.7, `range ${s.min} ${s.max}`);
  // U(a, b): mean (a+b)/2 = 0.2, std (b-a)/sqrt(12) = 0.2887; n = 10000
  assert.ok(Math.abs(s.mean - 0.2) < 0.015);
  assert.ok(Math.abs(s.std - 1 / Math.sqrt(12)) < 0.01);
  init.normal_(t, 3, 2);
  s = stats(t.numbers());
  assert.ok(Math.abs(s.mean - 3) < 0.1);
  assert.ok(Math.abs(s.std - 2) < 0.07);
  init.constant_(t, 0.25);
  assert.ok(t.numbers().every((v) => v === 0.25));
  init.ones_(t);
  assert.ok(t.numbers().every((v) => v === 1));
  init.zeros_(t);
  assert.ok(t.numbers().every((v) => v === 0));
  const e = init.eye_(zeros([2, 3]));
  assert.deepEqual(e.toArray(), [
    [1, 0, 0],
    [0, 1, 0],
  ]);
  assert.throws(() => init.eye_(zeros([2, 2, 2])), /eye_: only tensors with 2 dimensions/);
  assert.throws(
    () => init.uniform_(zeros([2], { dtype: 'int32' })),
    /uniform_: expected a floating-point tensor, got int32/,
  );
  // A strided view: only its elements change.
  const base = zeros([3, 4]);
  init.constant_(base.asStrided([3], [4], 1), 7);
  assert.deepEqual(base.toArray(), [
    [0, 7, 0, 0],
    [0, 7, 0, 0],
    [0, 7, 0, 0],
  ]);
  // int64 storage converts
  assert.deepEqual(init.constant_(zeros([2], { dtype: 'int64' }), 3).toArray(), [3, 3]);
});

test('xavier and kaiming: bounds and standard deviations from the fans', () => {
  const t = zeros([100, 40, 3]); // fan_in 120, fan_out 300
  init.xavierUniform_(t, 2);
  let s = stats(t.numbers());
  const a = 2 * Math.sqrt(6 / (120 + 300));
  assert.ok(s.min >= -a && s.max <= a && s.max > 0.95 * a && s.min < -0.95 * a);
  init.xavierNormal_(t);
  s = stats(t.numbers());
  assert.ok(Math.abs(s.std / Math.sqrt(2 / 420) - 1) < 0.03);
  init.kaimingUniform_(t, 0, 'fan_in', 'relu');
  s = stats(t.numbers());
  const bound = Math.sqrt(2) * Math.sqrt(3 / 120);
  assert.ok(s.min >= -bound && s.max <= bound && s.max > 0.95 * bound);
  init.kaimingNormal_(t, 0, 'fan_out', 'relu');
  s = stats(t.numbers());
  assert.ok(Math.abs(s.std / (Math.sqrt(2) / Math.sqrt(300)) - 1) < 0.03);
  assert.throws(() => init.kaimingNormal_(t, 0, 'fan_avg' as any), /mode must be 'fan_in' or 'fan_out'/);
});

test('truncNormal_: stays in [a, b] and has the truncated normal moments', () => {
  const t = zeros([20000]);
  init.truncNormal_(t, 0, 1, -2, 2);
  let s = stats(t.numbers());
  assert.ok(s.min >= -2 && s.max <= 2 && s.max > 1.9);
  // Var of N(0,1) truncated to [-2, 2] = 1 - 2*2*phi(2)/(Phi(2)-Phi(-2)) = 0.7737 (std 0.8796),
  // phi(2) = exp(-2)/sqrt(2 pi) = 0.05399, Phi(2) - Phi(-2) = 0.95450.
  assert.ok(Math.abs(s.mean) < 0.02);
  assert.ok(Math.abs(s.std - 0.8796) < 0.015, `std ${s.std}`);
  // One-sided window far in the tail: all mass near the lower bound.
  init.trunc_normal_(t, 0, 1, 3, 10);
  s = stats(t.numbers());
  assert.ok(s.min >= 3 && s.max <= 10);
  // E[X | X > 3] = phi(3) / (1 - Phi(3)) = 0.004432 / 0.0013499 = 3.2831
  assert.ok(Math.abs(s.mean - 3.2831) < 0.01, `mean ${s.mean}`);
  assert.throws(() => init.truncNormal_(t, 0, 1, 2, -2), /expects a < b/);
});

test('a seeded generator makes initialization reproducible', () => {
  const a = init.normal_(zeros([5]), 0, 1, new Generator(7));
  const b = init.normal_(zeros([5]), 0, 1, new Generator(7));
  const c = init.normal_(zeros([5]), 0, 1, new Generator(8));
  assert.deepEqual(a.toArray(), b.toArray());
  assert.notDeepEqual(a.toArray(), c.toArray());
});

test('Linear, Conv2d, Bilinear and Embedding default init (bounds from torch’s reset_parameters)', () => {
  const lin = new nn.Linear(50, 400);
  // kaiming_uniform_(a=sqrt(5)): bound = sqrt(3) * sqrt(1/3) / sqrt(fan_in) = 1 / sqrt(50)
  const b = 1 / Math.sqrt(50);
  let s = stats(lin.weight.numbers());
  assert.ok(s.min >= -b && s.max <= b && s.max > 0.98 * b && s.min < -0.98 * b);
  assert.ok(Math.abs(s.std - b / Math.sqrt(3)) < 0.02 * b);
  s = stats(lin.bias!.numbers());
  assert.ok(s.min >= -b && s.max <= b && s.max > 0.9 * b);

  const conv = new nn.Conv2d(6, 32, [3, 3], { groups: 2 });
  assert.deepEqual(conv.weight.shape, [32, 3, 3, 3]);
  const cb = 1 / Math.sqrt(3 * 9); // fan_in = in/groups * kh * kw
  s = stats(conv.weight.numbers());
  assert.ok(s.min >= -cb && s.max <= cb && s.max > 0.97 * cb);
  s = stats(conv.bias!.numbers());
  assert.ok(s.min >= -cb && s.max <= cb);

  const bil = new nn.Bilinear(16, 5, 30);
  s = stats([...bil.weight.numbers(), ...bil.bias!.numbers()]);
  assert.ok(s.min >= -0.25 && s.max <= 0.25 && s.max > 0.24); // 1 / sqrt(in1 = 16)

  const emb = new nn.Embedding(300, 20, { paddingIdx: -1 });
  assert.equal(emb.paddingIdx, 299);
  const w = emb.weight.numbers();
  assert.ok(
    w.slice(299 * 20).every((v) => v === 0),
    'padding row is zero',
  );
  s = stats(w.slice(0, 299 * 20));
  assert.ok(Math.abs(s.mean) < 0.05 && Math.abs(s.std - 1) < 0.04);
  assert.throws(
    () => new nn.Embedding(3, 2, { paddingIdx: 3 }),
    /padding_idx must be within num_embeddings \(3\), got 3/,
  );
  assert.equal(new nn.Linear(3, 2, { dtype: 'float64' }).weight.dtype, 'float64');
  assert.ok(tensor([1]).requiresGrad === false);
});
