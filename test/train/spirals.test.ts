/**
 * End to end: an MLP (nn.Linear + nn.ReLU) trained with Adam on the two-spirals task separates
 * the spirals: > 95% accuracy on held-out points. Everything is seeded, so runs are identical.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { manualSeed, metrics, nn, noGrad, optim, type Tensor } from '../../src/index.js';
import { twoSpirals } from './datasets.js';

// The bound: under a minute on one core (a test runs single-threaded in its own process).
test('MLP + Adam learns two spirals (> 95% held-out accuracy)', { timeout: 60_000 }, () => {
  manualSeed(7);
  const train = twoSpirals(200, 1);
  const heldOut = twoSpirals(100, 2);
  const model = new nn.Sequential(
    new nn.Linear(2, 32),
    new nn.ReLU(),
    new nn.Linear(32, 32),
    new nn.ReLU(),
    new nn.Linear(32, 2),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 0.02 });
  const criterion = new nn.CrossEntropyLoss();
  const losses: number[] = [];
  for (let step = 0; step < 250; step++) {
    opt.zeroGrad();
    const loss = criterion.forward(model.forward(train.x) as Tensor, train.y);
    loss.backward();
    opt.step();
    losses.push(Number(loss.item()));
  }
  assert.ok(losses.at(-1)! < losses[0]! / 5, `loss fell from ${losses[0]} to ${losses.at(-1)}`);
  const acc = noGrad(() => metrics.accuracy(model.forward(heldOut.x) as Tensor, heldOut.y));
  assert.ok(acc > 0.95, `held-out accuracy ${acc}`);
});
