/**
 * Fine-tuning an imported ONNX model: the bundled digit classifier (models/mnist_cnn, an ONNX file)
 * meets digits it was not trained on, white on black turned black on white, and gets most of them
 * wrong. A thousand or so examples and a short fine-tune through the imported graph fix that; the
 * result is written back as ONNX.
 *
 *   npx tsx examples/finetune-onnx.ts [--model models/mnist_cnn/1/model.onnx] [--out examples/out/finetuned.onnx]
 *
 * The same through the server: POST /v2/models/mnist_cnn/train (see the README), or
 * `tessera train models/mnist_cnn --data inverted.npz`.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { InferenceSession, importOnnxFile, metrics, Tensor, Trainer, TrainingSession } from '../src/index.js';
import { digits } from './digits.js';

const { values } = parseArgs({
  options: {
    model: { type: 'string', default: 'models/mnist_cnn/1/model.onnx' },
    out: { type: 'string', default: 'examples/out/finetuned.onnx' },
    train: { type: 'string', default: '1500' },
    epochs: { type: 'string', default: '4' },
  },
});

/** Black digits on white: 1 - x. */
function inverted(n: number, seed: number) {
  const d = digits(n, seed);
  const px = Float32Array.from(d.images.dataSync() as Float32Array, (v) => 1 - v);
  return { images: Tensor.fromData(px, d.images.shape, 'float32'), labels: d.labels };
}

async function accuracy(
  model: string | Uint8Array | ReturnType<typeof importOnnxFile>,
  images: Tensor,
  labels: Tensor,
) {
  const session = await InferenceSession.create(model);
  const input = session.inputNames[0]!;
  const out = (await session.run({ [input]: images }))[session.outputNames[0]!]!;
  return metrics.accuracy(out, labels);
}

const model = importOnnxFile(values.model!);
const graph = model.graph;
const input = graph.inputs.find((i) => !graph.initializers.has(i.name))!.name;
// The model ends in Softmax; cross-entropy wants the logits before it.
const softmax = graph.nodes.find((n) => n.opType === 'Softmax' && n.outputs[0] === graph.outputs[0]!.name);
const logits = softmax?.inputs[0];

const train = inverted(Number(values.train), 11);
const test = inverted(400, 12);
const before = await accuracy(model, test.images, test.labels);
console.log(`${values.model}: ${(100 * before).toFixed(1)}% right on inverted digits before fine-tuning`);

const session = TrainingSession.fromModel(model, {
  loss: 'crossEntropy',
  ...(logits ? { output: logits } : {}),
  optimizer: { name: 'adam', lr: 0.01 },
});
const trainer = new Trainer(session, {
  epochs: Number(values.epochs),
  batchSize: 25,
  seed: 1,
  metrics: ['accuracy'],
  progressBar: true,
});
const r = await trainer.fit({ inputs: { [input]: train.images }, target: train.labels });

mkdirSync(dirname(values.out!), { recursive: true });
await session.exportModelForInferencing(values.out!);
const after = await accuracy(values.out!, test.images, test.labels);
console.log(
  `after ${r.steps} steps (${r.elapsedSeconds.toFixed(1)}s) on ${train.labels.shape[0]} examples: ${(100 * after).toFixed(1)}% right; wrote ${values.out}`,
);
if (!(after > before)) process.exitCode = 1;
