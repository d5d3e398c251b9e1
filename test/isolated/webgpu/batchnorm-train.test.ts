/**
 * BatchNormalization in training mode on WebGPU: batch statistics, the running mean/var outputs
 * and the gradients (through Y and through the running statistics) against the CPU op (the plain
 * TypeScript kernel, itself checked against the ONNX conformance data and gradcheck), on random
 * shapes with odd sizes, rank 2, 3 and 4 inputs, several momentum values, both the ai.onnx op
 * (opsets 14 and 15) and the 'tessera.training' form TrainingSession's training graph uses. Then a
 * TrainingSession step on webgpu over a Conv+BatchNorm model and the mnist_mlp_batchnorm MLP: no
 * CPU fallback, and the same losses, weights and running statistics as the CPU session.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { importOnnxFile, type Model, type Tensor, tensor } from '../../../src/index.js';
import { dispatch, fallbackCounts } from '../../../src/ops/registry.js';
import { Tensor as TensorClass } from '../../../src/runtime/tensor.js';
import { TRAINING_DOMAIN } from '../../../src/train/graph-ops.js';
import { TrainingSession } from '../../../src/train/training-session.js';
import { model, node } from '../../train/graph-models.js';
import { assertSameValues, compareOp, gpuReady, rn, ru } from './helpers.js';

before(async () => {
  await gpuReady();
});

const TOL = { rtol: 1e-4, atol: 1e-4 };

function totalFallbacks(): number {
  let n = 0;
  for (const v of fallbackCounts.values()) n += v;
  return n;
}

/** X of `shape` with a per-channel offset and scale, so channel statistics differ; [C] parameters. */
function bnInputs(shape: number[]): Tensor[] {
  const C = shape[1]!;
  const off = rn([1, C, ...shape.slice(2).map(() => 1)], 3);
  const x = rn(shape, 1.5).add(off);
  return [x, rn([C]), rn([C]), rn([C]), ru([C], 0.5, 2)];
}

const SHAPES = [
  [7, 3],
  [5, 1],
  [1, 4],
  [3, 5, 7],
  [2, 3, 1],
  [3, 5, 7, 9],
  [1, 3, 5, 3],
  [4, 1, 3, 3],
  [2, 2, 3, 2, 3],
];

test('training-mode forward: Y and running_mean/running_var on random shapes, opsets 14 and 15, momentum values', async () => {
  for (const [i, shape] of SHAPES.entries()) {
    const momentum = [0.9, 0.1, 0, 1, 0.37][i % 5]!;
    const epsilon = [1e-5, 1e-3][i % 2]!;
    for (const opset of [14, 15]) {
      const out = await compareOp(
        'BatchNormalization',
        bnInputs(shape),
        { training_mode: 1, momentum, epsilon },
        { ...TOL, opset, numOutputs: 3 },
      );
      assert.equal(out.length, 3, `${shape}: Y, running_mean, running_var`);
    }
  }
  // Defaults (momentum 0.9, epsilon 1e-5), and batch statistics from one sample per channel (variance 0).
  await compareOp('BatchNormalization', bnInputs([3, 4, 5]), { training_mode: 1 }, { ...TOL, opset: 15 });
  await compareOp('BatchNormalization', bnInputs([1, 3]), { training_mode: 1 }, { ...TOL, opset: 15 });
});

test("training-mode forward, hand-checked: X [2, 2, 2] gives the batch statistics' Y and running averages", async () => {
  // Channel 0 holds 1, 2, 3, 4 (mean 2.5, biased variance 1.25); channel 1 holds 0, 0, 2, 2 (mean 1, variance 1).
  const x = tensor([1, 2, 0, 0, 3, 4, 2, 2], { dtype: 'float32' }).reshape([2, 2, 2]).to('webgpu');
  const p = (v: number[]) => tensor(v, { dtype: 'float32' }).to('webgpu');
  const [y, rm, rv] = dispatch(
    'BatchNormalization',
    [x, p([2, 1]), p([0.5, -1]), p([1, 3]), p([2, 4])],
    { training_mode: 1, momentum: 0.75, epsilon: 0 },
    { opset: 15 },
  );
  const a = 2 / Math.sqrt(1.25);
  const want = [
    (1 - 2.5) * a + 0.5,
    (2 - 2.5) * a + 0.5,
    -1 - 1,
    -1 - 1,
    (3 - 2.5) * a + 0.5,
    (4 - 2.5) * a + 0.5,
    1 - 1,
    1 - 1,
  ];
  const f32 = (v: number[], shape: number[]) => TensorClass.fromData(Float32Array.from(v), shape, 'float32');
  await assertSameValues(y!, f32(want, [2, 2, 2]), 1e-6, 1e-6, 'Y');
  await assertSameValues(rm!, f32([0.75 + 0.25 * 2.5, 2.25 + 0.25], [2]), 1e-6, 1e-6, 'running_mean');
  await assertSameValues(rv!, f32([1.5 + 0.25 * 1.25, 3 + 0.25], [2]), 1e-6, 1e-6, 'running_var');
});

