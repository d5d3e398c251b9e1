/**
 * WebGPU kernels for the elementwise ops: unary math and activations, broadcasting binary
 * arithmetic, comparisons, logic and bitwise ops, Pow, Mod, PRelu, the variadic Max/Min/Sum/Mean,
 * Where, Clip. Semantics follow the CPU kernels in src/ops/elementwise (NaN handling, integer wrap,
 * division by zero giving 0 for integers); int64 arithmetic and float64 run on the CPU.
 */
import { legacyAlign } from '../../../ops/elementwise/kernels.js';
import { attrFloat, attrInt, attrString } from '../../../ops/helpers.js';
import type { Attrs, OpInputs } from '../../../ops/registry.js';
import type { DType } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import { fmtShape, sameShape } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { elementwise } from '../kernels/elementwise.js';
import { Params } from '../runtime.js';
import { type Kind, kindOf } from '../wgsl.js';
import { readScalar } from './values.js';

const NAN = 'nan_()';
const INF = 'inf_()';

/** Expressions per input kind; 'b' is bool (stored as u32 0/1). */
type Exprs = Partial<Record<'f' | 'i' | 'u' | 'b' | 'x', string>>;

function exprKey(dtype: DType): keyof Exprs {
  if (dtype === 'bool') return 'b';
  return kindOf(dtype);
}

/** Why a dtype has no GPU expression here (the fallback's log line). */
const noKernel = (dtype: DType) => `has no kernel for ${dtype}`;

interface UnaryDef {
  e: Exprs;
  /** f32 constants from the attributes, read as c0, c1, ... */
  consts?: (attrs: Attrs) => number[];
  /** Output dtype when not the input's. */
  out?: DType;
  /**
   * What a NaN input gives (default: NaN, passed through). Applied outside the expression: float
   * comparisons with NaN are not reliable on every driver (Mesa's GLSL compiler assumes no NaN).
   */
  nan?: string | null;
}

const F = (f: string): Exprs => ({ f });

