/**
 * The session's compiled run plan and the arrays it carries from run to run: outputs of one run are
 * never written by the next, fetched intermediates stay intact, dead intermediates are reused, and
 * values a loop body is handed are never recycled under it. References are plain loops in float64.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, type Tensor, TesseraError, tensor } from '../../src/index.js';
import { ArrayRecycler } from '../../src/runtime/executor.js';
import { assertClose } from '../helpers/close.js';
import { f32, lcg as rand } from '../helpers/random.js';
import { attr, graph, model, node, T, vi } from '../importers/build.js';

/** y[m, n] = sum_k x[m, k] * w[n, k] + b[n] (Gemm with transB = 1), in float64. */
function linear(
  x: ArrayLike<number>,
  w: ArrayLike<number>,
  b: ArrayLike<number>,
  M: number,
  K: number,
  N: number,
) {
  const y = new Float64Array(M * N);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < N; n++) {
      let s = b[n]!;
      for (let k = 0; k < K; k++) s += x[m * K + k]! * w[n * K + k]!;
      y[m * N + n] = s;
    }
  return y;
}

// An MLP with odd sizes, and a second output that is a view (Reshape) of an intermediate that dies
// right after it: x [M, K] -> Gemm -> h -> Relu -> r -> Gemm -> y; v = Reshape(Add(r, r), [-1]).
const [M, K, H, N] = [3, 7, 5, 9];
const w1 = rand(H * K, 1);
const b1 = rand(H, 2);
const w2 = rand(N * H, 3);
const b2 = rand(N, 4);
const mlpBytes = model({
  nodes: [
    node('Gemm', ['x', 'w1', 'b1'], ['h'], [attr.int('transB', 1)]),
    node('Relu', ['h'], ['r']),
    node('Gemm', ['r', 'w2', 'b2'], ['y'], [attr.int('transB', 1)]),
    node('Add', ['r', 'r'], ['rr']),
    node('Reshape', ['rr', 'flat'], ['v']),
  ],
  inputs: [vi('x', T.float, [M, K])],
  outputs: [vi('y', T.float, [M, N]), vi('v', T.float, [M * H])],
  initializers: {
    w1: f32(w1, [H, K]),
    b1: f32(b1, [H]),
    w2: f32(w2, [N, H]),
    b2: f32(b2, [N]),
    flat: tensor([-1], { dtype: 'int64' }),
  },
});

function mlpReference(x: Float32Array) {
  const h = linear(x, w1, b1, M, K, H);
  const r = h.map((t) => Math.max(0, t));
  return { h, r, y: linear(r, w2, b2, M, H, N), v: r.map((t) => 2 * t) };
}

for (const level of ['disabled', 'all'] as const) {
  test(`consecutive runs never write each other's outputs (graphOptimizationLevel ${level})`, async () => {
    const s = await InferenceSession.create(mlpBytes, { graphOptimizationLevel: level });
    const kept: { out: Record<string, Tensor>; copy: Record<string, number[]>; x: Float32Array }[] = [];
    for (let i = 0; i < 6; i++) {
      const x = rand(M * K, 100 + i);
      const out = await s.run({ x: f32(x, [M, K]) });
      const ref = mlpReference(x);
      assertClose(out.y!, ref.y, { rtol: 1e-5, atol: 1e-5 });
      assertClose(out.v!, ref.v, { rtol: 1e-5, atol: 1e-5 });
      kept.push({ out, copy: { y: Array.from(out.y!.numbers()), v: Array.from(out.v!.numbers()) }, x });
    }
    // Every earlier result still holds exactly what its run returned, over memory of its own.
    const buffers = new Set<ArrayBufferLike>();
    for (const { out, copy } of kept) {
      assert.deepEqual(Array.from(out.y!.numbers()), copy.y);
      assert.deepEqual(Array.from(out.v!.numbers()), copy.v);
      for (const t of [out.y!, out.v!]) {
        const data = t.storage.data as Float32Array;
        assert.ok(!buffers.has(data.buffer), 'two returned outputs share memory');
        buffers.add(data.buffer);
      }
    }
  });
}

