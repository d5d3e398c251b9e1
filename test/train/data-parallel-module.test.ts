/**
 * Data parallelism for eager Modules: each worker builds the module from `workerModule` (a
 * factory it imports), parameters come from shared memory every step, and 2 replicas train like
 * one thread. A replica that cannot be built fails fit() with its reason.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, randn, Trainer, tensor } from '../../src/index.js';
import { makeClassifier } from './fixtures/dp-model.js';

const factory = new URL('./fixtures/dp-model.ts', import.meta.url).href;

test('2 worker replicas of an eager module train like one thread (cross-entropy, SGD with momentum, accuracy)', async () => {
  const g = new Generator(2);
  const x = randn([48, 2], { generator: g });
  const xs = x.dataSync() as Float32Array;
  const y = tensor(
    Array.from({ length: 48 }, (_, i) => (xs[2 * i]! > 0.3 ? 2 : xs[2 * i + 1]! > 0 ? 1 : 0)),
    { dtype: 'int64' },
  );
  const run = async (workers: number) => {
    const m = makeClassifier(5);
    const r = await new Trainer(m, {
      loss: 'crossEntropy',
      optimizer: { name: 'sgd', lr: 0.2, momentum: 0.9 },
      epochs: 3,
      batchSize: 12,
      seed: 1,
      metrics: ['accuracy'],
      workers,
      workerModule: { module: factory, export: 'makeClassifier', args: [123] },
    }).fit({ inputs: x, target: y });
    return { weights: m.parameters().flatMap((p) => Array.from(p.numbers())), history: r.history };
  };
  const one = await run(1);
  const two = await run(2);
  let maxDiff = 0;
  one.weights.forEach((v, i) => {
    maxDiff = Math.max(maxDiff, Math.abs(v - two.weights[i]!));
  });
  assert.ok(maxDiff < 1e-5, `max weight difference ${maxDiff}`);
  assert.deepEqual(
    two.history.map((h) => h.metrics.accuracy),
    one.history.map((h) => h.metrics.accuracy),
  );
});

test('a worker that cannot build its replica fails fit() with the reason', async () => {
  const t = new Trainer(makeClassifier(1), {
    loss: 'crossEntropy',
    workers: 2,
    workerModule: { module: factory, export: 'NotAModule' },
  });
  await assert.rejects(
    t.fit({ inputs: randn([4, 2]), target: tensor([0, 1, 2, 0], { dtype: 'int64' }) }),
    /replica \d: workerModule: .* export 'NotAModule' did not return an nn.Module/,
  );
});
