import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, gradcheck, noGrad, randn, TesseraError, tensor, zeros } from '../../../src/index.js';

const x24 = () => arange(24).reshape(2, 3, 4);
const idx = (v: any) => tensor(v, { dtype: 'int64' });

test('integers (negative too) remove dims; out-of-range is a TesseraError', () => {
  const x = x24();
  assert.deepEqual(x.index(1).toArray(), [
    [12, 13, 14, 15],
    [16, 17, 18, 19],
    [20, 21, 22, 23],
  ]);
  assert.deepEqual(x.index(-1, -1, -1).toArray(), 23);
  assert.deepEqual(x.index(0, 2).toArray(), [8, 9, 10, 11]);
  assert.deepEqual(x.index('1', '-2').toArray(), [16, 17, 18, 19]);
  assert.throws(
    () => x.index(2),
    (e: any) =>
      e instanceof TesseraError && /index 2 is out of bounds for dimension 0 with size 2/.test(e.message),
  );
  assert.throws(() => x.index(0, 0, 0, 0), /too many indices for tensor of dimension 3/);
});

test('string and object slices follow Python semantics (numpy 2.4 values on arange(10))', () => {
  const v = arange(10);
  const cases: [string, number[]][] = [
    ['::-2', [9, 7, 5, 3, 1]],
    ['-100:100', [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]],
    ['5:-100:-1', [5, 4, 3, 2, 1, 0]],
    ['8:2:-3', [8, 5]],
    ['-3:', [7, 8, 9]],
    ['100:', []],
    ['-10::-1', [0]],
    ['-11::-1', []],
    ['::-1', [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]],
    ['1:3', [1, 2]],
    ['::3', [0, 3, 6, 9]],
    ['5:2', []],
    [' 2 : 4 ', [2, 3]],
  ];
  for (const [spec, expected] of cases) assert.deepEqual(v.index(spec).toArray(), expected, spec);
  assert.deepEqual(v.index({ start: -2 }).toArray(), [8, 9]);
  assert.deepEqual(v.index({ stop: 3, step: null }).toArray(), [0, 1, 2]);
  assert.deepEqual(v.index({ start: 4, stop: 0, step: -2 }).toArray(), [4, 2]);
  assert.throws(() => v.index('::0'), /index: slice '::0' has step 0/);
  assert.throws(() => v.index('a:b'), /non-integer bound 'a'/);
  assert.throws(() => v.index('x'), /index: 'x' is neither a slice/);
});

test("null adds a dim, '...' fills the rest (numpy: x[None, 1, ::-1, 1:3])", () => {
  const x = x24();
  const m = x.index(null, 1, '::-1', '1:3');
  assert.deepEqual(m.shape, [1, 3, 2]);
  assert.deepEqual(m.toArray(), [
    [
      [21, 22],
      [17, 18],
      [13, 14],
    ],
  ]);
  assert.deepEqual(x.index('...', 1).toArray(), [
    [1, 5, 9],
    [13, 17, 21],
  ]);
  assert.deepEqual(x.index(0, '...', null).shape, [3, 4, 1]);
  assert.deepEqual(x.index('...').shape, [2, 3, 4]);
  assert.deepEqual(x.index().shape, [2, 3, 4]);
  assert.deepEqual(tensor(5).index(null).shape, [1]);
  assert.deepEqual(x.index(':', '5:').shape, [2, 0, 4], 'empty slice');
  assert.throws(() => x.index('...', 0, '...'), /single ellipsis/);
});