test('dead intermediates of one run serve the allocations of the next, with unchanged results', async () => {
  const s = await InferenceSession.create(mlpBytes);
  const x = rand(M * K, 7);
  const first = await s.run({ x: f32(x, [M, K]) });
  const reusedFirst = s.lastRunReusedArrays;
  const second = await s.run({ x: f32(x, [M, K]) });
  assert.ok(
    s.lastRunReusedArrays > reusedFirst,
    `the second run reused ${s.lastRunReusedArrays} arrays, the first ${reusedFirst}`,
  );
  // Reused arrays start from zeros: the same feed gives the same bits.
  assert.deepEqual(Array.from(second.y!.numbers()), Array.from(first.y!.numbers()));
  assert.deepEqual(Array.from(second.v!.numbers()), Array.from(first.v!.numbers()));
});

test('a session under a memory limit keeps no arrays between runs', async () => {
  const s = await InferenceSession.create(mlpBytes, { memoryLimitBytes: 1 << 24 });
  const x = f32(rand(M * K, 8), [M, K]);
  await s.run({ x });
  const first = s.lastRunReusedArrays;
  for (let i = 0; i < 3; i++) {
    await s.run({ x });
    assert.equal(s.lastRunReusedArrays, first, 'each run reuses only its own dead intermediates');
  }
});

test('fetched intermediates are neither freed nor recycled, in this run or the next', async () => {
  const s = await InferenceSession.create(mlpBytes, { graphOptimizationLevel: 'disabled' });
  const x1 = rand(M * K, 11);
  const a = await s.run({ x: f32(x1, [M, K]) }, ['h', 'r', 'y']);
  const ref1 = mlpReference(x1);
  const hCopy = Array.from(a.h!.numbers());
  const rCopy = Array.from(a.r!.numbers());
  assertClose(a.h!, ref1.h, { rtol: 1e-5, atol: 1e-5 });
  assertClose(a.r!, ref1.r, { rtol: 1e-5, atol: 1e-5 });
  assertClose(a.y!, ref1.y, { rtol: 1e-5, atol: 1e-5 });
  const x2 = rand(M * K, 12);
  const b = await s.run({ x: f32(x2, [M, K]) });
  assertClose(b.y!, mlpReference(x2).y, { rtol: 1e-5, atol: 1e-5 });
  assert.deepEqual(Array.from(a.h!.numbers()), hCopy);
  assert.deepEqual(Array.from(a.r!.numbers()), rCopy);
  // Unknown fetch names are still refused, naming the fetch.
  assert.throws(
    () => s.runValues({ x: f32(x2, [M, K]) }, ['nope']),
    (e: unknown) => e instanceof TesseraError && /fetch 'nope'/.test(e.message),
  );
});

