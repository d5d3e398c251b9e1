/**
 * Training on WebGPU: gradients computed through the GPU kernels (every op's gradient is written
 * with registry ops, so backward runs on the GPU too) match the CPU's, which the CPU suite checks
 * against finite differences with gradcheck. Each case builds a scalar loss from one op family on
 * random float32 inputs with broadcasting, runs backward on both devices, compares every input's
 * gradient, and checks that the backward pass needed no CPU fallback.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { int64s, Tensor } from '../../../src/index.js';
import { dispatch, dispatch1, fallbackCounts } from '../../../src/ops/registry.js';
import { assertSameValues, gpuReady, rn, ru } from './helpers.js';

before(async () => {
  await gpuReady();
});

type Loss = (...xs: Tensor[]) => Tensor;
const op = (
  name: string,
  xs: Tensor[],
  attrs: Record<string, unknown> = {},
  opts: Record<string, unknown> = {},
) => dispatch1(name, xs, attrs as any, opts);
/** A weighted sum with fixed weights (the same on both devices), so every output element's gradient differs. */
const wsum = (y: Tensor) => {
  const n = y.numel();
  const w = Tensor.fromData(
    Float32Array.from({ length: n }, (_, i) => 0.5 + ((i * 7919) % 13) / 13),
    [...y.shape],
    'float32',
  );
  return op('ReduceSum', [op('Mul', [y, w.to(y.device)])], { keepdims: 0 });
};

function totalFallbacks(): number {
  let n = 0;
  for (const v of fallbackCounts.values()) n += v;
  return n;
}

async function compareGrads(what: string, f: Loss, inputs: Tensor[], tol = 2e-4): Promise<void> {
  const cpuIn = inputs.map((t) => t.detach().requiresGrad_(true));
  f(...cpuIn).backward();
  const gpuIn = inputs.map((t) => t.to('webgpu').requiresGrad_(true));
  const before = totalFallbacks();
  const loss = f(...gpuIn);
  assert.equal(loss.device, 'webgpu', `${what}: loss on the GPU`);
  loss.backward();
  const fell = [...fallbackCounts].filter(([, v]) => v > 0).map(([k]) => k);
  assert.equal(totalFallbacks(), before, `${what}: backward fell back to the CPU (${fell.join(', ')})`);
  for (let i = 0; i < inputs.length; i++) {
    const g = gpuIn[i]!.grad;
    assert.ok(g, `${what}: input ${i} has a gradient`);
    assert.equal(g.device, 'webgpu', `${what}: gradient ${i} stays on the GPU`);
    await assertSameValues(g, cpuIn[i]!.grad!, tol, tol, `${what} d/dinput${i}`);
  }
}

test('elementwise math, activations and broadcasting', async () => {
  const a = ru([3, 4], 0.5, 2);
  const b = ru([4], 0.5, 2);
  await compareGrads(
    'arith',
    (x, y) => wsum(op('Div', [op('Mul', [op('Sub', [x, y]), x]), op('Add', [y, x])])),
    [a, b],
  );
  await compareGrads('pow', (x, y) => wsum(op('Pow', [x, y])), [a, b]);
  for (const name of [
    'Exp',
    'Log',
    'Tanh',
    'Sigmoid',
    'Sqrt',
    'Softplus',
    'Erf',
    'Relu',
    'Abs',
    'Sin',
    'Atan',
    'Reciprocal',
  ]) {
    await compareGrads(name, (x) => wsum(op(name, [x])), [ru([2, 5], 0.2, 2)]);
  }
  for (const [name, attrs] of [
    ['LeakyRelu', { alpha: 0.2 }],
    ['Elu', {}],
    ['Gelu', {}],
    ['Gelu', { approximate: 'tanh' }],
    ['HardSigmoid', {}],
    ['Selu', {}],
  ] as const) {
    await compareGrads(name, (x) => wsum(op(name, [x], attrs)), [rn([3, 5])]);
  }
  await compareGrads(
    'Where/Max',
    (x, y) => wsum(op('Max', [op('Where', [op('Greater', [x, y]), x, y]), y])),
    [rn([2, 3]), rn([3])],
  );
  await compareGrads('Clip', (x) => wsum(op('Clip', [x, rn([]).mul(0).add(-0.5), rn([]).mul(0).add(0.5)])), [
    rn([6]),
  ]);
});