const UNARY: Record<string, UnaryDef> = {
  Abs: { e: { f: 'abs(v0)', i: 'abs(v0)', u: 'v0' } },
  Neg: { e: { f: '-v0', i: '-v0', u: '0u - v0' } },
  Sign: { e: { f: 'sign_(v0)', i: 'sign(v0)', u: 'select(0u, 1u, v0 > 0u)' } },
  Sqrt: { e: F(`select(sqrt(v0), ${NAN}, v0 < 0.0)`) },
  Reciprocal: { e: F('1.0 / v0') },
  Exp: { e: F('exp(v0)') },
  Log: { e: F(`select(select(log(v0), ${NAN}, v0 < 0.0), -${INF}, v0 == 0.0)`) },
  Sin: { e: F('sin(v0)') },
  Cos: { e: F('cos(v0)') },
  Tan: { e: F('tan(v0)') },
  // Through atan2: some drivers' asin/acos are accurate to only ~1e-4.
  Asin: { e: F(`select(atan2(v0, sqrt((1.0 - v0) * (1.0 + v0))), ${NAN}, abs(v0) > 1.0)`) },
  Acos: { e: F(`select(atan2(sqrt((1.0 - v0) * (1.0 + v0)), v0), ${NAN}, abs(v0) > 1.0)`) },
  Atan: { e: F('atan(v0)') },
  Sinh: { e: F('sinh(v0)') },
  Cosh: { e: F('cosh(v0)') },
  Asinh: { e: F('sign(v0) * log(abs(v0) + sqrt(v0 * v0 + 1.0))') },
  Acosh: { e: F(`select(log(v0 + sqrt(v0 * v0 - 1.0)), ${NAN}, v0 < 1.0)`) },
  Atanh: { e: F(`select(0.5 * log((1.0 + v0) / (1.0 - v0)), ${NAN}, abs(v0) > 1.0)`) },
  Erf: { e: F('erf_(v0)') },
  Floor: { e: F('floor(v0)') },
  Ceil: { e: F('ceil(v0)') },
  Round: { e: F('round(v0)') },
  IsNaN: { e: F('select(0u, 1u, isnan_(v0))'), out: 'bool', nan: null },
  IsInf: {
    e: F('select(0u, 1u, isinf_(v0) && ((v0 > 0.0 && c0 != 0.0) || (v0 < 0.0 && c1 != 0.0)))'),
    consts: (a) => [attrInt(a, 'detect_positive', 1), attrInt(a, 'detect_negative', 1)],
    out: 'bool',
    nan: null,
  },
  Not: { e: { b: 'select(0u, 1u, v0 == 0u)' } },
  BitwiseNot: { e: { i: '~v0', u: '~v0', x: '~v0' } },
  Relu: { e: { f: 'select(v0, 0.0, v0 < 0.0)', i: 'max(v0, 0)', u: 'v0' } },
  LeakyRelu: { e: F('select(v0, c0 * v0, v0 < 0.0)'), consts: (a) => [attrFloat(a, 'alpha')] },
  Elu: { e: F('select(v0, c0 * expm1_(v0), v0 < 0.0)'), consts: (a) => [attrFloat(a, 'alpha')] },
  Selu: {
    e: F('select(c1 * v0, c1 * c0 * expm1_(v0), v0 <= 0.0)'),
    consts: (a) => [attrFloat(a, 'alpha'), attrFloat(a, 'gamma')],
  },
  Celu: { e: F('select(c0 * expm1_(v0 / c0), v0, v0 > 0.0)'), consts: (a) => [attrFloat(a, 'alpha')] },
  HardSigmoid: {
    e: F('clip01_(c0 * v0 + c1)'),
    consts: (a) => [attrFloat(a, 'alpha'), attrFloat(a, 'beta')],
  },
  HardSwish: { e: F('v0 * clip01_(v0 / 6.0 + 0.5)') },
  Sigmoid: { e: F('sigmoid_(v0)') },
  Tanh: { e: F('tanh_(v0)') },
  Softplus: { e: F('softplus_(v0)') },
  Softsign: { e: F('v0 / (1.0 + abs(v0))') },
  ThresholdedRelu: { e: F('select(0.0, v0, v0 > c0)'), consts: (a) => [attrFloat(a, 'alpha')], nan: '0.0' },
  Mish: { e: F('v0 * tanh_(softplus_(v0))') },
  Shrink: {
    e: F('select(select(0.0, v0 - c0, v0 > c1), v0 + c0, v0 < -c1)'),
    consts: (a) => [attrFloat(a, 'bias'), attrFloat(a, 'lambd')],
    nan: '0.0',
  },
};

const GELU: Record<string, string> = {
  none: '0.5 * v0 * (1.0 + erf_(v0 * 0.70710678118654752))',
  tanh: '0.5 * v0 * (1.0 + tanh_(0.79788456080286536 * (v0 + 0.044715 * v0 * v0 * v0)))',
};

function consts(values: number[]): Params {
  return new Params().f(...values);
}

/** Runs expression `e` (chosen by the input dtype) over one input. */
function unary(name: string, x: Tensor, d: UnaryDef, attrs: Attrs): Tensor | string {
  const key = exprKey(x.dtype);
  let expr = d.e[key];
  if (key === 'x' && x.dtype !== 'float64' && X64_UNARY[name]) expr = X64_UNARY[name]!(x.dtype === 'int64');
  if (!expr || x.dtype === 'float64') return noKernel(x.dtype);
  if (key === 'f' && d.nan !== null) expr = `select(${expr}, ${d.nan ?? 'v0'}, isnan_(v0))`;
  const out = d.out ?? x.dtype;
  const rawOut = out === 'bool' || key === 'b' || key === 'x';
  return elementwise({
    inputs: [x],
    loads: [key === 'b' ? 'u' : kindOf(x.dtype)],
    expr,
    outDtype: out,
    rawOut,
    consts: d.consts ? consts(d.consts(attrs)) : undefined,
  });
}

interface BinaryDef {
  e: Exprs;
  out?: 'bool';
}

const cmp = (op: string, x?: string): BinaryDef => ({
  e: {
    f: `select(0u, 1u, !isnan_(v0) && !isnan_(v1) && v0 ${op} v1)`,
    i: `select(0u, 1u, v0 ${op} v1)`,
    u: `select(0u, 1u, v0 ${op} v1)`,
    b: `select(0u, 1u, v0 ${op} v1)`,
    ...(x ? { x } : {}),
  },
  out: 'bool',
});

