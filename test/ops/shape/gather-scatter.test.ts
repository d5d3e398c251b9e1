import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, gradcheck, ops, randn, type Tensor, tensor, zeros } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

/** assertClose with nested expected arrays (it flattens them). */
const close = (t: Tensor, expected: unknown) => assertClose(t, expected as number[]);

const run = (op: string, inputs: any[], attrs = {}, opset?: number) =>
  ops.dispatch1(op, inputs, attrs, { opset });
const idx = (v: any) => tensor(v, { dtype: 'int64' });

test('Gather: ONNX spec examples (axis 0 and 1), negative and scalar indices', () => {
  const d0 = tensor([
    [1.0, 1.2],
    [2.3, 3.4],
    [4.5, 5.7],
  ]);
  close(
    run('Gather', [
      d0,
      idx([
        [0, 1],
        [1, 2],
      ]),
    ]),
    [
      [
        [1.0, 1.2],
        [2.3, 3.4],
      ],
      [
        [2.3, 3.4],
        [4.5, 5.7],
      ],
    ],
  );
  const d1 = tensor([
    [1.0, 1.2, 1.9],
    [2.3, 3.4, 3.9],
    [4.5, 5.7, 5.9],
  ]);
  const g1 = run('Gather', [d1, idx([[0, 2]])], { axis: 1 });
  assert.deepEqual(g1.shape, [3, 1, 2]);
  close(g1, [[[1.0, 1.9]], [[2.3, 3.9]], [[4.5, 5.9]]]);
  assert.deepEqual(run('Gather', [arange(5), idx([-1, -5, 0])]).toArray(), [4, 0, 0]);
  // a 0-d index removes the axis
  assert.deepEqual(run('Gather', [arange(6).reshape(2, 3), idx(1)], { axis: -1 }).toArray(), [1, 4]);
  // empty indices give an empty result
  assert.deepEqual(run('Gather', [arange(6).reshape(2, 3), idx([])], { axis: 1 }).shape, [2, 0]);
  assert.throws(
    () => run('Gather', [arange(3), idx([3])]),
    /Gather: index 3 is out of range for axis 0 of size 3, expected \[-3, 2\]/,
  );
  assert.throws(
    () => run('Gather', [arange(3), tensor([0.5])]),
    /Gather: indices must be an integer tensor, got float32/,
  );
});

test('GatherElements: ONNX spec examples and negative indices', () => {
  const g = run(
    'GatherElements',
    [
      tensor([
        [1, 2],
        [3, 4],
      ]),
      idx([
        [0, 0],
        [1, 0],
      ]),
    ],
    { axis: 1 },
  );
  assert.deepEqual(g.toArray(), [
    [1, 1],
    [4, 3],
  ]);
  const data = tensor([
    [1, 2, 3],
    [4, 5, 6],
    [7, 8, 9],
  ]);
  assert.deepEqual(
    run('GatherElements', [
      data,
      idx([
        [1, 2, 0],
        [2, 0, 0],
      ]),
    ]).toArray(),
    [
      [4, 8, 3],
      [7, 2, 3],
    ],
  );
  assert.deepEqual(
    run('GatherElements', [
      data,
      idx([
        [-1, -2, 0],
        [-2, 0, 0],
      ]),
    ]).toArray(),
    [
      [7, 5, 3],
      [4, 2, 3],
    ],
  );
  assert.throws(
    () => run('GatherElements', [data, idx([0, 1])]),
    /GatherElements: indices \[2\] must have the rank of data \[3, 3\]/,
  );
});

