/**
 * The add-relu fusion pass: a same-shape Add or two-input Sum whose only use is a Relu becomes one
 * com.tessera::AddRelu on CPU sessions. Fused graphs must give what the unfused graph gives, and a
 * ResNet-style residual network what onnxruntime-node gives on the same ONNX bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { importOnnxBytes } from '../../../src/importers/onnx/index.js';
import { Generator, InferenceSession, randn, type Tensor } from '../../../src/index.js';
import { addReluFusion } from '../../../src/runtime/passes/index.js';
import { assertClose } from '../../helpers/close.js';
import { model, node, T, vi } from '../../importers/build.js';
import { resnetBlocks } from './resnet-blocks.js';

const g = new Generator(77);
const rn = (shape: number[]) => randn(shape, { generator: g });
const ops = (s: InferenceSession) =>
  s.model.graph.nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : n.opType));

async function check(bytes: Uint8Array, feeds: Record<string, Tensor>) {
  const load = () => importOnnxBytes(bytes);
  const base = InferenceSession.fromModel(load(), { graphOptimizationLevel: 'disabled' });
  const only = InferenceSession.fromModel(load(), {
    graphOptimizationLevel: 'disabled',
    passes: { addReluFusion: true, shapeInference: true },
  });
  const all = InferenceSession.fromModel(load(), { graphOptimizationLevel: 'all' });
  const want = await base.run(feeds);
  for (const s of [only, all]) {
    const got = await s.run(feeds);
    // The fused kernel computes what Add then Relu compute: equal, not just close.
    for (const k of base.outputNames) assertClose(got[k]!, want[k]!, { rtol: 0, atol: 0 });
  }
  return { only, all };
}

test('Add + Relu and Sum + Relu of one shape become AddRelu', async () => {
  for (const op of ['Add', 'Sum']) {
    const bytes = model({
      nodes: [node('Neg', ['x'], ['n']), node(op, ['n', 'z'], ['s']), node('Relu', ['s'], ['y'])],
      inputs: [vi('x', T.float, [2, 3, 7, 9]), vi('z', T.float, [2, 3, 7, 9])],
      outputs: [vi('y', T.float)],
    });
    const { only } = await check(bytes, { x: rn([2, 3, 7, 9]), z: rn([2, 3, 7, 9]) });
    assert.deepEqual(ops(only), ['Neg', 'com.tessera:AddRelu'], op);
  }
});

test('what must not fuse: broadcasting, unknown shapes, a shared sum, three-input Sum, other devices', () => {
  const count = (bytes: Uint8Array) =>
    InferenceSession.fromModel(importOnnxBytes(bytes), { graphOptimizationLevel: 'all' }).optimizations.find(
      (r) => r.name === 'addReluFusion',
    )!.changes;
  const build = (
    nodes: object[],
    zShape: (number | string)[] | undefined,
    xShape: (number | string)[] = [2, 3, 4],
  ) =>
    model({
      nodes,
      inputs: [vi('x', T.float, xShape), vi('z', T.float, zShape)],
      outputs: [vi('y', T.float), ...(nodes.length > 2 ? [vi('s', T.float)] : [])],
    });
  const addRelu = [node('Add', ['x', 'z'], ['s']), node('Relu', ['s'], ['y'])];
  assert.equal(count(build(addRelu, [3, 4])), 0, 'broadcast');
  assert.equal(count(build(addRelu, ['N', 3, 4], ['N', 3, 4])), 0, 'symbolic dims');
  assert.equal(count(build(addRelu, undefined)), 0, 'unknown shape');
  assert.equal(count(build([...addRelu, node('Identity', ['s'], ['t'])], [2, 3, 4])), 0, 'shared');
  const sum3 = model({
    nodes: [node('Sum', ['x', 'z', 'x'], ['s']), node('Relu', ['s'], ['y'])],
    inputs: [vi('x', T.float, [2, 3]), vi('z', T.float, [2, 3])],
    outputs: [vi('y', T.float)],
  });
  assert.equal(count(sum3), 0, 'Sum of three');
  const ok = build(addRelu, [2, 3, 4]);
  assert.equal(count(ok), 1, 'same shape');
  assert.equal(addReluFusion(importOnnxBytes(ok), { device: 'webgpu' }), 0, 'webgpu session');
});

test('a ResNet-style residual network matches onnxruntime-node, fused and unfused', async () => {
  // Two bottleneck blocks: Conv-BN-Relu, Conv-BN, Add the shortcut, Relu.
  const C = 6;
  const bytes = resnetBlocks({ batch: 1, C, H: 17, W: 19, blocks: 2 }, g);
  const input = rn([1, C, 17, 19]);
  // (convAddFusion would take the AddRelus into the Convs before them: fuse-conv-add tests that.)
  const fused = InferenceSession.fromModel(importOnnxBytes(bytes), { passes: { convAddFusion: false } });
  const unfused = InferenceSession.fromModel(importOnnxBytes(bytes), {
    passes: { addReluFusion: false, convAddFusion: false },
  });
  assert.equal(ops(fused).filter((o) => o === 'com.tessera:AddRelu').length, 2, ops(fused).join(' '));
  const ortSession = await ort.InferenceSession.create(bytes);
  const ortOut = await ortSession.run({
    x: new ort.Tensor('float32', input.numbers() as Float32Array, [1, C, 17, 19]),
  });
  for (const s of [fused, unfused]) {
    const got = (await s.run({ x: input })).y!;
    assert.deepEqual([...got.shape], [...ortOut.y!.dims]);
    assertClose(got, ortOut.y!.data as Float32Array, { rtol: 1e-4, atol: 1e-4 });
  }
  // Fusing changes no value.
  assertClose((await fused.run({ x: input })).y!, (await unfused.run({ x: input })).y!, { rtol: 0, atol: 0 });
});
