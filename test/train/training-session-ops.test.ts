/**
 * Every op the fine-tuning issue lists, gradient-checked as an ONNX node: a one-node graph run by
 * the graph executor with the tape on (as TrainingSession runs imported models), against central
 * finite differences in float64. Shapes are drawn from a seeded generator; broadcasting cases use
 * inputs of different ranks and size-1 dims.
 */
import { test } from 'node:test';
import { full, int64s, Tensor, tensor } from '../../src/index.js';
import { TRAINING_DOMAIN } from '../../src/train/graph-ops.js';
import { checkNode, Rand } from './graph-check.js';

const r = new Rand(20251128);
const copy = (t: Tensor) => Tensor.fromData((t.dataSync() as Float64Array).slice(), t.shape, t.dtype);
const bool = (shape: number[]) => {
  const t = r.uniform(shape, 0, 1).numbers();
  return tensor(
    Array.from(t, (v) => v > 0.5),
    { dtype: 'bool' },
  ).reshape(shape);
};

test('Gemm (transA/transB, alpha/beta, broadcast C) and MatMul (batched, broadcast)', () => {
  const [m, k, n] = [r.dim(1, 3), r.dim(2, 4), r.dim(1, 3)];
  checkNode('Gemm', [r.normal([k, m]), r.normal([n, k]), r.normal([n])], {
    transA: 1,
    transB: 1,
    alpha: 0.7,
    beta: 1.3,
  });
  checkNode('Gemm', [r.normal([m, k]), r.normal([k, n]), r.normal([1, n])]);
  checkNode('MatMul', [r.normal([2, 1, m, k]), r.normal([3, k, n])]);
  checkNode('MatMul', [r.normal([k]), r.normal([2, k, n])]);
});

test('Conv with groups, dilation, strides and asymmetric pads; ConvTranspose', () => {
  const c = 2 * r.dim(1, 2);
  checkNode('Conv', [r.normal([1, c, 5, 5]), r.normal([4, c / 2, 2, 2]), r.normal([4])], {
    group: 2,
    dilations: [2, 1],
    strides: [1, 2],
    pads: [1, 0, 0, 1],
  });
  checkNode('Conv', [r.normal([2, 2, 6]), r.normal([3, 2, 3])], { auto_pad: 'SAME_UPPER' });
  checkNode('ConvTranspose', [r.normal([1, 2, 3, 3]), r.normal([2, 3, 2, 2]), r.normal([3])], {
    strides: [2, 2],
    pads: [0, 1, 1, 0],
    output_padding: [1, 0],
  });
  checkNode('ConvTranspose', [r.normal([1, 4, 3]), r.normal([4, 1, 3])], { group: 2, dilations: [2] });
});

test('pooling: MaxPool, AveragePool (with and without pads counted), GlobalAveragePool, GlobalMaxPool, LpPool', () => {
  checkNode(
    'MaxPool',
    [r.normal([1, 2, 5, 5])],
    { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 1] },
    { outputs: 2 },
  );
  checkNode('AveragePool', [r.normal([2, 1, 4, 5])], {
    kernel_shape: [2, 3],
    pads: [1, 1, 0, 1],
    count_include_pad: 1,
  });
  checkNode('AveragePool', [r.normal([1, 2, 5])], { kernel_shape: [3], strides: [2], pads: [1, 1] });
  checkNode('GlobalAveragePool', [r.normal([2, 3, 2, 3])]);
  checkNode('GlobalMaxPool', [r.normal([2, 2, 3, 2])]);
  checkNode('LpPool', [r.normal([1, 2, 4, 4])], { kernel_shape: [2, 2], p: 2 });
});

test('BatchNormalization in inference and training mode, LayerNormalization, InstanceNormalization', () => {
  const C = r.dim(2, 3);
  const x = r.normal([3, C, 2, 2]);
  const pos = r.uniform([C], 0.5, 1.5);
  checkNode('BatchNormalization', [x, r.normal([C]), r.normal([C]), r.normal([C]), pos], { epsilon: 1e-3 });
  // Training mode (opset 15): batch statistics, and the running statistics as outputs 1 and 2.
  checkNode(
    'BatchNormalization',
    [r.normal([4, C, 3]), r.normal([C]), r.normal([C]), r.normal([C]), r.uniform([C], 0.5, 1.5)],
    { training_mode: 1, momentum: 0.8 },
    { outputs: 3, opset: 15 },
  );
  checkNode('LayerNormalization', [r.normal([2, 3, 4]), r.normal([3, 4]), r.normal([3, 4])], {
    axis: -2,
    epsilon: 1e-4,
  });
  checkNode('LayerNormalization', [r.normal([3, 5]), r.normal([5])], {});
  checkNode('InstanceNormalization', [r.normal([2, C, 4]), r.normal([C]), r.normal([C])], { epsilon: 1e-4 });
});

