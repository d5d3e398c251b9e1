/**
 * Gemm (both opset forms) and MatMulInteger: hand-computed values for every transpose flag, alpha,
 * beta and C shape; the ONNX doc example of MatMulInteger; gradcheck of Gemm with trans flags and
 * C broadcasting.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, ops, randn, type Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;
const gemm = (inputs: (Tensor | undefined)[], attrs: Record<string, number> = {}, opset?: number) =>
  dispatch1('Gemm', inputs, attrs, { opset });

// A = [[1, 2], [3, 4]], B = [[5, 6], [7, 8]]
const A = () =>
  tensor([
    [1, 2],
    [3, 4],
  ]);
const B = () =>
  tensor([
    [5, 6],
    [7, 8],
  ]);

test('A @ B for every transpose combination', () => {
  // A @ B = [[19, 22], [43, 50]]
  assertClose(gemm([A(), B()]), [19, 22, 43, 50]);
  // A^T @ B = [[1,3],[2,4]] @ B = [[26, 30], [38, 44]]
  assertClose(gemm([A(), B()], { transA: 1 }), [26, 30, 38, 44]);
  // A @ B^T = A @ [[5,7],[6,8]] = [[17, 23], [39, 53]]
  assertClose(gemm([A(), B()], { transB: 1 }), [17, 23, 39, 53]);
  // A^T @ B^T = [[1,3],[2,4]] @ [[5,7],[6,8]] = [[23, 31], [34, 46]]
  assertClose(gemm([A(), B()], { transA: 1, transB: 1 }), [23, 31, 34, 46]);
});

test('alpha, beta and every C shape that broadcasts to [M, N]', () => {
  const ab = [19, 22, 43, 50];
  const withC = (c: Tensor, f: (v: number, i: number) => number) =>
    assertClose(
      gemm([A(), B(), c], { alpha: 2, beta: 0.5 }),
      ab.map((v, i) => 2 * v + 0.5 * f(v, i)),
    );
  withC(tensor(10), () => 10);
  withC(tensor([10]), () => 10);
  withC(tensor([10, 20]), (_, i) => [10, 20][i % 2]!);
  withC(tensor([[10, 20]]), (_, i) => [10, 20][i % 2]!);
  withC(tensor([[10], [20]]), (_, i) => [10, 20][Math.floor(i / 2)]!);
  withC(
    tensor([
      [1, 2],
      [3, 4],
    ]),
    (_, i) => i + 1,
  );
  // C is optional from opset 11 on
  assertClose(gemm([A(), B(), undefined], { beta: 3 }), ab);
});

test('opset 6 broadcast attribute: 0 needs C to be [M, N] exactly', () => {
  assertClose(
    gemm(
      [
        A(),
        B(),
        tensor([
          [1, 1],
          [1, 1],
        ]),
      ],
      {},
      6,
    ),
    [20, 23, 44, 51],
  );
  assert.throws(() => gemm([A(), B(), tensor([1, 1])], {}, 6), /Gemm: C has shape \[2\], expected \[2, 2\]/);
  assertClose(gemm([A(), B(), tensor([1, 2])], { broadcast: 1 }, 6), [20, 24, 44, 52]);
});

test('errors: ranks, inner dimensions, C shape', () => {
  assert.throws(() => gemm([randn([2, 2, 2]), B()]), /Gemm: input A must be 2-D, got shape \[2, 2, 2\]/);
  assert.throws(
    () => gemm([randn([2, 3]), B()]),
    /Gemm: inner dimensions differ: A' is \[2, 3\] and B' is \[2, 2\]/,
  );
  assert.throws(
    () => gemm([A(), B(), tensor([1, 2, 3])]),
    /Gemm: C has shape \[3\], expected a shape broadcastable to \[2, 2\]/,
  );
});

test('int32 Gemm keeps its dtype', () => {
  const y = gemm([A().int(), B().int(), tensor([1, 1], { dtype: 'int32' })], { alpha: 1, beta: 2 });
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(y.toArray(), [
    [21, 24],
    [45, 52],
  ]);
});

test('gradcheck Gemm: transposes, alpha/beta, C broadcast from [N], [M,1] and []', () => {
  const opts = { dtype: 'float64' as const, requiresGrad: true };
  const [M, K, N] = [3, 4, 2];
  for (const transA of [0, 1]) {
    for (const transB of [0, 1]) {
      for (const cShape of [[N], [M, 1], [], [M, N]]) {
        const a = randn(transA ? [K, M] : [M, K], opts);
        const b = randn(transB ? [N, K] : [K, N], opts);
        const c = randn(cShape, opts);
        assert.ok(
          gradcheck((x, y, z) => gemm([x, y, z], { transA, transB, alpha: 0.7, beta: -1.3 }), [a, b, c]),
          `transA=${transA} transB=${transB} C ${cShape}`,
        );
      }
    }
  }
  const a = randn([M, K], opts);
  const b = randn([K, N], opts);
  assert.ok(gradcheck((x, y) => gemm([x, y]), [a, b]));
});

test('MatMulInteger: the ONNX doc example (per-tensor zero point)', () => {
  const a = tensor(
    [
      [11, 7, 3],
      [10, 6, 2],
      [9, 5, 1],
      [8, 4, 0],
    ],
    { dtype: 'uint8' },
  );
  const b = tensor(
    [
      [1, 4],
      [2, 5],
      [3, 6],
    ],
    { dtype: 'uint8' },
  );
  // (A - 12) row 0 = [-1, -5, -9]: [-1 - 10 - 27, -4 - 25 - 54] = [-38, -83], and so on.
  const y = dispatch1('MatMulInteger', [a, b, tensor(12, { dtype: 'uint8' }), tensor(0, { dtype: 'uint8' })]);
  assert.equal(y.dtype, 'int32');
  assert.deepEqual(y.toArray(), [
    [-38, -83],
    [-44, -98],
    [-50, -113],
    [-56, -128],
  ]);
});

test('MatMulInteger: per-row / per-column zero points, int8, no zero points', () => {
  const a = tensor(
    [
      [1, 2],
      [3, 4],
    ],
    { dtype: 'int8' },
  );
  const b = tensor(
    [
      [1, -1],
      [2, 0],
    ],
    { dtype: 'int8' },
  );
  assert.deepEqual(dispatch1('MatMulInteger', [a, b]).toArray(), [
    [5, -1],
    [11, -3],
  ]);
  // per-row a zero points [1, 3]: A - zp = [[0, 1], [0, 1]]; per-column b zero points [1, -1]: B - zp = [[0, 0], [1, 1]]
  const y = dispatch1('MatMulInteger', [
    a,
    b,
    tensor([1, 3], { dtype: 'int8' }),
    tensor([1, -1], { dtype: 'int8' }),
  ]);
  assert.deepEqual(y.toArray(), [
    [1, 1],
    [1, 1],
  ]);
  assert.throws(
    () => dispatch1('MatMulInteger', [a.float(), b]),
    /MatMulInteger: A must be int8 or uint8, got float32/,
  );
});
