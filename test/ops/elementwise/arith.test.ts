import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, type Tensor, TesseraError, tensor, zeros } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';
import { f64, leaf, run } from './util.js';

// Integer expectations are exact two's-complement results, computed with Python ints:
// wrap(v, bits) = ((v + 2**(bits-1)) % 2**bits) - 2**(bits-1).

test('Add/Sub/Mul/Div on int64 stay exact past 2^53 and wrap at 64 bits', () => {
  const a = tensor([9007199254740993n, -7n, 3037000500n], { dtype: 'int64' });
  const b = tensor([2n, 2n, 3037000500n], { dtype: 'int64' });
  assert.deepEqual(run('Add', [a, b]).toArray(), [9007199254740995n, -5, 6074001000]);
  assert.deepEqual(run('Sub', [a, b]).toArray(), [9007199254740991, -9, 0]);
  // 3037000500^2 overflows int64: wrap(3037000500**2, 64) = -9223372036709301616
  assert.deepEqual(run('Mul', [a, b]).toArray(), [18014398509481986n, -14, -9223372036709301616n]);
  // Division truncates toward zero: -7 / 2 = -3.
  assert.deepEqual(run('Div', [a, b]).toArray(), [4503599627370496, -3, 1]);
});

test('narrow integer arithmetic wraps like C; integer division by zero gives 0', () => {
  const i32 = (v: number[]) => tensor(v, { dtype: 'int32' });
  // wrap(123456789*987654321, 32) = -67153019; 65536*65536 = 2^32 wraps to 0.
  assert.deepEqual(run('Mul', [i32([123456789, 65536]), i32([987654321, 65536])]).toArray(), [-67153019, 0]);
  assert.deepEqual(
    run('Add', [tensor([250], { dtype: 'uint8' }), tensor([10], { dtype: 'uint8' })]).toArray(),
    [4],
  );
  assert.deepEqual(
    run('Sub', [tensor([3], { dtype: 'uint8' }), tensor([5], { dtype: 'uint8' })]).toArray(),
    [254],
  );
  assert.deepEqual(run('Div', [i32([7, -7, 5]), i32([2, 2, 0])]).toArray(), [3, -3, 0]);
  assert.deepEqual(run('Div', [tensor([5n]), tensor([0n])]).toArray(), [0]);
});

test('float16 arithmetic rounds once to float16', () => {
  const h = (v: number[]) => tensor(v, { dtype: 'float16' });
  // 1 + 2^-11 is a tie between float16 neighbours 1 and 1 + 2^-10: round to even gives 1.
  assert.deepEqual(Array.from(run('Add', [h([1, 0.5]), h([2 ** -11, 0.25])]).numbers()), [1, 0.75]);
});

test('binary ops reject mixed dtypes and non-numeric inputs, naming the op', () => {
  assert.throws(
    () => run('Add', [tensor([1], { dtype: 'float32' }), tensor([1], { dtype: 'int32' })]),
    (e: unknown) =>
      e instanceof TesseraError && /Add: inputs must share one dtype, got float32, int32/.test(e.message),
  );
  assert.throws(
    () => run('Sub', [tensor([true]), tensor([false])]),
    /Sub: input 0 must be a numeric tensor, got bool/,
  );
  assert.throws(
    () => run('Mul', [f64([1, 2]), f64([1, 2, 3])]),
    /Mul: shapes \[2\], \[3\] are not broadcastable/,
  );
});

test('opset 6 binary ops broadcast B only with broadcast=1, aligned at axis', () => {
  const a = zeros([2, 3, 2], { dtype: 'float64' });
  const b = f64([1, 2, 3]);
  const y = run('Add', [a, b], { broadcast: 1, axis: 1 }, 6);
  assert.deepEqual(y.toArray(), [
    [
      [1, 1],
      [2, 2],
      [3, 3],
    ],
    [
      [1, 1],
      [2, 2],
      [3, 3],
    ],
  ]);
  // Without axis B aligns with the trailing dims, as numpy.
  const c = run('Mul', [f64([1, 2, 3, 4]).reshape(2, 2), f64([10, 100])], { broadcast: 1 }, 6);
  assert.deepEqual(c.toArray(), [
    [10, 200],
    [30, 400],
  ]);
  assert.throws(() => run('Sub', [a, b], {}, 6), /Sub: .*need broadcast=1 before opset 7/);
  // The gradient reaches B in its own shape.
  const x = leaf([2, 3, 2]);
  const w = leaf([3]);
  assert.equal(
    gradcheck(
      (p: Tensor, q: Tensor) => run('Div', [p, q], { broadcast: 1, axis: 1 }, 6),
      [x, leaf([3], 1, 2)],
    ),
    true,
  );
  assert.equal(
    gradcheck((p: Tensor, q: Tensor) => run('Mul', [p, q], { broadcast: 1, axis: 1 }, 1), [x, w]),
    true,
  );
});

