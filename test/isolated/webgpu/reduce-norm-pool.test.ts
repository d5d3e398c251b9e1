/**
 * Reductions, ArgMax/ArgMin, Softmax family, normalizations and pooling on the GPU against the CPU:
 * every reduce op over several axis sets (attribute and input forms, keepdims, noop), long rows that
 * take the workgroup path, NaN handling, BatchNorm in inference and training mode, LayerNorm with
 * its extra outputs, Instance/GroupNorm, LRN and its gradient, Max/Average/Lp pooling with pads,
 * strides, dilations, ceil_mode, count_include_pad, the Indices output and storage_order.
 */
import { before, test } from 'node:test';
import { int64s, tensor } from '../../../src/index.js';
import { compareOp, gpuReady, rn, ru } from './helpers.js';

before(async () => {
  await gpuReady();
});

const TOL = { rtol: 1e-4, atol: 1e-4 };

test('every ReduceXxx over several axes, attribute (opset 13) and input (opset 18) forms', async () => {
  const x = ru([3, 5, 7], 0.1, 2);
  const ops = [
    'ReduceMax',
    'ReduceMin',
    'ReduceMean',
    'ReduceProd',
    'ReduceL1',
    'ReduceL2',
    'ReduceSumSquare',
    'ReduceLogSum',
    'ReduceLogSumExp',
  ];
  for (const axes of [[0], [1], [2], [0, 2], [-1, 0], [0, 1, 2]]) {
    for (const keepdims of [0, 1]) {
      await compareOp('ReduceSum', [x, int64s(axes)], { keepdims }, TOL);
      for (const op of ops) {
        await compareOp(op, [x], { axes, keepdims }, { ...TOL, opset: 13 });
        await compareOp(op, [x, int64s(axes)], { keepdims }, { ...TOL, opset: 18 });
      }
    }
  }
  // No axes: every axis, or the identity with noop_with_empty_axes.
  await compareOp('ReduceSum', [x], {}, TOL);
  await compareOp('ReduceSum', [x, int64s([])], { noop_with_empty_axes: 1 }, TOL);
  await compareOp('ReduceMean', [x], { noop_with_empty_axes: 1 }, { ...TOL, opset: 18 });
});

test('long reductions take the workgroup path; integers, bool and NaN', async () => {
  await compareOp('ReduceSum', [rn([3, 1000]), int64s([1])], {}, { rtol: 1e-4, atol: 1e-3 });
  await compareOp('ReduceMax', [rn([2, 3000])], { axes: [1] }, { opset: 13 });
  await compareOp('ReduceMean', [rn([5000])], { keepdims: 0 }, { ...TOL, opset: 13 });
  const withNaN = tensor([
    [1, Number.NaN, 3],
    [4, 5, 6],
  ]);
  for (const op of ['ReduceMax', 'ReduceMin', 'ReduceSum'])
    await compareOp(op, [withNaN], { axes: [1] }, { opset: 13 });
  const i = tensor(
    [
      [1, -7, 300],
      [2, 5, -6],
    ],
    { dtype: 'int32' },
  );
  for (const op of ['ReduceSum', 'ReduceMax', 'ReduceMin', 'ReduceProd'])
    await compareOp(op, [i], { axes: [1] }, { opset: 13 });
  await compareOp(
    'ReduceMax',
    [
      tensor([
        [true, false],
        [false, false],
      ]),
    ],
    { axes: [1] },
    { opset: 13 },
  );
  await compareOp(
    'ReduceMin',
    [
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'uint8' },
      ),
    ],
    { axes: [0] },
    { opset: 13 },
  );
});

test('ArgMax/ArgMin: axes, keepdims, select_last_index, ties and NaN', async () => {
  const x = tensor([
    [1, 3, 3, 2],
    [Number.NaN, 1, Number.NaN, 0],
    [5, 5, 1, 5],
  ]);
  for (const op of ['ArgMax', 'ArgMin']) {
    for (const axis of [0, 1, -1]) {
      for (const keepdims of [0, 1]) {
        for (const sel of [0, 1]) await compareOp(op, [x], { axis, keepdims, select_last_index: sel });
      }
    }
    await compareOp(op, [rn([4, 300])], { axis: 1 });
    await compareOp(
      op,
      [
        tensor(
          [
            [3, -1],
            [2, 9],
          ],
          { dtype: 'int32' },
        ),
      ],
      { axis: 0 },
    );
  }
});

test('Softmax, LogSoftmax, Hardmax: opset 13 axis and opset < 13 coercion to 2-D, long rows', async () => {
  for (const op of ['Softmax', 'LogSoftmax', 'Hardmax']) {
    for (const axis of [0, 1, 2, -1]) {
      await compareOp(op, [rn([2, 3, 5], 3)], { axis }, { ...TOL, opset: 13 });
      await compareOp(op, [rn([2, 3, 5], 3)], { axis }, { ...TOL, opset: 11 });
    }
    await compareOp(op, [rn([3, 1000], 4)], { axis: -1 }, { ...TOL, opset: 13 });
    await compareOp(
      op,
      [
        tensor([
          [1, 5, 5, -2],
          [0, 0, 0, 0],
        ]),
      ],
      {},
      { ...TOL, opset: 13 },
    );
  }
});