const BINARY: Record<string, BinaryDef> = {
  Add: { e: { f: 'v0 + v1', i: 'v0 + v1', u: 'v0 + v1', b: 'select(0u, 1u, (v0 | v1) != 0u)' } },
  Sub: { e: { f: 'v0 - v1', i: 'v0 - v1', u: 'v0 - v1' } },
  Mul: { e: { f: 'v0 * v1', i: 'v0 * v1', u: 'v0 * v1', b: 'v0 & v1' } },
  Div: { e: { f: 'v0 / v1', i: 'select(v0 / v1, 0, v1 == 0)', u: 'select(v0 / v1, 0u, v1 == 0u)' } },
  Equal: cmp('==', 'select(0u, 1u, all(v0 == v1))'),
  Less: cmp('<'),
  Greater: cmp('>'),
  LessOrEqual: cmp('<='),
  GreaterOrEqual: cmp('>='),
  And: { e: { b: 'v0 & v1' } },
  Or: { e: { b: 'v0 | v1' } },
  Xor: { e: { b: 'v0 ^ v1' } },
  BitwiseAnd: { e: { i: 'v0 & v1', u: 'v0 & v1', x: 'v0 & v1' } },
  BitwiseOr: { e: { i: 'v0 | v1', u: 'v0 | v1', x: 'v0 | v1' } },
  BitwiseXor: { e: { i: 'v0 ^ v1', u: 'v0 ^ v1', x: 'v0 ^ v1' } },
  PRelu: { e: { f: 'select(v0, v1 * v0, v0 < 0.0)', i: 'select(v0, v1 * v0, v0 < 0)', u: 'v0' } },
};

/** int64/uint64 arithmetic on word pairs (exact, wrapping at 64 bits; division by zero gives 0). */
const X64_ARITH: Record<string, (signed: boolean) => string> = {
  Add: () => 'add64(v0, v1)',
  Sub: () => 'sub64(v0, v1)',
  Mul: () => 'mul64(v0, v1)',
  Div: (s) => (s ? 'divs64(v0, v1)' : 'divu64(v0, v1)'),
};
const X64_UNARY: Record<string, (signed: boolean) => string> = {
  Neg: () => 'neg64(v0)',
  Abs: (s) => (s ? 'select(v0, neg64(v0), isneg64(v0))' : 'v0'),
  Relu: (s) => (s ? 'select(v0, vec2<u32>(0u, 0u), isneg64(v0))' : 'v0'),
  Sign: (s) =>
    s
      ? 'select(select(vec2<u32>(1u, 0u), vec2<u32>(0u, 0u), v0.x == 0u && v0.y == 0u), vec2<u32>(0xffffffffu, 0xffffffffu), isneg64(v0))'
      : 'select(vec2<u32>(1u, 0u), vec2<u32>(0u, 0u), v0.x == 0u && v0.y == 0u)',
};

/** int64/uint64 ordering compares both words; Equal compares them too (see cmp above). */
const X64_ORDER: Record<string, (signed: boolean) => string> = {
  Less: (s) => `select(0u, 1u, ${s ? 'lt_i64' : 'lt_u64'}(v0, v1))`,
  Greater: (s) => `select(0u, 1u, ${s ? 'lt_i64' : 'lt_u64'}(v1, v0))`,
  LessOrEqual: (s) => `select(0u, 1u, !${s ? 'lt_i64' : 'lt_u64'}(v1, v0))`,
  GreaterOrEqual: (s) => `select(0u, 1u, !${s ? 'lt_i64' : 'lt_u64'}(v0, v1))`,
};

/**
 * Before opset 7, binary ops broadcast only with broadcast=1, B aligned to A at `axis`: the CPU's own
 * alignment gives B as a view of A's rank (its checks and errors included), which the kernels read
 * through its strides. PRelu's slope aligns to the channel axis.
 */
function legacyAlignB(name: string, a: Tensor, b: Tensor, attrs: Attrs): Tensor {
  if (attrs.broadcast === undefined || sameShape(a.shape, b.shape)) return b;
  if (name === 'PRelu') {
    return b.ndim === 1 && b.shape[0] !== 1 && a.ndim >= 2
      ? legacyAlign(name, a, b, { broadcast: 1, axis: 1 })
      : b;
  }
  return legacyAlign(name, a, b, attrs);
}

