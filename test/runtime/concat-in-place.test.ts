/**
 * Concat in place (src/runtime/concat-in-place.ts): from a session's second run, the producers of a
 * batch-1 channel Concat write into its output, and the Concat copies nothing. Checked against a
 * float64 reference on every run, with the memory shared only where it may be: not for a producer
 * whose value another node or the caller reads, not across a batch of 2 (inputs interleave), and
 * never between the outputs of two runs.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InferenceSession, type Tensor, tensor } from '../../src/index.js';
import { assertClose } from '../helpers/close.js';
import { f32, lcg as rand } from '../helpers/random.js';
import { attr, model, node, T, vi } from '../importers/build.js';

/** relu(conv(x, w) + b) in float64: x [N, C, H, W], w [M, C, k, k], stride 1, `pad` on every side. */
function convRelu(
  x: ArrayLike<number>,
  N: number,
  C: number,
  H: number,
  W: number,
  w: Float32Array,
  b: Float32Array,
  M: number,
  k: number,
  pad: number,
) {
  const oH = H + 2 * pad - k + 1;
  const oW = W + 2 * pad - k + 1;
  const y = new Float64Array(N * M * oH * oW);
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++)
      for (let oh = 0; oh < oH; oh++)
        for (let ow = 0; ow < oW; ow++) {
          let s = b[m]!;
          for (let c = 0; c < C; c++)
            for (let kh = 0; kh < k; kh++)
              for (let kw = 0; kw < k; kw++) {
                const ih = oh + kh - pad;
                const iw = ow + kw - pad;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += x[((n * C + c) * H + ih) * W + iw]! * w[((m * C + c) * k + kh) * k + kw]!;
              }
          y[((n * M + m) * oH + oh) * oW + ow] = Math.max(0, s);
        }
  return y;
}

/** Channel concatenation of [N, Ci, P] blocks. */
function concatChannels(parts: { y: ArrayLike<number>; C: number }[], N: number, P: number) {
  const total = parts.reduce((s, p) => s + p.C, 0);
  const out = new Float64Array(N * total * P);
  for (let n = 0; n < N; n++) {
    let c0 = 0;
    for (const { y, C } of parts) {
      for (let i = 0; i < C * P; i++) out[(n * total + c0) * P + i] = y[n * C * P + i]!;
      c0 += C;
    }
  }
  return out;
}

// A fire module (squeezenet): x -> 1x1 squeeze -> s; e1 = 1x1(s), e3 = 3x3(s); c = Concat(e1, e3).
// A second Concat d = Concat(e1b, e3b) over two more branches of s, where e1b is also a graph output
// (so it may not be written in place) and e3b is in place.
const [C, S, E1, E3, HW] = [4, 3, 5, 6, 5];
const w = {
  ws: rand(S * C, 1),
  bs: rand(S, 2),
  w1: rand(E1 * S, 3),
  b1: rand(E1, 4),
  w3: rand(E3 * S * 9, 5),
  b3: rand(E3, 6),
  w1b: rand(E1 * S, 7),
  b1b: rand(E1, 8),
  w3b: rand(E3 * S * 9, 9),
  b3b: rand(E3, 10),
};
const conv = (x: string, wName: string, bName: string, y: string, k: number) => [
  node(
    'Conv',
    [x, wName, bName],
    [`${y}_pre`],
    [attr.ints('kernel_shape', [k, k]), attr.ints('pads', Array(4).fill((k - 1) / 2))],
  ),
  node('Relu', [`${y}_pre`], [y]),
];
const fireBytes = model({
  nodes: [
    ...conv('x', 'ws', 'bs', 's', 1),
    ...conv('s', 'w1', 'b1', 'e1', 1),
    ...conv('s', 'w3', 'b3', 'e3', 3),
    node('Concat', ['e1', 'e3'], ['c'], [attr.int('axis', 1)]),
    ...conv('s', 'w1b', 'b1b', 'e1b', 1),
    ...conv('s', 'w3b', 'b3b', 'e3b', 3),
    node('Concat', ['e1b', 'e3b'], ['d'], [attr.int('axis', -3)]),
  ],
  inputs: [vi('x', T.float, ['N', C, HW, HW])],
  outputs: [
    vi('c', T.float, ['N', E1 + E3, HW, HW]),
    vi('d', T.float, ['N', E1 + E3, HW, HW]),
    vi('e1b', T.float, ['N', E1, HW, HW]),
  ],
  initializers: {
    ws: f32(w.ws, [S, C, 1, 1]),
    bs: f32(w.bs, [S]),
    w1: f32(w.w1, [E1, S, 1, 1]),
    b1: f32(w.b1, [E1]),
    w3: f32(w.w3, [E3, S, 3, 3]),
    b3: f32(w.b3, [E3]),
    w1b: f32(w.w1b, [E1, S, 1, 1]),
    b1b: f32(w.b1b, [E1]),
    w3b: f32(w.w3b, [E3, S, 3, 3]),
    b3b: f32(w.b3b, [E3]),
  },
});

