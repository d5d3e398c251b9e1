/**
 * Eager nn.Modules export to ONNX by tracing: the traced graph's structure (parameters as
 * initializers under their dotted names, dead nodes pruned, eval-mode Dropout and BatchNorm), and
 * ONNX Runtime running the export to the eager forward's outputs, for an MLP and a small CNN,
 * before and after training.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import {
  cat,
  exportModule,
  exportOnnx,
  Generator,
  InferenceSession,
  importOnnxBytes,
  manualSeed,
  nn,
  noGrad,
  randn,
  type Tensor,
  Trainer,
  tensor,
  trace,
} from '../../src/index.js';
import { assertClose } from '../helpers/close.js';

async function ortOut(bytes: Uint8Array, x: Tensor, name = 'input'): Promise<ort.Tensor> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const r = await s.run({ [name]: new ort.Tensor('float32', x.dataSync() as Float32Array, [...x.shape]) });
  return r[s.outputNames[0]!]!;
}

function closeTo(a: ort.Tensor, e: Tensor, tol = 1e-5): void {
  assert.deepEqual([...a.dims], [...e.shape]);
  const ad = a.data as Float32Array;
  const ed = e.numbers();
  for (let i = 0; i < ed.length; i++)
    assert.ok(
      Math.abs(ad[i]! - ed[i]!) <= tol * (1 + Math.abs(ed[i]!)),
      `element ${i}: ORT ${ad[i]} vs Tessera ${ed[i]}`,
    );
}

function cnn(): nn.Sequential {
  return new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Conv2d(4, 6, 3, { stride: 2, groups: 2 }),
    new nn.LeakyReLU(0.1),
    new nn.Flatten(),
    new nn.Dropout(0.3),
    new nn.Linear(6 * 1 * 1, 3),
    new nn.LogSoftmax(1),
  );
}

test('a traced MLP: parameters become initializers under their names, the graph is Gemm/Relu/Gemm', () => {
  manualSeed(1);
  const mlp = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
  const m = trace(mlp, randn([5, 4]), { inputNames: ['features'], outputNames: ['logits'] });
  assert.deepEqual(
    m.graph.nodes.map((n) => n.opType),
    ['Gemm', 'Relu', 'Gemm'],
  );
  assert.deepEqual([...m.graph.initializers.keys()], ['0.weight', '0.bias', '2.weight', '2.bias']);
  assert.deepEqual(
    m.graph.inputs.map((i) => i.name),
    ['features'],
  );
  assert.deepEqual(
    m.graph.outputs.map((o) => o.name),
    ['logits'],
  );
  assertClose(m.graph.initializers.get('0.weight')!, mlp.getParameter('0.weight'));
  // The initializers are copies: training the module later does not change the traced model.
  assert.notEqual(m.graph.initializers.get('0.weight')!.storage, mlp.getParameter('0.weight').storage);
  // Modules are traced in eval mode, and their mode is restored afterwards.
  assert.equal(mlp.training, true);
});

test('a traced function of two inputs: constants become initializers, unused work is pruned, an input returned as is gets an Identity', () => {
  const w = tensor([
    [1, 2],
    [3, 4],
  ]);
  const m = trace(
    (a: Tensor, b: Tensor) => {
      a.exp(); // computed and dropped
      return [a.matmul(w).add(b).reshape([4]), b];
    },
    [randn([2, 2]), randn([2, 2])],
    { params: { w } },
  );
  assert.deepEqual(
    m.graph.nodes.map((n) => n.opType),
    ['MatMul', 'Add', 'Reshape', 'Identity'],
  );
  assert.ok(m.graph.initializers.has('w'));
  assert.equal(m.graph.initializers.size, 2); // w and the reshape target [4]
  const s = InferenceSession.fromModel(m, { graphOptimizationLevel: 'disabled' });
  const a = randn([2, 2]);
  const b = randn([2, 2]);
  const out = s.runValues({ input_0: a, input_1: b }) as Record<string, Tensor>;
  assertClose(out.output_0!, a.matmul(w).add(b).reshape([4]));
  assertClose(out.output_1!, b);
});

test('an eager MLP exports to ONNX that ORT runs to the eager outputs, before and after training with the Trainer', async () => {
  manualSeed(2);
  const mlp = new nn.Sequential(
    new nn.Linear(3, 16),
    new nn.Tanh(),
    new nn.Linear(16, 16),
    new nn.GELU(),
    new nn.Linear(16, 2),
  );
  const x = randn([6, 3]);
  closeTo(
    await ortOut(exportModule(mlp, x), x),
    noGrad(() => mlp.forward(x)),
  );
  const g = new Generator(3);
  const data = randn([64, 3], { generator: g });
  const target = noGrad(() => cat([data.sum(1, true), data.narrow(1, 0, 1)], 1));
  await new Trainer(mlp, {
    loss: 'mse',
    optimizer: { name: 'adam', lr: 0.01 },
    epochs: 3,
    batchSize: 16,
  }).fit({ inputs: data, target });
  const bytes = exportModule(mlp, x, { dynamicBatch: true });
  closeTo(
    await ortOut(bytes, x),
    noGrad(() => mlp.eval().forward(x)),
  );
  const x2 = randn([11, 3]);
  closeTo(
    await ortOut(bytes, x2),
    noGrad(() => mlp.forward(x2)),
  );
});

test('an eager CNN (Conv with groups and stride, BatchNorm, MaxPool, Flatten, Dropout, LogSoftmax) exports and ORT agrees, after training too', async () => {
  manualSeed(4);
  const model = cnn();
  const x = randn([2, 1, 6, 6]);
  const traced = trace(model, x);
  // Eval-mode trace: Dropout is an op that passes through, BatchNorm uses running statistics.
  assert.ok(traced.graph.nodes.some((n) => n.opType === 'BatchNormalization'));
  assert.ok(traced.graph.initializers.has('1.runningMean'));
  closeTo(
    await ortOut(exportOnnx(traced), x),
    noGrad(() => model.eval().forward(x)),
    1e-4,
  );
  // Train a few steps (BatchNorm statistics and weights move), then export again.
  const g = new Generator(5);
  const data = randn([24, 1, 6, 6], { generator: g });
  const labels = tensor(
    Array.from({ length: 24 }, (_, i) => i % 3),
    { dtype: 'int64' },
  );
  model.train();
  await new Trainer(model, {
    loss: 'nll',
    optimizer: { name: 'sgd', lr: 0.05 },
    epochs: 2,
    batchSize: 8,
  }).fit({ inputs: data, target: labels });
  const bytes = exportModule(model, x);
  closeTo(
    await ortOut(bytes, x),
    noGrad(() => model.eval().forward(x)),
    1e-4,
  );
  // The export also imports back into Tessera.
  const back = InferenceSession.fromModel(importOnnxBytes(bytes));
  assertClose(
    (await back.run({ input: x })).output!,
    noGrad(() => model.forward(x)),
    { rtol: 1e-4, atol: 1e-5 },
  );
});
