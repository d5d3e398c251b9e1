/** Control flow, sequence and optional ops through small graphs, against values worked out by hand. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  InferenceSession,
  OptionalValue,
  type Tensor,
  TensorSequence,
  TesseraError,
  tensor,
  type Value,
} from '../../src/index.js';
import { dispatch } from '../../src/ops/registry.js';
import { attr, graph, model, node, seqVi, T, vi } from './build.js';

const run = async (bytes: Uint8Array, feeds: Record<string, Value>) =>
  InferenceSession.fromBytes(bytes, { graphOptimizationLevel: 'disabled' }).runValues(feeds as never);
const arr = (v: Value | undefined) => (v as Tensor).toArray();
const i64 = (v: number | number[]) => tensor(v, { dtype: 'int64' });

test('Loop: carried values, scan outputs stacked on a new axis, outer-scope reads, zero iterations', async () => {
  // acc += i * k (k from the outer graph); scan output sq = i * i. M = 4: acc = 0+1+2+3 = 6 times k.
  const body = graph({
    nodes: [
      node('Cast', ['i'], ['fi'], [attr.int('to', T.float)]),
      node('Mul', ['fi', 'k'], ['ik']),
      node('Add', ['acc', 'ik'], ['acc_out']),
      node('Mul', ['fi', 'fi'], ['sq']),
      node('Identity', ['cond'], ['cond_out']),
    ],
    inputs: [vi('i', T.int64, []), vi('cond', T.bool, []), vi('acc', T.float, [])],
    outputs: [vi('cond_out', T.bool, []), vi('acc_out', T.float, []), vi('sq', T.float, [])],
  });
  const bytes = model({
    nodes: [node('Loop', ['M', '', 'acc0'], ['acc', 'squares'], [attr.graph('body', body)])],
    inputs: [vi('M', T.int64, []), vi('acc0', T.float, []), vi('k', T.float, [])],
    outputs: [vi('acc', T.float, []), vi('squares', T.float)],
  });
  const out = await run(bytes, { M: i64(4), acc0: tensor(0.5), k: tensor(10) });
  assert.equal(arr(out.acc), 60.5);
  assert.deepEqual(arr(out.squares), [0, 1, 4, 9]);
  const none = await run(bytes, { M: i64(0), acc0: tensor(0.5), k: tensor(10) });
  assert.equal(arr(none.acc), 0.5);
  assert.deepEqual((none.squares as Tensor).shape, [0]);
});

test('Loop: the condition output ends the loop early', async () => {
  // Runs while i < 2 (cond_out = i + 1 < 3): iterations 0, 1, 2 run, then cond is false.
  const body = graph({
    nodes: [
      node('Add', ['i', 'one'], ['next']),
      node('Less', ['next', 'three'], ['cond_out']),
      node('Identity', ['i'], ['seen']),
    ],
    inputs: [vi('i', T.int64, []), vi('cond', T.bool, [])],
    outputs: [vi('cond_out', T.bool, []), vi('seen', T.int64, [])],
    initializers: { one: i64(1), three: i64(3) },
  });
  const bytes = model({
    nodes: [node('Loop', ['M', 'c'], ['seen'], [attr.graph('body', body)])],
    inputs: [vi('M', T.int64, []), vi('c', T.bool, [])],
    outputs: [vi('seen', T.int64)],
  });
  assert.deepEqual(arr((await run(bytes, { M: i64(100), c: tensor(true) })).seen), [0, 1, 2]);
  // cond false from the start: no iteration, an empty int64 scan output.
  const none = (await run(bytes, { M: i64(100), c: tensor(false) })).seen as Tensor;
  assert.deepEqual([none.dtype, none.shape], ['int64', [0]]);
});

test('Scan (opset 9): state, reversed input direction, scan input axis 1, output axis 1', async () => {
  // x = [[1, 2, 3], [4, 5, 6]] scanned along axis 1 backwards: columns [3,6], [2,5], [1,4].
  // state s += column; the output is each running sum, stacked on axis 1.
  const body = graph({
    nodes: [node('Add', ['s', 'col'], ['s_out']), node('Identity', ['s_out'], ['y'])],
    inputs: [vi('s', T.float, [2]), vi('col', T.float, [2])],
    outputs: [vi('s_out', T.float, [2]), vi('y', T.float, [2])],
  });
  const bytes = model({
    opset: 11,
    nodes: [
      node(
        'Scan',
        ['s0', 'x'],
        ['s', 'ys'],
        [
          attr.graph('body', body),
          attr.int('num_scan_inputs', 1),
          attr.ints('scan_input_directions', [1]),
          attr.ints('scan_input_axes', [1]),
          attr.ints('scan_output_axes', [1]),
        ],
      ),
    ],
    inputs: [vi('s0', T.float, [2]), vi('x', T.float, [2, 3])],
    outputs: [vi('s', T.float, [2]), vi('ys', T.float, [2, 3])],
  });
  const out = await run(bytes, {
    s0: tensor([0, 100]),
    x: tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]),
  });
  assert.deepEqual(arr(out.s), [6, 115]);
  assert.deepEqual(arr(out.ys), [
    [3, 5, 6],
    [106, 111, 115],
  ]);
});

test('Scan (opset 8): a batch axis first, each entry scanned on its own', async () => {
  const body = graph({
    nodes: [node('Add', ['s', 'v'], ['s_out']), node('Identity', ['s_out'], ['y'])],
    inputs: [vi('s', T.float, [1]), vi('v', T.float, [1])],
    outputs: [vi('s_out', T.float, [1]), vi('y', T.float, [1])],
  });
  const bytes = model({
    opset: 8,
    nodes: [
      node('Scan', ['', 's0', 'x'], ['s', 'ys'], [attr.graph('body', body), attr.int('num_scan_inputs', 1)]),
    ],
    inputs: [vi('s0', T.float, [2, 1]), vi('x', T.float, [2, 3, 1])],
    outputs: [vi('s', T.float, [2, 1]), vi('ys', T.float, [2, 3, 1])],
  });
  const out = await run(bytes, {
    s0: tensor([[0], [10]]),
    x: tensor([
      [[1], [2], [3]],
      [[4], [5], [6]],
    ]),
  });
  assert.deepEqual(arr(out.s), [[6], [25]]);
  assert.deepEqual(arr(out.ys), [
    [[1], [3], [6]],
    [[14], [19], [25]],
  ]);
});

test('sequence ops: construct, insert, at, erase, length, split, concat (stacked and not)', async () => {
  const bytes = model({
    nodes: [
      node('SequenceConstruct', ['a', 'b'], ['s1']),
      node('SequenceInsert', ['s1', 'c', 'zero'], ['s2']), // [c, a, b]
      node('SequenceAt', ['s2', 'minus1'], ['last']), // b
      node('SequenceErase', ['s2', 'zero'], ['s3']), // [a, b]
      node('SequenceLength', ['s3'], ['len']),
      node('ConcatFromSequence', ['s2'], ['cat'], [attr.int('axis', 0)]),
      node('ConcatFromSequence', ['s3'], ['stacked'], [attr.int('axis', 0), attr.int('new_axis', 1)]),
      node('SplitToSequence', ['cat', 'two'], ['chunks']), // chunks of 2 rows
      node('SplitToSequence', ['a'], ['rows'], [attr.int('axis', 1), attr.int('keepdims', 0)]),
    ],
    inputs: [vi('a', T.float, [1, 2]), vi('b', T.float, [1, 2]), vi('c', T.float, [1, 2])],
    outputs: [
      vi('last', T.float),
      vi('len', T.int64),
      vi('cat', T.float),
      vi('stacked', T.float),
      seqVi('chunks', T.float),
      seqVi('rows', T.float),
      seqVi('s3', T.float),
    ],
    initializers: { zero: i64(0), minus1: i64(-1), two: i64(2) },
  });
  const out = await run(bytes, { a: tensor([[1, 2]]), b: tensor([[3, 4]]), c: tensor([[5, 6]]) });
  assert.deepEqual(arr(out.last), [[3, 4]]);
  assert.equal(arr(out.len), 2);
  assert.deepEqual(arr(out.cat), [
    [5, 6],
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(arr(out.stacked), [[[1, 2]], [[3, 4]]]);
  const chunks = out.chunks as TensorSequence;
  assert.deepEqual(chunks.items.map(arr), [
    [
      [5, 6],
      [1, 2],
    ],
    [[3, 4]],
  ]);
  assert.deepEqual((out.rows as TensorSequence).items.map(arr), [[1], [2]]);
  assert.ok(out.s3 instanceof TensorSequence && out.s3.length === 2 && out.s3.dtype === 'float32');
});

test('sequence ops refuse bad positions and mixed dtypes with the op named', async () => {
  const at = model({
    nodes: [
      node('SequenceConstruct', ['a'], ['s']),
      node('SequenceAt', ['s', 'p'], ['y'], [], { name: 'at' }),
    ],
    inputs: [vi('a', T.float, [1]), vi('p', T.int64, [])],
    outputs: [vi('y', T.float)],
  });
  await assert.rejects(
    run(at, { a: tensor([1]), p: i64(1) }),
    /node 'at' \(SequenceAt\): SequenceAt: position 1 is out of range for a sequence of length 1/,
  );
  assert.deepEqual(arr((await run(at, { a: tensor([1]), p: i64(-1) })).y), [1]);
  const mixed = model({
    nodes: [node('SequenceConstruct', ['a', 'b'], ['s'], [], { name: 'mk' })],
    inputs: [vi('a', T.float, [1]), vi('b', T.int64, [1])],
    outputs: [seqVi('s', T.float)],
  });
  await assert.rejects(
    run(mixed, { a: tensor([1]), b: i64([1]) }),
    (e: unknown) =>
      e instanceof TesseraError &&
      e.code === 'DTYPE_MISMATCH' &&
      /input 1 is int64, input 0 is float32/.test(e.message),
  );
});

test('SequenceMap runs its body per item, with tensors passed whole', async () => {
  const body = graph({
    nodes: [node('Add', ['x', 'k'], ['y'])],
    inputs: [vi('x', T.float), vi('k', T.float)],
    outputs: [vi('y', T.float)],
  });
  const bytes = model({
    nodes: [node('SequenceMap', ['s', 'k'], ['out'], [attr.graph('body', body)])],
    inputs: [seqVi('s', T.float), vi('k', T.float, [1])],
    outputs: [seqVi('out', T.float)],
  });
  const out = await run(bytes, { s: new TensorSequence([tensor([1, 2]), tensor([3])]), k: tensor([10]) });
  assert.deepEqual((out.out as TensorSequence).items.map(arr), [[11, 12], [13]]);
});

test('optionals: wrap, empty of a type, has-element, get-element', async () => {
  const bytes = model({
    nodes: [
      node('Optional', ['x'], ['full']),
      node(
        'Optional',
        [],
        ['empty'],
        [{ name: 'type', type: 13, tp: { tensor_type: { elem_type: T.float } } }],
      ),
      node('OptionalHasElement', ['full'], ['has_full']),
      node('OptionalHasElement', ['empty'], ['has_empty']),
      node('OptionalGetElement', ['full'], ['got']),
    ],
    inputs: [vi('x', T.float, [2])],
    outputs: [
      vi('has_full', T.bool),
      vi('has_empty', T.bool),
      vi('got', T.float),
      { name: 'empty', type: { optional_type: { elem_type: { tensor_type: { elem_type: T.float } } } } },
    ],
  });
  const out = await run(bytes, { x: tensor([1, 2]) });
  assert.equal(arr(out.has_full), true);
  assert.equal(arr(out.has_empty), false);
  assert.deepEqual(arr(out.got), [1, 2]);
  assert.ok(out.empty instanceof OptionalValue && !out.empty.hasValue);
  assert.deepEqual(out.empty.elemType, { kind: 'tensor', dtype: 'float32' });
  const get = model({
    nodes: [node('OptionalGetElement', ['o'], ['y'], [], { name: 'get' })],
    inputs: [{ name: 'o', type: { optional_type: { elem_type: { tensor_type: { elem_type: T.float } } } } }],
    outputs: [vi('y', T.float)],
  });
  await assert.rejects(
    run(get, { o: new OptionalValue(undefined) }),
    /node 'get' \(OptionalGetElement\): OptionalGetElement: the optional is empty/,
  );
});

test('If inside a Loop body reads values two scopes out', async () => {
  // For i in 0..2: y_i = (i > 0 ? x * 2 : x) where x lives in the outermost graph.
  const thenB = graph({ nodes: [node('Mul', ['x', 'two'], ['r'])], inputs: [], outputs: [vi('r', T.float)] });
  const elseB = graph({ nodes: [node('Identity', ['x'], ['r'])], inputs: [], outputs: [vi('r', T.float)] });
  const body = graph({
    nodes: [
      node('Greater', ['i', 'zero'], ['pos']),
      node('If', ['pos'], ['y'], [attr.graph('then_branch', thenB), attr.graph('else_branch', elseB)]),
      node('Identity', ['cond'], ['cond_out']),
    ],
    inputs: [vi('i', T.int64, []), vi('cond', T.bool, [])],
    outputs: [vi('cond_out', T.bool, []), vi('y', T.float)],
  });
  const bytes = model({
    nodes: [node('Loop', ['M', ''], ['ys'], [attr.graph('body', body)])],
    inputs: [vi('M', T.int64, []), vi('x', T.float, [2])],
    outputs: [vi('ys', T.float)],
    initializers: { two: tensor(2), zero: i64(0) },
  });
  assert.deepEqual(arr((await run(bytes, { M: i64(3), x: tensor([1, -1]) })).ys), [
    [1, -1],
    [2, -2],
    [2, -2],
  ]);
});

test('control-flow ops need a graph: eager dispatch says so', () => {
  assert.throws(
    () => dispatch('If', [tensor(true)], { then_branch: { kind: 'graph' }, else_branch: { kind: 'graph' } }),
    (e: unknown) =>
      e instanceof TesseraError &&
      e.code === 'UNSUPPORTED' &&
      /only available inside a graph/.test(e.message),
  );
});