function fireReference(x: Float32Array, N: number) {
  const P = HW * HW;
  const s = convRelu(x, N, C, HW, HW, w.ws, w.bs, S, 1, 0);
  const e1 = convRelu(s, N, S, HW, HW, w.w1, w.b1, E1, 1, 0);
  const e3 = convRelu(s, N, S, HW, HW, w.w3, w.b3, E3, 3, 1);
  const e1b = convRelu(s, N, S, HW, HW, w.w1b, w.b1b, E1, 1, 0);
  const e3b = convRelu(s, N, S, HW, HW, w.w3b, w.b3b, E3, 3, 1);
  return {
    e1,
    e3,
    e1b,
    c: concatChannels(
      [
        { y: e1, C: E1 },
        { y: e3, C: E3 },
      ],
      N,
      P,
    ),
    d: concatChannels(
      [
        { y: e1b, C: E1 },
        { y: e3b, C: E3 },
      ],
      N,
      P,
    ),
  };
}

const bufferOf = (t: Tensor) => (t.storage.data as Float32Array).buffer;
const tol = { rtol: 1e-5, atol: 1e-5 };

for (const level of ['disabled', 'all'] as const) {
  test(`a batch-1 Concat's producers write into its output from the second run (graphOptimizationLevel ${level})`, async () => {
    const s = await InferenceSession.create(fireBytes, { graphOptimizationLevel: level });
    const kept: { out: Record<string, Tensor>; copy: number[] }[] = [];
    for (let run = 0; run < 4; run++) {
      const x = rand(C * HW * HW, 100 + run);
      const out = await s.run({ x: f32(x, [1, C, HW, HW]) }, ['c', 'd', 'e1b', 'e1', 'e3']);
      const ref = fireReference(x, 1);
      for (const k of ['c', 'd', 'e1b', 'e1', 'e3'] as const) assertClose(out[k]!, ref[k], tol);
      // The first run learns the layout and copies; later ones write in place. e1b is a graph
      // output, so it keeps memory of its own, and d copies it.
      const inPlace = run > 0;
      assert.equal(bufferOf(out.e1!) === bufferOf(out.c!), inPlace, `run ${run}: e1 in c's memory`);
      assert.equal(bufferOf(out.e3!) === bufferOf(out.c!), inPlace, `run ${run}: e3 in c's memory`);
      assert.notEqual(bufferOf(out.e1b!), bufferOf(out.d!), `run ${run}: e1b (a graph output) in d's memory`);
      kept.push({ out, copy: Array.from(out.c!.numbers()) });
    }
    // No run wrote into an earlier run's outputs.
    for (const { out, copy } of kept) assert.deepEqual(Array.from(out.c!.numbers()), copy);
  });
}

test('a Concat over a batch of 2 interleaves its inputs: no part in place, and batch 1 goes back in place', async () => {
  const s = await InferenceSession.create(fireBytes);
  for (const [run, N] of [1, 1, 2, 2, 1, 1].entries()) {
    const x = rand(N * C * HW * HW, 200 + run);
    const out = await s.run({ x: f32(x, [N, C, HW, HW]) }, ['c', 'd', 'e3']);
    const ref = fireReference(x, N);
    assertClose(out.c!, ref.c, tol);
    assertClose(out.d!, ref.d, tol);
    // Batch 2 relearns its (empty) layout; the first batch-1 run after it learns again and copies.
    const inPlace = run === 1 || run === 5;
    assert.equal(bufferOf(out.e3!) === bufferOf(out.c!), inPlace, `run ${run} (batch ${N})`);
  }
});

test('int64 shape arithmetic: Gather outputs (zeroed allocations) go into the Concat of a Reshape target', async () => {
  // y = Reshape(x, Concat(Gather(Shape(x), [0]), Gather(Shape(x), [2]), [-1])): x [N, 3, 4] -> [N, 4, 3].
  const bytes = model({
    nodes: [
      node('Shape', ['x'], ['s']),
      node('Gather', ['s', 'i0'], ['g0']),
      node('Gather', ['s', 'i2'], ['g2']),
      node('Concat', ['g0', 'g2', 'neg1'], ['target'], [attr.int('axis', 0)]),
      node('Reshape', ['x', 'target'], ['y']),
    ],
    inputs: [vi('x', T.float, ['N', 3, 4])],
    outputs: [vi('y', T.float, ['N', 4, 3])],
    initializers: {
      i0: tensor([0], { dtype: 'int64' }),
      i2: tensor([2], { dtype: 'int64' }),
      neg1: tensor([-1], { dtype: 'int64' }),
    },
  });
  // Constant folding would fold nothing here (the shape is fed), but keep every node as written.
  const s = await InferenceSession.create(bytes, { graphOptimizationLevel: 'disabled' });
  for (const [run, N] of [1, 1, 1, 2, 2].entries()) {
    const x = rand(N * 12, 300 + run);
    const out = await s.run({ x: f32(x, [N, 3, 4]) }, ['y', 'g0', 'target']);
    assert.deepEqual([...out.y!.shape], [N, 4, 3], `run ${run}`);
    assert.deepEqual(Array.from(out.y!.numbers()), Array.from(x), `run ${run}: values`);
    assert.deepEqual(Array.from(out.target!.numbers()), [N, 4, -1], `run ${run}: target`);
    // In place from the second run on: a 1-D Concat has nothing before its axis, and its inputs keep
    // their lengths whatever the batch.
    const inPlace = run > 0;
    assert.equal(
      bufferOf(out.g0!) === bufferOf(out.target!),
      inPlace,
      `run ${run}: g0 in the target's memory`,
    );
  }
});
