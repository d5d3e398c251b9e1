/**
 * Graph passes: each one, switched on alone, must make its change and leave the model's outputs as
 * they are with every pass off; 'all' must agree too. Synthetic graphs target each pass; real
 * models from ../shared/models check them on published networks.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { importOnnxBytes, importOnnxFile, readValueFile } from '../../src/importers/onnx/index.js';
import { Generator, InferenceSession, type Model, randn, type Tensor, tensor } from '../../src/index.js';
import { PASSES, type PassName } from '../../src/runtime/passes/index.js';
import { sharedDir } from '../conformance/harness.js';
import { assertClose } from '../helpers/close.js';
import { attr, graph, model, node, T, vi } from './build.js';

const g = new Generator(1234);
const rn = (shape: number[]) => randn(shape, { generator: g });
const rpos = (shape: number[]) => randn(shape, { generator: g }).abs().add(0.5);

type Feeds = Record<string, Tensor>;

/** Runs `load()` with all passes off, with `pass` alone, and with 'all'; checks the pass changed something and outputs agree. */
async function checkPass(load: () => Model, feeds: Feeds, pass: PassName, tol = { rtol: 1e-4, atol: 1e-5 }) {
  const base = InferenceSession.fromModel(load(), { graphOptimizationLevel: 'disabled' });
  const only = InferenceSession.fromModel(load(), {
    graphOptimizationLevel: 'disabled',
    passes: { [pass]: true },
  });
  const all = InferenceSession.fromModel(load(), { graphOptimizationLevel: 'all' });
  const made = only.optimizations.find((r) => r.name === pass)?.changes ?? 0;
  assert.ok(made > 0, `${pass} changed nothing`);
  const want = await base.run(feeds);
  for (const s of [only, all]) {
    const got = await s.run(feeds);
    for (const k of base.outputNames) assertClose(got[k]!, want[k]!, tol);
  }
  return { only, all };
}

test('constant folding: shape arithmetic on constants becomes initializers', async () => {
  // y = Reshape(x, Concat(Shape(c)[0:1], [-1])) + Neg(c2): everything but Reshape and Add folds.
  const bytes = model({
    nodes: [
      node('Shape', ['c'], ['cs']),
      node('Slice', ['cs', 'zero', 'one'], ['c0']),
      node('Concat', ['c0', 'minus1'], ['shape'], [attr.int('axis', 0)]),
      node('Reshape', ['x', 'shape'], ['xr']),
      node('Neg', ['c2'], ['nc2']),
      node('Add', ['xr', 'nc2'], ['y']),
    ],
    inputs: [vi('x', T.float, [2, 6])],
    outputs: [vi('y', T.float)],
    initializers: {
      c: rn([3, 5]),
      c2: rn([3, 4]),
      zero: tensor([0], { dtype: 'int64' }),
      one: tensor([1], { dtype: 'int64' }),
      minus1: tensor([-1], { dtype: 'int64' }),
    },
  });
  // The shape is (3, -1): x [2, 6] -> [3, 4].
  const { only } = await checkPass(() => importOnnxBytes(bytes), { x: rn([2, 6]) }, 'constantFolding');
  assert.deepEqual(
    only.model.graph.nodes.map((n) => n.opType),
    ['Reshape', 'Add'],
  );
  assert.equal(only.optimizations[0]!.changes, 4);
});

