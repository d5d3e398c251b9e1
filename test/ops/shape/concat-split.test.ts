import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  arange,
  cat,
  chunk,
  gradcheck,
  int64s,
  ops,
  randn,
  split,
  stack,
  tensor,
  zeros,
} from '../../../src/index.js';

const run = (op: string, inputs: any[], attrs = {}, opts = {}) => ops.dispatch(op, inputs, attrs, opts);

test('Concat: positive and negative axes, zero-length inputs, opset-1 default axis', () => {
  const a = tensor([
    [1, 2],
    [3, 4],
  ]);
  const b = tensor([[5, 6]]);
  assert.deepEqual(run('Concat', [a, b], { axis: 0 })[0]!.toArray(), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual(run('Concat', [a, b], { axis: -2 })[0]!.toArray(), [
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const c = tensor([[7], [8]]);
  assert.deepEqual(run('Concat', [a, c], { axis: -1 })[0]!.toArray(), [
    [1, 2, 7],
    [3, 4, 8],
  ]);
  const empty = zeros([0, 2]);
  assert.deepEqual(run('Concat', [empty, a, empty], { axis: 0 })[0]!.toArray(), [
    [1, 2],
    [3, 4],
  ]);
  // Opset 1 defaulted axis to 1; opset 4 requires it.
  assert.deepEqual(run('Concat', [a, c], {}, { opset: 1 })[0]!.shape, [2, 3]);
  assert.throws(() => run('Concat', [a, c], {}, { opset: 13 }), /Concat: attribute 'axis' is required/);
});

test('Concat: mismatched shapes, ranks and dtypes are TesseraErrors naming the op', () => {
  const a = zeros([2, 2]);
  assert.throws(
    () => run('Concat', [a, zeros([2, 3])], { axis: 0 }),
    /Concat: input 1 has shape \[2, 3\], expected \[2, 2\] except on axis 0/,
  );
  assert.throws(() => run('Concat', [a, zeros([2])], { axis: 0 }), /Concat: input 1 has rank 1, expected 2/);
  assert.throws(
    () => run('Concat', [a, zeros([2, 2], { dtype: 'int32' })], { axis: 0 }),
    /Concat: inputs must have the same dtype/,
  );
  assert.throws(() => run('Concat', [a, a], { axis: 2 }), /Concat: axis 2 is out of range for rank 2/);
});

test('Concat keeps int64 exactly and concatenates strings', () => {
  const big = tensor([2n ** 62n + 1n, -5n]);
  const out = run('Concat', [big, big], { axis: 0 })[0]!;
  assert.deepEqual(Array.from(out.dataSync() as BigInt64Array), [2n ** 62n + 1n, -5n, 2n ** 62n + 1n, -5n]);
  assert.deepEqual(run('Concat', [tensor(['a']), tensor(['b', 'c'])], { axis: 0 })[0]!.toArray(), [
    'a',
    'b',
    'c',
  ]);
});

test('Split: split input (13+), split attribute (<13), equal parts by output count, views', () => {
  const x = arange(12).reshape(2, 6);
  const parts = run('Split', [x, int64s([1, 2, 3])], { axis: 1 });
  assert.deepEqual(
    parts.map((p) => p.toArray()),
    [
      [[0], [6]],
      [
        [1, 2],
        [7, 8],
      ],
      [
        [3, 4, 5],
        [9, 10, 11],
      ],
    ],
  );
  assert.equal(parts[2]!.storage, x.storage, 'outputs are views');
  const old = run('Split', [x], { axis: -1, split: [4, 2] }, { opset: 11 });
  assert.deepEqual(
    old.map((p) => p.shape),
    [
      [2, 4],
      [2, 2],
    ],
  );
  const eq = run('Split', [x], { axis: 1 }, { numOutputs: 3, opset: 13 });
  assert.deepEqual(
    eq.map((p) => p.toArray()),
    [
      [
        [0, 1],
        [6, 7],
      ],
      [
        [2, 3],
        [8, 9],
      ],
      [
        [4, 5],
        [10, 11],
      ],
    ],
  );
  // zero-size parts are allowed
  assert.deepEqual(
    run('Split', [x, int64s([0, 6])], { axis: 1 }).map((p) => p.shape),
    [
      [2, 0],
      [2, 6],
    ],
  );
});

test('Split opset 18 num_outputs: chunks of ceil(n/k), the last smaller', () => {
  const x = arange(7);
  const parts = run('Split', [x], { num_outputs: 3 }, { opset: 18 });
  assert.deepEqual(
    parts.map((p) => p.toArray()),
    [[0, 1, 2], [3, 4, 5], [6]],
  );
});

test('Split errors: sizes not summing, indivisible equal split, unknown output count', () => {
  const x = arange(6);
  assert.throws(
    () => run('Split', [x, int64s([2, 2])]),
    /Split: split sizes \[2, 2\] must be non-negative and sum to 6/,
  );
  assert.throws(
    () => run('Split', [x], {}, { numOutputs: 4 }),
    /Split: axis 0 has size 6, which does not divide into 4 equal outputs/,
  );
  assert.throws(() => run('Split', [x]), /Split: without 'split' or 'num_outputs'/);
});

test('Concat and Split gradients (gradcheck)', () => {
  const a = randn([2, 3], { dtype: 'float64', requiresGrad: true });
  const b = randn([2, 1], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x, y) => run('Concat', [x, y], { axis: 1 })[0]!, [a, b]),
    true,
  );
  // Split with one output unused: its gradient is zero
  const c = randn([5, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => run('Split', [x, int64s([2, 3])], { axis: 0 })[1]!.mul(2), [c]),
    true,
  );
  assert.equal(
    gradcheck((x) => run('Split', [x, int64s([2, 3])], { axis: 0 }), [c]),
    true,
  );
});

test('cat promotes dtypes and skips legacy empty 1-D tensors; stack adds a dim', () => {
  const a = tensor([[1, 2]], { dtype: 'int32' });
  const b = tensor([[0.5, 1.5]]);
  const c = cat([a, b, zeros([0])], 0);
  assert.equal(c.dtype, 'float32');
  assert.deepEqual(c.toArray(), [
    [1, 2],
    [0.5, 1.5],
  ]);
  const s = stack([tensor([1, 2]), tensor([3, 4])], 1);
  assert.deepEqual(s.toArray(), [
    [1, 3],
    [2, 4],
  ]);
  assert.deepEqual(stack([tensor([1, 2]), tensor([3, 4])], -1).shape, [2, 2]);
  assert.throws(() => stack([tensor([1, 2]), tensor([3])]), /stack: expects each tensor to be equal size/);
  assert.throws(() => cat([tensor(1)]), /cat: zero-dimensional tensor \(at position 0\)/);
});

test('split / chunk follow torch: sizes, sections, fewer chunks than asked', () => {
  const x = arange(10);
  assert.deepEqual(
    split(x, 4).map((p) => p.toArray()),
    [
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9],
    ],
  );
  assert.deepEqual(
    x.split([3, 7]).map((p) => p.shape),
    [[3], [7]],
  );
  // torch.chunk(arange(10), 4): chunk size ceil(10/4) = 3 -> sizes 3, 3, 3, 1
  assert.deepEqual(
    chunk(x, 4).map((p) => p.shape[0]),
    [3, 3, 3, 1],
  );
  // torch.chunk(arange(6), 4): chunk size 2 -> only 3 chunks
  assert.deepEqual(
    arange(6)
      .chunk(4)
      .map((p) => p.toArray()),
    [
      [0, 1],
      [2, 3],
      [4, 5],
    ],
  );
  const m = arange(6).reshape(2, 3);
  const cols = m.chunk(3, -1);
  assert.deepEqual(
    cols.map((p) => p.toArray()),
    [
      [[0], [3]],
      [[1], [4]],
      [[2], [5]],
    ],
  );
  assert.equal(cols[1]!.storage, m.storage);
});

test('stack / cat gradients (gradcheck)', () => {
  const a = randn([2, 2], { dtype: 'float64', requiresGrad: true });
  const b = randn([2, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x, y) => stack([x, y.mul(x)], 1), [a, b]),
    true,
  );
  assert.equal(
    gradcheck((x) => cat(x.chunk(2, 1).reverse(), 1), [a]),
    true,
  );
});