test('basic indexing returns views: writes go both ways, like torch', () => {
  const base = zeros([3, 4]);
  const row = base.index(1);
  const col = base.index(':', -1);
  const rev = base.index('::-1', '::2');
  for (const v of [row, col, rev]) assert.equal(v.storage, base.storage);
  row.set(['...'], 1);
  assert.deepEqual(base.toArray(), [
    [0, 0, 0, 0],
    [1, 1, 1, 1],
    [0, 0, 0, 0],
  ]);
  col.set([0], 5);
  assert.equal((base.toArray() as any)[0][3], 5);
  rev.set([0, 1], 9); // rev[0][1] is base[2][2]
  assert.equal((base.toArray() as any)[2][2], 9);
  // and writes to the base show in the view
  base.set([1, 0], -3);
  assert.equal((row.toArray() as number[])[0], -3);
  assert.deepEqual(base.select(1, 2).toArray(), [0, 1, 9]);
});

test('advanced indexing matches numpy (numpy 2.4 values on arange(24).reshape(2, 3, 4))', () => {
  const x = x24();
  // adjacent index arrays keep their place: x[:, [0, 2], [1, 3]]
  assert.deepEqual(x.index(':', [0, 2], [1, 3]).toArray(), [
    [1, 11],
    [13, 23],
  ]);
  // separated index arrays go first: x[[0, 1], :, [1, 2]]
  assert.deepEqual(x.index([0, 1], ':', [1, 2]).toArray(), [
    [1, 5, 9],
    [14, 18, 22],
  ]);
  // an integer counts as an index array once one is present: x[0, :, [1, 2]] has shape (2, 3)
  const it = x.index(0, ':', idx([1, 2]));
  assert.deepEqual(
    [it.shape, it.toArray()],
    [
      [2, 3],
      [
        [1, 5, 9],
        [2, 6, 10],
      ],
    ],
  );
  // boolean mask over all dims: x[x % 5 == 0]
  const mask = tensor(Array.from({ length: 24 }, (_, i) => i % 5 === 0)).reshape(2, 3, 4);
  assert.deepEqual(x.index(mask).toArray(), [0, 5, 10, 15, 20]);
  // mask over one dim: x[:, [True, False, True]]
  assert.deepEqual(x.index(':', [true, false, true]).toArray(), [
    [
      [0, 1, 2, 3],
      [8, 9, 10, 11],
    ],
    [
      [12, 13, 14, 15],
      [20, 21, 22, 23],
    ],
  ]);
  // broadcasting index arrays: x[[[0], [1]], [0, 2]] has shape (2, 2, 4)
  const b = x.index(idx([[0], [1]]), idx([0, 2]));
  assert.deepEqual(b.shape, [2, 2, 4]);
  assert.deepEqual(b.toArray(), [
    [
      [0, 1, 2, 3],
      [8, 9, 10, 11],
    ],
    [
      [12, 13, 14, 15],
      [20, 21, 22, 23],
    ],
  ]);
  // negative entries count from the end; the result is a copy
  const neg = x.index(-1, idx([-1, 0]));
  assert.deepEqual(neg.toArray(), [
    [20, 21, 22, 23],
    [12, 13, 14, 15],
  ]);
  assert.notEqual(neg.storage, x.storage);
  assert.throws(() => x.index(idx([2])), /GatherND: index 2 is out of range/);
  assert.throws(
    () => x.index(tensor([[true, false]])),
    /the boolean mask \[1, 2\] does not match the indexed dims \[2, 3\]/,
  );
  assert.throws(
    () => x.index(tensor([1.5])),
    /tensors used as indices must be int64, int32 or bool, got float32/,
  );
});

test('indexing is differentiable: basic slices and advanced indices (gradcheck)', () => {
  const a = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => x.index('::-1', '1:4:2'), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.index(null, -1, '...').mul(x.index(0)), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.index(idx([0, 0, 2]), '::-2'), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.index(':', [true, false, true, true]), [a]),
    true,
  );
  const v = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
  v.index(idx([0, 0, 2]))
    .sum()
    .backward();
  assert.deepEqual(v.grad!.toArray(), [2, 0, 1]);
  assert.equal(v.index('1:').gradFn?.name, 'SliceBackward0');
});