test('shape inference records symbolic shapes of intermediate values', async () => {
  // x[N, 3, 8, 8] -> Conv (4 filters 3x3, pads 1, stride 2) -> [N, 4, 4, 4] -> Flatten -> [N, 64] -> MatMul -> [N, 10]
  const bytes = model({
    nodes: [
      node('Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])]),
      node('Flatten', ['c'], ['f']),
      node('MatMul', ['f', 'w2'], ['y']),
    ],
    inputs: [vi('x', T.float, ['N', 3, 8, 8])],
    outputs: [vi('y', T.float)],
    initializers: { w: rn([4, 3, 3, 3]), w2: rn([64, 10]) },
  });
  const { only } = await checkPass(() => importOnnxBytes(bytes), { x: rn([2, 3, 8, 8]) }, 'shapeInference');
  const shape = (v: string) => {
    const t = only.model.graph.valueInfo.get(v)?.type;
    return t?.kind === 'tensor' ? t.shape : undefined;
  };
  assert.deepEqual(shape('c'), ['N', 4, 4, 4]);
  assert.deepEqual(shape('f'), ['N', 64]);
  assert.deepEqual(shape('y'), ['N', 10]);
  assert.deepEqual(only.outputMetadata[0], { name: 'y', isTensor: true, type: 'float32', shape: ['N', 10] });
});

test('dead-node removal drops what no output needs, in subgraphs too', async () => {
  const bytes = model({
    nodes: [node('Relu', ['x'], ['y']), node('Exp', ['x'], ['unused']), node('Neg', ['unused'], ['unused2'])],
    inputs: [vi('x', T.float, [4])],
    outputs: [vi('y', T.float, [4])],
    initializers: { orphan: tensor([1, 2]) },
  });
  const load = () => importOnnxBytes(bytes);
  const { only } = await checkPass(load, { x: rn([4]) }, 'deadNodeElimination');
  assert.deepEqual(
    only.model.graph.nodes.map((n) => n.opType),
    ['Relu'],
  );
  assert.equal(only.model.graph.initializers.size, 0);
  // Inside an If branch: the Exp there is dead, the Neg is the branch output.
  const branch = graph({
    nodes: [node('Exp', ['x'], ['e']), node('Neg', ['x'], ['r'])],
    inputs: [],
    outputs: [vi('r', T.float)],
  });
  const withIf = model({
    nodes: [node('If', ['c'], ['y'], [attr.graph('then_branch', branch), attr.graph('else_branch', branch)])],
    inputs: [vi('c', T.bool, []), vi('x', T.float, [2])],
    outputs: [vi('y', T.float, [2])],
  });
  const s = InferenceSession.fromModel(importOnnxBytes(withIf), { graphOptimizationLevel: 'basic' });
  const sub = s.model.graph.nodes[0]!.attrs.then_branch as unknown as {
    graph: { nodes: { opType: string }[] };
  };
  assert.deepEqual(
    sub.graph.nodes.map((n) => n.opType),
    ['Neg'],
  );
  assert.deepEqual((await s.run({ c: tensor(true), x: tensor([1, -2]) })).y!.toArray(), [-1, 2]);
});

test("dead-node removal drops a Dropout's unread mask output, and keeps one that is read", async () => {
  for (const opset of [7, 12]) {
    const bytes = model({
      nodes: [
        node('Dropout', ['x'], ['d', 'unread']),
        node('Relu', ['d'], ['y']),
        node('Dropout', ['x'], ['d2', 'mask2']),
        node('Neg', ['d2'], ['z']),
      ],
      inputs: [vi('x', T.float, [2, 3])],
      outputs: [
        vi('y', T.float, [2, 3]),
        vi('z', T.float, [2, 3]),
        vi('mask2', opset >= 10 ? T.bool : T.float, [2, 3]),
      ],
      opset,
    });
    const { only } = await checkPass(() => importOnnxBytes(bytes), { x: rn([2, 3]) }, 'deadNodeElimination');
    const dropouts = only.model.graph.nodes.filter((n) => n.opType === 'Dropout');
    assert.deepEqual(
      dropouts.map((n) => n.outputs),
      [['d'], ['d2', 'mask2']],
      `opset ${opset}`,
    );
    const out = await only.run({ x: rn([2, 3]) });
    assert.deepEqual(
      out.mask2!.toArray(),
      opset >= 10
        ? [
            [true, true, true],
            [true, true, true],
          ]
        : [
            [1, 1, 1],
            [1, 1, 1],
          ],
    );
  }
});

// Conv (with bias) -> BatchNormalization -> Relu, with random weights and statistics.
const convBnBytes = model({
  nodes: [
    node('Conv', ['x', 'w', 'b'], ['c'], [attr.ints('pads', [1, 1, 1, 1])]),
    node('BatchNormalization', ['c', 'scale', 'bias', 'mean', 'var'], ['n'], [attr.float('epsilon', 1e-3)]),
    node('Relu', ['n'], ['y']),
  ],
  inputs: [vi('x', T.float, [1, 3, 6, 6])],
  outputs: [vi('y', T.float, [1, 4, 6, 6])],
  initializers: {
    w: rn([4, 3, 3, 3]),
    b: rn([4]),
    scale: rn([4]),
    bias: rn([4]),
    mean: rn([4]),
    var: rpos([4]),
  },
});
const convBn = () => importOnnxBytes(convBnBytes);

test('Conv + BatchNormalization folding', async () => {
  const { only, all } = await checkPass(convBn, { x: rn([1, 3, 6, 6]) }, 'convBatchNormFusion');
  assert.deepEqual(
    only.model.graph.nodes.map((n) => n.opType),
    ['Conv', 'Relu'],
  );
  // 'all' also fuses the Relu into the folded Conv.
  assert.deepEqual(
    all.model.graph.nodes.map((n) => `${n.domain}:${n.opType}`),
    ['com.tessera:FusedConv'],
  );
});

test('MatMul + Add -> Gemm, only for 2-D products with a one-way broadcast bias', async () => {
  const load = (biasShape: number[], xShape: (number | string)[] = [3, 4]) => {
    const bytes = model({
      nodes: [node('MatMul', ['x', 'w'], ['m']), node('Add', ['bias', 'm'], ['y'])],
      inputs: [vi('x', T.float, xShape)],
      outputs: [vi('y', T.float)],
      initializers: { w: rn([4, 5]), bias: rn(biasShape) },
    });
    return () => importOnnxBytes(bytes);
  };
  const { only } = await checkPass(load([5]), { x: rn([3, 4]) }, 'matMulAddFusion');
  assert.deepEqual(
    only.model.graph.nodes.map((n) => n.opType),
    ['Gemm'],
  );
  await checkPass(load([3, 1]), { x: rn([3, 4]) }, 'matMulAddFusion');
  // A [2, 3, 5] bias would broadcast the product up: not a Gemm. Nor is a batched (3-D) MatMul.
  for (const [bias, xs] of [
    [
      [2, 3, 5],
      [3, 4],
    ],
    [[5], [2, 3, 4]],
  ] as const) {
    const s = InferenceSession.fromModel(load([...bias], [...xs])(), { graphOptimizationLevel: 'extended' });
    assert.ok(!s.model.graph.nodes.some((n) => n.opType === 'Gemm'), `fused with bias ${bias} and x ${xs}`);
  }
});

test('Gemm/MatMul/Conv + activation fusion, Clip bounds from constants', async () => {
  const acts: [string, string[], object[], Record<string, Tensor>][] = [
    ['Relu', [], [], {}],
    ['Sigmoid', [], [], {}],
    ['Tanh', [], [], {}],
    ['LeakyRelu', [], [attr.float('alpha', 0.3)], {}],
    ['HardSigmoid', [], [attr.float('alpha', 0.25), attr.float('beta', 0.4)], {}],
    ['Clip', ['lo', 'hi'], [], { lo: tensor(-0.5), hi: tensor(0.75) }],
  ];
  for (const [act, extra, attrs, inits] of acts) {
    for (const op of ['MatMul', 'Gemm']) {
      const bytes = model({
        nodes: [
          node(op, op === 'Gemm' ? ['x', 'w', 'b'] : ['x', 'w'], ['m']),
          node(act, ['m', ...extra], ['y'], attrs),
        ],
        inputs: [vi('x', T.float, [3, 4])],
        outputs: [vi('y', T.float, [3, 5])],
        initializers: { w: rn([4, 5]), b: rn([5]), ...inits },
      });
      const load = () => importOnnxBytes(bytes);
      const { only } = await checkPass(load, { x: rn([3, 4]) }, 'activationFusion');
      assert.deepEqual(
        only.model.graph.nodes.map((n) => n.opType),
        [`Fused${op}`],
        `${op}+${act}`,
      );
    }
  }
  // Conv feeds BatchNormalization, not the Relu: without the BN fold there is nothing to fuse.
  const s = InferenceSession.fromModel(convBn(), {
    graphOptimizationLevel: 'disabled',
    passes: { activationFusion: true },
  });
  assert.equal(s.optimizations[0]!.changes, 0);
});

test('passes on real models: each pass that applies leaves outputs unchanged; all agree with the expected values', async () => {
  const dir = join(sharedDir(), 'models');
  const applied: string[] = [];
  for (const name of ['mnist8_cntk', 'gtzan_genre_mlp_keras', 'mnist_mlp_batchnorm']) {
    const f = join(dir, name, 'model.onnx');
    if (!existsSync(f)) continue;
    const m = importOnnxFile(f);
    const set = join(dir, name, 'test_data_set_0');
    const input = m.graph.inputs.find((i) => !m.graph.initializers.has(i.name))!;
    const feeds = { [input.name]: readValueFile(join(set, 'input_0.pb'), input.type) as Tensor };
    const expected = readValueFile(join(set, 'output_0.pb')) as Tensor;
    for (const pass of PASSES.map((p) => p.name)) {
      const probe = InferenceSession.fromModel(importOnnxFile(f), {
        graphOptimizationLevel: 'disabled',
        passes: { [pass]: true },
      });
      if (!probe.optimizations[0]!.changes) continue;
      applied.push(`${name}:${pass}`);
      const { all } = await checkPass(() => importOnnxFile(f), feeds, pass, { rtol: 1e-4, atol: 1e-4 });
      // SOURCES.md tolerance, against values from the source framework.
      assertClose((await all.run(feeds))[all.outputNames[0]!]!, expected, { rtol: 1e-4, atol: 1e-4 });
    }
  }
  // MatMul+Add -> Gemm applies to both MLPs and mnist8's classifier; BN folding needs a Conv.
  for (const want of ['mnist8_cntk:matMulAddFusion', 'gtzan_genre_mlp_keras:matMulAddFusion']) {
    assert.ok(applied.includes(want), `${want} did not apply (applied: ${applied.join(', ')})`);
  }
  // In the full pipeline the Gemms then absorb their Relus.
  const gtzan = join(dir, 'gtzan_genre_mlp_keras', 'model.onnx');
  if (existsSync(gtzan)) {
    const ops = InferenceSession.fromModel(importOnnxFile(gtzan)).model.graph.nodes.map((n) => n.opType);
    assert.deepEqual(
      ops.filter((o) => o.startsWith('Fused')),
      ['FusedGemm', 'FusedGemm', 'FusedGemm'],
    );
  }
});
