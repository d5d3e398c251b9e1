import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  clamp,
  gradcheck,
  maximum,
  minimum,
  type Tensor,
  TesseraError,
  tensor,
  where,
} from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';
import { f64, leaf } from './util.js';

// torch semantics of the tensor methods; expected values by hand or from Python's math module.
const i64 = (v: number[]) => tensor(v, { dtype: 'int64' });

test('eq/ne/lt/le/gt/ge return bool and take scalars (with torch promotion)', () => {
  const x = tensor([1, 2, Number.NaN]);
  assert.equal(x.eq(2).dtype, 'bool');
  assert.deepEqual(x.eq(2).toArray(), [false, true, false]);
  assert.deepEqual(x.ne(2).toArray(), [true, false, true]); // NaN != 2, and NaN != NaN
  assert.deepEqual(x.lt(2).toArray(), [true, false, false]);
  assert.deepEqual(x.le(2).toArray(), [true, true, false]);
  assert.deepEqual(x.gt(1).toArray(), [false, true, false]);
  assert.deepEqual(x.ge(1).toArray(), [true, true, false]);
  // An int tensor against a float scalar compares as float: 2 < 2.5.
  assert.deepEqual(i64([2, 3]).lt(2.5).toArray(), [true, false]);
  // int32 vs float32 tensors promote to float32; broadcasting [2, 1] x [2].
  assert.deepEqual(
    tensor([1, 2], { dtype: 'int32' })
      .reshape(2, 1)
      .eq(tensor([1, 2]))
      .toArray(),
    [
      [true, false],
      [false, true],
    ],
  );
  assert.deepEqual(tensor([true, false]).eq(true).toArray(), [true, false]);
});

test('logical ops treat nonzero (NaN included) as true', () => {
  const x = tensor([0, 1, Number.NaN, -2]);
  assert.deepEqual(x.logicalNot().toArray(), [true, false, false, false]);
  assert.deepEqual(x.logicalAnd(tensor([1, 1, 1, 0])).toArray(), [false, true, true, false]);
  assert.deepEqual(x.logicalOr(0).toArray(), [false, true, true, true]);
  assert.deepEqual(
    i64([0, 3])
      .logicalXor(tensor([true, true]))
      .toArray(),
    [true, false],
  );
});

test('isnan/isinf: floats checked, ints never', () => {
  const x = tensor([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0]);
  assert.deepEqual(x.isnan().toArray(), [true, false, false, false]);
  assert.deepEqual(x.isinf().toArray(), [false, true, true, false]);
  const i = i64([1, 2]);
  assert.equal(i.isnan().dtype, 'bool');
  assert.deepEqual(i.isnan().toArray(), [false, false]);
  assert.deepEqual(i.isinf().toArray(), [false, false]);
});

test('where: method and function, scalar operands and dtypes as torch.where', () => {
  const c = tensor([true, false, true]);
  assert.deepEqual(tensor([1, 2, 3]).where(c, 0).toArray(), [1, 0, 3]);
  const s = where(c, 1.5, 0);
  assert.equal(s.dtype, 'float32');
  assert.deepEqual(s.toArray(), [1.5, 0, 1.5]);
  assert.equal(where(c, 1, 0).dtype, 'int64');
  assert.equal(where(c, true, false).dtype, 'bool');
  // int tensor with a float scalar -> float32; the order of operands is kept.
  const m = where(c, 0.5, i64([7, 8, 9]));
  assert.equal(m.dtype, 'float32');
  assert.deepEqual(m.toArray(), [0.5, 8, 0.5]);
  // A non-bool condition counts nonzero as true.
  assert.deepEqual(where(tensor([0, 2]), 1, -1).toArray(), [-1, 1]);
  const a = leaf([2, 3]);
  const b = leaf([3]);
  const cond = tensor([true, false, false, true, true, false]).reshape(2, 3);
  assert.equal(
    gradcheck((p: Tensor, q: Tensor) => p.where(cond, q), [a, b]),
    true,
  );
});

