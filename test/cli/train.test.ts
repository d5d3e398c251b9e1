// `tessera train`: fine-tunes the bundled MLP on a .npz data set whose labels it gets wrong at
// first (its own predictions, shifted by one class), with the progress bar on stderr; the written model, run by
// onnxruntime-node, then classifies the data far better than the original did.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Generator, Tensor, tensor } from '../../src/index.js';
import { writeNpz } from '../../src/io/npy.js';
import { cli, ortRun } from './helpers.js';

const MLP = 'models/mlp/1/model.onnx';
const dir = mkdtempSync(join(tmpdir(), 'tessera-train-'));

/** 240 samples of 4 standard-normal features (scaled 2x). */
function features(): Float32Array {
  const g = new Generator(3);
  return Float32Array.from({ length: 240 * 4 }, () => 2 * g.normal());
}

async function predictions(file: string, x: Float32Array): Promise<number[]> {
  const p = (await ortRun(file, { input: { data: x, dims: [x.length / 4, 4] } })).probabilities!.data;
  return Array.from({ length: x.length / 4 }, (_, i) => {
    const row = Array.from(p.slice(i * 3, i * 3 + 3));
    return row.indexOf(Math.max(...row));
  });
}

async function accuracy(file: string, x: Float32Array, y: number[]): Promise<number> {
  const p = await predictions(file, x);
  return p.filter((c, i) => c === y[i]).length / y.length;
}

test('trains from a .npz, prints progress and a summary, writes a model that now fits the data', async () => {
  // The target is the original model's own class, shifted by one: it gets every label wrong at first.
  const x = features();
  const y = (await predictions(MLP, x)).map((c) => (c + 1) % 3);
  const file = join(dir, 'blobs.npz');
  writeNpz(file, {
    input: Tensor.fromData(x, [y.length, 4], 'float32'),
    target: tensor(y, { dtype: 'int64' }),
  });
  const out = join(dir, 'tuned.onnx');
  const before = await accuracy(MLP, x, y);
  const r = await cli(
    'train',
    MLP,
    '--data',
    file,
    '--epochs',
    '6',
    '--lr',
    '0.02',
    '--batch-size',
    '16',
    '--metrics',
    'accuracy',
    '--validation-split',
    '0.25',
    '-o',
    out,
  );
  assert.equal(r.code, 0, r.err);
  // The cross-entropy loss reads the logits before the model's Softmax.
  assert.match(r.err, /ends in Softmax; the cross-entropy loss reads its input/);
  const num = String.raw`[\d.e+-]+`;
  assert.match(r.err, new RegExp(String.raw`epoch 1/6 \[[=> ]+\] \d+/12 loss ${num} \d+ samples/s ETA \d+s`));
  assert.match(r.err, new RegExp(`epoch 6/6 loss ${num} accuracy ${num} val_loss ${num} val_accuracy`));
  assert.match(
    r.out,
    new RegExp(
      String.raw`^completed: 6 epoch\(s\), 72 steps in [\d.]+s; loss ${num}, val_loss ${num}, accuracy ${num}$`,
      'm',
    ),
  );
  assert.ok(existsSync(out));
  const after = await accuracy(out, x, y);
  assert.equal(before, 0);
  assert.ok(after > 0.9, `accuracy after training ${after}`);
});

test('data problems name the file and what it holds', async () => {
  const file = join(dir, 'bad.npz');
  writeNpz(file, { input: tensor([[1, 2, 3, 4]]), labels: tensor([0], { dtype: 'int64' }) });
  const r = await cli('train', MLP, '--data', file);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /bad\.npz has no target array 'target'; it holds input, labels \(name the target with --target\)/,
  );
  const noData = await cli('train', MLP);
  assert.equal(noData.code, 2);
  assert.match(noData.err, /--data <file\.npz\|file\.safetensors> is required/);
  const badLoss = await cli('train', MLP, '--data', file, '--target', 'labels', '--loss', 'hinge');
  assert.equal(badLoss.code, 2);
  assert.match(badLoss.err, /--loss expects one of mse, /);
  const badLr = await cli('train', MLP, '--data', file, '--lr=-1');
  assert.equal(badLr.code, 2);
  assert.match(badLr.err, /--lr expects a number > 0, got '-1'/);
});