function binary(name: string, d: BinaryDef, a: Tensor, b: Tensor): Tensor | string {
  const key = exprKey(a.dtype);
  let expr = d.e[key];
  if (key === 'x' && a.dtype !== 'float64' && X64_ORDER[name]) expr = X64_ORDER[name]!(a.dtype === 'int64');
  if (key === 'x' && a.dtype !== 'float64' && X64_ARITH[name]) expr = X64_ARITH[name]!(a.dtype === 'int64');
  if (!expr || a.dtype === 'float64') return noKernel(a.dtype);
  const load: Kind | 'raw' = key === 'b' || key === 'x' ? 'raw' : key;
  const rawOut = d.out === 'bool' || key === 'b' || key === 'x';
  return elementwise({ inputs: [a, b], loads: [load, load], expr, outDtype: d.out ?? a.dtype, rawOut });
}

function pow(a: Tensor, b: Tensor): Tensor | string {
  const ka = kindOf(a.dtype);
  const kb = kindOf(b.dtype);
  if (ka === 'x' || kb === 'x') return noKernel(ka === 'x' ? a.dtype : b.dtype);
  if (ka === 'f')
    return elementwise({ inputs: [a, b], loads: ['f', 'f'], expr: 'powc_(v0, v1)', outDtype: a.dtype });
  if (kb === 'f') {
    const e = `trunc(powc_(v0, v1))`;
    return elementwise({
      inputs: [a, b],
      loads: ['f', 'f'],
      expr: ka === 'i' ? `f32_to_i32(${e})` : `f32_to_u32(${e})`,
      outDtype: a.dtype,
    });
  }
  // Integer exponents: exact square-and-multiply with 32-bit wrap; a negative exponent as C truncates it.
  if (ka === 'i')
    return elementwise({ inputs: [a, b], loads: ['i', 'i'], expr: 'ipow_(v0, v1)', outDtype: a.dtype });
  if (kb === 'i') {
    return elementwise({
      inputs: [a, b],
      loads: ['u', 'i'],
      expr: 'select(upow_(v0, bitcast<u32>(v1)), select(0u, 1u, v0 == 1u), v1 < 0)',
      outDtype: a.dtype,
    });
  }
  return elementwise({ inputs: [a, b], loads: ['u', 'u'], expr: 'upow_(v0, v1)', outDtype: a.dtype });
}

function mod(a: Tensor, b: Tensor, fmod: boolean): Tensor | string {
  const k = kindOf(a.dtype);
  if (k === 'x') {
    if (a.dtype === 'float64') return noKernel(a.dtype);
    const signed = a.dtype === 'int64';
    // r = a - (a / b) * b (truncated); the floor form moves a nonzero r to the divisor's sign.
    const r = `sub64(v0, mul64(${signed ? 'divs64' : 'divu64'}(v0, v1), v1))`;
    const zero = 'vec2<u32>(0u, 0u)';
    const expr = !signed || fmod ? `select(${r}, ${zero}, v1.x == 0u && v1.y == 0u)` : `mod64_floor(v0, v1)`;
    return elementwise({
      inputs: [a, b],
      loads: ['raw', 'raw'],
      expr,
      outDtype: a.dtype,
      rawOut: true,
      extra: `fn mod64_floor(x: vec2<u32>, y: vec2<u32>) -> vec2<u32> {
  if (y.x == 0u && y.y == 0u) { return vec2<u32>(0u, 0u); }
  let r = sub64(x, mul64(divs64(x, y), y));
  if ((r.x != 0u || r.y != 0u) && isneg64(r) != isneg64(y)) { return add64(r, y); }
  return r;
}`,
    });
  }
  const expr =
    k === 'f'
      ? 'fmod_(v0, v1)'
      : k === 'u'
        ? 'select(v0 % v1, 0u, v1 == 0u)'
        : fmod
          ? 'select(v0 % v1, 0, v1 == 0)'
          : 'imod_floor(v0, v1)';
  return elementwise({ inputs: [a, b], loads: [k, k], expr, outDtype: a.dtype });
}

function bitShift(a: Tensor, b: Tensor, left: boolean): Tensor | string {
  if (kindOf(a.dtype) !== 'u') return noKernel(a.dtype);
  const w = a.dtype === 'uint8' ? 8 : a.dtype === 'uint16' ? 16 : 32;
  const expr = left ? `select(v0 << v1, 0u, v1 >= ${w}u)` : `select(v0 >> v1, 0u, v1 >= ${w}u)`;
  return elementwise({ inputs: [a, b], loads: ['u', 'u'], expr, outDtype: a.dtype });
}

