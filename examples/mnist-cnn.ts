/**
 * An MNIST-style CNN trained from scratch on generated digits, then exported to ONNX as a model
 * repository entry that `tessera serve` (or any ONNX runtime) can load.
 *
 *   npx tsx examples/mnist-cnn.ts [--out dir] [--train 3000] [--epochs 3] [--seed 0]
 *   npx tessera serve --model-repository <dir>   # serves it as model 'digits'
 *
 * The model: conv 3x3 (8) - ReLU - max-pool 2 - conv 3x3 (16) - ReLU - max-pool 2 - linear (10).
 * Trained with the Trainer (Adam, cross-entropy, batches of 32) and a held-out test set; the
 * export is loaded back with InferenceSession and must give the trained module's predictions.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  exportModule,
  InferenceSession,
  manualSeed,
  metrics,
  nn,
  noGrad,
  type Tensor,
  Trainer,
} from '../src/index.js';
import { digits } from './digits.js';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: 'examples/out/models' },
    train: { type: 'string', default: '3000' },
    test: { type: 'string', default: '500' },
    epochs: { type: 'string', default: '3' },
    seed: { type: 'string', default: '0' },
  },
});
const seed = Number(values.seed);
manualSeed(seed);

const train = digits(Number(values.train), seed + 1);
const test = digits(Number(values.test), seed + 2);

const model = new nn.Sequential(
  new nn.Conv2d(1, 8, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Conv2d(8, 16, 3, { padding: 1 }),
  new nn.ReLU(),
  new nn.MaxPool2d(2),
  new nn.Flatten(),
  new nn.Linear(16 * 7 * 7, 10),
);

const trainer = new Trainer(model, {
  loss: 'crossEntropy',
  optimizer: { name: 'adam', lr: 0.003 },
  epochs: Number(values.epochs),
  batchSize: 32,
  seed,
  metrics: ['accuracy'],
  validationData: { inputs: test.images, target: test.labels },
  progressBar: true,
});
const result = await trainer.fit({ inputs: train.images, target: train.labels });

model.train(false);
const logits = noGrad(() => model.forward(test.images) as Tensor);
const accuracy = metrics.accuracy(logits, test.labels);
console.log(
  `test accuracy ${(100 * accuracy).toFixed(1)}% after ${result.epochs} epochs (${result.elapsedSeconds.toFixed(1)}s)`,
);

// Export: a model repository entry, `<out>/digits/1/model.onnx` with a Triton-style config.json.
// The graph ends in Softmax, so the served output is class probabilities.
const withSoftmax = new nn.Sequential(model, new nn.Softmax(-1));
const bytes = exportModule(withSoftmax, test.images.index('0:1'), {
  inputNames: ['image'],
  outputNames: ['probabilities'],
  dynamicBatch: true,
});
const dir = join(values.out!, 'digits');
mkdirSync(join(dir, '1'), { recursive: true });
writeFileSync(join(dir, '1', 'model.onnx'), bytes);
writeFileSync(
  join(dir, 'config.json'),
  `${JSON.stringify(
    {
      name: 'digits',
      max_batch_size: 64,
      input: [{ name: 'image', data_type: 'TYPE_FP32', dims: [1, 28, 28] }],
      output: [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [10], label_filename: 'labels.txt' }],
      dynamic_batching: { max_queue_delay_microseconds: 2000 },
    },
    null,
    2,
  )}\n`,
);
writeFileSync(join(dir, 'labels.txt'), `${Array.from({ length: 10 }, (_, i) => String(i)).join('\n')}\n`);

// The exported file must predict what the module predicts.
const session = await InferenceSession.create(bytes);
const served = (await session.run({ image: test.images })).probabilities!;
const agree = metrics.accuracy(served, logits.argmax(-1));
console.log(
  `exported ${join(dir, '1', 'model.onnx')} (${bytes.length} bytes); its predictions agree with the module's on ${(100 * agree).toFixed(1)}% of the test set`,
);
if (agree < 1) process.exitCode = 1;
