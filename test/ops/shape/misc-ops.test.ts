import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, gradcheck, int64s, ops, randn, Tensor, tensor, zeros } from '../../../src/index.js';

const run = (op: string, inputs: any[], attrs = {}, opset?: number) =>
  ops.dispatch(op, inputs, attrs, { opset });
const run1 = (op: string, inputs: any[], attrs = {}, opset?: number) => run(op, inputs, attrs, opset)[0]!;
const idx = (v: any) => tensor(v, { dtype: 'int64' });

test('Shape with start/end (clamped, negative), Size', () => {
  const x = zeros([2, 3, 4, 5]);
  assert.deepEqual(run1('Shape', [x]).toArray(), [2, 3, 4, 5]);
  assert.equal(run1('Shape', [x]).dtype, 'int64');
  assert.deepEqual(run1('Shape', [x], { start: 1, end: -1 }).toArray(), [3, 4]);
  assert.deepEqual(run1('Shape', [x], { start: -10 }).toArray(), [2, 3, 4, 5]);
  assert.deepEqual(run1('Shape', [x], { end: 10 }).toArray(), [2, 3, 4, 5]);
  assert.deepEqual(run1('Shape', [x], { start: 3, end: 1 }).shape, [0]);
  assert.deepEqual(run1('Shape', [tensor(1)]).shape, [0]);
  const s = run1('Size', [x]);
  assert.deepEqual([s.shape, s.dtype, s.item()], [[], 'int64', 120]);
});

test('ConstantOfShape and Constant (every value_* form)', () => {
  const c = run1('ConstantOfShape', [idx([2, 3])]);
  assert.deepEqual(
    [c.dtype, c.toArray()],
    [
      'float32',
      [
        [0, 0, 0],
        [0, 0, 0],
      ],
    ],
  );
  const i = run1('ConstantOfShape', [idx([3])], { value: tensor([5], { dtype: 'int32' }) });
  assert.deepEqual([i.dtype, i.toArray()], ['int32', [5, 5, 5]]);
  assert.deepEqual(run1('ConstantOfShape', [idx([])], { value: tensor([2]) }).shape, []);
  assert.deepEqual(run1('ConstantOfShape', [idx([0, 2])]).shape, [0, 2]);
  assert.throws(
    () => run1('ConstantOfShape', [idx([-1])]),
    /ConstantOfShape: shape must be a 1-D tensor of non-negative integers/,
  );

  const v = tensor([[1, 2]]);
  const k = run1('Constant', [], { value: v });
  assert.deepEqual(k.toArray(), [[1, 2]]);
  assert.notEqual(k.storage, v.storage, 'the attribute is not handed out for writing');
  assert.deepEqual(
    [run1('Constant', [], { value_float: 1.5 }).dtype, run1('Constant', [], { value_float: 1.5 }).item()],
    ['float32', 1.5],
  );
  assert.deepEqual(run1('Constant', [], { value_floats: [1, 2] }).toArray(), [1, 2]);
  const vi = run1('Constant', [], { value_int: 7 });
  assert.deepEqual([vi.dtype, vi.shape, vi.item()], ['int64', [], 7]);
  assert.deepEqual(run1('Constant', [], { value_ints: [3, -4] }).toArray(), [3, -4]);
  assert.deepEqual(run1('Constant', [], { value_string: 'hi' }).toArray(), 'hi');
  assert.deepEqual(run1('Constant', [], { value_strings: ['a', 'b'] }).toArray(), ['a', 'b']);
  assert.throws(() => run1('Constant', [], {}), /Constant: exactly one of value, .* must be set, got none/);
  assert.throws(() => run1('Constant', [], { value_int: 1, value_float: 2 }), /got value_float, value_int/);
});