/** Max/Min/Sum/Mean over any number of inputs in one launch (up to the binding limit, then in steps). */
const VARIADIC_MAX_INPUTS = 6;
function variadic(name: string, xs: Tensor[]): Tensor | string {
  const dtype = xs[0]!.dtype;
  const k = kindOf(dtype);
  if (k === 'x' && (dtype === 'float64' || name === 'Mean')) return noKernel(dtype);
  const lt = dtype === 'int64' ? 'lt_i64' : 'lt_u64';
  const fold = (acc: string, v: string): string => {
    if (k === 'x') {
      if (name === 'Max') return `select(${acc}, ${v}, ${lt}(${acc}, ${v}))`;
      if (name === 'Min') return `select(${acc}, ${v}, ${lt}(${v}, ${acc}))`;
      return `add64(${acc}, ${v})`;
    }
    if (name === 'Max') return k === 'f' ? `maxn_(${acc}, ${v})` : `max(${acc}, ${v})`;
    if (name === 'Min') return k === 'f' ? `minn_(${acc}, ${v})` : `min(${acc}, ${v})`;
    return `(${acc} + ${v})`;
  };
  let acc: Tensor | null = null;
  let rest = xs;
  const total = xs.length;
  while (rest.length > 0) {
    const take = rest.slice(0, acc ? VARIADIC_MAX_INPUTS - 1 : VARIADIC_MAX_INPUTS);
    rest = rest.slice(take.length);
    const ins = acc ? [acc, ...take] : take;
    let expr = 'v0';
    for (let j = 1; j < ins.length; j++) expr = fold(expr, `v${j}`);
    // Mean divides once, after the last group (in f32 like the sum).
    if (name === 'Mean' && rest.length === 0) expr = `(${expr}) / ${total}.0`;
    acc = elementwise({
      inputs: ins,
      loads: ins.map(() => (k === 'x' ? 'raw' : k)),
      expr,
      outDtype: dtype,
      rawOut: k === 'x',
    });
  }
  return acc!;
}

function where(c: Tensor, x: Tensor, y: Tensor): Tensor {
  return elementwise({
    inputs: [c, x, y],
    loads: ['u', 'raw', 'raw'],
    expr: 'select(v2, v1, v0 != 0u)',
    outDtype: x.dtype,
    rawOut: true,
  });
}

function clip(x: Tensor, lo: number | undefined, hi: number | undefined): Tensor | string {
  const k = kindOf(x.dtype);
  if (k === 'x') return noKernel(x.dtype);
  if (k === 'f') {
    const p = new Params().f(lo ?? Number.NEGATIVE_INFINITY, hi ?? Number.POSITIVE_INFINITY);
    return elementwise({
      inputs: [x],
      loads: ['f'],
      expr: 'select(clip_(v0, c0, c1), v0, isnan_(v0))',
      extra:
        'fn clip_(v: f32, lo: f32, hi: f32) -> f32 { let m = select(v, lo, v < lo); return select(m, hi, m > hi); }',
      outDtype: x.dtype,
      consts: p,
    });
  }
  const p = new Params();
  if (k === 'i') p.i(lo ?? -2147483648, hi ?? 2147483647);
  else p.u(lo ?? 0, hi ?? 0xffffffff);
  const c = k === 'i' ? ['ci0', 'ci1'] : ['cu0', 'cu1'];
  return elementwise({
    inputs: [x],
    loads: [k],
    expr: `min(max(v0, ${c[0]}), ${c[1]})`,
    outDtype: x.dtype,
    consts: p,
  });
}

const inp = (inputs: OpInputs, i: number, op: string): Tensor => {
  const t = inputs[i];
  if (!t) throw new TesseraError('INVALID_ARGUMENT', `${op}: input ${i} is required`);
  return t;
};

