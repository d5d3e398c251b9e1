/**
 * The channel-affine fusion pass: per-channel BatchNormalization / Mul / Add / Sub chains fold into
 * a preceding Conv, or become one com.tessera::ChannelAffine (CPU sessions only). Every rewritten
 * graph must give what the unfused graph gives (passes off), and a DenseNet-style network must give
 * what onnxruntime-node gives on the same ONNX bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { importOnnxBytes } from '../../../src/importers/onnx/index.js';
import { Generator, InferenceSession, type Model, randn, type Tensor, tensor } from '../../../src/index.js';
import { channelAffineFusion } from '../../../src/runtime/passes/index.js';
import { assertClose } from '../../helpers/close.js';
import { attr, model, node, T, vi } from '../../importers/build.js';

const g = new Generator(4321);
const rn = (shape: number[]) => randn(shape, { generator: g });
const rpos = (shape: number[]) => randn(shape, { generator: g }).abs().add(0.5);

const ops = (s: InferenceSession) =>
  s.model.graph.nodes.map((n) => (n.domain ? `${n.domain}:${n.opType}` : n.opType));

/** Runs the model with every pass off, with this pass alone, and with 'all'; outputs must agree. */
async function check(bytes: Uint8Array, feeds: Record<string, Tensor>, tol = { rtol: 1e-5, atol: 1e-5 }) {
  const load = () => importOnnxBytes(bytes);
  const base = InferenceSession.fromModel(load(), { graphOptimizationLevel: 'disabled' });
  const only = InferenceSession.fromModel(load(), {
    graphOptimizationLevel: 'disabled',
    passes: { channelAffineFusion: true, shapeInference: true },
  });
  const all = InferenceSession.fromModel(load(), { graphOptimizationLevel: 'all' });
  const off = InferenceSession.fromModel(load(), { passes: { channelAffineFusion: false } });
  const want = await base.run(feeds);
  for (const s of [only, all, off]) {
    const got = await s.run(feeds);
    for (const k of base.outputNames) assertClose(got[k]!, want[k]!, tol);
  }
  return { only, all, off };
}

/** A BatchNormalization with random statistics on `x` (C channels), writing `y`. */
function bn(x: string, y: string, C: number, inits: Record<string, Tensor>, eps?: number) {
  const p = `${y}_bn`;
  inits[`${p}_s`] = rn([C]);
  inits[`${p}_b`] = rn([C]);
  inits[`${p}_m`] = rn([C]);
  inits[`${p}_v`] = rpos([C]);
  return node(
    'BatchNormalization',
    [x, `${p}_s`, `${p}_b`, `${p}_m`, `${p}_v`],
    [y],
    eps === undefined ? [] : [attr.float('epsilon', eps)],
  );
}

test('BatchNormalization + Mul + Add + Relu (DenseNet) becomes one ChannelAffine; its values match', async () => {
  // Odd sizes, and both per-channel constant layouts ([C, 1, 1] and [1, C, 1, 1]).
  const C = 5;
  const inits: Record<string, Tensor> = { k: rn([C, 1, 1]), t: rn([1, C, 1, 1]) };
  const bytes = model({
    nodes: [
      node('MaxPool', ['x'], ['p'], [attr.ints('kernel_shape', [2, 2]), attr.ints('pads', [1, 1, 1, 1])]),
      bn('p', 'b', C, inits, 1e-3),
      node('Mul', ['b', 'k'], ['m']),
      node('Add', ['t', 'm'], ['a']),
      node('Relu', ['a'], ['y']),
    ],
    inputs: [vi('x', T.float, [2, C, 7, 9])],
    outputs: [vi('y', T.float)],
    initializers: inits,
  });
  const { only, all } = await check(bytes, { x: rn([2, C, 7, 9]) });
  assert.deepEqual(ops(only), ['MaxPool', 'com.tessera:ChannelAffine']);
  assert.deepEqual(ops(all), ['MaxPool', 'com.tessera:ChannelAffine']);
  assert.equal(only.model.graph.nodes[1]!.attrs.activation, 'Relu');
});

test('Conv + BatchNormalization + Mul + Add + Relu folds into one FusedConv', async () => {
  const inits: Record<string, Tensor> = { w: rn([6, 3, 3, 3]), k: rn([6, 1, 1]), t: rn([6, 1, 1]) };
  const bytes = model({
    nodes: [
      node('Conv', ['x', 'w'], ['c'], [attr.ints('pads', [1, 1, 1, 1]), attr.ints('strides', [2, 2])]),
      bn('c', 'b', 6, inits),
      node('Mul', ['k', 'b'], ['m']),
      node('Add', ['m', 't'], ['a']),
      node('Relu', ['a'], ['y']),
    ],
    inputs: [vi('x', T.float, [1, 3, 11, 13])],
    outputs: [vi('y', T.float)],
    initializers: inits,
  });
  const { only, all, off } = await check(bytes, { x: rn([1, 3, 11, 13]) }, { rtol: 1e-4, atol: 1e-5 });
  // Alone, the pass folds BatchNormalization, Mul and Add into the Conv; the full pipeline then fuses the Relu.
  assert.deepEqual(ops(only), ['Conv', 'Relu']);
  assert.deepEqual(ops(all), ['com.tessera:FusedConv']);
  // Without it, Conv + BatchNormalization still fold, and Mul, Add and Relu stay.
  assert.deepEqual(ops(off), ['Conv', 'Mul', 'Add', 'Relu']);
});