test('a loop-carried value is not recycled when a view of it dies inside the body', async () => {
  // S <- S + (S @ W) @ W, three times, with S [n, n] read through a Reshape view that dies before
  // the second MatMul (whose output has S's size) allocates; S is read again after. W comes from the
  // outer graph.
  const n = 5;
  const W = rand(n * n, 21);
  const S0 = rand(n * n, 22);
  const body = graph({
    nodes: [
      node('Reshape', ['S', 'flat'], ['Sf']),
      node('Reshape', ['Sf', 'square'], ['Sv']),
      node('MatMul', ['Sv', 'W'], ['P']),
      node('MatMul', ['P', 'W'], ['Q']),
      node('Add', ['S', 'Q'], ['S_out']),
      node('Identity', ['cond'], ['cond_out']),
    ],
    inputs: [vi('i', T.int64, []), vi('cond', T.bool, []), vi('S', T.float, [n, n])],
    outputs: [vi('cond_out', T.bool, []), vi('S_out', T.float, [n, n])],
  });
  const bytes = model({
    nodes: [node('Loop', ['trips', '', 'S0'], ['S'], [attr.graph('body', body)])],
    inputs: [vi('S0', T.float, [n, n])],
    outputs: [vi('S', T.float, [n, n])],
    initializers: {
      W: f32(W, [n, n]),
      trips: tensor(3, { dtype: 'int64' }),
      flat: tensor([-1], { dtype: 'int64' }),
      square: tensor([n, n], { dtype: 'int64' }),
    },
  });
  let S = Float64Array.from(S0);
  for (let t = 0; t < 3; t++) {
    const times = (A: Float64Array) => {
      const out = new Float64Array(n * n);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < n; j++)
          for (let k = 0; k < n; k++) out[i * n + j]! += A[i * n + k]! * W[k * n + j]!;
      return out;
    };
    const Q = times(times(S));
    S = S.map((v, i) => v + Q[i]!);
  }
  for (const level of ['disabled', 'all'] as const) {
    const s = await InferenceSession.create(bytes, { graphOptimizationLevel: level });
    for (let r = 0; r < 2; r++) {
      const out = await s.run({ S0: f32(S0, [n, n]) });
      assertClose(out.S!, S, { rtol: 1e-4, atol: 1e-4 });
    }
  }
});

test('If branches read values of the enclosing graph through the compiled frames', async () => {
  // y = c ? (a + b) : (a - b), with a, b and c produced in the outer graph.
  const thenG = graph({
    nodes: [node('Add', ['a', 'b'], ['t'])],
    inputs: [],
    outputs: [vi('t', T.float, [3])],
  });
  const elseG = graph({
    nodes: [node('Sub', ['a', 'b'], ['e'])],
    inputs: [],
    outputs: [vi('e', T.float, [3])],
  });
  const bytes = model({
    nodes: [
      node('Mul', ['x', 'two'], ['a']),
      node('Neg', ['x'], ['b']),
      node('Greater', ['k', 'zero'], ['c']),
      node('If', ['c'], ['y'], [attr.graph('then_branch', thenG), attr.graph('else_branch', elseG)]),
    ],
    inputs: [vi('x', T.float, [3]), vi('k', T.float, [])],
    outputs: [vi('y', T.float, [3])],
    initializers: { two: tensor(2), zero: tensor(0) },
  });
  const s = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  const x = tensor([1, -2, 3.5]);
  assertClose((await s.run({ x, k: tensor(1) })).y!, [1, -2, 3.5]); // 2x + (-x)
  assertClose((await s.run({ x, k: tensor(-1) })).y!, [3, -6, 10.5]); // 2x - (-x)
});

test('the recycler keeps what one run left for the next, never what two runs in a row did not take', () => {
  const r = new ArrayRecycler();
  const a = new Float32Array(7);
  const b = new Float32Array(7);
  const c = new Float64Array(3);
  r.put(a);
  r.put(c);
  r.endRun(Number.POSITIVE_INFINITY);
  assert.equal(r.pooledBytes, 7 * 4 + 3 * 8, 'the last run leaves its dead arrays for the next');
  // The next run takes a [7] float32 array (a) and leaves b; c goes untaken a second time.
  assert.equal(r.take(Float32Array, 7), a);
  assert.equal(r.take(Float32Array, 5), undefined, 'only exact lengths are handed out');
  assert.equal(r.take(Float64Array, 7), undefined, 'only the same array class');
  r.put(b);
  r.endRun(Number.POSITIVE_INFINITY);
  assert.equal(r.pooledBytes, 7 * 4, 'c was dropped, b kept');
  assert.equal(r.take(Float64Array, 3), undefined);
  assert.equal(r.take(Float32Array, 7), b);
  // The byte bound between runs.
  r.put(new Float32Array(100));
  r.put(new Float32Array(10));
  r.endRun(50);
  assert.ok(r.pooledBytes <= 50, `kept ${r.pooledBytes} bytes, bound 50`);
});