test("the 'tessera.training' BatchNormalization (any opset, training mode forced) runs on the GPU", async () => {
  for (const shape of [
    [6, 5],
    [3, 4, 5],
    [2, 3, 5, 7],
  ]) {
    await compareOp(
      'BatchNormalization',
      bnInputs(shape),
      { epsilon: 1e-3, momentum: 0.8, spatial: 1 },
      { ...TOL, domain: TRAINING_DOMAIN, opset: 1, numOutputs: 3 },
    );
  }
});

test('float16 X and parameters: the GPU kernel serves them (f16 storage or emulated), close to the CPU op', async () => {
  const ins = bnInputs([3, 5, 4, 3]).map((t) => t.to('float16'));
  await compareOp(
    'BatchNormalization',
    ins,
    { training_mode: 1, momentum: 0.6 },
    { rtol: 1e-2, atol: 1e-2, opset: 15, numOutputs: 3 },
  );
});

/**
 * Gradients of a weighted sum of Y, running_mean and running_var (fixed weights, the same on both
 * devices) w.r.t. X, scale, B and, where `stats`, input_mean/input_var, on the CPU and on the GPU.
 */
async function compareGrads(what: string, shape: number[], momentum: number, domain?: string): Promise<void> {
  const ins = bnInputs(shape);
  const weights = [shape, [shape[1]!], [shape[1]!]].map((s) => ru(s, -1, 1));
  const stats = momentum !== 0.9;
  const run = (device: 'cpu' | 'webgpu') => {
    const xs = ins.map((t, i) => {
      const d = t.to(device);
      return i < 3 || stats ? d.requiresGrad_(true) : d;
    });
    const attrs = domain ? { momentum, epsilon: 1e-4 } : { training_mode: 1, momentum, epsilon: 1e-4 };
    const outs = dispatch('BatchNormalization', xs, attrs, { opset: domain ? 1 : 15, domain, numOutputs: 3 });
    let loss: Tensor | null = null;
    outs.forEach((o, i) => {
      const t = o.mul(weights[i]!.to(device)).sum();
      loss = loss ? loss.add(t) : t;
    });
    return { xs, loss: loss! };
  };
  const cpu = run('cpu');
  cpu.loss.backward();
  const before = totalFallbacks();
  const gpu = run('webgpu');
  assert.equal(gpu.loss.device, 'webgpu');
  gpu.loss.backward();
  const fell = [...fallbackCounts].filter(([, v]) => v > 0).map(([k]) => k);
  assert.equal(totalFallbacks(), before, `${what}: forward or backward fell back to the CPU (${fell})`);
  const n = stats ? 5 : 3;
  for (let i = 0; i < n; i++) {
    const g = gpu.xs[i]!.grad;
    assert.ok(g, `${what}: input ${i} has a gradient`);
    assert.equal(g.device, 'webgpu', `${what}: gradient ${i} stays on the GPU`);
    await assertSameValues(g, cpu.xs[i]!.grad!, 2e-4, 2e-4, `${what} d/dinput${i}`);
  }
}

test('gradients through Y and the running statistics match the CPU op, on the GPU with no fallback', async () => {
  await compareGrads('rank 2', [9, 5], 0.9);
  await compareGrads('rank 3, momentum 0.3', [3, 5, 7], 0.3);
  await compareGrads('rank 4', [3, 3, 5, 7], 0.9);
  await compareGrads('rank 4, one channel, momentum 0', [2, 1, 3, 5], 0);
  await compareGrads('tessera.training form, rank 4, momentum 0.7', [2, 3, 3, 5], 0.7, TRAINING_DOMAIN);
});