test('scalar and Sub steps; a Conv with a bias; float64', async () => {
  const bytes = model({
    nodes: [
      node('Conv', ['x', 'w', 'cb'], ['c'], [attr.int('group', 2)]),
      node('Sub', ['c', 's'], ['d']),
      node('Mul', ['d', 'k'], ['e']),
      node('Identity', ['e'], ['f']),
      node('Mul', ['f', 'half'], ['h']),
      node('Sub', ['h', 'k2'], ['y']),
    ],
    inputs: [vi('x', T.double, [3, 4, 5, 3])],
    outputs: [vi('y', T.double)],
    initializers: {
      w: rn([4, 2, 2, 2]).to('float64'),
      cb: rn([4]).to('float64'),
      s: rn([1]).to('float64'),
      k: rn([1, 4, 1, 1]).to('float64'),
      half: tensor(0.5, { dtype: 'float64' }),
      k2: rn([4, 1, 1]).to('float64'),
    },
  });
  const { only } = await check(bytes, { x: rn([3, 4, 5, 3]).to('float64') }, { rtol: 1e-12, atol: 1e-12 });
  assert.deepEqual(ops(only), ['Conv', 'Identity', 'com.tessera:ChannelAffine']);
  assert.equal(only.model.graph.nodes[2]!.attrs.activation, '');
});

test('rank 2 and rank 3 inputs: the channel axis is 1', async () => {
  for (const shape of [
    [7, 3],
    [2, 3, 11],
  ]) {
    const k = shape.length === 2 ? [3] : [3, 1];
    const bytes = model({
      nodes: [node('Add', ['x', 'a'], ['b']), node('Mul', ['b', 'k'], ['c']), node('Relu', ['c'], ['y'])],
      inputs: [vi('x', T.float, shape)],
      outputs: [vi('y', T.float)],
      initializers: { a: rn(k), k: rn(k) },
    });
    const { only } = await check(bytes, { x: rn(shape) });
    assert.deepEqual(ops(only), ['com.tessera:ChannelAffine'], `rank ${shape.length}`);
  }
});

test('what must not fuse: spatial constants, shared values, k - x, training BatchNormalization, lone steps', async () => {
  const cases: [string, object[], Record<string, Tensor>][] = [
    // [1, 1, H, W] varies along the spatial axes, not the channel.
    ['spatial', [node('Mul', ['x', 'sp'], ['m']), node('Relu', ['m'], ['y'])], { sp: rn([1, 1, 4, 6]) }],
    // [C, 1] against a rank-4 input lies along axis 2.
    ['axis 2', [node('Mul', ['x', 'c2'], ['m']), node('Relu', ['m'], ['y'])], { c2: rn([4, 1]) }],
    // m is read twice (Relu and the output z).
    ['shared', [node('Mul', ['x', 'k'], ['m']), node('Relu', ['m'], ['y']), node('Neg', ['m'], ['z'])], {}],
    // k - x negates x.
    ['k - x', [node('Sub', ['k', 'x'], ['m']), node('Relu', ['m'], ['y'])], {}],
    // x * x is no constant step.
    ['x * x', [node('Mul', ['x', 'x'], ['m']), node('Relu', ['m'], ['y'])], {}],
    // A lone Mul (one step, no Relu) stays.
    ['lone', [node('Mul', ['x', 'k'], ['y'])], {}],
  ];
  for (const [what, nodes, extra] of cases) {
    const outputs = [vi('y', T.float), ...(what === 'shared' ? [vi('z', T.float)] : [])];
    const bytes = model({
      nodes,
      inputs: [vi('x', T.float, [2, 4, 4, 6])],
      outputs,
      initializers: { k: rn([4, 1, 1]), ...extra },
    });
    const s = InferenceSession.fromModel(importOnnxBytes(bytes), { graphOptimizationLevel: 'all' });
    assert.equal(s.optimizations.find((r) => r.name === 'channelAffineFusion')!.changes, 0, what);
  }
  // BatchNormalization in training mode (opset 14+) computes batch statistics: not an affine step.
  const inits: Record<string, Tensor> = {};
  const bnTrain = bn('x', 'b', 4, inits);
  bnTrain.attribute = [attr.int('training_mode', 1)];
  const bytes = model({
    nodes: [bnTrain, node('Relu', ['b'], ['y'])],
    inputs: [vi('x', T.float, [2, 4, 3, 3])],
    outputs: [vi('y', T.float)],
    initializers: inits,
  });
  const s = InferenceSession.fromModel(importOnnxBytes(bytes), { graphOptimizationLevel: 'all' });
  assert.equal(s.optimizations.find((r) => r.name === 'channelAffineFusion')!.changes, 0, 'training mode');
});

