/**
 * Data parallelism for imported graphs: `workers: 3` replicas of a TrainingSession in worker
 * threads, gradients summed over shared memory, give the same training as one thread on the same
 * global batches (up to float rounding), including uneven shards (a last batch smaller than the
 * others, a batch size not divisible by the worker count).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, randn, Trainer, TrainingSession } from '../../src/index.js';
import { mlpModel } from './graph-models.js';

test('3 worker replicas train an imported MLP like one thread on the same global batches', async () => {
  const g = new Generator(1);
  const x = randn([70, 3], { generator: g });
  const y = randn([70, 2], { generator: g });
  const run = async (workers: number) => {
    const s = TrainingSession.fromModel(mlpModel(3, 8, 2, 4), {
      loss: 'mse',
      optimizer: { name: 'adam', lr: 0.05 },
    });
    const r = await new Trainer(s, { epochs: 3, batchSize: 16, workers, seed: 3, metrics: ['mae'] }).fit({
      inputs: { x },
      target: y,
    });
    return { params: s.contiguousParameters(false).numbers(), history: r.history, steps: r.steps };
  };
  const one = await run(1);
  const three = await run(3);
  assert.equal(three.steps, one.steps);
  let maxDiff = 0;
  for (let i = 0; i < one.params.length; i++)
    maxDiff = Math.max(maxDiff, Math.abs(one.params[i]! - three.params[i]!));
  assert.ok(maxDiff < 1e-5, `max parameter difference ${maxDiff}`);
  // Adam really moved the weights: the comparison is not between two untouched models.
  const start = TrainingSession.fromModel(mlpModel(3, 8, 2, 4), {})
    .contiguousParameters(false)
    .numbers();
  assert.ok(start.some((v, i) => Math.abs(v - one.params[i]!) > 1e-2));
  one.history.forEach((h, i) => {
    const o = three.history[i]!;
    assert.ok(Math.abs(h.loss - o.loss) < 1e-5 * (1 + h.loss), `epoch ${i + 1} loss ${h.loss} vs ${o.loss}`);
    assert.ok(Math.abs(h.metrics.mae! - o.metrics.mae!) < 1e-5, `epoch ${i + 1} mae`);
  });
});
