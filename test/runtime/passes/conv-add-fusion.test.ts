/**
 * The conv-add fusion pass: a Conv whose only use is a residual AddRelu becomes one FusedConv with
 * the shortcut as its fourth input (Y = Relu(Conv + B + Z), added to each tile in cache). Fused
 * graphs must give the unfused graph's values exactly, on the native driver and on the fallback
 * (FusedConv running Conv, Add and Relu one by one), and a ResNet-style network what
 * onnxruntime-node gives on the same ONNX bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { nativeGemmOn, setNativeGemm } from '../../../src/backends/cpu/wasm/runtime.js';
import { importOnnxBytes } from '../../../src/importers/onnx/index.js';
import { Generator, InferenceSession, randn, ops as tops } from '../../../src/index.js';
import { convAddFusion } from '../../../src/runtime/passes/index.js';
import { assertClose } from '../../helpers/close.js';
import { model, node, T, vi } from '../../importers/build.js';
import { resnetBlocks } from './resnet-blocks.js';

const g = new Generator(91);
const rn = (shape: number[]) => randn(shape, { generator: g });
const opsOf = (s: InferenceSession) =>
  s.model.graph.nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : n.opType));

test('each residual Conv + AddRelu becomes one FusedConv; the values are the unfused ones exactly, and onnxruntime-node agrees', async () => {
  for (const [C, H, W, shortcutFirst] of [
    [6, 17, 19, false],
    [40, 9, 11, true],
  ] as const) {
    const bytes = resnetBlocks({ batch: 2, C, H, W, blocks: 2, shortcutFirst, blockOutput: true }, g);
    const input = rn([2, C, H, W]);
    const fused = InferenceSession.fromModel(importOnnxBytes(bytes));
    const unfused = InferenceSession.fromModel(importOnnxBytes(bytes), { passes: { convAddFusion: false } });
    const kinds = opsOf(fused);
    assert.equal(kinds.filter((o) => o === 'com.tessera:AddRelu').length, 0, kinds.join(' '));
    assert.equal(
      fused.model.graph.nodes.filter((n) => n.opType === 'FusedConv' && n.inputs.length === 4).length,
      2,
      kinds.join(' '),
    );
    const ortSession = await ort.InferenceSession.create(bytes);
    const ortOut = await ortSession.run({
      x: new ort.Tensor('float32', input.numbers() as Float32Array, [2, C, H, W]),
    });
    const outs = fused.outputNames;
    const want = await unfused.run({ x: input });
    for (const native of [true, false]) {
      const was = nativeGemmOn();
      setNativeGemm(native);
      try {
        const got = await fused.run({ x: input });
        for (const k of outs) {
          if (native === was) assertClose(got[k]!, want[k]!, { rtol: 0, atol: 0 });
          assertClose(got[k]!, ortOut[k]!.data as Float32Array, { rtol: 1e-4, atol: 1e-4 });
        }
      } finally {
        setNativeGemm(was);
      }
    }
  }
});

test('FusedConv with a residual input equals Conv, Add and Relu one by one, op by op', () => {
  const x = rn([1, 5, 8, 7]);
  const w = rn([4, 5, 3, 3]);
  const b = rn([4]);
  const z = rn([1, 4, 8, 7]);
  const attrs = { pads: [1, 1, 1, 1], activation: 'Relu', activation_params: [] };
  const want = tops.dispatch1('Relu', [
    tops.dispatch1('Add', [tops.dispatch1('Conv', [x, w, b], { pads: [1, 1, 1, 1] }), z]),
  ]);
  const got = tops.dispatch1('FusedConv', [x, w, b, z], attrs, { domain: 'com.tessera' });
  assertClose(got, want, { rtol: 1e-6, atol: 1e-6 });
  // No bias: the empty optional input.
  const noBias = tops.dispatch1('FusedConv', [x, w, undefined, z], attrs, { domain: 'com.tessera' });
  const want2 = tops.dispatch1('Relu', [
    tops.dispatch1('Add', [tops.dispatch1('Conv', [x, w], { pads: [1, 1, 1, 1] }), z]),
  ]);
  assertClose(noBias, want2, { rtol: 1e-6, atol: 1e-6 });
});

test('what must not fuse: a Conv output used twice, a broadcast shortcut, other devices', () => {
  const count = (bytes: Uint8Array) =>
    InferenceSession.fromModel(importOnnxBytes(bytes), { graphOptimizationLevel: 'all' }).optimizations.find(
      (r) => r.name === 'convAddFusion',
    )!.changes;
  const w = rn([3, 3, 1, 1]);
  const build = (nodes: object[], zShape: number[], outputs = [vi('y', T.float)]) =>
    model({
      nodes,
      inputs: [vi('x', T.float, [1, 3, 4, 5]), vi('z', T.float, zShape)],
      outputs,
      initializers: { w },
      opset: 13,
    });
  const block = [node('Conv', ['x', 'w'], ['c']), node('Add', ['c', 'z'], ['s']), node('Relu', ['s'], ['y'])];
  assert.equal(count(build(block, [1, 3, 4, 5])), 1, 'the plain case fuses');
  assert.equal(count(build(block, [1, 3, 1, 5])), 0, 'broadcast shortcut');
  assert.equal(
    count(build(block, [1, 3, 4, 5], [vi('y', T.float), vi('c', T.float)])),
    0,
    'conv output used twice',
  );
  assert.equal(convAddFusion(importOnnxBytes(build(block, [1, 3, 4, 5])), { device: 'webgpu' }), 0, 'webgpu');
});
