import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim, TesseraError, tensor } from '../../src/index.js';

const makeOpt = (lr = 1, groups = 1) =>
  new optim.SGD(
    Array.from({ length: groups }, (_, i) => ({
      params: [tensor([1], { dtype: 'float64', requiresGrad: true })],
      lr: lr * (i + 1),
    })),
  );

/** lr of group 0 at epochs 0..n-1 (the constructor performs epoch 0). */
function lrs(opt: optim.Optimizer<any>, sched: optim.Scheduler, n: number): number[] {
  const out = [sched.getLastLr()[0]!];
  assert.equal(opt.paramGroups[0]!.lr, out[0]);
  for (let i = 1; i < n; i++) {
    sched.step();
    out.push(sched.getLastLr()[0]!);
    assert.equal(opt.paramGroups[0]!.lr, out[i]);
  }
  return out;
}

function assertClose(got: number[], want: number[]): void {
  assert.equal(got.length, want.length);
  got.forEach((g, i) => {
    assert.ok(Math.abs(g - want[i]!) < 1e-12, `epoch ${i}: got ${g}, expected ${want[i]}`);
  });
}

test('StepLR: gamma every stepSize epochs', () => {
  const opt = makeOpt(1);
  assertClose(lrs(opt, new optim.StepLR(opt, 3, 0.5), 8), [1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25]);
});

test('MultiStepLR: gamma at each milestone (unsorted milestones accepted)', () => {
  const opt = makeOpt(1);
  assertClose(lrs(opt, new optim.MultiStepLR(opt, [5, 2], 0.1), 7), [1, 1, 0.1, 0.1, 0.1, 0.01, 0.01]);
});

test('ExponentialLR', () => {
  const opt = makeOpt(2);
  assertClose(lrs(opt, new optim.ExponentialLR(opt, 0.5), 4), [2, 1, 0.5, 0.25]);
});

test('CosineAnnealingLR: closed form etaMin + (base - etaMin)(1 + cos(pi t / T))/2', () => {
  const opt = makeOpt(1);
  const s = new optim.CosineAnnealingLR(opt, 4, 0.1);
  // By hand: t = 0 -> 1, t = 2 -> 0.55, t = 4 -> 0.1, t = 1 -> 0.1 + 0.45(1 + sqrt(2)/2).
  const want = [1, 0.1 + 0.45 * (1 + Math.SQRT1_2), 0.55, 0.1 + 0.45 * (1 - Math.SQRT1_2), 0.1];
  assertClose(lrs(opt, s, 5), want);
  s.step(2);
  assert.ok(Math.abs(s.getLastLr()[0]! - 0.55) < 1e-12, 'step(epoch) jumps to the closed form');
});

test('LinearLR: warm-up from startFactor to endFactor, then constant', () => {
  const opt = makeOpt(0.4);
  const s = new optim.LinearLR(opt, { startFactor: 0.25, endFactor: 1, totalIters: 4 });
  assertClose(lrs(opt, s, 7), [0.1, 0.175, 0.25, 0.325, 0.4, 0.4, 0.4]);
  const d = makeOpt(1);
  // torch's defaults: startFactor 1/3, endFactor 1, totalIters 5.
  assertClose(lrs(d, new optim.LinearLR(d), 7), [1 / 3, 7 / 15, 9 / 15, 11 / 15, 13 / 15, 1, 1]);
});

test('ConstantLR and PolynomialLR', () => {
  const a = makeOpt(1);
  assertClose(lrs(a, new optim.ConstantLR(a, { factor: 0.5, totalIters: 2 }), 4), [0.5, 0.5, 1, 1]);
  const b = makeOpt(1);
  assertClose(
    lrs(b, new optim.PolynomialLR(b, { totalIters: 4, power: 2 }), 6),
    [1, 0.5625, 0.25, 0.0625, 0, 0],
  );
});

test('LambdaLR: one lambda per group, each from its own base lr', () => {
  const opt = makeOpt(1, 2);
  const s = new optim.LambdaLR(opt, [(e) => 1 / (e + 1), (e) => 0.5 ** e]);
  s.step();
  s.step();
  // group 0: base 1 * 1/3; group 1: base 2 * 0.25.
  assertClose(s.getLastLr(), [1 / 3, 0.5]);
  assert.equal(opt.paramGroups[1]!.initialLr, 2);
  assert.throws(
    () => new optim.LambdaLR(opt, [(e) => e]),
    /LambdaLR: expected 2 lrLambda functions \(one per group\), got 1/,
  );
});

test('SequentialLR: linear warm-up, then exponential decay restarted at the milestone', () => {
  const opt = makeOpt(1);
  const warm = new optim.LinearLR(opt, { startFactor: 0.5, totalIters: 2 });
  const decay = new optim.ExponentialLR(opt, 0.5);
  const s = new optim.SequentialLR(opt, [warm, decay], [2]);
  // Traced through torch's SequentialLR: 0.5 (warm-up epoch 0), 0.75, then decay.step(0) = 1, 0.5, 0.25.
  assertClose(lrs(opt, s, 5), [0.5, 0.75, 1, 0.5, 0.25]);
  assert.throws(
    () => new optim.SequentialLR(opt, [warm, decay], []),
    /SequentialLR: expected 1 milestones for 2 schedulers, got \[\]/,
  );
});

test('the optimizer steps with the scheduled lr', () => {
  const p = tensor([0], { dtype: 'float64', requiresGrad: true });
  const opt = new optim.SGD([p], { lr: 1 });
  const s = new optim.StepLR(opt, 1, 0.5);
  for (let i = 0; i < 3; i++) {
    p.grad = tensor([1], { dtype: 'float64' });
    opt.step();
    s.step();
  }
  // lr 1, 0.5, 0.25: p = -(1 + 0.5 + 0.25).
  assert.equal(p.item(), -1.75);
});

test('scheduler state and argument errors', () => {
  const opt = makeOpt(1);
  const s = new optim.StepLR(opt, 2, 0.5);
  s.step();
  s.step();
  const sd = s.stateDict();
  assert.deepEqual(sd, { lastEpoch: 2, baseLrs: [1], lastLr: [0.5] });
  const fresh = makeOpt(1);
  assert.throws(
    () => new optim.StepLR(fresh, 2, 0.5, 3),
    (e: unknown) => e instanceof TesseraError && /needs initialLr in paramGroups\[0\]/.test(e.message),
  );
  assert.throws(() => new optim.StepLR(opt, 0), /StepLR: stepSize must be a positive integer, got 0/);
  assert.throws(() => new optim.CosineAnnealingLR(opt, 0), /CosineAnnealingLR: tMax must be > 0, got 0/);
  assert.throws(
    () => new optim.LinearLR(opt, { startFactor: 0 }),
    /LinearLR: startFactor must be in \(0, 1\], got 0/,
  );
});