test('GatherND: ONNX spec examples, batch_dims = 1', () => {
  assert.deepEqual(
    run('GatherND', [
      tensor([
        [0, 1],
        [2, 3],
      ]),
      idx([
        [0, 0],
        [1, 1],
      ]),
    ]).toArray(),
    [0, 3],
  );
  assert.deepEqual(
    run('GatherND', [
      tensor([
        [0, 1],
        [2, 3],
      ]),
      idx([[1], [0]]),
    ]).toArray(),
    [
      [2, 3],
      [0, 1],
    ],
  );
  const d3 = tensor([
    [
      [0, 1],
      [2, 3],
    ],
    [
      [4, 5],
      [6, 7],
    ],
  ]);
  assert.deepEqual(
    run('GatherND', [
      d3,
      idx([
        [0, 1],
        [1, 0],
      ]),
    ]).toArray(),
    [
      [2, 3],
      [4, 5],
    ],
  );
  assert.deepEqual(run('GatherND', [d3, idx([[[0, 1]], [[1, 0]]])]).toArray(), [[[2, 3]], [[4, 5]]]);
  assert.deepEqual(run('GatherND', [d3, idx([[1], [0]])], { batch_dims: 1 }).toArray(), [
    [2, 3],
    [4, 5],
  ]);
  assert.throws(
    () => run('GatherND', [d3, idx([[0, 0, 0, 0]])]),
    /GatherND: the last dim of indices \[1, 4\] is 4, expected \[1, 3\]/,
  );
  assert.throws(
    () => run('GatherND', [d3, idx([[2]])]),
    /GatherND: index 2 is out of range for data axis 0 of size 2/,
  );
});

test('Gather family gradients scatter-add back, duplicates accumulate (gradcheck)', () => {
  const a = randn([4, 3], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck(
      (x) =>
        run('Gather', [
          x,
          idx([
            [0, -1],
            [0, 2],
          ]),
        ]),
      [a],
    ),
    true,
  );
  assert.equal(
    gradcheck((x) => run('Gather', [x, idx([2, 2, 0])], { axis: 1 }), [a]),
    true,
  );
  assert.equal(
    gradcheck(
      (x) =>
        run('GatherElements', [
          x,
          idx([
            [3, 0, 0],
            [3, 1, 0],
          ]),
        ]),
      [a],
    ),
    true,
  );
  const b = randn([2, 3, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => run('GatherND', [x, idx([[1], [1]])], { batch_dims: 1 }), [b]),
    true,
  );
  assert.equal(
    gradcheck(
      (x) =>
        run('GatherND', [
          x,
          idx([
            [1, 2],
            [1, 2],
          ]),
        ]),
      [b],
    ),
    true,
  );
  // duplicate indices: the gradient of x[0] gathered twice is 2
  const c = tensor([1, 2], { dtype: 'float64', requiresGrad: true });
  run('Gather', [c, idx([0, 0, 1])])
    .sum()
    .backward();
  assert.deepEqual(c.grad!.toArray(), [2, 1]);
});

test('ScatterElements: ONNX spec examples, negative indices and the reductions', () => {
  const s = run('ScatterElements', [
    zeros([3, 3]),
    idx([
      [1, 0, 2],
      [0, 2, 1],
    ]),
    tensor([
      [1.0, 1.1, 1.2],
      [2.0, 2.1, 2.2],
    ]),
  ]);
  close(s, [
    [2.0, 1.1, 0.0],
    [1.0, 0.0, 2.2],
    [0.0, 2.1, 1.2],
  ]);
  const data = tensor([[1, 2, 3, 4, 5]]);
  close(run('ScatterElements', [data, idx([[1, 3]]), tensor([[1.1, 2.1]])], { axis: 1 }), [
    [1, 1.1, 3, 2.1, 5],
  ]);
  close(run('ScatterElements', [data, idx([[1, -3]]), tensor([[1.1, 2.1]])], { axis: 1 }), [
    [1, 1.1, 2.1, 4, 5],
  ]);
  const dup = idx([[1, 1]]);
  const upd = tensor([[1.1, 2.1]]);
  // data[1] = 2 combined with 1.1 then 2.1
  close(run('ScatterElements', [data, dup, upd], { axis: 1, reduction: 'add' }), [[1, 5.2, 3, 4, 5]]);
  close(run('ScatterElements', [data, dup, upd], { axis: 1, reduction: 'mul' }), [
    [1, 2 * 1.1 * 2.1, 3, 4, 5],
  ]);
  close(run('ScatterElements', [data, dup, upd], { axis: 1, reduction: 'max' }), [[1, 2.1, 3, 4, 5]]);
  close(run('ScatterElements', [data, dup, upd], { axis: 1, reduction: 'min' }), [[1, 1.1, 3, 4, 5]]);
  // without reduction the last duplicate wins
  close(run('ScatterElements', [data, dup, upd], { axis: 1 }), [[1, 2.1, 3, 4, 5]]);
  // reductions arrived in opset 16 (add, mul) and 18 (max, min)
  assert.throws(
    () => run('ScatterElements', [data, dup, upd], { axis: 1, reduction: 'max' }, 16),
    /ScatterElements: reduction 'max' needs opset 18/,
  );
  assert.throws(
    () => run('ScatterElements', [data, dup, upd], { axis: 1, reduction: 'sum' }),
    /ScatterElements: reduction must be none, add, mul, max or min, got 'sum'/,
  );
  assert.throws(
    () => run('ScatterElements', [data, dup, tensor([[1]])], { axis: 1 }),
    /ScatterElements: updates have shape \[1, 1\], expected \[1, 2\]/,
  );
  // the opset-9 name
  close(run('Scatter', [data, idx([[0]]), tensor([[9]])], { axis: 1 }, 9), [[9, 2, 3, 4, 5]]);
});

