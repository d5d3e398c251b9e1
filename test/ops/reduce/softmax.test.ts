/**
 * Softmax, LogSoftmax, Hardmax: values from the definition (Math.exp on the same numbers), the
 * opset < 13 2-D coercion against the opset 13 per-axis form, stability for large inputs; gradcheck.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  gradcheck,
  int64s,
  logSoftmax,
  ops,
  randn,
  softmax,
  type Tensor,
  tensor,
} from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;
const at = (op: string, x: Tensor, opset: number, axis?: number) =>
  dispatch1(op, [x], axis === undefined ? {} : { axis }, { opset });

/** softmax of a plain list, straight from the definition. */
function ref(v: number[]): number[] {
  const e = v.map(Math.exp);
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

test('Softmax / LogSoftmax of the ONNX example [-1, 0, 1]', () => {
  const x = tensor([[-1, 0, 1]]);
  assertClose(at('Softmax', x, 13), ref([-1, 0, 1]));
  assertClose(at('LogSoftmax', x, 13), ref([-1, 0, 1]).map(Math.log));
});

test('large inputs do not overflow (max-shifted)', () => {
  const x = tensor([
    [0, 1, 2, 3],
    [10000, 10001, 10002, 10003],
  ]);
  const expected = ref([0, 1, 2, 3]);
  assertClose(at('Softmax', x, 13), [...expected, ...expected]);
  assertClose(at('LogSoftmax', x, 13), [...expected, ...expected].map(Math.log), { rtol: 1e-5, atol: 1e-5 });
});

test('opset 13 normalizes along one axis (default -1); opset 11 coerces to 2-D at axis (default 1)', () => {
  const x = randn([2, 3, 4]);
  const sums = (y: Tensor, axes: number[]) => dispatch1('ReduceSum', [y, int64s(axes)], { keepdims: 0 });
  // opset 13, default axis -1: every row of 4 sums to 1
  assertClose(sums(at('Softmax', x, 13), [2]), new Array(6).fill(1));
  // opset 13, axis 1: every column of 3 sums to 1
  assertClose(sums(at('Softmax', x, 13, 1), [1]), new Array(8).fill(1));
  // opset 11, default axis 1: each batch's 12 elements sum to 1
  assertClose(sums(at('Softmax', x, 11), [1, 2]), [1, 1]);
  // opset 11 at axis 1 equals opset 13 on the same data viewed as [2, 12]
  const flat = at('Softmax', x.reshape(2, 12), 13).reshape(2, 3, 4);
  assertClose(at('Softmax', x, 11, 1), flat);
  const flatLog = at('LogSoftmax', x.reshape(2, 12), 13).reshape(2, 3, 4);
  assertClose(at('LogSoftmax', x, 1, 1), flatLog);
});

test('Hardmax marks the first maximum per slice', () => {
  const x = tensor([
    [3, 0, 1, 2],
    [2, 5, 1, 0],
    [0, 1, 3, 2],
    [0, 1, 2, 3],
  ]);
  const eye = [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1];
  assertClose(at('Hardmax', x, 13), eye);
  // ties: the first occurrence wins
  assertClose(at('Hardmax', tensor([[1, 1, 1, 1]]), 13), [1, 0, 0, 0]);
  // opset 11 coerces [2, 2, 2] to [2, 4] at axis 1: one 1 per batch
  const y = at(
    'Hardmax',
    tensor([
      [
        [1, 2],
        [4, 3],
      ],
      [
        [9, 0],
        [0, 9],
      ],
    ]),
    11,
  );
  assertClose(y, [0, 0, 1, 0, 1, 0, 0, 0]);
});

test('errors: non-float input, axis out of range', () => {
  assert.throws(
    () => at('Softmax', tensor([1, 2], { dtype: 'int32' }), 13),
    /Softmax: input must be a float tensor, got int32/,
  );
  assert.throws(
    () => at('LogSoftmax', tensor([[1, 2]]), 13, 2),
    /LogSoftmax: axis 2 is out of range for rank 2/,
  );
});

test('top-level softmax / logSoftmax and the methods promote ints', () => {
  const i = tensor([1, 2, 3], { dtype: 'int64' });
  const s = softmax(i);
  assert.equal(s.dtype, 'float32');
  assertClose(s, ref([1, 2, 3]));
  assertClose(logSoftmax(i, 0), ref([1, 2, 3]).map(Math.log));
  // columns [1, 3] and [2, 5], written back row-major
  const [c0, c1] = [ref([1, 3]), ref([2, 5])];
  assertClose(
    tensor([
      [1, 2],
      [3, 5],
    ]).softmax(0),
    [c0[0]!, c1[0]!, c0[1]!, c1[1]!],
  );
});

test('gradcheck Softmax / LogSoftmax at opsets 13 and 11', () => {
  const a = randn([2, 3, 4], { dtype: 'float64', requiresGrad: true });
  for (const op of ['Softmax', 'LogSoftmax']) {
    assert.ok(
      gradcheck((t) => at(op, t, 13), [a]),
      op,
    );
    assert.ok(
      gradcheck((t) => at(op, t, 13, 0), [a]),
      op,
    );
    assert.ok(
      gradcheck((t) => at(op, t, 11, 1), [a]),
      op,
    );
  }
  assert.ok(gradcheck((t) => t.softmax(1).mul(t), [a]));
  assert.ok(gradcheck((t) => t.logSoftmax(-2), [a]));
});
