import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, type Tensor, TesseraError, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';
import { f64, leaf, run } from './util.js';

// Inputs and expected values: the expected ones are Python 3's `math` module on the same doubles
// (math.sqrt, math.exp, math.sin, math.erf, ...), printed with repr().
const X = [-2.5, -1.0, -0.25, 0.0, 0.3, 1.0, 2.75];
const POS = [0.25, 1.0, 2.0, 10.0];
const UNIT = [-0.9, -0.5, 0.0, 0.25, 0.75];
const ACOSH = [1.0, 1.5, 3.0, 10.0];
const PY: Record<string, [number[], number[]]> = {
  Sqrt: [POS, [0.5, 1.0, Math.SQRT2, 3.1622776601683795]],
  Reciprocal: [POS, [4.0, 1.0, 0.5, 0.1]],
  Exp: [
    X,
    [
      0.0820849986238988,
      0.36787944117144233,
      0.7788007830714049,
      1.0,
      1.3498588075760032,
      Math.E,
      15.642631884188171,
    ],
  ],
  Log: [POS, [-1.3862943611198906, 0.0, Math.LN2, Math.LN10]],
  Sin: [
    X,
    [
      -0.5984721441039565, -0.8414709848078965, -0.24740395925452294, 0.0, 0.29552020666133955,
      0.8414709848078965, 0.38166099205233167,
    ],
  ],
  Cos: [
    X,
    [
      -0.8011436155469337, 0.5403023058681398, 0.9689124217106447, 1.0, 0.955336489125606, 0.5403023058681398,
      -0.9243023786324636,
    ],
  ],
  Tan: [
    X,
    [
      0.7470222972386603, -1.5574077246549023, -0.25534192122103627, 0.0, 0.30933624960962325,
      1.5574077246549023, -0.4129178944849325,
    ],
  ],
  Asin: [UNIT, [-1.1197695149986342, -0.5235987755982989, 0.0, 0.25268025514207865, 0.848062078981481]],
  Acos: [
    UNIT,
    [2.6905658417935308, 2.0943951023931957, 1.5707963267948966, 1.318116071652818, 0.7227342478134157],
  ],
  Atan: [
    X,
    [
      -1.1902899496825317, -0.7853981633974483, -0.24497866312686414, 0.0, 0.2914567944778671,
      0.7853981633974483, 1.2220253232109897,
    ],
  ],
  Sinh: [
    X,
    [
      -6.0502044810397875, -1.1752011936438014, -0.2526123168081683, 0.0, 0.3045202934471426,
      1.1752011936438014, 7.789352011490732,
    ],
  ],
  Cosh: [
    X,
    [
      6.132289479663686, 1.5430806348152437, 1.0314130998795732, 1.0, 1.0453385141288605, 1.5430806348152437,
      7.853279872697439,
    ],
  ],
  Asinh: [
    X,
    [
      -1.6472311463710958, -0.881373587019543, -0.24746646154726346, 0.0, 0.29567304756342244,
      0.881373587019543, 1.7362775864618003,
    ],
  ],
  Acosh: [ACOSH, [0.0, 0.9624236501192069, 1.762747174039086, 2.993222846126381]],
  Atanh: [UNIT, [-1.4722194895832204, -0.5493061443340548, 0.0, 0.25541281188299536, 0.9729550745276566]],
  Erf: [
    X,
    [
      -0.999593047982555, -0.8427007929497149, -0.2763263901682369, 0.0, 0.3286267594591274,
      0.8427007929497149, 0.9998993780778803,
    ],
  ],
};

test('float math ops match Python math in float64', () => {
  for (const [name, [xs, want]] of Object.entries(PY)) {
    const y = run(name, [f64(xs)]);
    assert.equal(y.dtype, 'float64', name);
    assertClose(y, want, { rtol: 1e-13, atol: 1e-15 });
  }
});

test('float32 and float16 results are the float64 values rounded', () => {
  for (const [name, [xs, want]] of Object.entries(PY)) {
    const y = run(name, [tensor(xs, { dtype: 'float32' })]);
    assert.equal(y.dtype, 'float32');
    assertClose(y, want, { rtol: 1e-6, atol: 1e-7 });
  }
  // float16 has 11 significant bits: sqrt(2) = 1.4142 -> 1.4141 (0x3DA8), exactly representable results stay exact.
  const h = run('Sqrt', [tensor([4, 2, 0.25], { dtype: 'float16' })]);
  assert.equal(h.dtype, 'float16');
  assert.deepEqual(Array.from(h.numbers()), [2, 1.4140625, 0.5]);
});

test('erf at the extremes, NaN and the sign of zero', () => {
  // math.erf(5.5) = 0.9999999999999927; beyond 6 it rounds to 1 in doubles.
  assertClose(run('Erf', [f64([5.5, -5.5, 6.5, -40])]), [0.9999999999999927, -0.9999999999999927, 1, -1], {
    rtol: 1e-15,
    atol: 0,
  });
  assert.ok(Number.isNaN(run('Erf', [f64([Number.NaN])]).item() as number));
});

