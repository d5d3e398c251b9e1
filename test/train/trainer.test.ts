/**
 * The Trainer's mechanics: resuming from a checkpoint replays the same batches and ends exactly
 * where an uninterrupted run does (weights, optimizer state, history), checkpoints are written
 * atomically and pruned, early stopping with best-weight restore, cancellation through an
 * AbortSignal, progress events and the progress bar, and option validation.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  Generator,
  manualSeed,
  nn,
  noGrad,
  randn,
  type Tensor,
  Trainer,
  tensor,
  train,
} from '../../src/index.js';

function data(n: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = randn([n, 3], { generator: g });
  const y = noGrad(() =>
    x
      .narrow(1, 0, 1)
      .mul(2)
      .sub(x.narrow(1, 2, 1)),
  );
  return { x, y };
}

function model(seed: number): nn.Sequential {
  manualSeed(seed);
  return new nn.Sequential(new nn.Linear(3, 8), new nn.Tanh(), new nn.Linear(8, 1));
}

const weights = (m: nn.Module) => [...m.stateDict()].map(([k, t]) => [k, Array.from(t.numbers())] as const);

test('resume from a checkpoint after a cancel ends bit-for-bit where the uninterrupted run ends', async () => {
  const { x, y } = data(50, 1);
  const opts = {
    loss: 'mse' as const,
    optimizer: { name: 'adam', lr: 0.01 },
    epochs: 3,
    batchSize: 8,
    seed: 9,
    metrics: ['mae' as const],
  };
  const full = model(1);
  const ref = await new Trainer(full, opts).fit({ inputs: x, target: y });
  assert.equal(ref.steps, 3 * 7);

  const dir = mkdtempSync(join(tmpdir(), 'ckpt-'));
  try {
    const first = model(1);
    const ac = new AbortController();
    const events: string[] = [];
    const t1 = new Trainer(first, {
      ...opts,
      signal: ac.signal,
      checkpoint: { everySteps: 4, dir, keep: 2 },
      onProgress: (e) => {
        events.push(e.type);
        if (e.type === 'step' && e.step === 10) ac.abort();
      },
    });
    const r1 = await t1.fit({ inputs: x, target: y });
    assert.equal(r1.status, 'cancelled');
    assert.equal(r1.steps, 10);
    // Checkpoints at steps 4 and 8 were written; only the newest 2 are kept, with no temporary files.
    assert.deepEqual(readdirSync(dir), [
      'checkpoint-00000004.safetensors',
      'checkpoint-00000008.safetensors',
    ]);
    assert.equal(events[0], 'start');
    assert.equal(events.at(-1), 'end');
    assert.equal(events.filter((e) => e === 'checkpoint').length, 2);

    // A fresh model (other initial weights) resumed from the directory's newest checkpoint.
    const resumed = model(99);
    const r2 = await new Trainer(resumed, opts).fit({ inputs: x, target: y }, { resumeFrom: dir });
    assert.equal(r2.status, 'completed');
    assert.equal(r2.steps, 21);
    assert.deepEqual(weights(resumed), weights(full));
    assert.deepEqual(
      r2.history.map((h) => [h.epoch, h.loss, h.metrics.mae]),
      ref.history.map((h) => [h.epoch, h.loss, h.metrics.mae]),
    );
    // The checkpoint file round-trips through encode/decode with the optimizer state.
    const c = train.loadCheckpoint(train.latestCheckpoint(dir)!);
    assert.equal(c.step, 8);
    assert.equal(c.epoch, 1);
    assert.equal(c.batch, 1);
    assert.equal((c.optimizer!.state[0]!.expAvg as number[]).length, 8 * 3);
    assert.equal(c.optimizer!.state[0]!.step, 8);
    // The cancelled trainer's own checkpoint() resumes at step 10, the batch after the cancel.
    const now = t1.checkpoint()!;
    assert.equal(now.step, 10);
    const fromNow = model(42);
    await new Trainer(fromNow, opts).fit({ inputs: x, target: y }, { resumeFrom: now });
    assert.deepEqual(weights(fromNow), weights(full));
    // Resuming with another batch size is refused: it would not replay the same batches.
    await assert.rejects(
      new Trainer(model(1), { ...opts, batchSize: 5 }).fit({ inputs: x, target: y }, { resumeFrom: dir }),
      /batchSize 8, this run has 5/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('early stopping stops after `patience` epochs without improvement and restores the best weights', async () => {
  const { x, y } = data(40, 2);
  const m = model(3);
  const snapshots = new Map<number, ReturnType<typeof weights>>();
  const r = await new Trainer(m, {
    loss: 'mse',
    // A learning rate this large diverges after a while: validation loss stops improving.
    optimizer: { name: 'sgd', lr: 0.9 },
    epochs: 30,
    batchSize: 10,
    validationSplit: 0.25,
    earlyStopping: { patience: 2, restoreBestWeights: true },
    onProgress: (e) => {
      if (e.type === 'epoch') snapshots.set(e.epoch, weights(m));
    },
  }).fit({ inputs: x, target: y });
  assert.equal(r.status, 'early_stopped');
  const vals = r.history.map((h) => h.valLoss!);
  const best = vals.indexOf(Math.min(...vals));
  assert.equal(r.history.length, best + 1 + 2, `val losses ${vals.map((v) => v.toFixed(3)).join(' ')}`);
  assert.deepEqual(weights(m), snapshots.get(best + 1));
});

test('progress events carry step, loss, samples/s and ETA; the progress bar draws them', async () => {
  const { x, y } = data(30, 4);
  const lines: string[] = [];
  const steps: { step: number; eta: number; loss: number }[] = [];
  const r = await new Trainer(model(5), {
    epochs: 2,
    batchSize: 10,
    progressBar: { write: (s: string) => lines.push(s), isTTY: false },
    onProgress: (e) => {
      if (e.type === 'step') steps.push({ step: e.step, eta: e.etaSeconds, loss: e.loss });
    },
  }).fit({ inputs: x, target: y });
  assert.equal(r.status, 'completed');
  assert.deepEqual(
    steps.map((s) => s.step),
    [1, 2, 3, 4, 5, 6],
  );
  assert.equal(steps.at(-1)!.eta, 0);
  assert.ok(steps.every((s) => Number.isFinite(s.loss)));
  assert.ok(
    lines.some((l) => /^epoch 1\/2 \[=+\] 3\/3 loss \d/.test(l)),
    lines.join(''),
  );
  assert.ok(
    lines.some((l) => /^epoch 2\/2 loss \d\.\d{4} \(/.test(l)),
    lines.join(''),
  );
});

test('maxSteps and stop() end a run early with their status; evaluate and predict use eval mode', async () => {
  const { x, y } = data(40, 6);
  const m = new nn.Sequential(new nn.Linear(3, 4), new nn.Dropout(0.5), new nn.Linear(4, 1));
  const t = new Trainer(m, { epochs: 5, batchSize: 10, maxSteps: 3 });
  assert.equal((await t.fit({ inputs: x, target: y })).steps, 3);
  const t2 = new Trainer(m, {
    epochs: 5,
    batchSize: 10,
    onProgress: (e) => {
      if (e.type === 'step' && e.step === 2) t2.stop();
    },
  });
  const r = await t2.fit({ inputs: x, target: y });
  assert.equal(r.status, 'stopped');
  assert.equal(r.steps, 2);
  // Dropout is off in eval mode, so predictions are deterministic.
  assert.deepEqual(Array.from(t2.predict(x).numbers()), Array.from(t2.predict(x).numbers()));
  assert.ok(Number.isFinite(t2.evaluate({ inputs: x, target: y }).loss));
});

test('options and data are validated with messages that name the problem', async () => {
  const m = model(7);
  assert.throws(() => new Trainer(m, { epochs: 0 }), /epochs must be a positive integer, got 0/);
  assert.throws(() => new Trainer(m, { metrics: ['f2' as never] }), /unknown metric 'f2'/);
  assert.throws(() => new Trainer(m, { workers: 2, loss: 'mse' }), /workerModule/);
  assert.throws(
    () => new Trainer(m, { workers: 2, loss: (a: Tensor) => a.sum(), workerModule: { module: 'x' } }),
    /not a function/,
  );
  const t = new Trainer(m, {});
  await assert.rejects(
    t.fit({ inputs: randn([4, 3]), target: randn([5, 1]) }),
    /input 0 has 4 samples \(shape \[4, 3\]\), the target has 5/,
  );
  await assert.rejects(
    new Trainer(m, { earlyStopping: { monitor: 'valLoss' } }).fit({
      inputs: randn([4, 3]),
      target: randn([4, 1]),
    }),
    /monitors 'valLoss', but there is no validation data/,
  );
  // A diverging run fails with a clear message instead of training on NaN.
  const bad = tensor([[Number.NaN, 1, 2]]);
  await assert.rejects(
    new Trainer(model(8), {}).fit({ inputs: bad, target: randn([1, 1]) }),
    /the loss became NaN at epoch 1, batch 1/,
  );
});

test('a data set file (safetensors: inputs by name, the target, the input order) trains like the tensors it holds', async () => {
  const { x, y } = data(20, 9);
  const z = randn([20, 2]);
  const bytes = train.encodeDataset({ inputs: { b: x, a: z }, target: y });
  const back = train.decodeDataset(bytes);
  assert.deepEqual(Object.keys(back.inputs), ['b', 'a']);
  assert.deepEqual(Array.from((back.inputs as Record<string, Tensor>).b!.numbers()), Array.from(x.numbers()));
  assert.deepEqual(Array.from(back.target.numbers()), Array.from(y.numbers()));
  assert.throws(() => train.decodeDataset(bytes, 'd', 'label'), /no target tensor 'label'; it holds/);
  const a = model(3);
  const b = model(3);
  await new Trainer(a, { epochs: 1, batchSize: 5 }).fit({ inputs: x, target: y });
  await new Trainer(b, { epochs: 1, batchSize: 5 }).fit({
    inputs: [(back.inputs as Record<string, Tensor>).b!],
    target: back.target,
  });
  assert.deepEqual(weights(a), weights(b));
});