test('Range: ints, floats, negative delta, empty ranges (ONNX spec examples)', () => {
  const i32 = (v: number) => Tensor.fromData(Int32Array.of(v), [], 'int32');
  // ONNX: start 10, limit 4, delta -3 -> [10, 7]
  const r = run1('Range', [i32(10), i32(4), i32(-3)]);
  assert.deepEqual([r.dtype, r.toArray()], ['int32', [10, 7]]);
  // ONNX: start 3, limit 9, delta 3 (float) -> [3, 6]
  assert.deepEqual(run1('Range', [tensor(3), tensor(9), tensor(3)]).toArray(), [3, 6]);
  assert.deepEqual(run1('Range', [tensor(0), tensor(1), tensor(0.25)]).toArray(), [0, 0.25, 0.5, 0.75]);
  assert.deepEqual(run1('Range', [tensor(5), tensor(1), tensor(1)]).shape, [0]);
  const big = run1('Range', [tensor(2n ** 60n), tensor(2n ** 60n + 5n), tensor(2n)]);
  assert.deepEqual(Array.from(big.dataSync() as BigInt64Array), [2n ** 60n, 2n ** 60n + 2n, 2n ** 60n + 4n]);
  assert.throws(() => run1('Range', [i32(0), i32(5), i32(0)]), /Range: delta must be nonzero/);
  assert.throws(
    () => run1('Range', [i32(0), tensor(5), i32(1)]),
    /Range: start, limit and delta must share one dtype/,
  );
});

test('EyeLike: k offsets, dtype attribute (ONNX code), input dtype by default', () => {
  const e = run1('EyeLike', [zeros([3, 4], { dtype: 'int32' })], { k: 1 });
  assert.deepEqual(
    [e.dtype, e.toArray()],
    [
      'int32',
      [
        [0, 1, 0, 0],
        [0, 0, 1, 0],
        [0, 0, 0, 1],
      ],
    ],
  );
  const d = run1('EyeLike', [zeros([2, 2])], { dtype: 11, k: -1 });
  assert.deepEqual(
    [d.dtype, d.toArray()],
    [
      'float64',
      [
        [0, 0],
        [1, 0],
      ],
    ],
  );
  assert.throws(() => run1('EyeLike', [zeros([2])]), /EyeLike: input must be 2-D, got \[2\]/);
});

test('OneHot: axis, negative indices, out-of-range rows are all off, float depth', () => {
  const values = tensor([0, 1]);
  assert.deepEqual(run1('OneHot', [idx([1, -1, 5]), tensor(3), values]).toArray(), [
    [0, 1, 0],
    [0, 0, 1],
    [0, 0, 0],
  ]);
  const a = run1('OneHot', [idx([[0, 2]]), tensor(3.9), tensor([2, 7], { dtype: 'int32' })], { axis: 1 });
  // depth 3.9 truncates to 3; the new axis sits at position 1
  assert.deepEqual(
    [a.dtype, a.shape, a.toArray()],
    [
      'int32',
      [1, 3, 2],
      [
        [
          [7, 2],
          [2, 2],
          [2, 7],
        ],
      ],
    ],
  );
  assert.deepEqual(run1('OneHot', [idx([0, 1]), tensor(2), values], { axis: -2 }).toArray(), [
    [1, 0],
    [0, 1],
  ]);
  assert.throws(
    () => run1('OneHot', [idx([0]), tensor(2), tensor([0, 1, 2])]),
    /OneHot: values must hold \[off_value, on_value\]/,
  );
});

