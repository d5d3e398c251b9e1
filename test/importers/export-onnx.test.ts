/**
 * ONNX export, with ONNX Runtime (onnxruntime-node) as the oracle: imported models re-exported
 * load in ORT and give the outputs the model's own test data expects; a model fine-tuned with
 * TrainingSession exports to a model.onnx whose ORT outputs match Tessera's; attribute types the
 * IR keeps as plain numbers (integral FLOATs, dtype names) come out as ORT's checker wants them.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import {
  exportOnnx,
  full,
  Generator,
  InferenceSession,
  importOnnxBytes,
  importOnnxFile,
  loadTsr,
  onnx,
  randn,
  type Tensor,
  TrainingSession,
  tensor,
} from '../../src/index.js';
import { assertClose } from '../helpers/close.js';
import { mlpModel, model, node } from '../train/graph-models.js';

const SHARED = new URL('../../../shared/', import.meta.url).pathname;

async function ortRun(bytes: Uint8Array, feeds: Record<string, Tensor>): Promise<Record<string, ort.Tensor>> {
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const f: Record<string, ort.Tensor> = {};
  for (const [k, t] of Object.entries(feeds))
    f[k] = new ort.Tensor(t.dtype === 'float64' ? 'float64' : 'float32', t.dataSync() as Float32Array, [
      ...t.shape,
    ]);
  return s.run(f);
}

function closeTo(actual: ort.Tensor, expected: Tensor, tol = 1e-5): void {
  assert.deepEqual([...actual.dims], [...expected.shape]);
  const a = actual.data as Float32Array;
  const e = expected.numbers();
  for (let i = 0; i < e.length; i++)
    assert.ok(
      Math.abs(a[i]! - e[i]!) <= tol + tol * Math.abs(e[i]!),
      `element ${i}: ORT ${a[i]}, expected ${e[i]}`,
    );
}

for (const [name, input, output] of [
  ['mnist_mlp_batchnorm', 'network_input', 'network_output'],
  ['gtzan_genre_mlp_keras', 'flatten_input', 'dense_3'],
  ['mnist8_cntk', 'Input3', 'Plus214_Output_0'],
] as const) {
  test(`an imported ${name} exports to ONNX that ORT runs to the model's expected outputs`, async () => {
    const dir = `${SHARED}models/${name}`;
    const bytes = exportOnnx(importOnnxFile(`${dir}/model.onnx`));
    const x = onnx.readValueFile(`${dir}/test_data_set_0/input_0.pb`) as Tensor;
    const expected = onnx.readValueFile(`${dir}/test_data_set_0/output_0.pb`) as Tensor;
    const out = await ortRun(bytes, { [input]: x });
    closeTo(out[output]!, expected, 1e-4);
    // And the exported bytes import back into Tessera to the same outputs.
    const back = await InferenceSession.create(importOnnxBytes(bytes));
    assertClose((await back.run({ [input]: x }))[output]!, expected, { rtol: 1e-4, atol: 1e-4 });
  });
}

test('a fine-tuned model exports to a model.onnx whose ORT outputs match Tessera eval outputs', async () => {
  const s = TrainingSession.fromModel(mlpModel(4, 16, 3, 11), {
    loss: 'crossEntropy',
    optimizer: { name: 'adam', lr: 0.05 },
  });
  const g = new Generator(4);
  const x = randn([40, 4], { generator: g });
  const xs = x.dataSync() as Float32Array;
  const y = tensor(
    Array.from({ length: 40 }, (_, i) => (xs[i * 4]! > 0 ? 1 : 0) + (xs[i * 4 + 1]! > 0 ? 1 : 0)),
    { dtype: 'int64' },
  );
  const before = exportOnnx(s.toModel());
  for (let i = 0; i < 20; i++) {
    await s.trainStep({ x, target: y });
    await s.optimizerStep();
    await s.lazyResetGrad();
  }
  const bytes = exportOnnx(s.toModel());
  const mine = (await s.evalStep({ x })).y!;
  const theirs = (await ortRun(bytes, { x })).y!;
  closeTo(theirs, mine, 1e-5);
  // The weights did change: the pre-training export disagrees.
  const old = (await ortRun(before, { x })).y!.data as Float32Array;
  assert.ok(old.some((v, i) => Math.abs(v - mine.numbers()[i]!) > 1e-3));
});

test('attributes the IR holds as plain numbers get their ONNX types: integral floats, Clip-6 bounds, Cast to a dtype name', async () => {
  const m = model(
    {
      nodes: [
        node('Gemm', ['x', 'w', 'b'], ['g'], { alpha: 1, beta: 2, transB: 1 }),
        node('LeakyRelu', ['g'], ['l'], { alpha: 1 }),
        node('Cast', ['l'], ['c'], { to: 'float64' }),
        node('Cast', ['c'], ['c32'], { to: 1 }),
        node('Elu', ['c32'], ['e'], { alpha: 2 }),
      ],
      inputs: [{ name: 'x', type: { kind: 'tensor', dtype: 'float32', shape: [2, 3] } }],
      outputs: [{ name: 'e', type: { kind: 'tensor', dtype: 'float32', shape: [2, 2] } }],
      initializers: new Map<string, Tensor>([
        ['w', randn([2, 3])],
        ['b', randn([2])],
      ]),
    },
    13,
  );
  const clip = model(
    {
      nodes: [node('Clip', ['x'], ['y'], { min: 0, max: 6 })],
      inputs: [{ name: 'x', type: { kind: 'tensor', dtype: 'float32', shape: [4] } }],
      outputs: [{ name: 'y', type: { kind: 'tensor', dtype: 'float32', shape: [4] } }],
      initializers: new Map(),
    },
    6,
  );
  const x = randn([2, 3]).mul(3);
  // Export first: InferenceSession.create runs its fusion passes on the model it is given.
  const bytes = exportOnnx(m);
  const tessera = await (await InferenceSession.create(m)).run({ x });
  closeTo((await ortRun(bytes, { x })).e!, tessera.e!, 1e-5);
  const v = tensor([-1, 2.5, 7, 6]);
  closeTo((await ortRun(exportOnnx(clip), { x: v })).y!, tensor([0, 2.5, 6, 6]), 0);
});

test('dynamicBatch makes dim 0 symbolic so ORT accepts other batch sizes', async () => {
  const m = importOnnxFile(`${SHARED}models/mnist_mlp_batchnorm/model.onnx`);
  const bytes = exportOnnx(m, { dynamicBatch: 'batch' });
  const s = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
  const x = randn([3, 784]);
  const out = await s.run({
    network_input: new ort.Tensor('float32', x.dataSync() as Float32Array, [3, 784]),
  });
  assert.deepEqual([...out.network_output!.dims], [3, 10]);
  const back = importOnnxBytes(bytes);
  assert.deepEqual((back.graph.inputs[0]!.type as { shape: unknown[] }).shape, ['batch', 784]);
});

test("Tessera's internal ops cannot be exported: the error names the node and the op", () => {
  const m = model({
    nodes: [
      {
        name: 'pool',
        opType: 'AdaptiveAveragePool',
        domain: 'com.tessera',
        inputs: ['x'],
        outputs: ['y'],
        attrs: { output_size: [1] },
      },
    ],
    inputs: [{ name: 'x' }],
    outputs: [{ name: 'y' }],
    initializers: new Map(),
  });
  assert.throws(() => exportOnnx(m), /node 'pool' is Tessera's internal op com.tessera::AdaptiveAveragePool/);
  assert.ok(full([1], 0));
});

test('exportModelForInferencing writes model.onnx or model.tsr by extension; both load back to the trained outputs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'export-'));
  try {
    const s = TrainingSession.fromModel(mlpModel(3, 5, 2, 12), { optimizer: { name: 'sgd', lr: 0.3 } });
    const x = randn([4, 3]);
    await s.trainStep({ x, target: randn([4, 2]) });
    await s.optimizerStep();
    const mine = (await s.evalStep({ x })).y!;
    await s.exportModelForInferencing(join(dir, 'model.onnx'));
    await s.exportModelForInferencing(join(dir, 'model.tsr'));
    closeTo((await ortRun(readFileSync(join(dir, 'model.onnx')), { x })).y!, mine, 1e-6);
    const back = await InferenceSession.create(loadTsr(join(dir, 'model.tsr')));
    assertClose((await back.run({ x })).y!, mine, { rtol: 1e-6, atol: 1e-6 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
