/**
 * MatMul and the CPU kernel: hand-computed products, every 1-D promotion case, batch broadcasting
 * against a naive triple loop written here, integer dtypes, empty sizes, errors; gradcheck with
 * batch broadcasting and 1-D operands; the chained methods.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, matmul, ops, randn, Tensor, tensor } from '../../../src/index.js';
import { matmulCpu } from '../../../src/ops/linalg/matmul-cpu.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;
const mm = (a: Tensor, b: Tensor) => dispatch1('MatMul', [a, b]);

/** Reference: the textbook triple loop on plain arrays. */
function naive(a: ArrayLike<number>, b: ArrayLike<number>, M: number, K: number, N: number): number[] {
  const out = new Array<number>(M * N).fill(0);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) for (let k = 0; k < K; k++) out[i * N + j]! += a[i * K + k]! * b[k * N + j]!;
  return out;
}

test('2-D product by hand', () => {
  // [[1,2],[3,4],[5,6]] @ [[1,0,2],[0,1,3]]
  const y = mm(
    tensor([
      [1, 2],
      [3, 4],
      [5, 6],
    ]),
    tensor([
      [1, 0, 2],
      [0, 1, 3],
    ]),
  );
  assert.deepEqual(y.shape, [3, 3]);
  assertClose(y, [1, 2, 8, 3, 4, 18, 5, 6, 28]);
});

test('1-D promotion: vector.vector, vector @ batch, batch @ vector', () => {
  const v = tensor([1, 2, 3]);
  const dot = mm(v, tensor([4, 5, 6]));
  assert.deepEqual(dot.shape, []);
  assertClose(dot, 32);
  // [3] @ [2, 3, 2]: each batch's rows weighted by v
  const b = tensor([
    [
      [1, 0],
      [0, 1],
      [1, 1],
    ],
    [
      [2, 0],
      [0, 2],
      [0, 0],
    ],
  ]);
  const vb = mm(v, b);
  assert.deepEqual(vb.shape, [2, 2]);
  assertClose(vb, [4, 5, 2, 4]);
  // [2, 2, 3] @ [3]
  const bv = mm(
    tensor([
      [
        [1, 1, 1],
        [0, 1, 0],
      ],
      [
        [1, 0, 0],
        [0, 0, 2],
      ],
    ]),
    v,
  );
  assert.deepEqual(bv.shape, [2, 2]);
  assertClose(bv, [6, 2, 1, 6]);
});

test('batch dims broadcast like NumPy ([3,1,3,4] @ [1,2,4,2] -> [3,2,3,2])', () => {
  const a = randn([3, 1, 3, 4], { dtype: 'float64' });
  const b = randn([1, 2, 4, 2], { dtype: 'float64' });
  const y = mm(a, b);
  assert.deepEqual(y.shape, [3, 2, 3, 2]);
  const av = a.numbers();
  const bv = b.numbers();
  const expected: number[] = [];
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 2; j++) {
      expected.push(...naive(av.subarray(i * 12, i * 12 + 12), bv.subarray(j * 8, j * 8 + 8), 3, 4, 2));
    }
  }
  assertClose(y, expected, { rtol: 1e-12, atol: 1e-12 });
  // a matrix on the right folds a's batch into rows; check that path too
  const c = randn([4, 5], { dtype: 'float64' });
  const z = mm(a, c);
  assert.deepEqual(z.shape, [3, 1, 3, 5]);
  assertClose(z, naive(av, c.numbers(), 9, 4, 5), { rtol: 1e-12, atol: 1e-12 });
});

test('matmulCpu matches the naive loop on odd sizes, row remainders and column blocks', () => {
  for (const [M, K, N] of [
    [1, 1, 1],
    [5, 7, 3],
    [9, 4, 6],
    [6, 3, 300],
    [7, 0, 2],
  ] as const) {
    const a = Float64Array.from({ length: M * K }, (_, i) => Math.sin(i + 1));
    const b = Float64Array.from({ length: K * N }, (_, i) => Math.cos(i));
    const out = matmulCpu(a, b, M, K, N);
    assert.ok(out instanceof Float64Array);
    const ref = naive(a, b, M, K, N);
    for (let i = 0; i < ref.length; i++)
      assert.ok(Math.abs(out[i]! - ref[i]!) < 1e-12, `${M}x${K}x${N} @${i}`);
  }
  // offsets into larger buffers, float32 storage
  const a = Float32Array.of(9, 1, 2, 3, 4);
  const b = Float32Array.of(9, 9, 1, 0, 0, 1);
  const out = new Float32Array(6);
  matmulCpu(a, b, 2, 2, 2, out, 1, 2, 2);
  assert.deepEqual([...out], [0, 0, 1, 2, 3, 4]);
});

