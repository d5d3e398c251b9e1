/** InferenceSession: the ONNX Runtime-like API, feed checking, load errors, memory planning and limits. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { InferenceSession, TensorSequence, TesseraError, tensor, zeros } from '../../src/index.js';
import { attr, graph, model, node, T, vi } from './build.js';

const isErr = (code: string, re: RegExp) => (e: unknown) => {
  assert.ok(e instanceof TesseraError, `expected a TesseraError, got ${String(e)}`);
  assert.equal(e.code, code, e.message);
  assert.match(e.message, re);
  return true;
};

// y = relu(x @ w + b); z = x * 2 (a second output), with a symbolic batch dim.
const mlp = model({
  nodes: [
    node('MatMul', ['x', 'w'], ['xw'], [], { name: 'mm' }),
    node('Add', ['xw', 'b'], ['pre'], [], { name: 'add' }),
    node('Relu', ['pre'], ['y'], [], { name: 'relu' }),
    node('Mul', ['x', 'two'], ['z'], [], { name: 'mul' }),
  ],
  inputs: [vi('x', T.float, ['N', 2])],
  outputs: [vi('y', T.float, ['N', 3]), vi('z', T.float, ['N', 2])],
  initializers: {
    w: tensor([
      [1, 0, -1],
      [0, 1, 1],
    ]),
    b: tensor([0.5, -10, 0]),
    two: tensor(2),
  },
});

test('create/run: names, metadata with symbolic dims, tensors and ORT-style feeds, fetch subsets', async () => {
  const s = await InferenceSession.create(mlp);
  assert.deepEqual(s.inputNames, ['x']);
  assert.deepEqual(s.outputNames, ['y', 'z']);
  assert.deepEqual(s.inputMetadata, [{ name: 'x', isTensor: true, type: 'float32', shape: ['N', 2] }]);
  assert.deepEqual(s.outputMetadata[0], { name: 'y', isTensor: true, type: 'float32', shape: ['N', 3] });
  // [[1, 2], [3, -4]] @ w + b = [[1.5, -8, 1], [3.5, -14, -7]]; relu -> [[1.5, 0, 1], [3.5, 0, 0]]
  const out = await s.run({
    x: tensor([
      [1, 2],
      [3, -4],
    ]),
  });
  assert.deepEqual(out.y!.toArray(), [
    [1.5, 0, 1],
    [3.5, 0, 0],
  ]);
  assert.deepEqual(out.z!.toArray(), [
    [2, 4],
    [6, -8],
  ]);
  const only = await s.run({ x: { type: 'float32', data: Float32Array.of(1, 1), dims: [1, 2] } }, ['z']);
  assert.deepEqual(Object.keys(only), ['z']);
  assert.deepEqual(only.z!.toArray(), [[2, 2]]);
  // An onnxruntime-node Tensor is a valid feed as it is.
  const fromOrt = await s.run({ x: new ort.Tensor('float32', Float32Array.of(0, 1), [1, 2]) });
  assert.deepEqual(fromOrt.y!.toArray(), [[0.5, 0, 1]]);
});

test('feeds are checked: missing, extra, dtype, rank, dims, symbolic dims bound consistently', async () => {
  const s = await InferenceSession.create(mlp);
  await assert.rejects(s.run({}), isErr('INVALID_ARGUMENT', /input 'x' \(float32\[N, 2\]\) is missing/));
  await assert.rejects(
    s.run({ x: zeros([1, 2]), extra: zeros([1]) }),
    isErr('INVALID_ARGUMENT', /feed 'extra' is not an input of the model; its inputs are x/),
  );
  await assert.rejects(
    s.run({ x: zeros([1, 2], { dtype: 'float64' }) }),
    isErr('DTYPE_MISMATCH', /input 'x': expected dtype float32, got float64/),
  );
  await assert.rejects(
    s.run({ x: zeros([2]) }),
    isErr('SHAPE_MISMATCH', /input 'x': expected rank 2 .* got shape \[2\]/),
  );
  await assert.rejects(
    s.run({ x: zeros([1, 3]) }),
    isErr('SHAPE_MISMATCH', /input 'x': dim 1 must be 2 .* got shape \[1, 3\]/),
  );
  await assert.rejects(
    s.run({ x: { type: 'float32', data: new Float32Array(3), dims: [1, 2] } }),
    isErr('SHAPE_MISMATCH', /dims \[1, 2\] need 2 elements, data has 3/),
  );
  await assert.rejects(
    s.run({ x: { type: 'complex64', data: new Float32Array(2), dims: [1, 2] } }),
    isErr('DTYPE_MISMATCH', /unsupported tensor type 'complex64'/),
  );
  await assert.rejects(
    s.run({ x: new TensorSequence([]) }),
    isErr('INVALID_ARGUMENT', /input 'x': expected a tensor, got a sequence/),
  );
  await assert.rejects(
    s.run({ x: zeros([1, 2]) }, ['nope']),
    isErr('INVALID_ARGUMENT', /fetch 'nope' is not a value of the model/),
  );

  const two = await InferenceSession.create(
    model({
      nodes: [node('Add', ['a', 'b'], ['c'])],
      inputs: [vi('a', T.float, ['N']), vi('b', T.float, ['N'])],
      outputs: [vi('c', T.float, ['N'])],
    }),
  );
  await assert.rejects(
    two.run({ a: zeros([2]), b: zeros([3]) }),
    isErr('SHAPE_MISMATCH', /input 'b': dim 0 \('N'\) is 3, but input 'a' bound 'N' to 2/),
  );
  assert.deepEqual([...(await two.run({ a: tensor([1, 2]), b: tensor([3, 4]) })).c!.numbers()], [4, 6]);
});

test('load errors: truncated or corrupt bytes, unknown op, unknown domain, unsupported opset, missing import', async () => {
  await assert.rejects(
    InferenceSession.create(mlp.subarray(0, mlp.length - 7)),
    isErr('INVALID_MODEL', /model: not a valid ONNX ModelProto/),
  );
  await assert.rejects(
    InferenceSession.create(Uint8Array.of(0xff, 0xff, 0xff, 0xff)),
    isErr('INVALID_MODEL', /not a valid ONNX ModelProto/),
  );
  await assert.rejects(
    InferenceSession.create(new TextEncoder().encode('hello world')),
    isErr('INVALID_MODEL', /./),
  );
  await assert.rejects(
    InferenceSession.create('/nonexistent/model.onnx'),
    isErr('NOT_FOUND', /cannot read model/),
  );
  const one = (op: string, extra: object = {}, opsets?: { domain: string; version: number }[]) =>
    model({
      nodes: [node(op, ['x'], ['y'], [], { name: 'n1', ...extra })],
      inputs: [vi('x', T.float, [1])],
      outputs: [vi('y', T.float, [1])],
      opsets,
    });
  await assert.rejects(
    InferenceSession.create(one('NoSuchOp')),
    isErr('UNSUPPORTED', /node 'n1' \(NoSuchOp\): unknown op NoSuchOp/),
  );
  await assert.rejects(
    InferenceSession.create(
      one('Relu', { domain: 'com.acme' }, [
        { domain: '', version: 17 },
        { domain: 'com.acme', version: 1 },
      ]),
    ),
    isErr('UNSUPPORTED', /node 'n1' \(Relu\): unknown domain 'com.acme'/),
  );
  await assert.rejects(
    InferenceSession.create(one('Relu', { domain: 'com.acme' })),
    isErr('INVALID_MODEL', /domain 'com.acme' is not in the model's opset imports/),
  );
  await assert.rejects(
    InferenceSession.create(one('Relu', {}, [{ domain: '', version: 99 }])),
    isErr('UNSUPPORTED', /imports ai.onnx opset 99; Tessera implements up to \d+/),
  );
});

test('memory planning: liveness frees values after their last use; the planned and measured peaks agree', async () => {
  // x -> Relu a -> Relu b -> Relu c, 1000 float32 each (4000 B). After node 2, a is dead: the peak
  // is two live intermediates (8000 B), not three (the feed x is the caller's, not counted).
  const chain = model({
    nodes: [node('Relu', ['x'], ['a']), node('Relu', ['a'], ['b']), node('Relu', ['b'], ['c'])],
    inputs: [vi('x', T.float, [1000])],
    outputs: [vi('c', T.float, [1000])],
  });
  const s = await InferenceSession.create(chain, { graphOptimizationLevel: 'disabled' });
  assert.deepEqual(s.memoryPlan, { peakBytes: 8000, peakNode: 'Relu_1', complete: true });
  await s.run({ x: zeros([1000]) });
  assert.equal(s.lastRunPeakBytes, 8000);
  // Symbolic batch: planned for concrete shapes on request.
  const sym = await InferenceSession.create(mlp, { graphOptimizationLevel: 'disabled' });
  assert.equal(sym.memoryPlan.complete, false);
  // N=10: xw and pre (120 B each) are live together at Add; later y (120 B) + z (80 B) = 200 B.
  assert.equal(sym.planFor({ x: [10, 2] }).peakBytes, 240);
});

test('memoryLimitBytes: weights, planned shapes and data-dependent outputs are refused before allocation', async () => {
  await assert.rejects(
    InferenceSession.create(mlp, { memoryLimitBytes: 16 }),
    isErr('RESOURCE_EXHAUSTED', /weights take \d+ bytes, more than memoryLimitBytes \(16\)/),
  );
  // Tile repeats x[N] 1000 times: with N = 1000 the plan needs 4 MB.
  const tile = model({
    nodes: [
      node('Tile', ['x', 'reps'], ['y'], [], { name: 'tile' }),
      node('Neg', ['y'], ['z'], [], { name: 'neg' }),
    ],
    inputs: [vi('x', T.float, ['N'])],
    outputs: [vi('z', T.float)],
    initializers: { reps: tensor([1000], { dtype: 'int64' }) },
  });
  const s = await InferenceSession.create(tile, {
    memoryLimitBytes: 1 << 20,
    graphOptimizationLevel: 'disabled',
  });
  assert.equal((await s.run({ x: zeros([10]) })).z!.numel(), 10000);
  await assert.rejects(
    s.run({ x: zeros([1000]) }),
    isErr(
      'RESOURCE_EXHAUSTED',
      /node 'tile' \(Tile\): its outputs bring planned memory to 3.8 MiB, more than memoryLimitBytes \(1.0 MiB\)/,
    ),
  );
  // ConstantOfShape of a fed shape: only known at run time, refused before the kernel allocates 40 GB.
  const cos = model({
    nodes: [node('ConstantOfShape', ['shape'], ['y'], [], { name: 'fill' })],
    inputs: [vi('shape', T.int64, [2])],
    outputs: [vi('y', T.float)],
  });
  const c = await InferenceSession.create(cos, { memoryLimitBytes: 1 << 20 });
  await assert.rejects(
    c.run({ shape: tensor([100000, 100000], { dtype: 'int64' }) }),
    isErr('RESOURCE_EXHAUSTED', /node 'fill' \(ConstantOfShape\) outputs: needs 37.25 GiB more/),
  );
  assert.deepEqual((await c.run({ shape: tensor([2, 3], { dtype: 'int64' }) })).y!.shape, [2, 3]);
});

test('a run time limit ends an endless loop with a TesseraError', async () => {
  // Loop with no trip count and a body whose condition stays true, carrying v through.
  const body = graph({
    nodes: [node('Identity', ['cond_in'], ['cond_out']), node('Identity', ['v_in'], ['v_out'])],
    inputs: [vi('i', T.int64, []), vi('cond_in', T.bool, []), vi('v_in', T.float, [1])],
    outputs: [vi('cond_out', T.bool, []), vi('v_out', T.float, [1])],
  });
  const loop = model({
    nodes: [node('Loop', ['', 'c', 'v'], ['v_final'], [attr.graph('body', body)], { name: 'forever' })],
    inputs: [vi('c', T.bool, []), vi('v', T.float, [1])],
    outputs: [vi('v_final', T.float, [1])],
  });
  const s = await InferenceSession.create(loop);
  await assert.rejects(
    s.run({ c: tensor(true), v: tensor([1]) }, undefined, { timeoutMs: 100 }),
    isErr('RESOURCE_EXHAUSTED', /exceeded its time limit/),
  );
  // onnxruntime's form run(feeds, options) too.
  await assert.rejects(
    s.run({ c: tensor(true), v: tensor([1]) }, { timeoutMs: 50 }),
    isErr('RESOURCE_EXHAUSTED', /time limit/),
  );
  // With a false condition the body never runs and v passes through.
  assert.deepEqual([...(await s.run({ c: tensor(false), v: tensor([7]) })).v_final!.numbers()], [7]);
});