test('Abs, Neg, Sign on floats, ints (C wrap-around) and int64 past 2^53', () => {
  assert.deepEqual(run('Abs', [f64([-1.5, 0, 2])]).toArray(), [1.5, 0, 2]);
  assert.deepEqual(run('Neg', [f64([-1.5, 0, 2])]).toArray(), [1.5, -0, -2]);
  const s = run('Sign', [f64([-3, 0, 0.5, Number.NaN])]).toArray() as number[];
  assert.deepEqual(s.slice(0, 3), [-1, 0, 1]);
  assert.ok(Number.isNaN(s[3]));
  // int8: |-128| does not fit and wraps to -128, as in C and numpy.
  assert.deepEqual(run('Abs', [tensor([-128, -5, 7], { dtype: 'int8' })]).toArray(), [-128, 5, 7]);
  assert.deepEqual(run('Neg', [tensor([-2147483648, 3], { dtype: 'int32' })]).toArray(), [-2147483648, -3]);
  assert.deepEqual(run('Sign', [tensor([-4, 0, 9], { dtype: 'int32' })]).toArray(), [-1, 0, 1]);
  const big = tensor([-9007199254740993n, 9007199254740993n, 0n], { dtype: 'int64' });
  assert.deepEqual(run('Abs', [big]).toArray(), [9007199254740993n, 9007199254740993n, 0]);
  assert.deepEqual(run('Neg', [big]).toArray(), [9007199254740993n, -9007199254740993n, 0]);
  assert.deepEqual(run('Sign', [big]).toArray(), [-1, 1, 0]);
});

test('Floor, Ceil, Round (half to even)', () => {
  const x = f64([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 2.4, -2.6, 3.7]);
  assert.deepEqual(run('Floor', [x]).toArray(), [-3, -2, -1, 0, 1, 2, 2, -3, 3]);
  assert.deepEqual(run('Ceil', [x]).toArray(), [-2, -1, -0, 1, 2, 3, 3, -2, 4]);
  assert.deepEqual(run('Round', [x]).toArray(), [-2, -2, -0, 0, 2, 2, 2, -3, 4]);
  const inf = run('Round', [f64([Number.POSITIVE_INFINITY, Number.NaN])]).toArray() as number[];
  assert.equal(inf[0], Number.POSITIVE_INFINITY);
  assert.ok(Number.isNaN(inf[1]));
});

test('IsNaN and IsInf (detect_negative / detect_positive) give bool', () => {
  const x = tensor([Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY, Number.NaN, 1.5], {
    dtype: 'float16',
  });
  const nan = run('IsNaN', [x]);
  assert.equal(nan.dtype, 'bool');
  assert.deepEqual(nan.toArray(), [false, false, true, false]);
  assert.deepEqual(run('IsInf', [x]).toArray(), [true, true, false, false]);
  assert.deepEqual(run('IsInf', [x], { detect_negative: 0 }).toArray(), [false, true, false, false]);
  assert.deepEqual(run('IsInf', [x], { detect_positive: 0 }).toArray(), [true, false, false, false]);
});

test('Not on bool; dtype errors name the op, the expected and the got', () => {
  assert.deepEqual(run('Not', [tensor([true, false])]).toArray(), [false, true]);
  assert.throws(
    () => run('Sqrt', [tensor([4], { dtype: 'int32' })]),
    (e: unknown) => e instanceof TesseraError && /Sqrt.*float.*int32/.test(e.message),
  );
  assert.throws(() => run('Not', [f64([1])]), /Not: input 0 must be a bool tensor, got float64/);
  assert.throws(() => run('Abs', [tensor([true])]), /Abs: .*numeric.*got bool/);
});

test('empty tensors and strided (broadcast view) inputs', () => {
  const e = run('Exp', [tensor([], { dtype: 'float32' }).reshape(0, 3)]);
  assert.deepEqual(e.shape, [0, 3]);
  // expand() makes a stride-0 view: every row reads the same storage.
  const v = f64([-1, 2]).expand(3, 2);
  assert.deepEqual(run('Abs', [v]).toArray(), [
    [1, 2],
    [1, 2],
    [1, 2],
  ]);
});

test('gradients of the unary math ops pass gradcheck', () => {
  const domains: Record<string, [number, number]> = {
    Sqrt: [0.5, 3],
    Reciprocal: [0.5, 3],
    Log: [0.5, 3],
    Asin: [-0.8, 0.8],
    Acos: [-0.8, 0.8],
    Atanh: [-0.8, 0.8],
    Acosh: [1.5, 4],
    Tan: [-1, 1],
  };
  const names = [
    'Abs',
    'Neg',
    'Exp',
    'Sin',
    'Cos',
    'Atan',
    'Sinh',
    'Cosh',
    'Asinh',
    'Erf',
    ...Object.keys(domains),
  ];
  names.forEach((name, i) => {
    const [lo, hi] = domains[name] ?? [-2, 2];
    const shape = [[2, 3], [4], [2, 1, 3], []][i % 4]!;
    const x = leaf(shape, lo, hi);
    assert.equal(
      gradcheck((t: Tensor) => run(name, [t]), [x]),
      true,
      name,
    );
  });
});

test('piecewise-constant ops have zero gradients (as torch)', () => {
  for (const name of ['Floor', 'Ceil', 'Round', 'Sign']) {
    const x = leaf([3]);
    run(name, [x]).sum().backward();
    assert.deepEqual(Array.from(x.grad!.numbers()), [0, 0, 0], name);
  }
});

test('double backward: second derivative of tanh', () => {
  // d2/dx2 tanh(x) = -2 tanh(x) (1 - tanh(x)^2); at x = 0.5 (Python math): -0.7268619813835873
  const x = f64([0.5]).requiresGrad_();
  run('Tanh', [x]).sum().backward(undefined, { createGraph: true });
  const g = x.grad!;
  x.grad = null;
  g.sum().backward();
  assertClose(x.grad!, [-0.7268619813835873], { rtol: 1e-12 });
});
