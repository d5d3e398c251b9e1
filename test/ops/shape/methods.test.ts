import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, gradcheck, randn, TesseraError, tensor, zeros } from '../../../src/index.js';

test('permute / transpose / t / mT / T give views that write through to the base', () => {
  const x = zeros([2, 3, 4]);
  const p = x.permute(2, 0, 1);
  assert.deepEqual(p.shape, [4, 2, 3]);
  assert.deepEqual(x.permute([1, 2, 0]).shape, [3, 4, 2]);
  p.set([3, 1, 2], 5);
  assert.equal((x.toArray() as any)[1][2][3], 5, 'p[3][1][2] is x[1][2][3]');
  const t = x.transpose(0, -1);
  assert.deepEqual(t.shape, [4, 3, 2]);
  t.set([0, 0, 0], 7);
  assert.equal((x.toArray() as any)[0][0][0], 7);
  assert.deepEqual(x.mT.shape, [2, 4, 3]);
  assert.equal(x.mT.storage, x.storage);
  assert.deepEqual(x.T.shape, [4, 3, 2]);
  const m = arange(6).reshape(2, 3);
  assert.deepEqual(m.t().toArray(), [
    [0, 3],
    [1, 4],
    [2, 5],
  ]);
  assert.deepEqual(arange(3).t().toArray(), [0, 1, 2]);
  assert.throws(
    () => x.t(),
    (e: any) => e instanceof TesseraError && /t\(\): expects a tensor with <= 2 dims, got 3/.test(e.message),
  );
  assert.throws(() => arange(3).mT, /mT: expects a tensor with >= 2 dims/);
  assert.throws(() => x.permute(0, 1), /permute: got 2 dims \[0, 1\], expected 3/);
});

test('flatten / squeeze / unsqueeze follow torch (squeeze ignores dims that are not 1)', () => {
  const x = zeros([2, 1, 3, 1]);
  assert.deepEqual(x.flatten().shape, [6]);
  assert.deepEqual(x.flatten(1).shape, [2, 3]);
  assert.deepEqual(x.flatten(0, -2).shape, [6, 1]);
  assert.deepEqual(tensor(3).flatten().shape, [1]);
  assert.throws(() => x.flatten(2, 1), /flatten: startDim \(2\) comes after endDim \(1\)/);
  assert.deepEqual(x.squeeze().shape, [2, 3]);
  assert.deepEqual(x.squeeze(1).shape, [2, 3, 1]);
  assert.deepEqual(x.squeeze(0).shape, [2, 1, 3, 1], 'torch leaves a non-1 dim alone');
  assert.deepEqual(x.squeeze([1, -1]).shape, [2, 3]);
  assert.deepEqual(x.unsqueeze(0).shape, [1, 2, 1, 3, 1]);
  assert.deepEqual(x.unsqueeze(-1).shape, [2, 1, 3, 1, 1]);
  assert.equal(x.squeeze().storage, x.storage);
  assert.throws(() => x.unsqueeze(6), /unsqueeze: axis 6 is out of range for rank 5/);
});

test('narrow is a view; flip copies; roll matches numpy.roll (numpy 2.4 values)', () => {
  const x = arange(12).reshape(3, 4);
  const n = x.narrow(1, 1, 2);
  assert.deepEqual(n.toArray(), [
    [1, 2],
    [5, 6],
    [9, 10],
  ]);
  n.set([0, 0], 100);
  assert.equal((x.toArray() as any)[0][1], 100);
  assert.throws(() => x.narrow(0, 2, 2), /narrow: start \(2\) \+ length \(2\) exceeds dim 0 of size 3/);
  const y = arange(12).reshape(3, 4);
  const f = y.flip(0, 1);
  assert.deepEqual(f.toArray(), [
    [11, 10, 9, 8],
    [7, 6, 5, 4],
    [3, 2, 1, 0],
  ]);
  assert.notEqual(f.storage, y.storage, 'torch.flip copies');
  assert.deepEqual(y.flip([1]).toArray(), [
    [3, 2, 1, 0],
    [7, 6, 5, 4],
    [11, 10, 9, 8],
  ]);
  // np.roll(arange(12).reshape(3, 4), (1, -1), (0, 1))
  assert.deepEqual(y.roll([1, -1], [0, 1]).toArray(), [
    [9, 10, 11, 8],
    [1, 2, 3, 0],
    [5, 6, 7, 4],
  ]);
  // np.roll(arange(6).reshape(2, 3), 2): rolls the flattened tensor
  assert.deepEqual(arange(6).reshape(2, 3).roll(2).toArray(), [
    [4, 5, 0],
    [1, 2, 3],
  ]);
  assert.deepEqual(arange(3).roll(-4, 0).toArray(), [1, 2, 0]);
});

test('shape method gradients (gradcheck): permute, transpose, flip, roll, narrow, flatten, squeeze', () => {
  const a = randn([2, 3, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => x.permute(1, 2, 0).mul(x.transpose(0, 1).permute(0, 2, 1)), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.flip(0, 2).roll([1, -1], [1, 2]), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.narrow(1, 1, 2).flatten(1).unsqueeze(0).squeeze(0), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.mT.mul(x.T.permute(2, 1, 0).mT), [a]),
    true,
  );
});

test('split/chunk outputs are views and their gradients flow (gradcheck)', () => {
  const a = randn([5, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => x.split(2).map((p, i) => p.mul(i + 1)), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.chunk(2, 1)[1]!, [a]),
    true,
  );
});
