import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, gradcheck, int64s, ops, randn, TesseraError, tensor } from '../../../src/index.js';

const run = (op: string, inputs: any[], attrs = {}, opset?: number) =>
  ops.dispatch1(op, inputs, attrs, { opset });

test('Transpose: default reverses dims, perm reorders, both are views', () => {
  const x = arange(24).reshape(2, 3, 4);
  const r = run('Transpose', [x]);
  assert.deepEqual(r.shape, [4, 3, 2]);
  // element [k][j][i] of the reversed tensor is x[i][j][k] = 12i + 4j + k
  assert.equal((r.toArray() as any)[3][2][1], 12 * 1 + 4 * 2 + 3);
  const p = run('Transpose', [x], { perm: [1, 0, 2] });
  assert.deepEqual(p.shape, [3, 2, 4]);
  assert.deepEqual((p.toArray() as any)[2][1], [20, 21, 22, 23]);
  assert.equal(p.storage, x.storage, 'a view shares the storage');
  assert.equal(p.isContiguous(), false);
});

test('Transpose: bad perm is a TesseraError naming the op', () => {
  const x = arange(6).reshape(2, 3);
  assert.throws(
    () => run('Transpose', [x], { perm: [0, 0] }),
    (e: any) => e instanceof TesseraError && /Transpose/.test(e.message),
  );
  assert.throws(
    () => run('Transpose', [x], { perm: [0] }),
    /Transpose: perm \[0\] has 1 entries, expected 2/,
  );
});

test('Transpose gradient (gradcheck, rank 3 with a perm and a following broadcast)', () => {
  const a = randn([2, 3, 2], { dtype: 'float64', requiresGrad: true });
  const b = randn([2, 1, 1], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x, y) => run('Transpose', [x], { perm: [2, 0, 1] }).mul(y), [a, b]),
    true,
  );
});

test('Squeeze: all size-1 dims, listed axes, negative axes; opset 1 attribute form', () => {
  const x = arange(6).reshape(1, 3, 1, 2);
  assert.deepEqual(run('Squeeze', [x]).shape, [3, 2]);
  assert.deepEqual(run('Squeeze', [x, int64s([-2])]).shape, [1, 3, 2]);
  assert.deepEqual(run('Squeeze', [x], { axes: [0] }, 11).shape, [3, 1, 2]);
  const s = run('Squeeze', [x, int64s([0, 2])]);
  assert.deepEqual(s.toArray(), [
    [0, 1],
    [2, 3],
    [4, 5],
  ]);
  assert.equal(s.storage, x.storage);
  assert.throws(
    () => run('Squeeze', [x, int64s([1])]),
    /Squeeze: axis 1 of input \[1, 3, 1, 2\] has size 3, expected size 1/,
  );
  assert.throws(() => run('Squeeze', [x, int64s([4])]), /Squeeze: axis 4 is out of range/);
});

test('Unsqueeze: axes index the output, negative and unsorted axes; stays a view of strided input', () => {
  const x = arange(6).reshape(2, 3);
  assert.deepEqual(run('Unsqueeze', [x, int64s([0, 3])]).shape, [1, 2, 3, 1]);
  assert.deepEqual(run('Unsqueeze', [x, int64s([-1])]).shape, [2, 3, 1]);
  assert.deepEqual(run('Unsqueeze', [x, int64s([3, 0])]).shape, [1, 2, 3, 1]);
  assert.deepEqual(run('Unsqueeze', [x], { axes: [1] }, 11).shape, [2, 1, 3]);
  const t = run('Transpose', [x]);
  const u = run('Unsqueeze', [t, int64s([1])]);
  assert.equal(u.storage, x.storage);
  assert.deepEqual(u.toArray(), [[[0, 3]], [[1, 4]], [[2, 5]]]);
  assert.throws(() => run('Unsqueeze', [x, int64s([1, 1])]), /Unsqueeze: axes \[1, 1\] repeat an axis/);
  assert.throws(
    () => run('Unsqueeze', [x, int64s([3])]),
    /Unsqueeze: axis 3 is out of range, expected an axis in \[-3, 2\]/,
  );
});

test('Flatten: axis 0..r and negative axes give [prod(before), prod(after)]', () => {
  const x = arange(120).reshape(2, 3, 4, 5);
  const expected: Record<number, number[]> = {
    0: [1, 120],
    1: [2, 60],
    2: [6, 20],
    3: [24, 5],
    4: [120, 1],
    [-1]: [24, 5],
    [-4]: [1, 120],
  };
  for (const [axis, shape] of Object.entries(expected)) {
    assert.deepEqual(run('Flatten', [x], { axis: Number(axis) }).shape, shape, `axis ${axis}`);
  }
  assert.deepEqual(run('Flatten', [x]).shape, [2, 60], 'default axis 1');
  assert.throws(() => run('Flatten', [x], { axis: 5 }), /Flatten: axis 5 is out of range/);
  // values keep row-major order
  assert.deepEqual(
    run(
      'Flatten',
      [
        tensor([
          [1, 2],
          [3, 4],
        ]),
      ],
      { axis: 0 },
    ).toArray(),
    [[1, 2, 3, 4]],
  );
});

test('Squeeze/Unsqueeze/Flatten gradients (gradcheck)', () => {
  const a = randn([1, 3, 1, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => run('Squeeze', [x]), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => run('Unsqueeze', [x, int64s([0, -1])]), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => run('Flatten', [run('Transpose', [x])], { axis: 2 }), [a]),
    true,
  );
});