test('Compress (axis, negative axis, flattened, short condition) and its gradient', () => {
  const x = tensor([
    [1, 2],
    [3, 4],
    [5, 6],
  ]);
  const t = (v: boolean[]) => tensor(v);
  // ONNX spec examples
  assert.deepEqual(run1('Compress', [x, t([false, true, true])], { axis: 0 }).toArray(), [
    [3, 4],
    [5, 6],
  ]);
  assert.deepEqual(run1('Compress', [x, t([false, true])], { axis: 1 }).toArray(), [[2], [4], [6]]);
  assert.deepEqual(run1('Compress', [x, t([false, true, false, false, true])]).toArray(), [2, 5]);
  assert.deepEqual(run1('Compress', [x, t([false, true])], { axis: -1 }).toArray(), [[2], [4], [6]]);
  assert.throws(
    () => run1('Compress', [x, t([false, false, false, true])], { axis: 0 }),
    /Compress: condition selects index 3, but axis 0 has size 3/,
  );
  const a = randn([3, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((y) => run1('Compress', [y, t([true, false, true])], { axis: 0 }), [a]),
    true,
  );
});

test('NonZero: int64 [rank, count] in row-major order; nonzero() is its transpose', () => {
  const x = tensor([
    [1, 0],
    [1, 1],
  ]);
  // ONNX spec example
  assert.deepEqual(run1('NonZero', [x]).toArray(), [
    [0, 1, 1],
    [0, 0, 1],
  ]);
  assert.deepEqual(run1('NonZero', [tensor([0, Number.NaN, -2])]).toArray(), [[1, 2]]);
  assert.deepEqual(run1('NonZero', [zeros([2, 2])]).shape, [2, 0]);
  assert.deepEqual(x.nonzero().toArray(), [
    [0, 0],
    [1, 0],
    [1, 1],
  ]);
});

test('Trilu: upper/lower with positive and negative k (numpy tril/triu values), k input optional', () => {
  const m = arange(1, 13).reshape(3, 4);
  // np.tril(arange(1, 13).reshape(3, 4), -1) and np.triu(..., 1)
  assert.deepEqual(run1('Trilu', [m, idx(-1)], { upper: 0 }).toArray(), [
    [0, 0, 0, 0],
    [5, 0, 0, 0],
    [9, 10, 0, 0],
  ]);
  assert.deepEqual(run1('Trilu', [m, idx(1)]).toArray(), [
    [0, 2, 3, 4],
    [0, 0, 7, 8],
    [0, 0, 0, 12],
  ]);
  assert.deepEqual(run1('Trilu', [m]).toArray(), [
    [1, 2, 3, 4],
    [0, 6, 7, 8],
    [0, 0, 11, 12],
  ]);
  assert.deepEqual(m.tril(-1).toArray(), [
    [0, 0, 0, 0],
    [5, 0, 0, 0],
    [9, 10, 0, 0],
  ]);
  assert.deepEqual(m.triu(10).toArray(), [
    [0, 0, 0, 0],
    [0, 0, 0, 0],
    [0, 0, 0, 0],
  ]);
  assert.throws(() => run1('Trilu', [arange(3)]), /Trilu: input must have rank >= 2/);
  const a = randn([2, 3, 3], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((y) => y.triu(1).add(y.tril(-1).mul(2)), [a]),
    true,
  );
});

test('DepthToSpace (DCR and CRD) and SpaceToDepth: numpy reshape/transpose references, round trip, gradients', () => {
  const d = arange(2 * 8 * 2 * 3).reshape(2, 8, 2, 3);
  const dcr = run1('DepthToSpace', [d], { blocksize: 2 });
  assert.deepEqual(dcr.shape, [2, 2, 4, 6]);
  // numpy: d.reshape(2,2,2,2,2,3).transpose(0,3,4,1,5,2).reshape(2,2,4,6)[1, 1]
  assert.deepEqual((dcr.toArray() as any)[1][1], [
    [54, 66, 55, 67, 56, 68],
    [78, 90, 79, 91, 80, 92],
    [57, 69, 58, 70, 59, 71],
    [81, 93, 82, 94, 83, 95],
  ]);
  const crd = run1('DepthToSpace', [d], { blocksize: 2, mode: 'CRD' });
  // numpy: d.reshape(2,2,2,2,2,3).transpose(0,1,4,2,5,3).reshape(2,2,4,6)[1, 1]
  assert.deepEqual((crd.toArray() as any)[1][1], [
    [72, 78, 73, 79, 74, 80],
    [84, 90, 85, 91, 86, 92],
    [75, 81, 76, 82, 77, 83],
    [87, 93, 88, 94, 89, 95],
  ]);
  // SpaceToDepth inverts DepthToSpace in DCR mode
  assert.deepEqual(run1('SpaceToDepth', [dcr], { blocksize: 2 }).toArray(), d.toArray());
  assert.throws(
    () => run1('DepthToSpace', [zeros([1, 3, 2, 2])], { blocksize: 2 }),
    /DepthToSpace: channels \(3\) must be divisible by blocksize\^2 \(4\)/,
  );
  assert.throws(
    () => run1('SpaceToDepth', [zeros([1, 1, 3, 2])], { blocksize: 2 }),
    /SpaceToDepth: height \(3\) and width \(2\) must be divisible/,
  );
  const a = randn([1, 4, 2, 1], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((y) => run1('DepthToSpace', [y], { blocksize: 2, mode: 'CRD' }), [a]),
    true,
  );
  assert.equal(
    gradcheck(
      (y) => run1('SpaceToDepth', [y], { blocksize: 2 }),
      [randn([1, 1, 2, 4], { dtype: 'float64', requiresGrad: true })],
    ),
    true,
  );
});

test('ReverseSequence: time and batch major (ONNX spec examples) and gradient', () => {
  // ONNX example 1: time_axis 0, batch_axis 1, seq lens [4, 3, 2, 1]
  const x = tensor([
    [0, 4, 8, 12],
    [1, 5, 9, 13],
    [2, 6, 10, 14],
    [3, 7, 11, 15],
  ]);
  const out = run1('ReverseSequence', [x, idx([4, 3, 2, 1])], { time_axis: 0, batch_axis: 1 });
  assert.deepEqual(out.toArray(), [
    [3, 6, 9, 12],
    [2, 5, 8, 13],
    [1, 4, 10, 14],
    [0, 7, 11, 15],
  ]);
  // ONNX example 2: batch_axis 0, time_axis 1, seq lens [1, 2, 3, 4]
  const y = tensor([
    [0, 1, 2, 3],
    [4, 5, 6, 7],
    [8, 9, 10, 11],
    [12, 13, 14, 15],
  ]);
  const out2 = run1('ReverseSequence', [y, idx([1, 2, 3, 4])], { time_axis: 1, batch_axis: 0 });
  assert.deepEqual(out2.toArray(), [
    [0, 1, 2, 3],
    [5, 4, 6, 7],
    [10, 9, 8, 11],
    [15, 14, 13, 12],
  ]);
  assert.throws(
    () => run1('ReverseSequence', [y, idx([1, 2])]),
    /ReverseSequence: sequence_lens has shape \[2\], expected \[4\]/,
  );
  const a = randn([3, 2, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((z) => run1('ReverseSequence', [z, idx([3, 1])]), [a]),
    true,
  );
});

test('TopK: largest/smallest, ties keep the lower index, k input vs opset-1 attribute, gradient', () => {
  const x = tensor([
    [0, 1, 2, 3],
    [7, 6, 5, 4],
    [8, 11, 10, 9],
  ]);
  const [v, i] = run('TopK', [x, idx([3])]) as [Tensor, Tensor];
  // ONNX spec example
  assert.deepEqual(v.toArray(), [
    [3, 2, 1],
    [7, 6, 5],
    [11, 10, 9],
  ]);
  assert.deepEqual(
    [i.dtype, i.toArray()],
    [
      'int64',
      [
        [3, 2, 1],
        [0, 1, 2],
        [1, 2, 3],
      ],
    ],
  );
  const [s, si] = run('TopK', [x, idx([2])], { axis: 0, largest: 0 }) as [Tensor, Tensor];
  assert.deepEqual(
    [s.toArray(), si.toArray()],
    [
      [
        [0, 1, 2, 3],
        [7, 6, 5, 4],
      ],
      [
        [0, 0, 0, 0],
        [1, 1, 1, 1],
      ],
    ],
  );
  const ties = run('TopK', [tensor([1, 3, 3, 2, 3]), idx([2])]);
  assert.deepEqual(ties[1]!.toArray(), [1, 2]);
  const nan = run('TopK', [tensor([1, Number.NaN, 3]), idx([2])]);
  assert.deepEqual(nan[1]!.toArray(), [1, 2], 'NaN counts as the largest value, as torch.topk');
  const old = run('TopK', [x], { k: 1 }, 9);
  assert.deepEqual(old[0]!.toArray(), [[3], [7], [11]]);
  const u64 = run('TopK', [
    Tensor.fromData(BigUint64Array.of(2n ** 63n + 1n, 5n, 2n ** 63n), [3], 'uint64'),
    idx([1]),
  ]);
  assert.deepEqual(Array.from(u64[0]!.dataSync() as BigUint64Array), [2n ** 63n + 1n]);
  assert.throws(
    () => run('TopK', [x, idx([5])]),
    /TopK: k = 5 is out of range for axis 1 of \[3, 4\], expected \[0, 4\]/,
  );
  const [tv, ti] = tensor([4, 1, 3]).topk(2);
  assert.deepEqual(
    [tv.toArray(), ti.toArray()],
    [
      [4, 3],
      [0, 2],
    ],
  );
  const r = tensor([4, 1, 3]).topk(1, 0, false);
  assert.deepEqual([r.values.toArray(), r.indices.toArray()], [[1], [1]]);
  const a = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((z) => z.topk(2, 1)[0], [a]),
    true,
  );
  assert.equal(
    gradcheck((z) => z.topk(2, 0, false).values, [a]),
    true,
  );
});

test('Unique: sorted and first-occurrence order, with axis (numpy.unique values)', () => {
  // np.unique([2, 1, 1, 3, 4, 3], return_index, return_inverse, return_counts)
  const [y, first, inv, counts] = run('Unique', [tensor([2, 1, 1, 3, 4, 3])]);
  assert.deepEqual(
    [y!.toArray(), first!.toArray(), inv!.toArray(), counts!.toArray()],
    [
      [1, 2, 3, 4],
      [1, 0, 3, 4],
      [1, 0, 0, 2, 3, 2],
      [2, 1, 2, 1],
    ],
  );
  // ONNX spec example, sorted = 0: order of first occurrence
  const u = run('Unique', [tensor([2, 1, 1, 3, 4, 3])], { sorted: 0 });
  assert.deepEqual(
    u.map((t) => t.toArray()),
    [
      [2, 1, 3, 4],
      [0, 1, 3, 4],
      [0, 1, 1, 2, 3, 2],
      [1, 2, 2, 1],
    ],
  );
  // np.unique(A, axis=0, ...) for A = [[1, 0, 0], [1, 0, 0], [2, 3, 4]]
  const a = run(
    'Unique',
    [
      tensor([
        [1, 0, 0],
        [1, 0, 0],
        [2, 3, 4],
      ]),
    ],
    { axis: 0 },
  );
  assert.deepEqual(
    a.map((t) => t.toArray()),
    [
      [
        [1, 0, 0],
        [2, 3, 4],
      ],
      [0, 2],
      [0, 0, 1],
      [2, 1],
    ],
  );
  const cols = run(
    'Unique',
    [
      tensor([
        [1, 0, 1],
        [2, 3, 2],
      ]),
    ],
    { axis: -1 },
  );
  assert.deepEqual(
    cols.map((t) => t.toArray()),
    [
      [
        [0, 1],
        [3, 2],
      ],
      [1, 0],
      [1, 0, 1],
      [1, 2],
    ],
  );
});

test('misc int64 metadata ops ignore grad', () => {
  const x = randn([2, 2], { requiresGrad: true });
  assert.equal(run1('Shape', [x]).requiresGrad, false);
  assert.equal(int64s([1]).requiresGrad, false);
});

test('CenterCropPad: centred crop and zero pad, the odd element at the end; gradient', () => {
  const x = arange(5);
  assert.deepEqual(run1('CenterCropPad', [x, idx([3])]).toArray(), [1, 2, 3]);
  // one zero in front, two behind (numpy: np.pad(arange(5), (1, 2)))
  assert.deepEqual(run1('CenterCropPad', [x, idx([8])]).toArray(), [0, 0, 1, 2, 3, 4, 0, 0]);
  const m = arange(6).reshape(2, 3);
  assert.deepEqual(run1('CenterCropPad', [m, idx([2])], { axes: [-1] }).toArray(), [
    [0, 1],
    [3, 4],
  ]);
  assert.deepEqual(run1('CenterCropPad', [m, idx([4, 1])]).toArray(), [[0], [1], [4], [0]]);
  assert.throws(
    () => run1('CenterCropPad', [m, idx([1])]),
    /CenterCropPad: shape \[1\] must hold one non-negative length per axis \(2 axes\)/,
  );
  const a = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((z) => run1('CenterCropPad', [z, idx([5, 2])]), [a]),
    true,
  );
});