test('Add/Sub/Mul/Div gradients with broadcasting', () => {
  for (const name of ['Add', 'Sub', 'Mul', 'Div']) {
    const a = leaf([2, 1, 3]);
    const b = leaf([4, 1], 0.5, 2);
    assert.equal(
      gradcheck((p: Tensor, q: Tensor) => run(name, [p, q]), [a, b]),
      true,
      name,
    );
  }
});

test('Pow on floats follows C pow', () => {
  // By hand: 2^3, 3^2, 4^0.5, (-2)^3; C's pow(1, NaN) = 1, pow(NaN, 0) = 1, pow(-1, inf) = 1, pow(-8, 1/3) = NaN.
  assert.deepEqual(run('Pow', [f64([2, 3, 4, -2]), f64([3, 2, 0.5, 3])]).toArray(), [8, 9, 2, -8]);
  const r = run('Pow', [
    f64([1, Number.NaN, -1, -8]),
    f64([Number.NaN, 0, Number.POSITIVE_INFINITY, 1 / 3]),
  ]).toArray() as number[];
  assert.deepEqual(r.slice(0, 3), [1, 1, 1]);
  assert.ok(Number.isNaN(r[3]));
  // Broadcasting a scalar exponent.
  assert.deepEqual(run('Pow', [f64([1, 2, 3]), f64([2]).reshape()]).toArray(), [1, 4, 9]);
});

test('Pow with mixed base/exponent dtypes keeps the base dtype', () => {
  // ONNX's test_pow_types_*: [1, 2, 3] ** [4, 5, 6] = [1, 32, 729]
  const f = run('Pow', [tensor([1, 2, 3], { dtype: 'float32' }), tensor([4, 5, 6], { dtype: 'int64' })]);
  assert.equal(f.dtype, 'float32');
  assert.deepEqual(f.toArray(), [1, 32, 729]);
  const i = run('Pow', [tensor([1, 2, 3], { dtype: 'int32' }), tensor([4, 5, 6], { dtype: 'float32' })]);
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(i.toArray(), [1, 32, 729]);
  // 3^39 = 4052555153018976267 needs all 64 bits; wrap(3**21, 32) = 1870418611.
  assert.deepEqual(run('Pow', [tensor([3n]), tensor([39n])]).toArray(), [4052555153018976267n]);
  assert.deepEqual(
    run('Pow', [tensor([3], { dtype: 'int32' }), tensor([21], { dtype: 'int32' })]).toArray(),
    [1870418611],
  );
  // Negative integer exponents: C truncates pow's double result (2^-1 = 0.5 -> 0).
  assert.deepEqual(
    run('Pow', [
      tensor([2, 1, -1, -1], { dtype: 'int32' }),
      tensor([-1, -3, -3, -2], { dtype: 'int32' }),
    ]).toArray(),
    [0, 1, -1, 1],
  );
  // Before opset 12 the dtypes had to match.
  assert.throws(() => run('Pow', [f64([2]), tensor([2n])], {}, 7), /Pow: inputs must share one dtype/);
});

test('Pow gradients: base and exponent, broadcasting, and no NaN at 0', () => {
  const x = leaf([2, 3], 0.5, 2);
  const e = leaf([3], -1, 2);
  assert.equal(
    gradcheck((p: Tensor, q: Tensor) => run('Pow', [p, q]), [x, e]),
    true,
  );
  // An int exponent: only the base gets a gradient; d/dx x^3 = 3x^2 = 12 at x = 2.
  const b = f64([2]).requiresGrad_();
  run('Pow', [b, tensor([3n])])
    .sum()
    .backward();
  assert.deepEqual(b.grad!.toArray(), [12]);
  // At 0: d/dx 0^2 = 0, d/de 0^e = 0 for e >= 0 (torch's convention), d/dx x^0 = 0.
  const z = f64([0, 0]).requiresGrad_();
  const p = f64([2, 0]).requiresGrad_();
  run('Pow', [z, p]).sum().backward();
  assert.deepEqual(z.grad!.toArray(), [0, 0]);
  assert.deepEqual(p.grad!.toArray(), [0, 0]);
});

