// The tensor surface issue 2 names, item by item: creation, attributes, dtypes and promotion,
// views without copies, indexing and index assignment, output (toArray/data/item/toString) and the
// autograd controls. Expected values are computed by hand or are PyTorch's documented behaviour.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  arange,
  eye,
  fromTypedArray,
  full,
  linspace,
  manualSeed,
  noGrad,
  ones,
  onesLike,
  promoteTypes,
  rand,
  randint,
  randn,
  Tensor,
  TesseraError,
  tensor,
  zeros,
  zerosLike,
} from '../../src/index.js';

test('creation functions: values, shapes and dtypes', () => {
  assert.deepEqual(zeros([2, 3]).toArray(), [
    [0, 0, 0],
    [0, 0, 0],
  ]);
  assert.deepEqual(ones([2], { dtype: 'int32' }).toArray(), [1, 1]);
  assert.equal(ones([2], { dtype: 'int32' }).dtype, 'int32');
  assert.deepEqual(full([2, 2], 7).toArray(), [
    [7, 7],
    [7, 7],
  ]);
  // torch.arange(0, 10, 3) -> [0, 3, 6, 9]; int64 for integer arguments.
  assert.deepEqual(arange(0, 10, 3).toArray(), [0, 3, 6, 9]);
  assert.equal(arange(5).dtype, 'int64');
  // torch.linspace(0, 1, 5) -> [0, .25, .5, .75, 1]
  assert.deepEqual(linspace(0, 1, 5).toArray(), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(eye(2, 3).toArray(), [
    [1, 0, 0],
    [0, 1, 0],
  ]);
  const like = tensor([[1, 2]], { dtype: 'float64' });
  assert.equal(zerosLike(like).dtype, 'float64');
  assert.deepEqual(zerosLike(like).shape, [1, 2]);
  assert.deepEqual(onesLike(like).toArray(), [[1, 1]]);
  const req = tensor([1, 2], { requiresGrad: true });
  assert.equal(req.requiresGrad, true);
  assert.equal(tensor([1, 2]).requiresGrad, false);
  // nested arrays, typed arrays and explicit dtypes
  assert.equal(tensor(new Int32Array([1, 2])).dtype, 'int32');
  assert.equal(tensor([true, false]).dtype, 'bool');
  assert.throws(() => tensor([[1, 2], [3]]), TesseraError);
});

test('random creation is seedable with manualSeed and respects ranges', () => {
  manualSeed(123);
  const a = [rand([5]).toArray(), randn([5]).toArray(), randint(-3, 4, [50]).toArray()];
  manualSeed(123);
  const b = [rand([5]).toArray(), randn([5]).toArray(), randint(-3, 4, [50]).toArray()];
  assert.deepEqual(a, b);
  for (const v of a[0] as number[]) assert.ok(v >= 0 && v < 1);
  for (const v of a[2] as number[]) assert.ok(Number.isInteger(v) && v >= -3 && v < 4);
  assert.equal(randint(0, 5, [2]).dtype, 'int64');
  manualSeed(7);
  const big = Array.from(randn([4000]).numbers());
  const mean = big.reduce((s, v) => s + v, 0) / big.length;
  const variance = big.reduce((s, v) => s + (v - mean) ** 2, 0) / big.length;
  assert.ok(Math.abs(mean) < 0.1 && Math.abs(variance - 1) < 0.1, `mean ${mean} var ${variance}`);
});

test('fromTypedArray shares memory in both directions', () => {
  const buf = new Float32Array([1, 2, 3, 4]);
  const t = fromTypedArray(buf, [2, 2]);
  buf[0] = 9;
  assert.equal(t.index(0, 0).item(), 9);
  t.indexPut([1, 1], -5);
  assert.equal(buf[3], -5);
  assert.equal(t.dataSync(), buf);
});

test('attributes: shape, ndim, dtype, device, size(dim), numel, isWebGPU, gradFn, grad', () => {
  const t = tensor(
    [
      [1, 2, 3],
      [4, 5, 6],
    ],
    { requiresGrad: true },
  );
  assert.deepEqual(t.shape, [2, 3]);
  assert.equal(t.ndim, 2);
  assert.equal(t.dtype, 'float32');
  assert.equal(t.device, 'cpu');
  assert.deepEqual(t.size(), [2, 3]);
  assert.equal(t.size(1), 3);
  assert.equal(t.size(-2), 2);
  assert.throws(() => t.size(2), /size: axis 2 is out of range/);
  assert.equal(t.numel(), 6);
  assert.equal(t.isWebGPU, false);
  assert.equal(t.gradFn, null);
  assert.equal(t.grad, null);
  assert.equal(t.mul(2).gradFn?.name, 'MulBackward0');
});

test('dtypes: storage, to(), type(), float16 stored as 16 bits', () => {
  const storage: [string, string][] = [
    ['float32', 'Float32Array'],
    ['float64', 'Float64Array'],
    ['float16', 'Uint16Array'],
    ['int8', 'Int8Array'],
    ['uint8', 'Uint8Array'],
    ['int16', 'Int16Array'],
    ['int32', 'Int32Array'],
    ['int64', 'BigInt64Array'],
    ['bool', 'Uint8Array'],
  ];
  for (const [dtype, arr] of storage) {
    const t = tensor([1, 0], { dtype: dtype as never });
    assert.equal(t.dtype, dtype);
    assert.equal(t.dataSync().constructor.name, arr, dtype);
    assert.equal(t.type(), dtype);
  }
  // 1/3 in half precision is 0x3555 = 0.333251953125 (IEEE binary16, by hand).
  const h = tensor([1 / 3], { dtype: 'float16' });
  assert.equal((h.dataSync() as Uint16Array)[0], 0x3555);
  assert.equal(h.item(), 0.333251953125);
  // computed in f32, result stored as f16: 0.333251953125 * 3 = 0.999755859375 rounds to 1.0
  assert.equal(h.mul(3).item(), 1);
  assert.equal(h.mul(3).dtype, 'float16');
  // to(): casts truncate toward zero like torch; to('float64'); type(dtype) casts
  assert.deepEqual(tensor([1.7, -1.7]).to('int32').toArray(), [1, -1]);
  assert.equal(tensor([1]).to('float64').dtype, 'float64');
  assert.equal(tensor([1]).type('int16').dtype, 'int16');
  assert.equal(tensor([1]).to({ dtype: 'int8' }).dtype, 'int8');
  const same = tensor([1]);
  assert.equal(same.to('float32'), same);
  assert.throws(() => same.to('float128' as never), /neither a dtype nor a device/);
});

test('type promotion follows torch.promote_types and torch scalar rules', () => {
  // torch.promote_types values (documented torch behaviour):
  const cases: [string, string, string][] = [
    ['int32', 'float16', 'float16'],
    ['uint8', 'int8', 'int16'],
    ['int32', 'int64', 'int64'],
    ['float32', 'float64', 'float64'],
    ['bool', 'int8', 'int8'],
    ['int64', 'float32', 'float32'],
    ['float16', 'bfloat16', 'float32'],
  ];
  for (const [a, b, want] of cases) {
    assert.equal(promoteTypes(a as never, b as never), want, `${a}+${b}`);
    const r = tensor([1], { dtype: a as never }).add(tensor([1], { dtype: b as never }));
    assert.equal(r.dtype, want, `${a}.add(${b})`);
  }
  // Scalars do not widen within a category: int32 + 2 is int32; int32 + 1.5 is float32 (default).
  assert.equal(tensor([1], { dtype: 'int32' }).add(2).dtype, 'int32');
  assert.equal(tensor([1], { dtype: 'int32' }).add(1.5).dtype, 'float32');
  assert.equal(tensor([1], { dtype: 'float16' }).add(1.5).dtype, 'float16');
  assert.equal(tensor([true]).add(1).dtype, 'int64');
  // true division of integers gives float (torch.div)
  assert.equal(
    tensor([1], { dtype: 'int32' })
      .div(tensor([2], { dtype: 'int32' }))
      .item(),
    0.5,
  );
});

test('views share storage without copying; writes through a view are seen by the base', () => {
  const x = arange(12).reshape(3, 4);
  const views = [
    x.view(-1),
    x.view(2, -1),
    x.reshape(4, 3),
    x.flatten(),
    x.unsqueeze(0),
    x.unsqueeze(0).squeeze(0),
    x.permute(1, 0),
    x.transpose(0, 1),
    x.index(0).expand(5, 4),
    x.index(':', '1::2'),
    x.index('...', '::-1'),
  ];
  for (const v of views) assert.equal(v.storage, x.storage);
  assert.deepEqual(x.view(2, -1).shape, [2, 6]);
  assert.deepEqual(x.permute(1, 0).strides, [1, 4]);
  assert.equal(x.permute(1, 0).isContiguous(), false);
  assert.deepEqual(x.index(0).expand(5, 4).strides, [0, 1]);
  const c = x.t().contiguous();
  assert.notEqual(c.storage, x.storage);
  assert.equal(c.isContiguous(), true);
  assert.deepEqual(c.index(1).toArray(), [1, 5, 9]);
  // write through a strided view (every other column)
  x.index(':', '1::2').indexPut([], 0);
  assert.deepEqual(x.toArray(), [
    [0, 0, 2, 0],
    [4, 0, 6, 0],
    [8, 0, 10, 0],
  ]);
  // view of a non-contiguous tensor is an error, as in torch; reshape copies instead
  assert.throws(() => x.t().view(-1), TesseraError);
  assert.deepEqual(x.t().reshape(-1).toArray(), [0, 4, 8, 0, 0, 0, 2, 6, 10, 0, 0, 0]);
});

test('indexing: ints, negatives, ranges with step, new axis, ellipsis, index assignment', () => {
  const y = arange(24).reshape(2, 3, 4); // y[i][j][k] = 12i + 4j + k
  assert.equal(y.index(1, 2, 3).item(), 23);
  assert.equal(y.index(-1, -1, -1).item(), 23);
  assert.deepEqual(y.index(0, -1, '::3').toArray(), [8, 11]);
  assert.deepEqual(y.index(0, '1:', { start: 1, stop: null, step: 2 }).toArray(), [
    [5, 7],
    [9, 11],
  ]);
  assert.deepEqual(y.index(1, 0, '::-1').toArray(), [15, 14, 13, 12]);
  assert.deepEqual(y.index(null, 0).shape, [1, 3, 4]);
  assert.deepEqual(y.index('...', 0).toArray(), [
    [0, 4, 8],
    [12, 16, 20],
  ]);
  assert.deepEqual(y.index(0, '...', null).shape, [3, 4, 1]);
  assert.throws(() => y.index(2), /out of range|out of bounds/);
  // index assignment: scalar, broadcast tensor, negative-step region
  const z = zeros([3, 3]);
  z.indexPut([1], 5);
  z.set([':', -1], tensor([1, 2, 3]));
  z.indexPut([0, '::-2'], tensor([7, 8]));
  assert.deepEqual(z.toArray(), [
    [8, 0, 7],
    [5, 5, 2],
    [0, 0, 3],
  ]);
  // advanced indexing and assignment: x[x < 0] = 0, y[[0, 3]] = [9, 8] (torch/NumPy semantics)
  const m = tensor([
    [1, -2],
    [-3, 4],
  ]);
  m.indexPut([m.lt(0)], 0);
  assert.deepEqual(m.toArray(), [
    [1, 0],
    [0, 4],
  ]);
  const v = tensor([1, 2, 3, 4]);
  v.indexPut([[0, 3]], tensor([9, 8]));
  assert.deepEqual(v.toArray(), [9, 2, 3, 8]);
  assert.deepEqual(
    tensor([1, 2, 3])
      .index(tensor([true, false, true]))
      .toArray(),
    [1, 3],
  );
  // writing into a leaf that requires grad outside noGrad is an error (torch: leaf variable ...)
  const p = zeros([2], { requiresGrad: true });
  assert.throws(() => p.indexPut(0, 1), TesseraError);
  noGrad(() => p.indexPut(0, 1));
  assert.deepEqual(p.toArray(), [1, 0]);
});

test('output: toArray, data() TypedArray, item, toString like torch', async () => {
  const t = tensor([[1, 2]], { requiresGrad: true });
  assert.deepEqual(t.toArray(), [[1, 2]]);
  const d = await t.data();
  assert.ok(d instanceof Float32Array);
  assert.deepEqual(Array.from(d as Float32Array), [1, 2]);
  assert.equal(tensor(2.5).item(), 2.5);
  assert.equal(tensor([true]).item(), true);
  assert.throws(() => t.item(), /item\(\): a tensor with 2 elements/);
  // strings as torch prints them
  assert.equal(String(t), 'tensor([[1., 2.]], requires_grad=True)');
  assert.equal(String(t.mul(2)), 'tensor([[2., 4.]], grad_fn=<MulBackward0>)');
  assert.equal(String(tensor([1.5, 2.25])), 'tensor([1.5000, 2.2500])');
  assert.equal(String(tensor([1, 2], { dtype: 'int32' })), 'tensor([1, 2], dtype=int32)');
  assert.equal(String(tensor([1, 2], { dtype: 'int64' })), 'tensor([1, 2])');
  assert.equal(String(tensor([true, false])), 'tensor([ True, False])');
  assert.equal(String(tensor([1, 2], { dtype: 'float64' })), 'tensor([1., 2.], dtype=float64)');
  assert.equal(
    String(
      tensor([
        [1, 2],
        [3, 4],
      ]),
    ),
    'tensor([[1., 2.],\n        [3., 4.]])',
  );
  assert.equal(String(zeros([0])), 'tensor([], size=(0,))');
  assert.ok(t instanceof Tensor);
});

test('autograd: explicit gradient, accumulation, retainGraph, zeroing, detach, noGrad, requiresGrad_', () => {
  const w = tensor([1, 2, 3], { requiresGrad: true });
  const y = w.mul(w).sum();
  y.backward(undefined, { retainGraph: true });
  assert.deepEqual(w.grad!.toArray(), [2, 4, 6]); // d(sum w^2)/dw = 2w
  y.backward(); // accumulates
  assert.deepEqual(w.grad!.toArray(), [4, 8, 12]);
  assert.throws(() => y.backward(), /second time.*retainGraph/);
  // non-scalar root needs a gradient
  const z = w.mul(2);
  assert.throws(() => z.backward(), /only for scalar outputs/);
  w.grad = null;
  z.backward(tensor([1, 10, 100]));
  assert.deepEqual(w.grad!.toArray(), [2, 20, 200]);
  assert.throws(() => z.backward(tensor([1, 2])), /does not match/);
  // detach shares data and leaves the graph
  const d = w.detach();
  assert.equal(d.requiresGrad, false);
  assert.equal(d.gradFn, null);
  assert.equal(d.storage, w.storage);
  // noGrad records nothing
  const n = noGrad(() => w.mul(3));
  assert.equal(n.requiresGrad, false);
  assert.equal(n.gradFn, null);
  assert.throws(() => n.sum().backward(), /does not require grad/);
  // requiresGrad_ on leaves; only float dtypes
  const leaf = tensor([2]);
  assert.equal(leaf.requiresGrad_(), leaf);
  leaf.mul(leaf).sum().backward();
  assert.deepEqual(leaf.grad!.toArray(), [4]);
  assert.throws(() => tensor([1], { dtype: 'int32' }).requiresGrad_(), /only floating-point/);
  // a value that does not depend on w leaves w.grad null (the seed example's x.grad)
  const x = tensor([3]);
  x.mul(leaf).sum().backward();
  assert.equal(x.grad, null);
});

test('hooks see the total gradient of a leaf once and may replace it', () => {
  const w = tensor([1, 2, 3], { requiresGrad: true });
  const seen: unknown[] = [];
  const h = w.registerHook((g) => {
    seen.push(g.toArray());
    return g.mul(2);
  });
  w.mul(w).sum().backward(); // w used twice; torch calls the hook once with 2w
  assert.deepEqual(seen, [[2, 4, 6]]);
  assert.deepEqual(w.grad!.toArray(), [4, 8, 12]);
  h.remove();
  w.grad = null;
  w.sum().backward();
  assert.deepEqual(w.grad!.toArray(), [1, 1, 1]);
  assert.equal(seen.length, 1);
  // hook on a non-leaf, and retainGrad
  const a = tensor([1, 2], { requiresGrad: true });
  const b = a.mul(3);
  b.retainGrad();
  const got: unknown[] = [];
  b.registerHook((g) => {
    got.push(g.toArray());
  });
  b.sum().backward();
  assert.deepEqual(got, [[1, 1]]);
  assert.deepEqual(b.grad!.toArray(), [1, 1]);
  assert.deepEqual(a.grad!.toArray(), [3, 3]);
});
