/**
 * Gemm's C term: for float32 with alpha = 1 the kernel writes beta * C first and lets the product
 * accumulate onto it; otherwise it adds C after. Both are checked against a float64 loop over every
 * broadcast form of C, transposes, alpha/beta, odd sizes (the GEMV rows and full tiles) and empty
 * products, eagerly and through a session whose weights stay resident.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type DType, InferenceSession, Tensor } from '../../src/index.js';
import { dispatch1 } from '../../src/ops/registry.js';
import { assertClose } from '../helpers/close.js';
import { attr, model, node, T, vi } from '../importers/build.js';

function rand(n: number, seed: number): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 31 - 1;
  });
}

function make(values: number[], shape: number[], dtype: DType): Tensor {
  const data = dtype === 'float32' ? Float32Array.from(values) : Float64Array.from(values);
  return Tensor.fromData(data, shape, dtype);
}

/** alpha * op(A) op(B) + beta * C (C broadcast to [M, N]) in float64. */
function reference(
  a: number[],
  b: number[],
  c: { v: number[]; shape: number[] } | undefined,
  M: number,
  N: number,
  K: number,
  ta: boolean,
  tb: boolean,
  alpha: number,
  beta: number,
): number[] {
  const out: number[] = [];
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += a[ta ? k * M + i : i * K + k]! * b[tb ? j * K + k : k * N + j]!;
      let cv = 0;
      if (c) {
        // Right-aligned broadcast of C's shape to [M, N].
        const sh = c.shape;
        const ci = sh.length === 2 ? (sh[0] === 1 ? 0 : i) : 0;
        const cj = sh.length >= 1 ? (sh[sh.length - 1] === 1 ? 0 : j) : 0;
        cv = c.v[sh.length === 2 ? ci * sh[1]! + cj : cj]!;
      }
      out.push(alpha * s + beta * cv);
    }
  return out;
}

const cShapes = (M: number, N: number): number[][] => [[N], [1, N], [M, N], [M, 1], [1, 1], [], [1]];

test('Gemm with every broadcast form of C, transposes, alpha and beta matches a float64 loop', () => {
  let seed = 1;
  for (const dtype of ['float32', 'float64'] as const) {
    for (const [M, N, K] of [
      [1, 9, 7],
      [2, 17, 33],
      [5, 1, 3],
      [7, 13, 11],
      [13, 40, 65],
    ] as const) {
      for (const [ta, tb] of [
        [false, false],
        [false, true],
        [true, false],
        [true, true],
      ] as const) {
        for (const [alpha, beta] of [
          [1, 1],
          [1, -2],
          [1, 0],
          [0.5, 1],
        ] as const) {
          for (const cs of [undefined, ...cShapes(M, N)]) {
            const av = rand(M * K, seed++);
            const bv = rand(K * N, seed++);
            const A = make(av, ta ? [K, M] : [M, K], dtype);
            const B = make(bv, tb ? [N, K] : [K, N], dtype);
            const c = cs && {
              v: rand(
                cs.reduce((p, d) => p * d, 1),
                seed++,
              ),
              shape: cs,
            };
            const inputs = c ? [A, B, make(c.v, c.shape, dtype)] : [A, B];
            const y = dispatch1('Gemm', inputs, { alpha, beta, transA: ta ? 1 : 0, transB: tb ? 1 : 0 });
            assert.deepEqual([...y.shape], [M, N]);
            const tol = dtype === 'float32' ? 1e-5 : 1e-12;
            assertClose(y, reference(av, bv, c, M, N, K, ta, tb, alpha, beta), { rtol: tol, atol: tol });
          }
        }
      }
    }
  }
});

test('Gemm: empty products and a NaN in C with beta = 0', () => {
  // K = 0: the product is zero, so Y = beta * C.
  const c = make([1, 2, 3], [3], 'float32');
  const y0 = dispatch1('Gemm', [make([], [2, 0], 'float32'), make([], [0, 3], 'float32'), c], { beta: 2 });
  assertClose(y0, [2, 4, 6, 2, 4, 6]);
  // M = 0: an empty [0, 3] result.
  const ym = dispatch1('Gemm', [make([], [0, 4], 'float32'), make(rand(12, 3), [4, 3], 'float32'), c]);
  assert.deepEqual([...ym.shape], [0, 3]);
  // ONNX adds beta * C even when beta = 0, so NaN shows (0 * NaN), as in the reference.
  const cn = make([Number.NaN, 1], [2], 'float32');
  const yn = dispatch1('Gemm', [make([1, 2], [1, 2], 'float32'), make([1, 0, 0, 1], [2, 2], 'float32'), cn], {
    beta: 0,
  });
  const d = yn.numbers();
  assert.ok(Number.isNaN(d[0]!));
  assert.equal(d[1], 2);
});

test('a session Gemm with resident weights gives the float64 loop for odd batch sizes, run after run', async () => {
  const [K, N] = [37, 19];
  const wv = rand(N * K, 41);
  const bv = rand(N, 42);
  for (const M of [1, 2, 3, 8, 11]) {
    const bytes = model({
      nodes: [node('Gemm', ['x', 'w', 'b'], ['y'], [attr.int('transB', 1)])],
      inputs: [vi('x', T.float, [M, K])],
      outputs: [vi('y', T.float, [M, N])],
      initializers: { w: make(wv, [N, K], 'float32'), b: make(bv, [N], 'float32') },
    });
    const s = await InferenceSession.create(bytes);
    for (let r = 0; r < 3; r++) {
      const xv = rand(M * K, 100 * M + r);
      const { y } = await s.run({ x: make(xv, [M, K], 'float32') });
      const want = reference(xv, wv, { v: bv, shape: [N] }, M, N, K, false, true, 1, 1);
      assertClose(y!, want, { rtol: 1e-5, atol: 1e-5 });
    }
  }
});