test('indexPut / set: scalars and broadcast tensors, in place, returning the tensor', () => {
  const x = zeros([3, 4]);
  assert.equal(x.set([1, '1:3'], 5), x);
  x.indexPut([0], tensor([1, 2, 3, 4]));
  x.set([':', -1], tensor([[7], [8], [9]]).reshape(3));
  x.set([2, ':2'], tensor([[6, 6]])); // a leading size-1 dim is dropped, as torch's setitem does
  assert.deepEqual(x.toArray(), [
    [1, 2, 3, 7],
    [0, 5, 5, 8],
    [6, 6, 0, 9],
  ]);
  x.set(1, 0);
  assert.deepEqual((x.toArray() as any)[1], [0, 0, 0, 0]);
  assert.throws(
    () => x.set([0], tensor([1, 2, 3])),
    /indexPut: a value of shape \[3\] cannot be broadcast to the indexed region's shape \[4\]/,
  );
});

test('indexPut with advanced indices: index lists, masks, the last duplicate wins; dtype is cast', () => {
  const x = zeros([3, 3], { dtype: 'int64' });
  x.set(
    [
      [0, 2],
      [1, 1],
    ],
    tensor([4, 5], { dtype: 'int64' }),
  );
  assert.deepEqual(x.toArray(), [
    [0, 4, 0],
    [0, 0, 0],
    [0, 5, 0],
  ]);
  x.set(
    [idx([1, 1])],
    tensor(
      [
        [1, 1, 1],
        [2, 2, 2],
      ],
      { dtype: 'int64' },
    ),
  );
  assert.deepEqual((x.toArray() as any)[1], [2, 2, 2]);
  const m = arange(6, undefined, 1, { dtype: 'float32' }).reshape(2, 3);
  m.set(
    [
      tensor([
        [true, false, true],
        [false, true, false],
      ]),
    ],
    -1,
  );
  assert.deepEqual(m.toArray(), [
    [-1, 1, -1],
    [3, -1, 5],
  ]);
  const f = zeros([2], { dtype: 'int32' });
  f.set([0], 2.7); // float into int32 truncates, as a C cast
  assert.deepEqual(f.toArray(), [2, 0]);
});

test('indexPut through a strided view and from an overlapping source', () => {
  const base = arange(5, undefined, 1, { dtype: 'float32' });
  // numpy: b[1:] = b[:-1] copies the source first -> [0, 0, 1, 2, 3]
  base.set(['1:'], base.index(':-1'));
  assert.deepEqual(base.toArray(), [0, 0, 1, 2, 3]);
  const m = zeros([4, 4]);
  const view = m.index('::2', '::-1').transpose(0, 1); // shape [4, 2]
  view.set([0], tensor([1, 2]));
  // view[0] is column 3 of m at rows 0 and 2
  assert.deepEqual(m.toArray(), [
    [0, 0, 0, 1],
    [0, 0, 0, 0],
    [0, 0, 0, 2],
    [0, 0, 0, 0],
  ]);
  view.set([[0, 1], 1], 7); // advanced write through the view: m[2][3] and m[2][2]
  assert.equal((m.toArray() as any)[2][3], 7);
  assert.equal((m.toArray() as any)[2][2], 7);
});

test('indexPut refuses to write into tensors that require grad unless grad mode is off', () => {
  const w = randn([2, 2], { requiresGrad: true });
  assert.throws(() => w.set([0], 0), /indexPut: a leaf tensor that requires grad cannot be written in place/);
  assert.throws(() => w.index(0).set([0], 0), /indexPut: a view of a tensor that requires grad/);
  assert.throws(
    () => zeros([2]).set([0], tensor(1, { requiresGrad: true })),
    /indexPut: the value requires grad/,
  );
  noGrad(() => w.set([0], 0));
  assert.deepEqual((w.toArray() as any)[0], [0, 0]);
  assert.equal(w.gradFn, null);
  // writing into a clone is allowed when the clone does not require grad
  const c = noGrad(() => w.clone());
  c.set([1], 3);
  assert.deepEqual((c.toArray() as any)[1], [3, 3]);
});