test('ScatterElements on int64 is exact past 2^53', () => {
  const big = 2n ** 60n;
  const data = tensor([big, 1n]);
  const out = run('ScatterElements', [data, idx([0]), tensor([3n])], { reduction: 'add' });
  assert.deepEqual(Array.from(out.dataSync() as BigInt64Array), [big + 3n, 1n]);
});

test('ScatterND: ONNX spec example and reductions', () => {
  const data = tensor([1, 2, 3, 4, 5, 6, 7, 8]);
  const out = run('ScatterND', [data, idx([[4], [3], [1], [7]]), tensor([9, 10, 11, 12])]);
  assert.deepEqual(out.toArray(), [1, 11, 3, 10, 9, 6, 7, 12]);
  // slices: data 2x2, indices [[1]] replace row 1
  assert.deepEqual(
    run('ScatterND', [
      tensor([
        [1, 2],
        [3, 4],
      ]),
      idx([[1]]),
      tensor([[7, 8]]),
    ]).toArray(),
    [
      [1, 2],
      [7, 8],
    ],
  );
  const dupIdx = idx([[0], [0]]);
  const u = tensor([5, 6]);
  const d = tensor([1, 2]);
  assert.deepEqual(run('ScatterND', [d, dupIdx, u], { reduction: 'add' }).toArray(), [12, 2]);
  assert.deepEqual(run('ScatterND', [d, dupIdx, u], { reduction: 'mul' }).toArray(), [30, 2]);
  assert.deepEqual(run('ScatterND', [d, dupIdx, u], { reduction: 'min' }).toArray(), [1, 2]);
  assert.deepEqual(run('ScatterND', [d, dupIdx, u], { reduction: 'max' }).toArray(), [6, 2]);
  assert.throws(
    () => run('ScatterND', [d, dupIdx, tensor([1, 2, 3])]),
    /ScatterND: updates have shape \[3\], expected \[2\]/,
  );
});

test('Scatter gradients: none zeroes overwritten positions, add passes through (gradcheck)', () => {
  const data = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  const upd = randn([2, 4], { dtype: 'float64', requiresGrad: true });
  const index = idx([
    [0, 1, 2, 0],
    [2, 0, 1, 1],
  ]);
  assert.equal(
    gradcheck((x, u) => run('ScatterElements', [x, index, u]), [data, upd]),
    true,
  );
  assert.equal(
    gradcheck((x, u) => run('ScatterElements', [x, index, u], { reduction: 'add' }), [data, upd]),
    true,
  );
  const u2 = randn([2, 4], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x, u) => run('ScatterND', [x, idx([[2], [0]]), u]), [data, u2]),
    true,
  );
  assert.equal(
    gradcheck((x, u) => run('ScatterND', [x, idx([[1], [1]]), u], { reduction: 'add' }), [data, u2]),
    true,
  );
});

