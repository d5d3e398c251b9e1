/**
 * Builds the bundled model repository (models/, what `npm start` serves): trains two small models
 * with Tessera itself on generated data and writes them as ONNX with Triton-style config.json files.
 *
 *   mlp        4 features -> 3 classes: Gemm/Relu/Gemm/Softmax, trained on three Gaussian blobs
 *   mnist_cnn  1x28x28 images -> 10 digits: Conv/Relu/MaxPool x2, Flatten, Gemm, Softmax, trained on
 *              digits rendered from a 5x7 bitmap font at random positions with noise (MNIST-style)
 *
 * Each exported file is checked by loading it back with InferenceSession and comparing its outputs
 * with the trained module's. Deterministic (fixed seeds). Run: npx tsx scripts/make-models.ts [outDir]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMessage } from '../src/importers/onnx/proto.js';
import { tensorToProto } from '../src/importers/onnx/tensor-proto.js';
import { Generator, InferenceSession, manualSeed, nn, noGrad, optim, Tensor } from '../src/index.js';

const OUT = process.argv[2] ?? 'models';

// ---- ONNX writing ---------------------------------------------------------------------------------
// ONNX AttributeProto.AttributeType values.
const INT = 2;
const INTS = 7;
const FLOAT_TYPE = 1; // TensorProto.DataType FLOAT

interface OnnxNode {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute: object[];
}

function node(
  op: string,
  input: string[],
  output: string[],
  attrs: Record<string, number | number[]> = {},
): OnnxNode {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v) ? { name, type: INTS, ints: v } : { name, type: INT, i: v },
  );
  return { op_type: op, input, output, name: `${op.toLowerCase()}_${output[0]}`, attribute };
}

function valueInfo(name: string, dims: (number | string)[]) {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: FLOAT_TYPE,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
      },
    },
  };
}

function writeOnnx(
  file: string,
  graph: { name: string; nodes: OnnxNode[]; weights: Record<string, Tensor>; input: object; output: object },
): number {
  const bytes = encodeMessage('ModelProto', {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'tessera scripts/make-models.ts',
    producer_version: '0.1.0',
    graph: {
      name: graph.name,
      node: graph.nodes,
      initializer: Object.entries(graph.weights).map(([name, t]) => tensorToProto(t.detach(), name)),
      input: [graph.input],
      output: [graph.output],
    },
  });
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, bytes);
  return bytes.length;
}

function writeJson(file: string, obj: unknown): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, `${JSON.stringify(obj, null, 2)}\n`);
}

// ---- training -------------------------------------------------------------------------------------

function train(
  model: nn.Module,
  x: Float32Array,
  y: BigInt64Array,
  sampleShape: number[],
  opts: { epochs: number; batch: number; lr: number; seed: number },
): void {
  const n = y.length;
  const per = sampleShape.reduce((a, b) => a * b, 1);
  const opt = new optim.Adam(model.parameters(), { lr: opts.lr });
  const g = new Generator(opts.seed);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let epoch = 1; epoch <= opts.epochs; epoch++) {
    for (let i = n - 1; i > 0; i--) {
      const j = g.int(0, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let total = 0;
    for (let s = 0; s < n; s += opts.batch) {
      const idx = order.slice(s, s + opts.batch);
      const bx = new Float32Array(idx.length * per);
      const by = new BigInt64Array(idx.length);
      idx.forEach((k, r) => {
        bx.set(x.subarray(k * per, (k + 1) * per), r * per);
        by[r] = y[k]!;
      });
      opt.zeroGrad();
      const logits = model.forward(Tensor.fromData(bx, [idx.length, ...sampleShape], 'float32')) as Tensor;
      const loss = nn.crossEntropy(logits, Tensor.fromData(by, [idx.length], 'int64'));
      loss.backward();
      opt.step();
      total += Number(loss.item()) * idx.length;
    }
    console.log(`  epoch ${epoch}/${opts.epochs}  loss ${(total / n).toFixed(4)}`);
  }
}

/** Softmax probabilities of the trained module, and its accuracy on (x, y). */
function evaluate(model: nn.Module, x: Float32Array, y: BigInt64Array, sampleShape: number[]) {
  const probs = noGrad(() =>
    (model.forward(Tensor.fromData(x, [y.length, ...sampleShape], 'float32')) as Tensor).softmax(-1),
  );
  const p = probs.dataSync() as Float32Array;
  const k = probs.shape[1]!;
  let correct = 0;
  for (let i = 0; i < y.length; i++) {
    let best = 0;
    for (let c = 1; c < k; c++) if (p[i * k + c]! > p[i * k + best]!) best = c;
    if (BigInt(best) === y[i]) correct++;
  }
  return { probs: p, accuracy: correct / y.length };
}