test('clamp: one bound, both, tensor bounds, dtype promotion, and the clip alias', () => {
  const x = tensor([-2, 0.5, 3]);
  assert.deepEqual(x.clamp(0).toArray(), [0, 0.5, 3]);
  assert.deepEqual(x.clamp(null, 1).toArray(), [-2, 0.5, 1]);
  assert.deepEqual(x.clamp(-1, 1).toArray(), [-1, 0.5, 1]);
  assert.deepEqual(x.clip(-1, 1).toArray(), [-1, 0.5, 1]);
  assert.deepEqual(clamp(x, 2, 1).toArray(), [1, 1, 1]); // min > max: all max
  const ints = i64([-5, 0, 5]);
  assert.equal(ints.clamp(-1, 1).dtype, 'int64');
  const promoted = ints.clamp(0.5);
  assert.equal(promoted.dtype, 'float32');
  assert.deepEqual(promoted.toArray(), [0.5, 0.5, 5]);
  // Tensor bounds broadcast elementwise.
  assert.deepEqual(x.clamp(tensor([0, 1, 2]), tensor([1])).toArray(), [0, 1, 1]);
  assert.throws(
    () => x.clamp(),
    (e: unknown) => e instanceof TesseraError && /clamp: at least one of 'min' or 'max'/.test(e.message),
  );
  const p = leaf([3, 4]);
  assert.equal(
    gradcheck((t: Tensor) => t.clamp(-0.6, 0.8), [p]),
    true,
  );
  assert.equal(
    gradcheck((t: Tensor, lo: Tensor) => t.clamp(lo), [p, leaf([4])]),
    true,
  );
});

test('maximum/minimum: broadcasting, NaN wins, scalars', () => {
  const a = tensor([1, Number.NaN, 3]);
  const mx = a.maximum(tensor([2])).toArray() as number[];
  assert.deepEqual([mx[0], mx[2]], [2, 3]);
  assert.ok(Number.isNaN(mx[1]));
  assert.deepEqual(minimum(tensor([1, 5]), 2).toArray(), [1, 2]);
  assert.deepEqual(maximum(0, tensor([-1, 4])).toArray(), [0, 4]);
  assert.deepEqual(
    i64([1, 9])
      .maximum(i64([5, 5]))
      .toArray(),
    [5, 9],
  );
  assert.equal(
    gradcheck((p: Tensor, q: Tensor) => p.maximum(q).add(p.minimum(q)), [leaf([2, 3]), leaf([3])]),
    true,
  );
});

test('pow: promotion as torch, ints stay ints, negative int powers of ints are refused', () => {
  const i = i64([1, 2, 3]);
  const sq = i.pow(2);
  assert.equal(sq.dtype, 'int64');
  assert.deepEqual(sq.toArray(), [1, 4, 9]);
  const r = i.pow(0.5);
  assert.equal(r.dtype, 'float32');
  assertClose(r, [1, Math.SQRT2, 1.7320508075688772]);
  assert.deepEqual(
    tensor([2, 3])
      .pow(tensor([3, 2]))
      .toArray(),
    [8, 9],
  );
  assert.throws(() => i.pow(-1), /pow: integers to negative integer powers are not allowed/);
  assert.equal(
    gradcheck((p: Tensor, q: Tensor) => p.pow(q), [leaf([2, 2], 0.5, 2), leaf([2], -1, 2)]),
    true,
  );
  assert.equal(
    gradcheck((p: Tensor) => p.pow(3), [leaf([4])]),
    true,
  );
});

test('float functions of int tensors give float32 (sqrt, rsqrt, reciprocal, sin, erf, sigmoid...)', () => {
  const i = i64([4, 2]);
  assert.equal(i.sqrt().dtype, 'float32');
  assertClose(i.sqrt(), [2, Math.SQRT2]);
  assertClose(i.rsqrt(), [0.5, 0.7071067811865475]); // Python: 1/math.sqrt(x)
  assertClose(i.reciprocal(), [0.25, 0.5]);
  assertClose(i64([1, 2]).sin(), [0.8414709848078965, 0.9092974268256817]); // math.sin
  assertClose(i64([1, 2]).erf(), [0.8427007929497149, 0.9953222650189527]); // math.erf
  assertClose(i64([0]).sigmoid(), [0.5]);
  assert.equal(i64([0]).tanh().dtype, 'float32');
  assert.equal(i64([0]).cos().dtype, 'float32');
  assert.equal(i64([0]).tan().dtype, 'float32');
});