export function registerElementwiseKernels(): void {
  for (const [name, d] of Object.entries(UNARY)) {
    gpuKernel(name, (inputs, attrs) => {
      const r = unary(name, inp(inputs, 0, name), d, attrs);
      return typeof r === 'string' ? r : [r];
    });
  }
  gpuKernel('Gelu', (inputs, attrs) => {
    const r = unary(
      'Gelu',
      inp(inputs, 0, 'Gelu'),
      { e: F(GELU[attrString(attrs, 'approximate', 'none')] ?? GELU.none!) },
      attrs,
    );
    return typeof r === 'string' ? r : [r];
  });
  for (const [name, d] of Object.entries(BINARY)) {
    gpuKernel(name, (inputs, attrs) => {
      const a = inp(inputs, 0, name);
      const b = legacyAlignB(name, a, inp(inputs, 1, name), attrs);
      const r = binary(name, d, a, b);
      return typeof r === 'string' ? r : [r];
    });
  }
  gpuKernel('Pow', (inputs, attrs) => {
    const a = inp(inputs, 0, 'Pow');
    const b = legacyAlignB('Pow', a, inp(inputs, 1, 'Pow'), attrs);
    const r = pow(a, b);
    return typeof r === 'string' ? r : [r];
  });
  gpuKernel('Mod', (inputs, attrs) => {
    const r = mod(inp(inputs, 0, 'Mod'), inp(inputs, 1, 'Mod'), attrInt(attrs, 'fmod', 0) === 1);
    return typeof r === 'string' ? r : [r];
  });
  gpuKernel('BitShift', (inputs, attrs) => {
    const r = bitShift(
      inp(inputs, 0, 'BitShift'),
      inp(inputs, 1, 'BitShift'),
      attrString(attrs, 'direction') === 'LEFT',
    );
    return typeof r === 'string' ? r : [r];
  });
  for (const name of ['Max', 'Min', 'Sum', 'Mean']) {
    gpuKernel(name, (inputs) => {
      const xs = inputs.map((_, i) => inp(inputs, i, name));
      const r = variadic(name, xs);
      return typeof r === 'string' ? r : [r];
    });
  }
  // tessera::Indicator: 1 where a <cmp> b (broadcasting), else 0, in a's dtype (gradient masks).
  gpuKernel(
    'Indicator',
    (inputs, attrs) => {
      const [a, b] = [inp(inputs, 0, 'Indicator'), inp(inputs, 1, 'Indicator')];
      const cmpOp = { eq: '==', gt: '>', lt: '<' }[attrString(attrs, 'cmp', 'eq')];
      if (!cmpOp)
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Indicator: cmp must be eq, gt or lt, got '${attrString(attrs, 'cmp')}'`,
        );
      const k = kindOf(a.dtype);
      if (k === 'x') return noKernel(a.dtype);
      const test = k === 'f' ? `!isnan_(v0) && !isnan_(v1) && v0 ${cmpOp} v1` : `v0 ${cmpOp} v1`;
      const one = k === 'f' ? ['0.0', '1.0'] : k === 'i' ? ['0', '1'] : ['0u', '1u'];
      return [
        elementwise({
          inputs: [a, b],
          loads: [k, k],
          expr: `select(${one[0]}, ${one[1]}, ${test})`,
          outDtype: a.dtype,
        }),
      ];
    },
    { domain: 'tessera' },
  );
  gpuKernel('Where', (inputs) => {
    const [c, x, y] = [inp(inputs, 0, 'Where'), inp(inputs, 1, 'Where'), inp(inputs, 2, 'Where')];
    return [where(c, x, y)];
  });
  gpuKernel(
    'Clip',
    (inputs, attrs) => {
      const r = clip(inp(inputs, 0, 'Clip'), attrFloat(attrs, 'min'), attrFloat(attrs, 'max'));
      return typeof r === 'string' ? r : [r];
    },
    { since: 1 },
  );
  gpuKernel(
    'Clip',
    (inputs) => {
      const x = inp(inputs, 0, 'Clip');
      if (kindOf(x.dtype) === 'x') return noKernel(x.dtype);
      const bound = (t: Tensor | undefined, which: string) => {
        if (!t) return undefined;
        if (t.numel() !== 1) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `Clip: input '${which}' must be a scalar, got shape ${fmtShape(t.shape)}`,
          );
        }
        return readScalar(t);
      };
      const r = clip(x, bound(inputs[1], 'min'), bound(inputs[2], 'max'));
      return typeof r === 'string' ? r : [r];
    },
    { since: 11 },
  );
}
