/**
 * InferenceSession with { device: 'webgpu' } on an ONNX model written for the test: a small CNN with
 * the shape-computation pattern exporters emit (Shape -> Gather -> Unsqueeze -> Concat -> Reshape),
 * batch norm, pooling, concat, resize, gemm and softmax. The outputs match the CPU session's, no op
 * falls back to the CPU, and a second run compiles no pipeline.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { webgpuStats } from '../../../src/backends/webgpu/index.js';
import { InferenceSession, int64s, type Tensor, tensor } from '../../../src/index.js';
import { fallbackCounts } from '../../../src/ops/registry.js';
import { attr, model, node, T, vi } from '../../importers/build.js';
import { assertSameValues, gpuReady, rn, ru } from './helpers.js';

before(async () => {
  await gpuReady();
});

function cnn(): Uint8Array {
  const C = 6;
  return model({
    opset: 17,
    inputs: [vi('x', T.float, ['n', 3, 12, 12])],
    outputs: [vi('probs', T.float, ['n', 5]), vi('feat', T.float, ['n', 2 * C, 12, 12])],
    initializers: {
      w1: rn([C, 3, 3, 3], 0.3),
      b1: rn([C], 0.1),
      w2: rn([C, 1, 3, 3], 0.3),
      scale: ru([C], 0.5, 1.5),
      bias: rn([C], 0.1),
      mean: rn([C], 0.1),
      var: ru([C], 0.5, 1.5),
      fc: rn([5, 2 * C * 16], 0.2),
      fcb: rn([5], 0.1),
      zero: int64s([0]),
      minus1: int64s([-1]),
      scales: tensor([1, 1, 2, 2]),
    },
    nodes: [
      node('Conv', ['x', 'w1', 'b1'], ['c1'], [attr.ints('pads', [1, 1, 1, 1])]),
      node('BatchNormalization', ['c1', 'scale', 'bias', 'mean', 'var'], ['bn']),
      node('Relu', ['bn'], ['r1']),
      node('Conv', ['r1', 'w2'], ['dw'], [attr.ints('pads', [1, 1, 1, 1]), attr.int('group', C)]),
      node('Concat', ['r1', 'dw'], ['feat'], [attr.int('axis', 1)]),
      node('MaxPool', ['feat'], ['p1'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
      node('AveragePool', ['p1'], ['p2'], [attr.ints('kernel_shape', [3, 3]), attr.ints('strides', [3, 3])]),
      node('Resize', ['p2', '', 'scales'], ['up'], [attr.str('mode', 'nearest')]),
      node('Shape', ['up'], ['s']),
      node('Gather', ['s', 'zero'], ['n0'], [attr.int('axis', 0)]),
      node('Concat', ['n0', 'minus1'], ['newshape'], [attr.int('axis', 0)]),
      node('Reshape', ['up', 'newshape'], ['flat']),
      node('Gemm', ['flat', 'fc', 'fcb'], ['logits'], [attr.int('transB', 1)]),
      node('Softmax', ['logits'], ['probs'], [attr.int('axis', -1)]),
    ],
  });
}

function totalFallbacks(): number {
  let n = 0;
  for (const v of fallbackCounts.values()) n += v;
  return n;
}

test('a CNN with shape arithmetic runs entirely on the GPU and matches the CPU session', async () => {
  const bytes = cnn();
  const cpu = await InferenceSession.create(bytes);
  const gpu = await InferenceSession.create(bytes, { device: 'webgpu' });
  for (const n of [1, 3]) {
    const x = rn([n, 3, 12, 12]);
    const want = await cpu.run({ x });
    const before = totalFallbacks();
    const got = (await gpu.run({ x })) as Record<string, Tensor>;
    assert.equal(totalFallbacks(), before, 'no op fell back to the CPU');
    assert.equal(got.probs!.device, 'webgpu');
    await assertSameValues(got.probs!, want.probs as Tensor, 1e-4, 1e-5, `probs (batch ${n})`);
    await assertSameValues(got.feat!, want.feat as Tensor, 1e-4, 1e-5, `feat (batch ${n})`);
  }
  // The second run of the same shapes compiles nothing and reuses params buffers.
  const s1 = webgpuStats();
  await gpu.run({ x: rn([3, 3, 12, 12]) });
  const s2 = webgpuStats();
  assert.equal(s2.pipelines, s1.pipelines);
  assert.ok(s2.uniformHits > s1.uniformHits);
});