test('a session on another device folds into Convs but makes no ChannelAffine', () => {
  const inits: Record<string, Tensor> = { w: rn([4, 3, 1, 1]), k: rn([4, 1, 1]) };
  const bytes = model({
    nodes: [
      node('Conv', ['x', 'w'], ['c']),
      node('Mul', ['c', 'k'], ['m']),
      node('Relu', ['m'], ['r']),
      bn('r', 'b', 4, inits),
      node('Relu', ['b'], ['y']),
    ],
    inputs: [vi('x', T.float, [1, 3, 5, 5])],
    outputs: [vi('y', T.float)],
    initializers: inits,
  });
  const onCpu = importOnnxBytes(bytes);
  assert.equal(channelAffineFusion(onCpu, {}), 2);
  assert.deepEqual(
    onCpu.graph.nodes.map((n) => n.opType),
    ['Conv', 'Relu', 'ChannelAffine'],
  );
  const onGpu: Model = importOnnxBytes(bytes);
  assert.equal(channelAffineFusion(onGpu, { device: 'webgpu' }), 1);
  assert.deepEqual(
    onGpu.graph.nodes.map((n) => n.opType),
    ['Conv', 'Relu', 'BatchNormalization', 'Relu'],
  );
});

test('a DenseNet-style network matches onnxruntime-node, fused and unfused', async () => {
  // Two dense layers (BN, Mul, Add, Relu, 1x1 Conv, BN, Mul, Add, Relu, 3x3 Conv, Concat) and a
  // transition (BN, Mul, Add, Relu, 1x1 Conv, AveragePool), as the converted DenseNet-121 has.
  const inits: Record<string, Tensor> = {};
  const nodes: object[] = [];
  let x = 'x';
  let C = 6;
  const affineRelu = (input: string, name: string, c: number) => {
    nodes.push(bn(input, `${name}_bn`, c, inits));
    inits[`${name}_k`] = rn([c, 1, 1]);
    inits[`${name}_t`] = rn([c, 1, 1]);
    nodes.push(node('Mul', [`${name}_bn`, `${name}_k`], [`${name}_m`]));
    nodes.push(node('Add', [`${name}_m`, `${name}_t`], [`${name}_a`]));
    nodes.push(node('Relu', [`${name}_a`], [`${name}_r`]));
    return `${name}_r`;
  };
  const conv = (input: string, name: string, cin: number, cout: number, k: number) => {
    inits[`${name}_w`] = rn([cout, cin, k, k]).mul(1 / Math.sqrt(cin * k * k));
    const pads = k === 3 ? [attr.ints('pads', [1, 1, 1, 1])] : [];
    nodes.push(node('Conv', [input, `${name}_w`], [name], pads));
    return name;
  };
  for (let layer = 0; layer < 2; layer++) {
    const a = affineRelu(x, `l${layer}a`, C);
    const c1 = conv(a, `l${layer}c1`, C, 8, 1);
    const b = affineRelu(c1, `l${layer}b`, 8);
    const c2 = conv(b, `l${layer}c2`, 8, 3, 3);
    nodes.push(node('Concat', [x, c2], [`l${layer}cat`], [attr.int('axis', 1)]));
    x = `l${layer}cat`;
    C += 3;
  }
  const t = conv(affineRelu(x, 'tr', C), 'trc', C, 5, 1);
  nodes.push(
    node('AveragePool', [t], ['y'], [attr.ints('kernel_shape', [2, 2]), attr.ints('strides', [2, 2])]),
  );
  const bytes = model({
    nodes,
    inputs: [vi('x', T.float, [1, 6, 9, 11])],
    outputs: [vi('y', T.float)],
    initializers: inits,
    opset: 13,
  });
  const input = rn([1, 6, 9, 11]);
  const { all, off } = await check(bytes, { x: input }, { rtol: 1e-4, atol: 1e-4 });
  const fusedOps = ops(all);
  assert.equal(fusedOps.filter((o) => o === 'com.tessera:ChannelAffine').length, 3, fusedOps.join(' '));
  assert.equal(fusedOps.filter((o) => o === 'com.tessera:FusedConv').length, 2, fusedOps.join(' '));
  assert.ok(
    !fusedOps.some((o) => ['Mul', 'Add', 'Relu', 'BatchNormalization'].includes(o)),
    fusedOps.join(' '),
  );

  const ortSession = await ort.InferenceSession.create(bytes);
  const ortOut = await ortSession.run({
    x: new ort.Tensor('float32', input.numbers() as Float32Array, [1, 6, 9, 11]),
  });
  const want = ortOut.y!.data as Float32Array;
  for (const s of [all, off]) {
    const got = (await s.run({ x: input })).y!;
    assert.deepEqual([...got.shape], [...ortOut.y!.dims]);
    assertClose(got, want, { rtol: 1e-4, atol: 1e-4 });
  }
});