/** x[N, 2, 7, 5] -> Conv 3x3 (3 channels) -> BatchNormalization -> Relu -> GlobalAveragePool -> Flatten -> Gemm -> y[N, 4]. */
function convBnModel(opset: number): Model {
  const bn = opset >= 14 ? {} : { spatial: 1 };
  return model(
    {
      nodes: [
        node('Conv', ['x', 'conv.w', 'conv.b'], ['c'], { pads: [1, 1, 1, 1] }),
        node('BatchNormalization', ['c', 'bn.s', 'bn.b', 'bn.m', 'bn.v'], ['n'], { momentum: 0.8, ...bn }),
        node('Relu', ['n'], ['r']),
        node('GlobalAveragePool', ['r'], ['p']),
        node('Flatten', ['p'], ['f']),
        node('Gemm', ['f', 'fc.w', 'fc.b'], ['y'], { transB: 1 }),
      ],
      inputs: [{ name: 'x', type: { kind: 'tensor', dtype: 'float32', shape: ['N', 2, 7, 5] } }],
      outputs: [{ name: 'y', type: { kind: 'tensor', dtype: 'float32', shape: ['N', 4] } }],
      initializers: new Map<string, Tensor>([
        ['conv.w', rn([3, 2, 3, 3], 0.3)],
        ['conv.b', rn([3], 0.5)],
        ['bn.s', ru([3], 0.5, 1.5)],
        ['bn.b', rn([3], 0.2)],
        ['bn.m', rn([3], 0.1)],
        ['bn.v', ru([3], 0.5, 1.5)],
        ['fc.w', rn([4, 3])],
        ['fc.b', rn([4], 0.1)],
      ]),
    },
    opset,
  );
}

/** Trains `m` a few steps on the CPU and on webgpu; the GPU steps fall back nowhere and follow the CPU. */
async function compareTraining(m: Model, feed: string, x: Tensor, y: Tensor, steps: number): Promise<void> {
  const make = (device: 'cpu' | 'webgpu') =>
    TrainingSession.fromModel(m, {
      device,
      loss: 'crossEntropy',
      optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
      liftConstants: true,
    });
  const cpu = make('cpu');
  const gpu = make('webgpu');
  const before = totalFallbacks();
  const bn = fallbackCounts.get('BatchNormalization') ?? 0;
  for (let k = 0; k < steps; k++) {
    const rc = await cpu.trainStep({ [feed]: x, target: y });
    const rg = await gpu.trainStep({ [feed]: x, target: y });
    await cpu.optimizerStep();
    await gpu.optimizerStep();
    await cpu.lazyResetGrad();
    await gpu.lazyResetGrad();
    const lc = Number(rc.loss!.item());
    const lg = Number(rg.loss!.to('cpu').item());
    assert.ok(Math.abs(lg - lc) <= 1e-3 * Math.max(1, lc), `step ${k}: loss ${lg} vs ${lc}`);
  }
  assert.equal(fallbackCounts.get('BatchNormalization') ?? 0, bn, 'no BatchNormalization fallback');
  const fell = [...fallbackCounts].filter(([, v]) => v > 0).map(([k]) => k);
  assert.equal(totalFallbacks(), before, `no CPU fallback at all (${fell})`);
  // Every float initializer, running statistics included, after the steps.
  const names = [...cpu.stateDict().keys()];
  assert.ok(
    names.some((n) => /running_mean|bn\.m/.test(n)),
    `running statistics in the state: ${names}`,
  );
  await assertSameValues(
    gpu.contiguousParameters(false),
    cpu.contiguousParameters(false),
    2e-3,
    2e-3,
    'weights',
  );
  const sc = cpu.stateDict();
  for (const [k, t] of gpu.stateDict()) await assertSameValues(t, sc.get(k)!, 2e-3, 2e-3, `state ${k}`);
}

test('TrainingSession on webgpu, Conv + BatchNormalization (opsets 9 and 17): no fallback, same training as on the CPU', async () => {
  const x = rn([5, 2, 7, 5]);
  const y = tensor([0, 3, 1, 2, 3], { dtype: 'int64' });
  for (const opset of [9, 17]) await compareTraining(convBnModel(opset), 'x', x, y, 3);
});

test('TrainingSession on webgpu, mnist_mlp_batchnorm: no BatchNormalization fallback, same running statistics', async () => {
  const m = importOnnxFile(
    new URL('../../../../shared/models/mnist_mlp_batchnorm/model.onnx', import.meta.url).pathname,
  );
  const y = tensor(
    Array.from({ length: 13 }, (_, i) => (i * 7) % 10),
    { dtype: 'int64' },
  );
  await compareTraining(m, 'network_input', rn([13, 784]), y, 2);
});