test('TensorScatter: linear and circular KV-cache writes, bounds check, gradient', () => {
  const past = zeros([2, 4, 1]);
  const update = tensor([
    [[1], [2]],
    [[3], [4]],
  ]);
  const lin = run1('TensorScatter', [past, update, idx([1, 2])]);
  assert.deepEqual(lin.toArray(), [
    [[0], [1], [2], [0]],
    [[0], [0], [3], [4]],
  ]);
  const circ = run1('TensorScatter', [past, update, idx([1, 3])], { mode: 'circular' });
  assert.deepEqual(circ.toArray(), [
    [[0], [1], [2], [0]],
    [[4], [0], [0], [3]],
  ]);
  assert.deepEqual(run1('TensorScatter', [past, update]).toArray(), [
    [[1], [2], [0], [0]],
    [[3], [4], [0], [0]],
  ]);
  assert.throws(
    () => run1('TensorScatter', [past, update, idx([1, 3])]),
    /TensorScatter: write index 3 for batch 1 puts the update past the cache length 4/,
  );
  const p = randn([2, 3, 2], { dtype: 'float64', requiresGrad: true });
  const u = randn([2, 2, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((a, b) => run1('TensorScatter', [a, b, idx([2, 0])], { mode: 'circular' }), [p, u]),
    true,
  );
});
