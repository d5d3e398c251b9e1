/**
 * TrainingSession on imported graphs: gradients of the parameters against finite differences,
 * ONNX Runtime's training API semantics (gradient accumulation until lazyResetGrad, contiguous
 * parameter buffers), trainable/frozen selection, train/eval behaviour of Dropout and
 * BatchNormalization, a loss node inside the graph, and fine-tuning an imported ONNX model.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  encodeTsr,
  full,
  Generator,
  InferenceSession,
  importOnnxFile,
  int64s,
  manualSeed,
  metrics,
  noGrad,
  randn,
  type Tensor,
  tensor,
} from '../../src/index.js';
import { TrainingSession } from '../../src/train/training-session.js';
import { assertClose } from '../helpers/close.js';
import { mlpModel, model, node } from './graph-models.js';

const MODELS = new URL('../../../shared/models/', import.meta.url).pathname;

test('parameter gradients of a trainStep equal finite differences of the eval loss (float64 MLP, MSE)', async () => {
  const m = mlpModel(3, 4, 2, 1, 'float64');
  const s = TrainingSession.fromModel(m, { loss: 'mse', optimizer: null });
  const g = new Generator(2);
  const x = randn([5, 3], { dtype: 'float64', generator: g });
  const y = randn([5, 2], { dtype: 'float64', generator: g });
  await s.trainStep({ x, target: y });
  const eps = 1e-6;
  for (const [name, p] of s.namedParameters()) {
    const analytical = p.grad!.numbers();
    const data = p.storage.data as Float64Array;
    for (let i = 0; i < p.numel(); i++) {
      const orig = data[i]!;
      data[i] = orig + eps;
      const plus = Number((await s.evalStep({ x, target: y })).loss!.item());
      data[i] = orig - eps;
      const minus = Number((await s.evalStep({ x, target: y })).loss!.item());
      data[i] = orig;
      const numerical = (plus - minus) / (2 * eps);
      assert.ok(
        Math.abs(analytical[i]! - numerical) < 1e-6 + 1e-4 * Math.abs(numerical),
        `${name}[${i}]: ${analytical[i]} vs ${numerical}`,
      );
    }
  }
});

test('gradients accumulate across trainSteps until lazyResetGrad, as in ONNX Runtime', async () => {
  const s = TrainingSession.fromModel(mlpModel(3, 4, 2, 3, 'float64'), { optimizer: null });
  const x = randn([4, 3], { dtype: 'float64' });
  const y = randn([4, 2], { dtype: 'float64' });
  await s.trainStep({ x, target: y });
  const once = s.parameters().map((p) => p.grad!.numbers().slice());
  await s.trainStep({ x, target: y });
  s.parameters().forEach((p, i) => {
    assertClose(
      p.grad!,
      Array.from(once[i]!, (v) => 2 * v),
      { rtol: 1e-12, atol: 1e-14 },
    );
  });
  await s.lazyResetGrad();
  await s.trainStep({ x, target: y });
  s.parameters().forEach((p, i) => {
    assertClose(p.grad!, once[i]!, { rtol: 1e-12, atol: 1e-14 });
  });
});

test('SGD optimizerStep moves each parameter by -lr * grad', async () => {
  const s = TrainingSession.fromModel(mlpModel(2, 3, 1, 4), { optimizer: { name: 'sgd', lr: 0.5 } });
  const x = randn([3, 2]);
  await s.trainStep({ x, target: randn([3, 1]) });
  const before = s.parameters().map((p) => Array.from(p.numbers()));
  const grads = s.parameters().map((p) => Array.from(p.grad!.numbers()));
  await s.optimizerStep();
  s.parameters().forEach((p, i) => {
    assertClose(
      p,
      before[i]!.map((v, j) => v - 0.5 * grads[i]![j]!),
      { rtol: 1e-6, atol: 1e-7 },
    );
  });
});

test('getContiguousParameters / loadParametersBuffer round trip, sizes, and a size mismatch names both sizes', async () => {
  const s = TrainingSession.fromModel(mlpModel(3, 4, 2, 5), { trainable: /^fc1\./ });
  assert.equal(s.getParametersSize(true), 4 * 3 + 4);
  assert.equal(s.getParametersSize(false), 4 * 3 + 4 + 2 * 4 + 2);
  const flat = await s.getContiguousParameters(false);
  assert.equal(flat.dtype, 'float32');
  assert.deepEqual(flat.shape, [26]);
  // Model order: fc1.weight, fc1.bias, fc2.weight, fc2.bias.
  assertClose(flat.narrow(0, 0, 12), s.stateDict().get('fc1.weight')!.numbers());
  const ones = new Float32Array(16).fill(1);
  await s.loadParametersBuffer(new Uint8Array(ones.buffer), true);
  assertClose(s.stateDict().get('fc1.bias')!, [1, 1, 1, 1]);
  await assert.rejects(
    s.loadParametersBuffer(new Uint8Array(12), true),
    /12 bytes, the trainable parameters need 64/,
  );
});

test('trainable and frozen selection: frozen weights do not move; errors name the missing initializer', async () => {
  const m = mlpModel(3, 4, 2, 6);
  const s = TrainingSession.fromModel(m, {
    trainable: 'all',
    frozen: ['fc1.weight', 'fc1.bias'],
    optimizer: { name: 'sgd', lr: 0.1 },
  });
  assert.deepEqual(
    s.namedParameters().map(([k]) => k),
    ['fc2.weight', 'fc2.bias'],
  );
  const w1 = Array.from(s.stateDict().get('fc1.weight')!.numbers());
  const w2 = Array.from(s.stateDict().get('fc2.weight')!.numbers());
  await s.trainStep({ x: randn([4, 3]), target: randn([4, 2]) });
  await s.optimizerStep();
  assert.deepEqual(Array.from(s.stateDict().get('fc1.weight')!.numbers()), w1);
  assert.notDeepEqual(Array.from(s.stateDict().get('fc2.weight')!.numbers()), w2);
  // The imported model keeps its own weights: the session trains copies.
  assertClose(m.graph.initializers.get('fc2.weight')!, w2);
  assert.throws(
    () => TrainingSession.fromModel(m, { trainable: ['fc3.weight'] }),
    /trainable 'fc3.weight' is not an initializer/,
  );
  const none = TrainingSession.fromModel(m, { frozen: /fc/, optimizer: null });
  await assert.rejects(
    none.trainStep({ x: randn([2, 3]), target: randn([2, 2]) }),
    /does not depend on any trainable parameter/,
  );
});

test('feeds are checked: missing target, unknown feed, wrong dtype and inner dims are errors that name them', async () => {
  const s = TrainingSession.fromModel(mlpModel(3, 4, 2, 7), {});
  await assert.rejects(s.trainStep({ x: randn([2, 3]) }), /target 'target' is missing/);
  await assert.rejects(
    s.trainStep({ x: randn([2, 3]), target: randn([2, 2]), z: randn([1]) }),
    /feed 'z' is not an input/,
  );
  await assert.rejects(
    s.trainStep({ x: randn([2, 3], { dtype: 'float64' }), target: randn([2, 2]) }),
    /input 'x': expected dtype float32, got float64/,
  );
  await assert.rejects(
    s.trainStep({ x: randn([2, 5]), target: randn([2, 2]) }),
    /input 'x': dim 1 must be 3/,
  );
  assert.deepEqual(s.trainingInputNames, ['x', 'target']);
  assert.deepEqual(s.trainingOutputNames, ['loss', 'y']);
  assert.deepEqual(s.evalInputNames, ['x']);
  // onnxruntime-style feeds work too.
  const r = await s.evalStep({ x: { type: 'float32', data: new Float32Array(6), dims: [2, 3] } });
  assert.deepEqual(r.y!.shape, [2, 2]);
});

test('a loss node inside the graph: { output } trains on the graph value, with the target as a graph input', async () => {
  const base = mlpModel(2, 3, 1, 8);
  const g = base.graph;
  g.nodes.push(
    node('Sub', ['y', 'label'], ['d']),
    node('Mul', ['d', 'd'], ['sq']),
    node('ReduceMean', ['sq'], ['loss'], { keepdims: 0 }),
  );
  g.inputs.push({ name: 'label', type: { kind: 'tensor', dtype: 'float32', shape: ['N', 1] } });
  g.outputs.push({ name: 'loss', type: { kind: 'tensor', dtype: 'float32', shape: [] } });
  const s = TrainingSession.fromModel(base, {
    loss: { output: 'loss' },
    optimizer: { name: 'adam', lr: 0.05 },
  });
  const x = randn([16, 2]);
  const label = noGrad(() => x.sum(1, true).mul(0.5));
  let first = 0;
  let last = 0;
  for (let i = 0; i < 60; i++) {
    const r = await s.trainStep({ x, label });
    await s.optimizerStep();
    await s.lazyResetGrad();
    if (i === 0) first = Number(r.loss!.item());
    last = Number(r.loss!.item());
  }
  assert.ok(last < first / 10, `loss ${first} -> ${last}`);
});

test('Dropout drops in trainStep and is the identity in evalStep; an opset-7 Dropout too', async () => {
  for (const opset of [7, 13]) {
    const inputs = opset >= 12 ? ['h', 'ratio'] : ['h'];
    const m = model(
      {
        nodes: [
          node('MatMul', ['x', 'w'], ['h']),
          node('Dropout', inputs, ['y'], opset >= 12 ? {} : { ratio: 0.5 }),
        ],
        inputs: [{ name: 'x', type: { kind: 'tensor', dtype: 'float32', shape: ['N', 4] } }],
        outputs: [{ name: 'y' }],
        initializers: new Map<string, Tensor>([
          ['w', full([4, 64], 1)],
          ['ratio', full([], 0.5)],
        ]),
      },
      opset,
    );
    manualSeed(3);
    const s = TrainingSession.fromModel(m, { optimizer: null, trainable: ['w'] });
    const x = full([2, 4], 1);
    const tr = (await s.trainStep({ x, target: full([2, 64], 0) })).y!.numbers();
    const zeros = tr.filter((v) => v === 0).length;
    // Kept elements are scaled by 1 / (1 - 0.5): 4 * 2 = 8.
    assert.ok(tr.every((v) => v === 0 || v === 8));
    assert.ok(zeros > 20 && zeros < 108, `opset ${opset}: ${zeros} of 128 dropped`);
    const ev = (await s.evalStep({ x })).y!.numbers();
    assert.ok(ev.every((v) => v === 4));
  }
});

test('fine-tuning the imported mnist_mlp_batchnorm: BatchNorm trains with batch statistics, running statistics update, loss falls', async () => {
  manualSeed(1);
  const m = importOnnxFile(`${MODELS}mnist_mlp_batchnorm/model.onnx`);
  // Its BatchNorm scale and bias are Constant nodes: liftConstants makes them trainable.
  const s = await TrainingSession.create(m, {
    loss: 'crossEntropy',
    optimizer: { name: 'adam', lr: 0.01 },
    liftConstants: true,
  });
  assert.ok(s.namedParameters().some(([k]) => k === '12'));
  const g = new Generator(5);
  const x = randn([48, 784], { generator: g });
  const xs = x.dataSync() as Float32Array;
  // A learnable task: the class is the index of the largest of the first 10 pixels.
  const labels = Array.from({ length: 48 }, (_, i) => {
    let b = 0;
    for (let j = 1; j < 10; j++) if (xs[i * 784 + j]! > xs[i * 784 + b]!) b = j;
    return b;
  });
  const y = tensor(labels, { dtype: 'int64' });
  const rm0 = Array.from(s.stateDict().get('1.running_mean')!.numbers());
  const losses: number[] = [];
  for (let i = 0; i < 15; i++) {
    const r = await s.trainStep({ network_input: x, target: y });
    await s.optimizerStep();
    await s.lazyResetGrad();
    losses.push(Number(r.loss!.item()));
  }
  assert.ok(losses.at(-1)! < losses[0]! / 10, `loss ${losses[0]} -> ${losses.at(-1)}`);
  assert.notDeepEqual(Array.from(s.stateDict().get('1.running_mean')!.numbers()), rm0);
  const ev = await s.evalStep({ network_input: x, target: y });
  assert.ok(metrics.accuracy(ev.network_output!, y) > 0.95);
  // Eval mode is the inference graph: the same outputs as an InferenceSession over the trained weights.
  const inf = InferenceSession.fromModel(s.toModel(), { graphOptimizationLevel: 'disabled' });
  const row = x.narrow(0, 0, 1);
  assertClose(
    (await inf.run({ network_input: row })).network_output!,
    (await s.evalStep({ network_input: row })).network_output!,
    {
      rtol: 1e-6,
      atol: 1e-6,
    },
  );
});

test('loss names and optimizer configs are validated with messages that name the bad value', () => {
  const m = mlpModel(2, 2, 2, 9);
  assert.throws(() => TrainingSession.fromModel(m, { loss: 'hinge' as never }), /unknown loss 'hinge'/);
  assert.throws(
    () => TrainingSession.fromModel(m, { optimizer: { name: 'adam', momentum: 0.9 } }),
    /'momentum' is not a hyper-parameter of adam/,
  );
  assert.throws(() => TrainingSession.fromModel(m, { output: 'nope' }), /the loss reads 'nope'/);
  assert.throws(() => TrainingSession.fromModel(m, { device: 'webgpu' }), /device 'webgpu'/);
  // snake_case hyper-parameters and loss aliases are accepted.
  const s = TrainingSession.fromModel(m, {
    loss: 'CrossEntropyLoss' as never,
    optimizer: { name: 'AdamW', weight_decay: 0.1 },
  });
  assert.equal((s.optimizer!.paramGroups[0] as unknown as { weightDecay: number }).weightDecay, 0.1);
  assert.ok(int64s([1]));
});

test('fine-tune only the last layer of the imported gtzan MLP on its logits (the value before Softmax), from .tsr bytes', async () => {
  const m = importOnnxFile(`${MODELS}gtzan_genre_mlp_keras/model.onnx`);
  const s = TrainingSession.fromBytes(encodeTsr(m), {
    trainable: /^dense_3\//,
    output: 'biased_tensor_name2',
    loss: 'crossEntropy',
    optimizer: { name: 'sgd', lr: 0.5 },
  });
  assert.deepEqual(
    s.namedParameters().map(([k]) => k),
    ['dense_3/kernel:0', 'dense_3/bias:0'],
  );
  const g = new Generator(8);
  const x = randn([8, 130, 13], { generator: g });
  const y = tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'int64' });
  const frozen = Array.from(s.stateDict().get('dense/kernel:0')!.numbers().subarray(0, 50));
  const losses: number[] = [];
  for (let i = 0; i < 4; i++) {
    const r = await s.trainStep({ flatten_input: x, target: y });
    await s.optimizerStep();
    await s.lazyResetGrad();
    losses.push(Number(r.loss!.item()));
    // The Softmax output is still returned next to the logits the loss reads.
    assert.deepEqual(r.dense_3!.shape, [8, 10]);
  }
  assert.ok(losses.at(-1)! < losses[0]!, `loss ${losses.join(' ')}`);
  assert.deepEqual(Array.from(s.stateDict().get('dense/kernel:0')!.numbers().subarray(0, 50)), frozen);
  // Frozen layers get no gradient at all.
  assert.equal(s.parameters().length, 2);
});