test('activations: Relu, LeakyRelu, Sigmoid, Tanh, Gelu (both forms), Softmax, LogSoftmax, Elu, HardSigmoid, Selu, Softplus, HardSwish, PRelu, Celu', () => {
  const s = [r.dim(2, 3), r.dim(2, 4)];
  checkNode('Relu', [r.awayFromZero(s)]);
  checkNode('LeakyRelu', [r.awayFromZero(s)], { alpha: 0.2 });
  checkNode('Sigmoid', [r.normal(s)]);
  checkNode('Tanh', [r.normal(s)]);
  checkNode('Gelu', [r.normal(s)]);
  checkNode('Gelu', [r.normal(s)], { approximate: 'tanh' });
  checkNode('Softmax', [r.normal([2, 3, 4])], { axis: 1 });
  checkNode('LogSoftmax', [r.normal([2, 3, 4])], { axis: -1 });
  checkNode('Elu', [r.awayFromZero(s)], { alpha: 0.5 });
  // HardSigmoid's kinks are at x = (0 - beta)/alpha and (1 - beta)/alpha: keep x inside.
  checkNode('HardSigmoid', [r.uniform(s, -2, 2)], { alpha: 0.2, beta: 0.5 });
  checkNode('Selu', [r.awayFromZero(s)]);
  checkNode('Softplus', [r.normal(s)]);
  checkNode('HardSwish', [r.uniform(s, -2.5, 2.5)]);
  checkNode('PRelu', [r.awayFromZero([2, 3, 2]), r.normal([3, 1])]);
  checkNode('Celu', [r.awayFromZero(s)], { alpha: 1.5 });
});

test('Add, Sub, Mul, Div, Pow with broadcasting', () => {
  const [a, b] = [r.dim(2, 3), r.dim(2, 3)];
  checkNode('Add', [r.normal([a, 1, b]), r.normal([3, 1])]);
  checkNode('Sub', [r.normal([b]), r.normal([a, b])]);
  checkNode('Mul', [r.normal([a, b]), r.normal([1, b])]);
  checkNode('Div', [r.normal([a, 1]), r.awayFromZero([1, b], 0.5)]);
  checkNode('Pow', [r.uniform([a, b], 0.5, 2), r.normal([b])]);
  checkNode('Pow', [r.uniform([a, b], 0.5, 2), r.uniform([], 1, 3)]);
});

test('shape ops: Reshape, Transpose, Concat, Slice, Gather, Split, Squeeze, Unsqueeze, Flatten, Expand, Pad', () => {
  checkNode('Reshape', [r.normal([2, 3, 2]), int64s([3, -1])]);
  checkNode('Reshape', [r.normal([2, 3]), int64s([0, 1, 3])]);
  checkNode('Transpose', [r.normal([2, 3, 4])], { perm: [2, 0, 1] });
  checkNode('Concat', [r.normal([2, 1, 3]), r.normal([2, 2, 3]), r.normal([2, 3, 3])], { axis: -2 });
  checkNode('Slice', [r.normal([5, 4]), int64s([4, 1]), int64s([0, 100]), int64s([0, 1]), int64s([-2, 2])]);
  checkNode(
    'Gather',
    [
      r.normal([4, 3]),
      tensor(
        [
          [0, 2],
          [3, -1],
        ],
        { dtype: 'int64' },
      ),
    ],
    { axis: 0 },
  );
  checkNode('Gather', [r.normal([2, 5]), tensor([4, 0, 4], { dtype: 'int64' })], { axis: 1 });
  checkNode('Split', [r.normal([5, 2]), int64s([2, 3])], { axis: 0 }, { outputs: 2 });
  checkNode('Split', [r.normal([2, 6])], { axis: 1, num_outputs: 3 }, { outputs: 3 });
  checkNode('Squeeze', [r.normal([2, 1, 3, 1]), int64s([1, -1])]);
  checkNode('Unsqueeze', [r.normal([2, 3]), int64s([0, 3])]);
  checkNode('Flatten', [r.normal([2, 3, 2])], { axis: 2 });
  checkNode('Expand', [r.normal([3, 1]), int64s([2, 3, 4])]);
  // constant_value is not differentiated (as in torch, where the pad value is a plain number).
  checkNode(
    'Pad',
    [r.normal([2, 3]), int64s([1, 0, 0, 2]), full([], 0.5, { dtype: 'float64' })],
    { mode: 'constant' },
    { diff: [true] },
  );
  checkNode('Pad', [r.normal([3, 4]), int64s([2, 1, 1, 2])], { mode: 'reflect' });
  checkNode('Pad', [r.normal([3, 4]), int64s([1, 0, 2, 1])], { mode: 'edge' });
});