test('Mod: fmod=0 takes the divisor sign, fmod=1 the dividend sign', () => {
  const i32 = (v: number[]) => tensor(v, { dtype: 'int32' });
  const x = i32([-4, 7, 5, 4, -7, 8]);
  const y = i32([2, -3, 8, -2, 3, 5]);
  // Python's % (ONNX test_mod_mixed_sign_int32) and C's % (truncated).
  assert.deepEqual(run('Mod', [x, y]).toArray(), [0, -2, 5, 0, 2, 3]);
  assert.deepEqual(run('Mod', [x, y], { fmod: 1 }).toArray(), [0, 1, 5, 0, -1, 3]);
  // Python: [math.fmod(a, b) for ...]
  const fx = f64([-4.3, 7.2, 5.0, 4.3, -7.2, 8.0]);
  const fy = f64([2.1, -3.4, 8.0, -2.1, 3.4, 5.0]);
  assertClose(
    run('Mod', [fx, fy], { fmod: 1 }),
    [-0.09999999999999964, 0.40000000000000036, 5.0, 0.09999999999999964, -0.40000000000000036, 3.0],
    { rtol: 1e-15, atol: 0 },
  );
  // int64 past 2^53: Python (2**62+1) % 7 = 5, -(2**62+1) % 7 = 2; C's remainder is -5.
  const big = tensor([4611686018427387905n, -4611686018427387905n]);
  const seven = tensor([7n]);
  assert.deepEqual(run('Mod', [big, seven]).toArray(), [5, 2]);
  assert.deepEqual(run('Mod', [big, seven], { fmod: 1 }).toArray(), [5, -5]);
  assert.deepEqual(
    run('Mod', [tensor([200, 7], { dtype: 'uint8' }), tensor([7, 0], { dtype: 'uint8' })]).toArray(),
    [4, 0],
  );
  assert.throws(
    () => run('Mod', [fx, fy]),
    /Mod: fmod must be 1 for floating-point inputs, got fmod=0 with float64/,
  );
  const a = leaf([2, 3], 1, 5);
  const b = leaf([3], 0.3, 0.9);
  assert.equal(
    gradcheck((p: Tensor, q: Tensor) => run('Mod', [p, q], { fmod: 1 }), [a, b]),
    true,
  );
});

test('Max, Min, Sum, Mean: variadic with broadcasting', () => {
  const a = f64([1, 5, 3]);
  const b = f64([4, 2]).reshape(2, 1);
  const c = f64([2.5]).reshape();
  // By hand over the broadcast shape [2, 3].
  assert.deepEqual(run('Max', [a, b, c]).toArray(), [
    [4, 5, 4],
    [2.5, 5, 3],
  ]);
  assert.deepEqual(run('Min', [a, b, c]).toArray(), [
    [1, 2.5, 2.5],
    [1, 2, 2],
  ]);
  assert.deepEqual(run('Sum', [a, b, c]).toArray(), [
    [7.5, 11.5, 9.5],
    [5.5, 9.5, 7.5],
  ]);
  assertClose(run('Mean', [a, b, c]), [7.5 / 3, 11.5 / 3, 9.5 / 3, 5.5 / 3, 9.5 / 3, 7.5 / 3]);
  // One input: a copy, not the same tensor.
  const one = run('Max', [a]);
  assert.notEqual(one, a);
  assert.deepEqual(one.toArray(), [1, 5, 3]);
});

test('Max/Min propagate NaN; ints compare exactly (uint32 past 2^31, int64 past 2^53)', () => {
  const mx = run('Max', [f64([1, Number.NaN, 3]), f64([Number.NaN, 2, 1])]).toArray() as number[];
  assert.ok(Number.isNaN(mx[0]) && Number.isNaN(mx[1]));
  assert.equal(mx[2], 3);
  const mn = run('Min', [f64([Number.NaN, 2]), f64([1, Number.NaN])]).toArray() as number[];
  assert.ok(mn.every(Number.isNaN));
  assert.deepEqual(
    run('Max', [tensor([4000000000, 5], { dtype: 'uint32' }), tensor([7, 6], { dtype: 'uint32' })]).toArray(),
    [4000000000, 6],
  );
  assert.deepEqual(run('Min', [tensor([9007199254740993n]), tensor([9007199254740992n])]).toArray(), [
    9007199254740992n,
  ]);
  assert.deepEqual(run('Sum', [tensor([9007199254740993n]), tensor([2n])]).toArray(), [9007199254740995n]);
  assert.throws(
    () => run('Mean', [tensor([1], { dtype: 'int32' })]),
    /Mean: input 0 must be a float tensor, got int32/,
  );
});

test('Max/Min/Sum/Mean gradients (ties split evenly, as torch)', () => {
  for (const name of ['Max', 'Min', 'Sum', 'Mean']) {
    const xs = [leaf([2, 3]), leaf([3]), leaf([2, 1])];
    assert.equal(
      gradcheck((p: Tensor, q: Tensor, r: Tensor) => run(name, [p, q, r]), xs),
      true,
      name,
    );
  }
  const a = f64([1, 2]).requiresGrad_();
  const b = f64([1, 0]).requiresGrad_();
  run('Max', [a, b]).sum().backward();
  assert.deepEqual(a.grad!.toArray(), [0.5, 1]);
  assert.deepEqual(b.grad!.toArray(), [0.5, 0]);
});
