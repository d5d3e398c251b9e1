/**
 * Fine-tuning imported ONNX models with the Trainer: an MLP and a small CNN are made with
 * Tessera, exported to ONNX bytes, imported into a TrainingSession and trained on generated
 * tasks until the loss falls by more than 90% and held-out accuracy passes 95%; the fine-tuned
 * models then export to ONNX that onnxruntime-node runs to the same predictions.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import {
  exportModule,
  exportOnnx,
  Generator,
  importOnnxBytes,
  manualSeed,
  metrics,
  nn,
  randn,
  Tensor as T,
  type Tensor,
  Trainer,
  TrainingSession,
  tensor,
} from '../../src/index.js';

/** Points in the plane, labelled by quadrant (4 classes). */
function quadrants(n: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const x = randn([n, 2], { generator: g });
  const xs = x.dataSync() as Float32Array;
  const y = tensor(
    Array.from({ length: n }, (_, i) => (xs[2 * i]! > 0 ? 1 : 0) + (xs[2 * i + 1]! > 0 ? 2 : 0)),
    { dtype: 'int64' },
  );
  return { x, y };
}

/** 8x8 images: a horizontal (class 0) or vertical (class 1) bar at a random place, on noise. */
function bars(n: number, seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const px = new Float32Array(n * 64);
  const labels: number[] = [];
  for (let k = 0; k < n; k++) {
    const cls = k % 2;
    const at = g.int(1, 7);
    for (let i = 0; i < 64; i++) px[k * 64 + i] = 0.2 * g.normal();
    for (let j = 1; j < 7; j++) px[k * 64 + (cls === 0 ? at * 8 + j : j * 8 + at)]! += 1;
    labels.push(cls);
  }
  return { x: T.fromData(px, [n, 1, 8, 8], 'float32'), y: tensor(labels, { dtype: 'int64' }) };
}

async function ortPredict(bytes: Uint8Array, input: string, x: Tensor): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const r = await s.run({ [input]: new ort.Tensor('float32', x.dataSync() as Float32Array, [...x.shape]) });
  return r[s.outputNames[0]!]!.data as Float32Array;
}

test('fine-tune an imported ONNX MLP: loss falls > 90%, held-out accuracy > 95%, the export runs the same in ORT', async () => {
  manualSeed(10);
  const eager = new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 4));
  const onnxBytes = exportModule(eager, randn([1, 2]), {
    inputNames: ['x'],
    outputNames: ['logits'],
    dynamicBatch: true,
  });
  const session = await TrainingSession.create(onnxBytes, {
    loss: 'crossEntropy',
    optimizer: { name: 'adam', lr: 0.02 },
  });
  const train = quadrants(400, 1);
  const test_ = quadrants(200, 2);
  const trainer = new Trainer(session, {
    epochs: 12,
    batchSize: 32,
    seed: 1,
    metrics: ['accuracy'],
    validationData: { inputs: { x: test_.x }, target: test_.y },
  });
  const r = await trainer.fit({ inputs: { x: train.x }, target: train.y });
  assert.equal(r.status, 'completed');
  const first = r.history[0]!.loss;
  const initial = trainer.evaluate({ inputs: { x: train.x }, target: train.y }).loss;
  assert.ok(initial < first, 'the model learned during the first epoch already');
  const untrained = await TrainingSession.create(onnxBytes, { loss: 'crossEntropy' });
  const startLoss = Number((await untrained.evalStep({ x: train.x, target: train.y })).loss!.item());
  assert.ok(initial < 0.1 * startLoss, `loss ${startLoss} -> ${initial}`);
  assert.ok(
    r.history.at(-1)!.valMetrics!.accuracy! > 0.95,
    `held-out accuracy ${r.history.at(-1)!.valMetrics!.accuracy}`,
  );
  const pred = trainer.predict({ x: test_.x });
  assert.ok(metrics.accuracy(pred, test_.y) > 0.95);
  const exported = exportOnnx(session.toModel());
  const theirs = await ortPredict(exported, 'x', test_.x);
  const mine = pred.numbers();
  for (let i = 0; i < mine.length; i++)
    assert.ok(Math.abs(theirs[i]! - mine[i]!) < 1e-4 * (1 + Math.abs(mine[i]!)), `logit ${i}`);
});

test('fine-tune an imported ONNX CNN (Conv, BatchNorm, ReLU, MaxPool, Flatten, Gemm): loss falls > 90%, accuracy > 95%, ORT agrees', async () => {
  manualSeed(11);
  const eager = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 2),
  );
  const onnxBytes = exportModule(eager, randn([1, 1, 8, 8]), {
    inputNames: ['image'],
    outputNames: ['logits'],
    dynamicBatch: true,
  });
  const session = await TrainingSession.create(onnxBytes, {
    loss: 'crossEntropy',
    optimizer: { name: 'adam', lr: 0.02 },
  });
  // Traced with a batch of 1 and dynamicBatch: Flatten's Reshape keeps dim 0 from its input, so any batch size runs.
  const imported = importOnnxBytes(onnxBytes);
  const reshape = imported.graph.nodes.find((n) => n.opType === 'Reshape')!;
  assert.deepEqual(imported.graph.initializers.get(reshape.inputs[1]!)!.toArray(), [0, 64]);
  const data = bars(96, 3);
  const heldOut = bars(64, 4);
  const untrained = await TrainingSession.create(onnxBytes, { loss: 'crossEntropy' });
  const startLoss = Number((await untrained.evalStep({ image: data.x, target: data.y })).loss!.item());
  const trainer = new Trainer(session, { epochs: 8, batchSize: 16, seed: 2, metrics: ['accuracy'] });
  const r = await trainer.fit({ inputs: { image: data.x }, target: data.y });
  const end = trainer.evaluate({ inputs: { image: data.x }, target: data.y }).loss;
  assert.ok(
    end < 0.1 * startLoss,
    `loss ${startLoss} -> ${end} (${r.history.map((h) => h.loss.toFixed(3)).join(' ')})`,
  );
  const pred = trainer.predict({ image: heldOut.x });
  assert.ok(
    metrics.accuracy(pred, heldOut.y) > 0.95,
    `held-out accuracy ${metrics.accuracy(pred, heldOut.y)}`,
  );
  const theirs = await ortPredict(exportOnnx(session.toModel()), 'image', heldOut.x);
  const mine = pred.numbers();
  for (let i = 0; i < mine.length; i++)
    assert.ok(
      Math.abs(theirs[i]! - mine[i]!) < 1e-4 * (1 + Math.abs(mine[i]!)),
      `logit ${i}: ${theirs[i]} vs ${mine[i]}`,
    );
});