test('Reduce*: Sum, Mean, Max, Min, Prod, L1, L2, LogSumExp, SumSquare, LogSum', () => {
  const x = () => r.normal([2, 3, 2]);
  checkNode('ReduceSum', [x(), int64s([0, 2])], { keepdims: 0 });
  checkNode('ReduceSum', [x()], {});
  checkNode('ReduceMean', [x(), int64s([-1])], {});
  checkNode('ReduceMax', [x(), int64s([1])], { keepdims: 0 });
  checkNode('ReduceMin', [x(), int64s([0, 1])], {});
  checkNode('ReduceProd', [r.uniform([2, 3], 0.5, 1.5), int64s([1])], {});
  checkNode('ReduceL1', [r.awayFromZero([2, 3]), int64s([0])], {});
  checkNode('ReduceL2', [x(), int64s([1])], {});
  checkNode('ReduceLogSumExp', [x(), int64s([2])], { keepdims: 0 });
  checkNode('ReduceSumSquare', [x(), int64s([0])], {});
  checkNode('ReduceLogSum', [r.uniform([3, 2], 0.5, 2), int64s([0])], {});
});

test('Dropout (training mode, fixed seed; and inference), Embedding-style Gather, Where, Clip', () => {
  const x = r.normal([3, 4]);
  // A fixed seed gives the same mask on every call, so finite differences see one function.
  checkNode(
    'Dropout',
    [x, full([], 0.3, { dtype: 'float64' }), full([], true, { dtype: 'bool' })],
    { seed: 5 },
    { outputs: 2, diff: [true] },
  );
  checkNode('Dropout', [r.normal([2, 3])], {}, { outputs: 2 });
  // An embedding table [vocab, dim] indexed by token ids [batch, seq]: repeated ids accumulate.
  checkNode(
    'Gather',
    [
      r.normal([5, 3]),
      tensor(
        [
          [1, 1, 4],
          [0, 1, 2],
        ],
        { dtype: 'int64' },
      ),
    ],
    { axis: 0 },
  );
  const cond = bool([2, 3]);
  checkNode('Where', [cond, r.normal([2, 3]), r.normal([3])]);
  checkNode('Where', [bool([3, 1]), r.normal([1, 2]), r.normal([3, 2])]);
  // Values away from the bounds (Clip is not differentiable at them).
  const v = r.uniform([3, 4], -2, 2);
  const d = v.dataSync() as Float64Array;
  for (let i = 0; i < d.length; i++) if (Math.abs(Math.abs(d[i]!) - 1) < 0.05) d[i] = d[i]! * 1.2;
  checkNode(
    'Clip',
    [v, full([], -1, { dtype: 'float64' }), full([], 1, { dtype: 'float64' })],
    {},
    { diff: [true, false, false] },
  );
  checkNode('Clip', [copy(v), undefined, full([], 0.5, { dtype: 'float64' })], {}, { diff: [true] });
  // Clip-6: bounds as attributes.
  checkNode('Clip', [copy(v)], { min: -0.5, max: 0.8 }, { opset: 6 });
});

test('the training forms TrainingSession swaps in: Dropout with the ratio attribute (opset < 12) and BatchNormalization of any opset', () => {
  const opts = { domain: TRAINING_DOMAIN, opset: 1 };
  checkNode('Dropout', [r.normal([3, 3])], { ratio: 0.4, seed: 11 }, { ...opts, outputs: 2 });
  const C = 2;
  checkNode(
    'BatchNormalization',
    [r.normal([3, C, 2]), r.normal([C]), r.normal([C]), r.normal([C]), r.uniform([C], 0.5, 1)],
    { epsilon: 1e-3, momentum: 0.9, spatial: 1 },
    { ...opts, outputs: 3, diff: [true, true, true, false, false] },
  );
});