/** Loads the written file back and checks it computes what the module computes. */
async function verify(
  file: string,
  input: string,
  output: string,
  x: Float32Array,
  shape: number[],
  expected: Float32Array,
) {
  const session = await InferenceSession.create(file);
  const out = await session.run({ [input]: Tensor.fromData(x, shape, 'float32') });
  const got = out[output]!.dataSync() as Float32Array;
  let maxDiff = 0;
  for (let i = 0; i < got.length; i++) maxDiff = Math.max(maxDiff, Math.abs(got[i]! - expected[i]!));
  if (got.length !== expected.length || maxDiff > 1e-4) {
    throw new Error(`${file}: the exported model differs from the trained module (max |diff| ${maxDiff})`);
  }
  return maxDiff;
}

// ---- data -------------------------------------------------------------------------------------------

/** Three overlapping Gaussian blobs in 4-D. */
function blobs(n: number, g: Generator): { x: Float32Array; y: BigInt64Array } {
  const centers = [
    [0, 0, 0, 0],
    [2.5, 1, -1, 0.5],
    [0.5, 2.5, 1.5, -1.5],
  ];
  const x = new Float32Array(n * 4);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    for (let f = 0; f < 4; f++) x[i * 4 + f] = centers[c]![f]! + 0.9 * g.normal();
    y[i] = BigInt(c);
  }
  return { x, y };
}

const FONT = [
  ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
  ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
];

/** 28x28 digits: the 5x7 glyph scaled 3x at a random position, random ink, dropped pixels and noise. */
function digits(n: number, g: Generator): { x: Float32Array; y: BigInt64Array } {
  const x = new Float32Array(n * 28 * 28);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const d = g.int(0, 10);
    y[i] = BigInt(d);
    const img = x.subarray(i * 784, (i + 1) * 784);
    const ox = g.int(1, 13);
    const oy = g.int(1, 7);
    const ink = 0.6 + 0.4 * g.uniform();
    FONT[d]!.forEach((row, r) => {
      for (let c = 0; c < 5; c++) {
        if (row[c] !== '1' || g.uniform() < 0.08) continue;
        for (let dy = 0; dy < 3; dy++)
          for (let dx = 0; dx < 3; dx++) img[(oy + 3 * r + dy) * 28 + ox + 3 * c + dx] = ink;
      }
    });
    for (let p = 0; p < 784; p++) img[p] = Math.min(1, Math.max(0, img[p]! + 0.15 * g.normal()));
  }
  return { x, y };
}

// ---- models -----------------------------------------------------------------------------------------

async function makeMlp(): Promise<void> {
  console.log('mlp: 4 -> 16 -> 3 on Gaussian blobs');
  manualSeed(1);
  const g = new Generator(11);
  const tr = blobs(1200, g);
  const te = blobs(300, g);
  const fc1 = new nn.Linear(4, 16);
  const fc2 = new nn.Linear(16, 3);
  const model = new nn.Sequential(fc1, new nn.ReLU(), fc2);
  train(model, tr.x, tr.y, [4], { epochs: 20, batch: 32, lr: 0.01, seed: 12 });
  const { probs, accuracy } = evaluate(model, te.x, te.y, [4]);
  const file = join(OUT, 'mlp', '1', 'model.onnx');
  const size = writeOnnx(file, {
    name: 'mlp',
    nodes: [
      node('Gemm', ['input', 'fc1.weight', 'fc1.bias'], ['hidden'], { transB: 1 }),
      node('Relu', ['hidden'], ['hidden_relu']),
      node('Gemm', ['hidden_relu', 'fc2.weight', 'fc2.bias'], ['logits'], { transB: 1 }),
      node('Softmax', ['logits'], ['probabilities'], { axis: -1 }),
    ],
    weights: {
      'fc1.weight': fc1.weight,
      'fc1.bias': fc1.bias!,
      'fc2.weight': fc2.weight,
      'fc2.bias': fc2.bias!,
    },
    input: valueInfo('input', ['batch', 4]),
    output: valueInfo('probabilities', ['batch', 3]),
  });
  const diff = await verify(file, 'input', 'probabilities', te.x, [300, 4], probs);
  writeJson(join(OUT, 'mlp', 'config.json'), {
    name: 'mlp',
    platform: 'tessera_onnx',
    max_batch_size: 64,
    input: [{ name: 'input', data_type: 'TYPE_FP32', dims: [4] }],
    output: [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [3] }],
    dynamic_batching: {
      max_queue_delay_microseconds: 2000,
      default_queue_policy: { max_queue_size: 1024 },
    },
    version_policy: { latest: { num_versions: 2 } }, // a fine-tuned version serves beside the one it came from
    device: 'cpu',
  });
  console.log(
    `  test accuracy ${(100 * accuracy).toFixed(1)}%, ${size} bytes, ONNX vs module max |diff| ${diff.toExponential(1)}`,
  );
}