test('MatMul, Gemm (via Einsum gradients), Conv, ConvTranspose', async () => {
  await compareGrads('MatMul', (x, y) => wsum(op('MatMul', [x, y])), [rn([2, 3, 4]), rn([4, 5])]);
  await compareGrads('Gemm', (x, y, c) => wsum(op('Gemm', [x, y, c], { transB: 1, alpha: 0.7, beta: 1.3 })), [
    rn([3, 6]),
    rn([5, 6]),
    rn([5]),
  ]);
  await compareGrads(
    'Conv',
    (x, w, b) => wsum(op('Conv', [x, w, b], { pads: [1, 1, 1, 1], strides: [2, 1] })),
    [rn([2, 3, 6, 5]), rn([4, 3, 3, 3]), rn([4])],
  );
  await compareGrads('Conv depthwise', (x, w) => wsum(op('Conv', [x, w], { group: 3 })), [
    rn([1, 3, 5, 5]),
    rn([3, 1, 3, 3]),
  ]);
  await compareGrads(
    'ConvTranspose',
    (x, w) => wsum(op('ConvTranspose', [x, w], { strides: [2, 2], output_padding: [1, 0] })),
    [rn([1, 4, 3, 3]), rn([4, 2, 3, 3])],
  );
});

test('pooling, normalization, softmax and reductions', async () => {
  const x = rn([2, 3, 6, 6]);
  const [mu, va] = [rn([3]), ru([3], 0.5, 1.5)];
  await compareGrads(
    'MaxPool',
    (t) => wsum(dispatch('MaxPool', [t], { kernel_shape: [3, 3], strides: [2, 2] })[0]!),
    [x],
  );
  await compareGrads(
    'AveragePool',
    (t) => wsum(op('AveragePool', [t], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] })),
    [x],
  );
  await compareGrads('GlobalAveragePool', (t) => wsum(op('GlobalAveragePool', [t])), [x]);
  await compareGrads(
    'BatchNorm inference',
    (t, s, b) => wsum(op('BatchNormalization', [t, s, b, mu.to(t.device), va.to(t.device)])),
    [x, rn([3]), rn([3])],
  );
  await compareGrads(
    'BatchNorm training',
    (t, s, b) =>
      wsum(
        dispatch('BatchNormalization', [t, s, b, mu.to(t.device), va.to(t.device)], { training_mode: 1 })[0]!,
      ),
    [x, rn([3]), rn([3])],
    1e-3,
  );
  await compareGrads(
    'LayerNorm',
    (t, s, b) => wsum(dispatch('LayerNormalization', [t, s, b], { axis: -1 })[0]!),
    [rn([4, 7]), rn([7]), rn([7])],
    1e-3,
  );
  await compareGrads(
    'InstanceNorm',
    (t, s, b) => wsum(op('InstanceNormalization', [t, s, b])),
    [x, rn([3]), rn([3])],
    1e-3,
  );
  await compareGrads('LRN', (t) => wsum(op('LRN', [t], { size: 3 })), [x]);
  await compareGrads('Softmax', (t) => wsum(op('Softmax', [t], { axis: -1 })), [rn([3, 7])]);
  await compareGrads('LogSoftmax', (t) => wsum(op('LogSoftmax', [t], { axis: 1 })), [rn([3, 7])]);
  await compareGrads('ReduceMean', (t) => wsum(op('ReduceMean', [t], { axes: [1] }, { opset: 13 })), [
    rn([3, 7]),
  ]);
  await compareGrads('ReduceMax', (t) => wsum(op('ReduceMax', [t], { axes: [0] }, { opset: 13 })), [
    rn([3, 7]),
  ]);
  await compareGrads('ReduceL2', (t) => wsum(op('ReduceL2', [t], { axes: [1] }, { opset: 13 })), [
    rn([3, 7]),
  ]);
});