test('gather / indexSelect / scatter / scatterAdd methods (torch docs examples)', () => {
  // torch.gather docs: t = [[1, 2], [3, 4]]; gather(t, 1, [[0, 0], [1, 0]]) = [[1, 1], [4, 3]]
  assert.deepEqual(
    tensor([
      [1, 2],
      [3, 4],
    ])
      .gather(
        1,
        idx([
          [0, 0],
          [1, 0],
        ]),
      )
      .toArray(),
    [
      [1, 1],
      [4, 3],
    ],
  );
  assert.deepEqual(
    arange(6)
      .reshape(2, 3)
      .indexSelect(1, idx([2, 0]))
      .toArray(),
    [
      [2, 0],
      [5, 3],
    ],
  );
  // torch.Tensor.scatter_ docs: src = arange(1, 11).reshape(2, 5), index = [[0, 1, 2, 0]]
  const src = arange(1, 11).reshape(2, 5);
  const sc = zeros([3, 5], { dtype: 'int64' }).scatter(0, idx([[0, 1, 2, 0]]), src);
  assert.deepEqual(sc.toArray(), [
    [1, 0, 0, 4, 0],
    [0, 2, 0, 0, 0],
    [0, 0, 3, 0, 0],
  ]);
  assert.deepEqual(
    zeros([2, 3])
      .scatter(1, idx([[2], [0]]), 7)
      .toArray(),
    [
      [0, 0, 7],
      [7, 0, 0],
    ],
  );
  // torch.Tensor.scatter_add_ docs: src = ones(2, 5), index = [[0, 1, 2, 0, 0]], then two rows of index
  const ones = tensor([
    [1, 1, 1, 1, 1],
    [1, 1, 1, 1, 1],
  ]);
  const sa = zeros([3, 5]).scatterAdd(0, idx([[0, 1, 2, 0, 0]]), ones);
  assert.deepEqual(sa.toArray(), [
    [1, 0, 0, 1, 1],
    [0, 1, 0, 0, 0],
    [0, 0, 1, 0, 0],
  ]);
  const sa2 = zeros([3, 5]).scatterAdd(
    0,
    idx([
      [0, 1, 2, 0, 0],
      [0, 1, 2, 2, 2],
    ]),
    ones,
  );
  assert.deepEqual(sa2.toArray(), [
    [2, 0, 0, 1, 1],
    [0, 2, 0, 0, 0],
    [0, 0, 2, 1, 1],
  ]);
  assert.throws(
    () => tensor([1, 2]).gather(0, tensor([0])),
    /gather: index must be an int64 \(or int32\) tensor, got float32/,
  );
});

test('gather / scatterAdd method gradients (gradcheck)', () => {
  const a = randn([3, 3], { dtype: 'float64', requiresGrad: true });
  const s = randn([2, 3], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck(
      (x) =>
        x.gather(
          0,
          idx([
            [2, 0, 0],
            [1, 1, 2],
          ]),
        ),
      [a],
    ),
    true,
  );
  assert.equal(
    gradcheck(
      (x, y) =>
        x.scatterAdd(
          0,
          idx([
            [2, 0, 0],
            [2, 1, 2],
          ]),
          y,
        ),
      [a, s],
    ),
    true,
  );
  assert.equal(
    gradcheck((x) => x.indexSelect(1, idx([0, 0, 2])), [a]),
    true,
  );
});

test('mul / max / min reduction gradients (gradcheck without ties; ties share evenly, as torch)', () => {
  const data = randn([3, 2], { dtype: 'float64', requiresGrad: true });
  const upd = randn([3, 2], { dtype: 'float64', requiresGrad: true });
  const index = idx([
    [0, 2],
    [0, 2],
    [1, 0],
  ]);
  for (const reduction of ['mul', 'max', 'min']) {
    assert.equal(
      gradcheck((x, u) => run('ScatterElements', [x, index, u], { reduction }), [data, upd]),
      true,
      reduction,
    );
  }
  const ndIdx = idx([[1], [1]]);
  const u2 = randn([2, 2], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x, u) => run('ScatterND', [x, ndIdx, u], { reduction: 'mul' }), [data, u2]),
    true,
  );
  // max over {data 1, update 1, update 0} = 1, reached twice: each tie gets half the gradient
  const d = tensor([1, 5], { dtype: 'float64', requiresGrad: true });
  const u = tensor([1, 0], { dtype: 'float64', requiresGrad: true });
  run('ScatterElements', [d, idx([0, 0]), u], { reduction: 'max' })
    .sum()
    .backward();
  assert.deepEqual(
    [d.grad!.toArray(), u.grad!.toArray()],
    [
      [0.5, 1],
      [0.5, 0],
    ],
  );
});