async function makeCnn(): Promise<void> {
  console.log('mnist_cnn: conv(4) -> pool -> conv(8) -> pool -> fc(10) on rendered digits');
  manualSeed(2);
  const g = new Generator(21);
  const tr = digits(3000, g);
  const te = digits(500, g);
  const conv1 = new nn.Conv2d(1, 4, 3, { padding: 1 });
  const conv2 = new nn.Conv2d(4, 8, 3, { padding: 1 });
  const fc = new nn.Linear(8 * 7 * 7, 10);
  const model = new nn.Sequential(
    conv1,
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    conv2,
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    fc,
  );
  train(model, tr.x, tr.y, [1, 28, 28], { epochs: 4, batch: 50, lr: 0.005, seed: 22 });
  const { probs, accuracy } = evaluate(model, te.x, te.y, [1, 28, 28]);
  const file = join(OUT, 'mnist_cnn', '1', 'model.onnx');
  const pads = [1, 1, 1, 1];
  const size = writeOnnx(file, {
    name: 'mnist_cnn',
    nodes: [
      node('Conv', ['image', 'conv1.weight', 'conv1.bias'], ['c1'], {
        kernel_shape: [3, 3],
        pads,
        strides: [1, 1],
      }),
      node('Relu', ['c1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Conv', ['p1', 'conv2.weight', 'conv2.bias'], ['c2'], {
        kernel_shape: [3, 3],
        pads,
        strides: [1, 1],
      }),
      node('Relu', ['c2'], ['r2']),
      node('MaxPool', ['r2'], ['p2'], { kernel_shape: [2, 2], strides: [2, 2] }),
      node('Flatten', ['p2'], ['flat'], { axis: 1 }),
      node('Gemm', ['flat', 'fc.weight', 'fc.bias'], ['logits'], { transB: 1 }),
      node('Softmax', ['logits'], ['probabilities'], { axis: -1 }),
    ],
    weights: {
      'conv1.weight': conv1.weight,
      'conv1.bias': conv1.bias!,
      'conv2.weight': conv2.weight,
      'conv2.bias': conv2.bias!,
      'fc.weight': fc.weight,
      'fc.bias': fc.bias!,
    },
    input: valueInfo('image', ['batch', 1, 28, 28]),
    output: valueInfo('probabilities', ['batch', 10]),
  });
  const diff = await verify(file, 'image', 'probabilities', te.x, [500, 1, 28, 28], probs);
  writeFileSync(join(OUT, 'mnist_cnn', 'labels.txt'), `${FONT.map((_, i) => String(i)).join('\n')}\n`);
  writeJson(join(OUT, 'mnist_cnn', 'config.json'), {
    name: 'mnist_cnn',
    platform: 'tessera_onnx',
    max_batch_size: 32,
    input: [{ name: 'image', data_type: 'TYPE_FP32', dims: [1, 28, 28] }],
    output: [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [10], label_filename: 'labels.txt' }],
    dynamic_batching: {
      preferred_batch_size: [8, 16, 32],
      max_queue_delay_microseconds: 5000,
      default_queue_policy: { max_queue_size: 256 },
    },
    version_policy: { latest: { num_versions: 2 } }, // a fine-tuned version serves beside the one it came from
    device: 'cpu',
  });
  console.log(
    `  test accuracy ${(100 * accuracy).toFixed(1)}%, ${size} bytes, ONNX vs module max |diff| ${diff.toExponential(1)}`,
  );
}

const started = performance.now();
await makeMlp();
await makeCnn();
console.log(`wrote ${OUT}/mlp and ${OUT}/mnist_cnn in ${((performance.now() - started) / 1000).toFixed(1)}s`);