test('data movement: Concat, Slice, Transpose, Reshape, Gather, Pad, Expand, Resize', async () => {
  await compareGrads('Concat', (x, y) => wsum(op('Concat', [x, y], { axis: 1 })), [rn([2, 3]), rn([2, 4])]);
  await compareGrads(
    'Slice',
    (x) => wsum(op('Slice', [x, int64s([1, 0]), int64s([3, 4]), int64s([0, 1]), int64s([1, 2])])),
    [rn([4, 5])],
  );
  await compareGrads(
    'Transpose+Reshape',
    (x) => wsum(op('Reshape', [op('Transpose', [x], { perm: [1, 0, 2] }), int64s([-1])])),
    [rn([2, 3, 4])],
  );
  await compareGrads('Gather', (x) => wsum(op('Gather', [x, int64s([2, 0, 2])], { axis: 1 })), [rn([2, 4])]);
  await compareGrads('Pad', (x) => wsum(op('Pad', [x, int64s([1, 0, 0, 2])], { mode: 'reflect' })), [
    rn([3, 4]),
  ]);
  await compareGrads('Expand', (x) => wsum(op('Expand', [x, int64s([3, 2, 4])])), [rn([2, 1])]);
  await compareGrads(
    'Resize',
    (x) =>
      wsum(
        op(
          'Resize',
          [x, undefined as unknown as Tensor, undefined as unknown as Tensor, int64s([1, 1, 5, 7])],
          { mode: 'linear' },
        ),
      ),
    [rn([1, 1, 3, 4])],
  );
});

test('a small CNN trains on the GPU: one SGD step gives the CPU step', async () => {
  // conv -> relu -> maxpool -> flatten -> gemm -> log-softmax -> NLL by one-hot (all registry ops).
  const params = [rn([4, 1, 3, 3], 0.5), rn([4], 0.1), rn([3, 16], 0.3), rn([3], 0.1)];
  const x = rn([2, 1, 6, 6]);
  const onehot = op(
    'Cast',
    [op('Equal', [int64s([0, 1, 2]).reshape([1, 3]), int64s([2, 0]).reshape([2, 1])])],
    { to: 'float32' },
  );
  const net = (w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor, input: Tensor, target: Tensor) => {
    const h = dispatch('MaxPool', [op('Relu', [op('Conv', [input, w1, b1], { pads: [1, 1, 1, 1] })])], {
      kernel_shape: [3, 3],
      strides: [3, 3],
    })[0]!;
    const logits = op('Gemm', [op('Flatten', [h]), w2, b2], { transB: 1 });
    return op('Neg', [
      op(
        'ReduceMean',
        [op('Mul', [op('LogSoftmax', [logits], { axis: 1 }), target])],
        { keepdims: 0 },
        { opset: 13 },
      ),
    ]);
  };
  const step = (device: 'cpu' | 'webgpu') => {
    const ps = params.map((p) => p.to(device).requiresGrad_(true));
    net(ps[0]!, ps[1]!, ps[2]!, ps[3]!, x.to(device), onehot.to(device)).backward();
    return ps.map((p) => op('Sub', [p.detach(), op('Mul', [p.grad!, rn([]).mul(0).add(0.1).to(device)])]));
  };
  const cpu = step('cpu');
  const gpu = step('webgpu');
  for (let i = 0; i < cpu.length; i++)
    await assertSameValues(gpu[i]!, cpu[i]!, 1e-4, 1e-5, `parameter ${i} after one step`);
});