test('BatchNormalization in inference and training mode; LayerNorm; Instance/GroupNorm; Moments', async () => {
  const x = rn([2, 3, 4, 5]);
  const [s, b, m, v] = [rn([3]), rn([3]), rn([3]), ru([3], 0.5, 2)];
  await compareOp('BatchNormalization', [x, s, b, m, v], { epsilon: 1e-3 }, TOL);
  await compareOp(
    'BatchNormalization',
    [x, s, b, m, v],
    { training_mode: 1, momentum: 0.8 },
    { ...TOL, opset: 15 },
  );
  await compareOp('BatchNormalization', [rn([4, 3]), s, b, m, v], {}, TOL);
  for (const axis of [-1, 1, 2]) {
    await compareOp(
      'LayerNormalization',
      [x, rn(x.shape.slice(axis < 0 ? axis + 4 : axis)), rn([5])],
      { axis },
      TOL,
    );
  }
  await compareOp('LayerNormalization', [rn([3, 700]), rn([700])], {}, TOL);
  await compareOp('InstanceNormalization', [x, s, b], { epsilon: 1e-4 }, TOL);
  await compareOp(
    'GroupNormalization',
    [rn([2, 6, 3, 3]), rn([6]), rn([6])],
    { num_groups: 3 },
    { ...TOL, opset: 21 },
  );
  await compareOp(
    'GroupNormalization',
    [rn([2, 6, 3, 3]), rn([2]), rn([2])],
    { num_groups: 2 },
    { ...TOL, opset: 18 },
  );
  await compareOp('Moments', [x], { axes: [0, 2, 3], epsilon: 1e-5 }, { ...TOL, domain: 'com.tessera' });
  await compareOp('RsqrtEps', [ru([7], 0.1, 3)], { epsilon: 1e-3 }, { ...TOL, domain: 'com.tessera' });
});

test('LRN and its gradient', async () => {
  const x = rn([2, 7, 3, 3]);
  for (const size of [1, 3, 4, 5]) {
    await compareOp('LRN', [x], { size, alpha: 0.002, beta: 0.6, bias: 1.5 }, TOL);
    await compareOp(
      'LRNGrad',
      [x, rn([2, 7, 3, 3])],
      { size, alpha: 0.002, beta: 0.6, bias: 1.5 },
      { ...TOL, domain: 'com.tessera' },
    );
  }
});

test('MaxPool with Indices (both storage orders), AveragePool, LpPool, global pools, AveragePoolGrad', async () => {
  const x = rn([2, 3, 9, 10]);
  const cases: Record<string, unknown>[] = [
    { kernel_shape: [3, 3] },
    { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] },
    { kernel_shape: [2, 3], strides: [2, 3], ceil_mode: 1 },
    { kernel_shape: [3, 2], dilations: [2, 1], pads: [2, 0, 1, 1] },
    { kernel_shape: [3, 3], strides: [2, 2], auto_pad: 'SAME_UPPER' },
  ];
  for (const attrs of cases) {
    await compareOp('MaxPool', [x], attrs as any, { ...TOL, numOutputs: 2 });
    await compareOp('MaxPool', [x], { ...attrs, storage_order: 1 } as any, { ...TOL, numOutputs: 2 });
    if (!attrs.dilations) {
      await compareOp('AveragePool', [x], attrs as any, TOL);
      await compareOp('AveragePool', [x], { ...attrs, count_include_pad: 1 } as any, TOL);
      await compareOp('LpPool', [x], { ...attrs, p: 3 } as any, TOL);
      const y = (await compareOp('AveragePool', [x], attrs as any, TOL))[0]!;
      await compareOp('AveragePoolGrad', [rn([...y.shape])], { ...attrs, input_shape: [...x.shape] } as any, {
        ...TOL,
        domain: 'com.tessera',
      });
      await compareOp(
        'AveragePoolGrad',
        [rn([...y.shape])],
        { ...attrs, count_include_pad: 1, input_shape: [...x.shape] } as any,
        { ...TOL, domain: 'com.tessera' },
      );
    }
  }
  await compareOp(
    'MaxPool',
    [rn([1, 2, 11])],
    { kernel_shape: [4], strides: [3] },
    { ...TOL, numOutputs: 2 },
  );
  await compareOp('MaxPool', [rn([1, 2, 4, 5, 6])], { kernel_shape: [2, 2, 3] }, { ...TOL, numOutputs: 2 });
  await compareOp(
    'MaxPool',
    [
      tensor([
        [
          [
            [1, Number.NaN],
            [3, 2],
          ],
        ],
      ]),
    ],
    { kernel_shape: [2, 2] },
    { numOutputs: 2 },
  );
  await compareOp(
    'MaxPool',
    [
      tensor(
        [
          [
            [
              [1, 200],
              [3, 2],
            ],
          ],
        ],
        { dtype: 'uint8' },
      ),
    ],
    { kernel_shape: [2, 1] },
    { numOutputs: 2 },
  );
  for (const op of ['GlobalAveragePool', 'GlobalMaxPool', 'GlobalLpPool']) await compareOp(op, [x], {}, TOL);
});
