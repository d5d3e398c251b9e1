/** ModelProto -> Graph IR: attributes, opsets, model-local functions, subgraph scoping, node order. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { importOnnxBytes } from '../../src/importers/onnx/index.js';
import { InferenceSession, isSubgraphAttr, type Tensor, TesseraError, tensor } from '../../src/index.js';
import { attr, graph, model, node, T, vi } from './build.js';

test('every attribute type becomes a plain JS value', () => {
  const sparse = {
    name: 'sp',
    type: 11,
    sparse_tensor: {
      dims: [4],
      values: { dims: [1], data_type: T.float, float_data: [9] },
      indices: { dims: [1], data_type: T.int64, int64_data: [2] },
    },
  };
  const tp = {
    name: 'tp',
    type: 13,
    tp: { sequence_type: { elem_type: { tensor_type: { elem_type: T.int64 } } } },
  };
  const sub = graph({ nodes: [], inputs: [], outputs: [vi('x', T.float)] });
  const m = importOnnxBytes(
    model({
      nodes: [
        node(
          'Custom',
          ['x'],
          ['y'],
          [
            attr.int('i', -5),
            attr.float('f', 0.25),
            attr.str('s', 'héllo'),
            attr.ints('is', [1, -2]),
            attr.floats('fs', [0.5, 1.5]),
            attr.strs('ss', ['a', 'b']),
            attr.tensor('t', tensor([1, 2], { dtype: 'int32' })),
            attr.graph('g', sub),
            sparse,
            tp,
            { name: 'big', type: 2, i: '9223372036854775807' },
          ],
          { domain: 'com.example' },
        ),
      ],
      inputs: [vi('x', T.float, [2])],
      outputs: [vi('y', T.float, [2])],
      opsets: [
        { domain: '', version: 17 },
        { domain: 'com.example', version: 1 },
      ],
    }),
  );
  const a = m.graph.nodes[0]!.attrs;
  assert.equal(m.graph.nodes[0]!.domain, 'com.example');
  assert.equal(a.i, -5);
  assert.equal(a.f, 0.25);
  assert.equal(a.s, 'héllo');
  assert.deepEqual(a.is, [1, -2]);
  assert.deepEqual(a.fs, [0.5, 1.5]);
  assert.deepEqual(a.ss, ['a', 'b']);
  assert.deepEqual((a.t as Tensor).toArray(), [1, 2]);
  assert.equal((a.t as Tensor).dtype, 'int32');
  assert.ok(isSubgraphAttr(a.g) && a.g.graph.outputs[0]!.name === 'x');
  assert.deepEqual((a.sp as Tensor).toArray(), [0, 0, 9, 0]);
  assert.equal(a.tp, 'seq(tensor(int64))');
  // INT64_MAX (a common "to the end" sentinel) arrives as a number at least 2^63 - 1.
  assert.ok((a.big as number) >= 2 ** 63 - 1);
  assert.deepEqual(
    [...m.opsets],
    [
      ['', 17],
      ['com.example', 1],
    ],
  );
});

test('graph inputs and outputs keep dtype and dims, symbolic dims as names, unknown as null', () => {
  const m = importOnnxBytes(
    model({
      nodes: [node('Relu', ['x'], ['y'])],
      inputs: [vi('x', T.float, ['N', 3, null])],
      outputs: [vi('y', T.float)],
    }),
  );
  assert.deepEqual(m.graph.inputs[0]!.type, { kind: 'tensor', dtype: 'float32', shape: ['N', 3, null] });
  assert.deepEqual(m.graph.outputs[0]!.type, { kind: 'tensor', dtype: 'float32' });
});

test('model-local functions are inlined: attribute references, defaults, nested calls, names kept apart', async () => {
  // Scale(x) = x * alpha (alpha defaults to 2); Twice(x) = Scale(Scale(x)) with alpha passed on.
  const scale = {
    name: 'Scale',
    domain: 'local',
    input: ['x'],
    output: ['y'],
    attribute: [],
    attribute_proto: [attr.float('alpha', 2)],
    opset_import: [{ domain: '', version: 17 }],
    node: [
      node('Constant', [], ['a'], [attr.ref('value_float', 'alpha', 1)]),
      node('Mul', ['x', 'a'], ['y']),
    ],
  };
  const twice = {
    name: 'Twice',
    domain: 'local',
    input: ['x'],
    output: ['y'],
    attribute: ['alpha'],
    opset_import: [
      { domain: '', version: 17 },
      { domain: 'local', version: 1 },
    ],
    node: [
      node('Scale', ['x'], ['t'], [attr.ref('alpha', 'alpha', 1)], { domain: 'local' }),
      node('Scale', ['t'], ['y'], [attr.ref('alpha', 'alpha', 1)], { domain: 'local' }),
    ],
  };
  const bytes = model({
    nodes: [
      node('Scale', ['x'], ['by3'], [attr.float('alpha', 3)], { domain: 'local' }),
      node('Scale', ['x'], ['by2'], [], { domain: 'local' }),
      node('Twice', ['x'], ['by25'], [attr.float('alpha', 5)], { domain: 'local' }),
    ],
    inputs: [vi('x', T.float, [2])],
    outputs: [vi('by3', T.float, [2]), vi('by2', T.float, [2]), vi('by25', T.float, [2])],
    opsets: [
      { domain: '', version: 17 },
      { domain: 'local', version: 1 },
    ],
    functions: [scale, twice],
  });
  const m = importOnnxBytes(bytes);
  assert.ok(
    m.graph.nodes.every((n) => n.domain === ''),
    'no call to a local function is left',
  );
  assert.equal(m.graph.nodes.length, 2 + 2 + 4);
  const s = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const out = await s.run({ x: tensor([1, -2]) });
  assert.deepEqual([...out.by3!.numbers()], [3, -6]);
  assert.deepEqual([...out.by2!.numbers()], [2, -4]);
  assert.deepEqual([...out.by25!.numbers()], [25, -50]);
});

test('subgraphs read values of the enclosing graphs, and nodes run in dependency order', async () => {
  // then: y = x + w (x is an outer input, w an outer initializer); else: y = x - w.
  const branch = (op: string) =>
    graph({ name: op, nodes: [node(op, ['x', 'w'], ['r'])], inputs: [], outputs: [vi('r', T.float)] });
  const bytes = model({
    // Listed out of order on purpose: If before the node producing its condition.
    nodes: [
      node(
        'If',
        ['c'],
        ['y'],
        [attr.graph('then_branch', branch('Add')), attr.graph('else_branch', branch('Sub'))],
      ),
      node('Greater', ['x0', 'zero'], ['c']),
    ],
    inputs: [vi('x', T.float, [2]), vi('x0', T.float, [])],
    outputs: [vi('y', T.float, [2])],
    initializers: { w: tensor([10, 20]), zero: tensor(0) },
  });
  const s = await InferenceSession.create(bytes);
  assert.deepEqual([...(await s.run({ x: tensor([1, 2]), x0: tensor(1) })).y!.numbers()], [11, 22]);
  assert.deepEqual([...(await s.run({ x: tensor([1, 2]), x0: tensor(-1) })).y!.numbers()], [-9, -18]);
});

test('a cycle, a value produced twice and an undefined input are INVALID_MODEL errors naming the node', async () => {
  const cyc = model({
    nodes: [node('Relu', ['b'], ['a'], [], { name: 'r1' }), node('Relu', ['a'], ['b'], [], { name: 'r2' })],
    inputs: [],
    outputs: [vi('a', T.float)],
  });
  await assert.rejects(
    InferenceSession.create(cyc),
    (e: unknown) =>
      e instanceof TesseraError &&
      e.code === 'INVALID_MODEL' &&
      /node 'r1' \(Relu\) is part of a cycle/.test(e.message),
  );
  const twice = model({
    nodes: [node('Relu', ['x'], ['a'], [], { name: 'p' }), node('Neg', ['x'], ['a'], [], { name: 'q' })],
    inputs: [vi('x', T.float, [1])],
    outputs: [vi('a', T.float)],
  });
  await assert.rejects(InferenceSession.create(twice), /value 'a' is produced by two nodes \('p' and 'q'\)/);
  const undef = model({
    nodes: [node('Add', ['x', 'nope'], ['y'], [], { name: 'add1' })],
    inputs: [vi('x', T.float, [1])],
    outputs: [vi('y', T.float)],
  });
  await assert.rejects(
    InferenceSession.create(undef),
    /node 'add1' \(Add\): input 'nope' is not produced by any node/,
  );
});

test('IR < 4: initializers listed as graph inputs are optional feeds that override the initializer', async () => {
  const bytes = model({
    irVersion: 3,
    opset: 8,
    nodes: [node('Add', ['x', 'b'], ['y'])],
    inputs: [vi('x', T.float, [2]), vi('b', T.float, [2])],
    outputs: [vi('y', T.float, [2])],
    initializers: { b: tensor([1, 1]) },
  });
  const s = await InferenceSession.create(bytes);
  assert.deepEqual(s.inputNames, ['x']);
  assert.deepEqual([...(await s.run({ x: tensor([1, 2]) })).y!.numbers()], [2, 3]);
  assert.deepEqual([...(await s.run({ x: tensor([1, 2]), b: tensor([5, 5]) })).y!.numbers()], [6, 7]);
});