test('abs, sign, square, relu keep int dtypes; rounding of ints is a copy', () => {
  assert.deepEqual(i64([-3, 2]).abs().toArray(), [3, 2]);
  assert.deepEqual(i64([-3, 0, 2]).sign().toArray(), [-1, 0, 1]);
  assert.deepEqual(tensor([true, false]).sign().toArray(), [true, false]);
  const sq = i64([-3, 4]).square();
  assert.equal(sq.dtype, 'int64');
  assert.deepEqual(sq.toArray(), [9, 16]);
  assert.deepEqual(i64([-3, 4]).relu().toArray(), [0, 4]);
  const f = i64([7]).floor();
  assert.equal(f.dtype, 'int64');
  assert.deepEqual([f.toArray(), i64([7]).ceil().toArray(), i64([7]).round().toArray()], [[7], [7], [7]]);
  const x = leaf([3]);
  x.square().sum().backward();
  assertClose(x.grad!, x.mul(2).detach());
});

test('floor, ceil, round (half to even, decimals) on floats', () => {
  const x = tensor([-1.5, -0.5, 0.5, 1.5, 2.5, 2.7]);
  assert.deepEqual(x.floor().toArray(), [-2, -1, 0, 1, 2, 2]);
  assert.deepEqual(x.ceil().toArray(), [-1, -0, 1, 2, 3, 3]);
  assert.deepEqual(x.round().toArray(), [-2, -0, 0, 2, 2, 3]);
  // decimals=1: round(x * 10) / 10 ; decimals=-1: round(x / 10) * 10
  assertClose(f64([1.25, 1.35, -0.04]).round(1), [1.2, 1.4, -0]);
  assert.deepEqual(f64([15, 25, 31]).round(-1).toArray(), [20, 20, 30]);
});

test('activation methods: leakyRelu, elu, gelu, softplus(beta, threshold)', () => {
  const x = f64([-1, 0, 0.5]);
  assertClose(x.leakyRelu(0.2), [-0.2, 0, 0.5]);
  assertClose(x.leakyRelu(), [-0.01, 0, 0.5]);
  // Python: 2*(math.exp(-1)-1) = -1.2642411176571153
  assertClose(x.elu(2), [-1.2642411176571153, 0, 0.5]);
  // Python: 0.5*x*(1+math.erf(x/math.sqrt(2))) at -1; tanh form at -1 from 0.5*x*(1+math.tanh(...))
  assertClose(f64([-1]).gelu(), [-0.15865525393145707]);
  assertClose(f64([-1]).gelu('tanh'), [-0.15880800939172324]);
  // Python: math.log1p(math.exp(2*x))/2 for beta=2; 2*15 > 20 so 15 itself.
  assertClose(
    f64([-1, 0, 0.5, 15]).softplus(2),
    [0.06346400552148625, 0.34657359027997264, 0.6566308437591114, 15],
    {
      rtol: 1e-13,
      atol: 0,
    },
  );
  assert.equal(f64([25]).softplus().item(), 25);
  assert.equal(
    gradcheck((t: Tensor) => t.softplus(2, 3), [leaf([3, 3])]),
    true,
  );
  assert.equal(
    gradcheck(
      (t: Tensor) => t.elu(0.5).add(t.leakyRelu(0.1)).add(t.gelu('tanh')).add(t.relu()),
      [leaf([2, 3])],
    ),
    true,
  );
  assert.equal(
    gradcheck((t: Tensor) => t.rsqrt().add(t.square()).add(t.abs()), [leaf([4], 0.5, 2)]),
    true,
  );
});
