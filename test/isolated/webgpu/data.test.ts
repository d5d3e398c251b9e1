/**
 * Data movement on the GPU against the CPU: views (Reshape, Transpose, Slice with negative steps,
 * Squeeze/Unsqueeze, Expand, Split) read back through their strides; Concat; Gather with indices on
 * either device; the map-driven copies (Pad in every mode, Tile, DepthToSpace, SpaceToDepth, Trilu,
 * GatherElements, GatherND, Compress, ReverseSequence, CenterCropPad); Resize in its modes; the
 * scatter-add ops gradients use; ConstantOfShape, Dropout, Shape/Size.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { int64s, tensor } from '../../../src/index.js';
import { dispatch, dispatch1 } from '../../../src/ops/registry.js';
import { assertSameValues, compareOp, gpuReady, rn } from './helpers.js';

before(async () => {
  await gpuReady();
});

test('view ops give GPU views with the CPU semantics, packed when a kernel needs them', async () => {
  const x = rn([2, 3, 4]);
  await compareOp('Transpose', [x], { perm: [2, 0, 1] });
  await compareOp('Transpose', [x], {});
  await compareOp('Reshape', [x, int64s([4, -1])]);
  await compareOp('Reshape', [x, int64s([0, 0, 2, 2])]);
  await compareOp('Flatten', [x], { axis: 2 });
  await compareOp('Squeeze', [rn([3, 1, 2, 1]), int64s([1])]);
  await compareOp('Unsqueeze', [x, int64s([0, -1])]);
  await compareOp('Expand', [rn([3, 1]), int64s([2, 3, 4])]);
  await compareOp('Slice', [x, int64s([0, -1]), int64s([2, -5]), int64s([0, 2]), int64s([1, -2])]);
  await compareOp('Slice', [x], { starts: [1], ends: [3], axes: [2] }, { opset: 9 });
  await compareOp('Split', [x, int64s([1, 3])], { axis: 2 }, { numOutputs: 2 });
  await compareOp('Identity', [x]);
  // A transposed view feeding an elementwise op and a reshape (which packs it first).
  const t = dispatch1('Transpose', [x.to('webgpu')], { perm: [1, 2, 0] });
  await assertSameValues(
    dispatch1('Exp', [t]),
    dispatch1('Exp', [dispatch1('Transpose', [x], { perm: [1, 2, 0] })]),
    1e-6,
    0,
    'exp of a view',
  );
  const r = dispatch1('Reshape', [t, int64s([-1])]);
  await assertSameValues(
    r,
    dispatch1('Reshape', [dispatch1('Transpose', [x], { perm: [1, 2, 0] }), int64s([-1])]),
    0,
    0,
    'packed view',
  );
});

test('Shape and Size stay on the CPU; ConstantOfShape fills on the GPU; Dropout in inference', async () => {
  const x = rn([2, 5, 3]);
  const [s] = await compareOp('Shape', [x], { start: 1 });
  assert.equal(s!.device, 'cpu');
  await compareOp('Size', [x]);
  await compareOp('ConstantOfShape', [int64s([2, 3])], { value: tensor([7], { dtype: 'int32' }) });
  await compareOp('ConstantOfShape', [int64s([4])], { value: int64s([2 ** 40]) });
  await compareOp('ConstantOfShape', [int64s([3, 2])], {});
  await compareOp('Dropout', [x, tensor(0.3)], {}, { numOutputs: 2 });
  await compareOp('Dropout', [x], {}, { opset: 10, numOutputs: 2 });
  await compareOp(
    'Dropout',
    [x, tensor(0.5), tensor(true)],
    {},
    { numOutputs: 2, fallback: true, rtol: 1e9, atol: 1e9 },
  );
});

test('Concat along every axis, any dtype, empty inputs, views as inputs', async () => {
  for (const axis of [0, 1, 2, -1]) {
    const shapes = [0, 1, 2].map((i) => [2, 3, 4].map((d, k) => (k === (axis + 3) % 3 ? d + i : d)));
    await compareOp(
      'Concat',
      shapes.map((s) => rn(s)),
      { axis },
    );
  }
  await compareOp('Concat', [int64s([1, 2 ** 40]), int64s([]), int64s([-3])], { axis: 0 });
  await compareOp('Concat', [tensor([true]), tensor([false, true])], { axis: 0 });
  const v = dispatch1('Transpose', [rn([3, 2]).to('webgpu')], {});
  const c = dispatch1('Concat', [v, rn([1, 3]).to('webgpu')], { axis: 0 });
  assert.deepEqual([...c.shape], [3, 3]);
});

test('Gather with CPU and GPU indices, negative indices, every axis', async () => {
  const x = rn([4, 5, 6]);
  for (const axis of [0, 1, 2, -1]) {
    await compareOp(
      'Gather',
      [
        x,
        tensor(
          [
            [0, -1],
            [2, 1],
          ],
          { dtype: 'int64' },
        ),
      ],
      { axis },
    );
    await compareOp('Gather', [x, tensor([3, 0, -2], { dtype: 'int32' })], { axis });
  }
  await compareOp('Gather', [int64s([5, 2 ** 40, -7]), int64s([2, 0, 0])], { axis: 0 });
  // Indices produced on the GPU (no host copy): ArgMax then Gather.
  const scores = rn([6, 4]).to('webgpu');
  const idx = dispatch1('ArgMax', [scores], { axis: 1, keepdims: 0 });
  const g = dispatch1('Gather', [rn([4, 3]).to('webgpu'), idx], { axis: 0 });
  assert.deepEqual([...g.shape], [6, 3]);
});

test('Pad (constant, reflect, edge, wrap, negative pads, axes) and the other map-driven copies', async () => {
  const x = rn([2, 3, 4]);
  for (const mode of ['constant', 'reflect', 'edge', 'wrap']) {
    await compareOp('Pad', [x, int64s([1, 0, 2, 0, 3, 1])], { mode }, { opset: 19 });
    await compareOp('Pad', [x, int64s([0, -1, 1, 1, 0, -2])], { mode }, { opset: 19 });
  }
  await compareOp(
    'Pad',
    [x, int64s([1, 2]), tensor(-4.5), int64s([-1])],
    { mode: 'constant' },
    { opset: 19 },
  );
  await compareOp('Pad', [x], { pads: [0, 1, 0, 0, 1, 0], value: 2.5 }, { opset: 7 });
  await compareOp('Pad', [int64s([1, 2, 3]), int64s([2, 1]), int64s([9])], {}, { opset: 13 });
  await compareOp('Tile', [x, int64s([2, 1, 3])]);
  await compareOp('DepthToSpace', [rn([1, 8, 2, 3])], { blocksize: 2 });
  await compareOp('DepthToSpace', [rn([1, 8, 2, 3])], { blocksize: 2, mode: 'CRD' });
  await compareOp('SpaceToDepth', [rn([1, 2, 4, 6])], { blocksize: 2 });
  await compareOp('Trilu', [rn([2, 4, 5]), int64s([1])], { upper: 0 });
  await compareOp('Trilu', [rn([4, 5])], {});
  await compareOp(
    'GatherElements',
    [
      rn([3, 4]),
      tensor(
        [
          [0, 1, 2, 0],
          [2, 2, 1, 0],
        ],
        { dtype: 'int64' },
      ),
    ],
    { axis: 0 },
  );
  await compareOp(
    'GatherND',
    [
      rn([2, 3, 4]),
      tensor(
        [
          [0, 1],
          [1, 2],
        ],
        { dtype: 'int64' },
      ),
    ],
    {},
  );
  await compareOp('Compress', [rn([3, 4]), tensor([true, false, true, true])], { axis: 1 });
  await compareOp('ReverseSequence', [rn([4, 3, 2]), int64s([4, 1, 3])], { batch_axis: 1, time_axis: 0 });
  await compareOp('CenterCropPad', [rn([5, 2, 3]), int64s([3, 4])], { axes: [0, 2] });
});

test('Resize: nearest/linear/cubic, coordinate modes, scales and sizes, Upsample, the resolved apply/grad ops', async () => {
  const x = rn([1, 2, 4, 5]);
  const modes: Record<string, unknown>[] = [
    { mode: 'nearest' },
    { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' },
    { mode: 'linear' },
    { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' },
    { mode: 'cubic' },
    { mode: 'cubic', cubic_coeff_a: -0.5, exclude_outside: 1 },
    { mode: 'linear', antialias: 1 },
  ];
  for (const attrs of modes) {
    await compareOp('Resize', [x, undefined, tensor([1, 1, 2, 1.5])], attrs as any, {
      rtol: 1e-4,
      atol: 1e-5,
    });
    await compareOp('Resize', [x, undefined, undefined, int64s([1, 2, 3, 3])], attrs as any, {
      rtol: 1e-4,
      atol: 1e-5,
    });
  }
  await compareOp('Upsample', [x, tensor([1, 1, 2, 2])], { mode: 'nearest' }, { opset: 9 });
  await compareOp('Resize', [x, tensor([1, 1, 3, 0.5])], { mode: 'linear' }, { opset: 10, rtol: 1e-5 });
  // ResizeGrad is the adjoint: <R x, y> = <x, R^T y>.
  const attrs = {
    input_shape: [1, 2, 4, 5],
    output_shape: [1, 2, 7, 9],
    scales: [1, 1, 7 / 4, 9 / 5],
    roi: [0, 0, 0, 0, 1, 1, 1, 1],
    mode: 'cubic',
    coordinate_transformation_mode: 'half_pixel',
    nearest_mode: 'round_prefer_floor',
    cubic_coeff_a: -0.75,
    exclude_outside: 0,
    antialias: 0,
  };
  await compareOp('ResizeApply', [x], attrs, { domain: 'com.tessera', rtol: 1e-4, atol: 1e-5 });
  await compareOp('ResizeGrad', [rn([1, 2, 7, 9])], attrs, { domain: 'com.tessera', rtol: 1e-4, atol: 1e-5 });
});

test('scatter-add by flat index (duplicates accumulate) and gather by flat index', async () => {
  const vals = rn([6]);
  const map = tensor([0, 3, 3, -1, 5, 0], { dtype: 'int32' });
  await compareOp('ScatterAddFlat', [vals, map], { shape: [2, 3] }, { domain: 'tessera', rtol: 1e-5 });
  await compareOp(
    'FlatScatterAdd',
    [vals, int64s([0, 3, 3, 1, 5, 0])],
    { shape: [6] },
    { domain: 'com.tessera', rtol: 1e-5 },
  );
  await compareOp(
    'FlatGather',
    [
      rn([2, 3]),
      tensor(
        [
          [5, 0],
          [0, 2],
        ],
        { dtype: 'int64' },
      ),
    ],
    {},
    { domain: 'com.tessera' },
  );
  await compareOp(
    'GatherFlat',
    [rn([2, 3]), tensor([5, 0, 0, 2], { dtype: 'int32' })],
    { shape: [2, 2] },
    { domain: 'tessera' },
  );
  await compareOp(
    'ScatterAddFlat',
    [tensor([1, 2, 3], { dtype: 'int32' }), tensor([1, 1, 0], { dtype: 'int32' })],
    { shape: [2] },
    { domain: 'tessera' },
  );
  // MaxPool's gradient goes through FlatScatterAdd with the GPU-resident indices.
  const [y, ind] = dispatch('MaxPool', [rn([1, 1, 4, 4]).to('webgpu')], {
    kernel_shape: [3, 3],
    strides: [1, 1],
  });
  const dx = dispatch1('FlatScatterAdd', [y!, ind!], { shape: [1, 1, 4, 4] }, { domain: 'com.tessera' });
  assert.equal(dx.device, 'webgpu');
});

test('Range (int64 exactly, int32, float32), EyeLike, CumSum, LpNormalization, MeanVarianceNormalization', async () => {
  await compareOp('Range', [int64s([2 ** 40]), int64s([2 ** 40 + 10]), int64s([3])]);
  await compareOp('Range', [int64s([10]), int64s([-3]), int64s([-4])]);
  await compareOp('Range', [
    tensor(1, { dtype: 'int32' }),
    tensor(9, { dtype: 'int32' }),
    tensor(2, { dtype: 'int32' }),
  ]);
  await compareOp('Range', [tensor(0.5), tensor(3), tensor(0.25)], {}, { rtol: 1e-6 });
  await compareOp('EyeLike', [rn([3, 5])], { k: 1 });
  await compareOp('EyeLike', [rn([4, 3])], { k: -1, dtype: 7 });
  for (const [exclusive, reverse] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ]) {
    await compareOp(
      'CumSum',
      [rn([3, 4, 5]), int64s([1]).reshape([])],
      { exclusive, reverse },
      { rtol: 1e-5, atol: 1e-5 },
    );
  }
  await compareOp('CumSum', [
    tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int32' },
    ),
    tensor(0, { dtype: 'int32' }),
  ]);
  await compareOp('LpNormalization', [rn([3, 5])], { p: 1, axis: 0 }, { rtol: 1e-5 });
  await compareOp(
    'LpNormalization',
    [
      tensor([
        [0, 0],
        [3, 4],
      ]),
    ],
    { p: 2, axis: -1 },
  );
  await compareOp('MeanVarianceNormalization', [rn([2, 3, 4, 5])], {}, { rtol: 1e-4, atol: 1e-5 });
  await compareOp('MeanVarianceNormalization', [rn([2, 3, 4])], { axes: [1] }, { rtol: 1e-4, atol: 1e-5 });
});
