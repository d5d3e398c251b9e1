/**
 * End to end: a small CNN (nn.Conv2d + nn.MaxPool2d + nn.Linear) tells generated squares from
 * crosses at random positions and sizes, on noise: > 95% accuracy on held-out images. The last
 * max-pool covers the whole feature map, so the classifier sees shape features wherever they are.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, manualSeed, metrics, nn, noGrad, optim, type Tensor } from '../../src/index.js';
import { minibatches, squaresAndCrosses } from './datasets.js';

// The bound: under a minute on one core (a test runs single-threaded in its own process).
test('CNN + Adam tells squares from crosses (> 95% held-out accuracy)', { timeout: 60_000 }, () => {
  manualSeed(11);
  const train = squaresAndCrosses(256, 1);
  const heldOut = squaresAndCrosses(200, 2);
  const model = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 8, 3, { padding: 1 }),
    new nn.ReLU(),
    new nn.MaxPool2d(8),
    new nn.Flatten(),
    new nn.Linear(8, 2),
  );
  const opt = new optim.Adam(model.parameters(), { lr: 0.02 });
  const criterion = new nn.CrossEntropyLoss();
  const shuffle = new Generator(3);
  const epochLoss: number[] = [];
  for (let epoch = 0; epoch < 6; epoch++) {
    let sum = 0;
    for (const batch of minibatches(train, 32, shuffle)) {
      opt.zeroGrad();
      const loss = criterion.forward(model.forward(batch.x) as Tensor, batch.y);
      loss.backward();
      opt.step();
      sum += Number(loss.item()) * batch.y.numel();
    }
    epochLoss.push(sum / 256);
  }
  assert.ok(epochLoss.at(-1)! < epochLoss[0]! / 3, `loss fell from ${epochLoss[0]} to ${epochLoss.at(-1)}`);
  const acc = noGrad(() => metrics.accuracy(model.forward(heldOut.x) as Tensor, heldOut.y));
  assert.ok(acc > 0.95, `held-out accuracy ${acc}`);
});