test('integer and float64 dtypes; empty sizes', () => {
  const i = mm(tensor([[1, 2]], { dtype: 'int64' }), tensor([[3], [4]], { dtype: 'int64' }));
  assert.equal(i.dtype, 'int64');
  assert.deepEqual(i.toArray(), [[11]]);
  const j = mm(tensor([[-2, 7]], { dtype: 'int32' }), tensor([[3], [4]], { dtype: 'int32' }));
  assert.deepEqual(j.toArray(), [[22]]);
  const z = mm(Tensor.empty([2, 0], 'float32'), Tensor.empty([0, 3], 'float32'));
  assert.deepEqual(z.shape, [2, 3]);
  assertClose(z, new Array(6).fill(0));
  assert.deepEqual(mm(Tensor.empty([0, 4], 'float32'), Tensor.empty([4, 3], 'float32')).shape, [0, 3]);
  // non-contiguous (transposed) input
  const t = tensor([
    [1, 3],
    [2, 4],
  ]);
  const tt = t.asStrided([2, 2], [1, 2]);
  assertClose(mm(tt, tensor([[1], [1]])), [3, 7]);
});

test('errors name MatMul and both shapes', () => {
  assert.throws(
    () => mm(randn([2, 3]), randn([4, 5])),
    /MatMul: inner dimensions differ: a has shape \[2, 3\] \(K=3\), b has shape \[4, 5\] \(K=4\)/,
  );
  assert.throws(() => mm(randn([2, 2, 3]), randn([3, 3, 1])), /MatMul \(batch dims\)/);
  assert.throws(() => mm(tensor(1), randn([2])), /MatMul: both inputs must have at least 1 dimension/);
  assert.throws(
    () => mm(randn([2, 2]), randn([2, 2], { dtype: 'float64' })),
    /MatMul: inputs must have the same dtype/,
  );
  assert.throws(
    () => mm(tensor([[true]]), tensor([[true]])),
    /MatMul: inputs must be float or 32\/64-bit int tensors, got bool/,
  );
});

test('gradcheck: 2-D, batch broadcasting both ways, 1-D operands', () => {
  const opts = { dtype: 'float64' as const, requiresGrad: true };
  const cases: [number[], number[]][] = [
    [
      [3, 4],
      [4, 2],
    ],
    [
      [2, 1, 3, 4],
      [3, 4, 2],
    ],
    [
      [3, 4],
      [2, 4, 5],
    ],
    [[4], [4]],
    [[4], [2, 4, 3]],
    [[2, 3, 4], [4]],
  ];
  for (const [sa, sb] of cases) {
    assert.ok(
      gradcheck((a, b) => matmul(a, b), [randn(sa, opts), randn(sb, opts)]),
      `${sa} @ ${sb}`,
    );
  }
});

test('double backward through MatMul (the gradient of a gradient) matches finite differences', () => {
  // s(w) = sum(d/dx sum((x @ w)^2)) = sum(2 (x @ w) @ w^T): its gradient in w needs MatMul's
  // gradient to be differentiable itself.
  const x = randn([2, 3], { dtype: 'float64', requiresGrad: true });
  const w = randn([3, 2], { dtype: 'float64', requiresGrad: true });
  const s = () => {
    x.grad = null;
    w.grad = null;
    const y = x.matmul(w);
    y.mul(y).sum().backward(undefined, { createGraph: true });
    return x.grad!.sum();
  };
  const total = s();
  x.grad = null;
  w.grad = null;
  total.backward();
  const analytical = w.grad!.numbers();
  const data = w.storage.data as Float64Array;
  const eps = 1e-6;
  for (let i = 0; i < data.length; i++) {
    const orig = data[i]!;
    data[i] = orig + eps;
    const plus = s().item() as number;
    data[i] = orig - eps;
    const minus = s().item() as number;
    data[i] = orig;
    const numerical = (plus - minus) / (2 * eps);
    assert.ok(Math.abs(analytical[i]! - numerical) < 1e-5, `element ${i}: ${analytical[i]} vs ${numerical}`);
  }
});

test('methods: mm, bmm, dot, outer with torch shape checks', () => {
  const a = tensor([
    [1, 2],
    [3, 4],
  ]);
  assertClose(a.mm(a), [7, 10, 15, 22]);
  assertClose(tensor([1, 2]).dot(tensor([3, 4])), 11);
  const o = tensor([1, 2]).outer(tensor([3, 4, 5]));
  assert.deepEqual(o.shape, [2, 3]);
  assertClose(o, [3, 4, 5, 6, 8, 10]);
  const b = randn([2, 3, 4]);
  assert.deepEqual(b.bmm(randn([2, 4, 5])).shape, [2, 3, 5]);
  assert.throws(() => b.mm(a), /mm\(\): expected 2-D tensors, got shapes \[2, 3, 4\] and \[2, 2\]/);
  assert.throws(() => b.bmm(randn([3, 4, 5])), /bmm\(\): batch sizes differ/);
  assert.throws(() => tensor([1, 2]).dot(tensor([1, 2, 3])), /dot\(\): lengths differ: 2 and 3/);
  // mixed dtypes promote as torch's binary ops do
  assert.equal(a.matmul(tensor([[1], [1]], { dtype: 'float64' })).dtype, 'float64');
});
