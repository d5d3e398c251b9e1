/**
 * Chained math methods (torch names, camelCase): powers and roots, trigonometry, activations,
 * rounding, clamp, maximum/minimum. Integer inputs of float-valued functions (sqrt, sin, erf...)
 * become float32 first, as torch does; the top-level `maximum`, `minimum`, `clamp` are exported too.
 */
import { dispatch1 } from '../../ops/registry.js';
import { full } from '../creation.js';
import { type DType, isFloat, promoteWithScalar } from '../dtype.js';
import { TesseraError } from '../errors.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { castTo, promotePair, promoteToFloat } from './operands.js';

export type GeluApproximate = 'none' | 'tanh';
/** A clamp bound: a number, a tensor, or null/undefined for none. */
export type ClampBound = TensorLike | null | undefined;

declare module '../tensor.js' {
  interface Tensor {
    /** this ** exponent, with torch's promotion (an int tensor to a float power is float). */
    pow(exponent: TensorLike): Tensor;
    abs(): Tensor;
    /** -1, 0 or 1 (NaN stays NaN). */
    sign(): Tensor;
    sqrt(): Tensor;
    /** 1 / sqrt(this). */
    rsqrt(): Tensor;
    reciprocal(): Tensor;
    /** this * this (ints stay ints). */
    square(): Tensor;
    sin(): Tensor;
    cos(): Tensor;
    tan(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    leakyRelu(negativeSlope?: number): Tensor;
    elu(alpha?: number): Tensor;
    gelu(approximate?: GeluApproximate): Tensor;
    /** log(1 + exp(beta x)) / beta, and x itself where beta x > threshold (torch's softplus). */
    softplus(beta?: number, threshold?: number): Tensor;
    erf(): Tensor;
    floor(): Tensor;
    ceil(): Tensor;
    /** Rounds half to even, to `decimals` decimal places (negative: tens, hundreds...). */
    round(decimals?: number): Tensor;
    /** Limits to [min, max]; either bound may be omitted (null), and may be a tensor. */
    clamp(min?: ClampBound, max?: ClampBound): Tensor;
    /** Alias of clamp. */
    clip(min?: ClampBound, max?: ClampBound): Tensor;
    /** Elementwise max with broadcasting; NaN wins. */
    maximum(other: TensorLike): Tensor;
    /** Elementwise min with broadcasting; NaN wins. */
    minimum(other: TensorLike): Tensor;
  }
}

const unary = (name: string, x: Tensor, attrs = {}) => dispatch1(name, [x], attrs);
const floatUnary = (name: string) =>
  function (this: Tensor) {
    return unary(name, promoteToFloat(this));
  };

Tensor.prototype.pow = function (this: Tensor, exponent) {
  const [a, b] = promotePair(this, exponent);
  if (!isFloat(a.dtype) && typeof exponent === 'number' && exponent < 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `pow: integers to negative integer powers are not allowed (${a.dtype} tensor to the power ${exponent})`,
    );
  }
  return dispatch1('Pow', [a, b]);
};
Tensor.prototype.abs = function (this: Tensor) {
  return unary('Abs', this);
};
Tensor.prototype.sign = function (this: Tensor) {
  return this.dtype === 'bool' ? this.clone() : unary('Sign', this);
};
Tensor.prototype.sqrt = floatUnary('Sqrt');
Tensor.prototype.rsqrt = function (this: Tensor) {
  return unary('Reciprocal', unary('Sqrt', promoteToFloat(this)));
};
Tensor.prototype.reciprocal = floatUnary('Reciprocal');
Tensor.prototype.square = function (this: Tensor) {
  const x = this.dtype === 'bool' ? castTo(this, 'int64') : this;
  return dispatch1('Mul', [x, x]);
};
Tensor.prototype.sin = floatUnary('Sin');
Tensor.prototype.cos = floatUnary('Cos');
Tensor.prototype.tan = floatUnary('Tan');
Tensor.prototype.tanh = floatUnary('Tanh');
Tensor.prototype.sigmoid = floatUnary('Sigmoid');
Tensor.prototype.erf = floatUnary('Erf');
Tensor.prototype.relu = function (this: Tensor) {
  return unary('Relu', this);
};
Tensor.prototype.leakyRelu = function (this: Tensor, negativeSlope = 0.01) {
  return unary('LeakyRelu', this, { alpha: negativeSlope });
};
Tensor.prototype.elu = function (this: Tensor, alpha = 1) {
  return unary('Elu', this, { alpha });
};
Tensor.prototype.gelu = function (this: Tensor, approximate: GeluApproximate = 'none') {
  return unary('Gelu', this, { approximate });
};
Tensor.prototype.softplus = function (this: Tensor, beta = 1, threshold = 20) {
  const x = promoteToFloat(this);
  const bx = beta === 1 ? x : x.mul(beta);
  let sp = unary('Softplus', bx);
  if (beta !== 1) sp = sp.div(beta);
  return dispatch1('Where', [bx.gt(threshold), x, sp]);
};

// Rounding leaves integers as they are (a copy), as torch does.
const rounding = (name: string) =>
  function (this: Tensor) {
    return isFloat(this.dtype) ? unary(name, this) : this.clone();
  };
Tensor.prototype.floor = rounding('Floor');
Tensor.prototype.ceil = rounding('Ceil');
Tensor.prototype.round = function (this: Tensor, decimals = 0) {
  if (!isFloat(this.dtype)) return this.clone();
  if (decimals === 0) return unary('Round', this);
  // As torch: scale by 10^|decimals| on the side that keeps the scale an exact integer.
  const s = 10 ** Math.abs(decimals);
  return decimals > 0 ? unary('Round', this.mul(s)).div(s) : unary('Round', this.div(s)).mul(s);
};

/** The dtype torch gives x clamped by number bounds (an int tensor with a float bound becomes float). */
function clampDType(x: DType, bounds: number[]): DType {
  return bounds.reduce<DType>((d, b) => promoteWithScalar(d, b), x);
}

export function clamp(x: Tensor, min?: ClampBound, max?: ClampBound): Tensor {
  const has = (b: ClampBound): b is TensorLike => b !== null && b !== undefined;
  if (!has(min) && !has(max)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      "clamp: at least one of 'min' or 'max' must be given, got neither",
    );
  }
  if (min instanceof Tensor || max instanceof Tensor) {
    // Tensor bounds broadcast: max(x, min) then min(., max), so max wins where min > max (as torch).
    let r = x;
    if (has(min)) r = maximum(r, min);
    if (has(max)) r = minimum(r, max);
    return r;
  }
  const nums = [min, max].filter(has).map(Number);
  const dtype = clampDType(x.dtype, nums);
  const bound = (b: ClampBound) => (has(b) ? full([], Number(b), { dtype, device: x.device }) : undefined);
  return dispatch1('Clip', [castTo(x, dtype), bound(min), bound(max)]);
}

export function maximum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'maximum');
  return dispatch1('Max', [x, y]);
}
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b, 'minimum');
  return dispatch1('Min', [x, y]);
}

/** Two operands, at least one a tensor, promoted to one dtype (order kept). */
function operands(a: TensorLike, b: TensorLike, who: string): [Tensor, Tensor] {
  if (a instanceof Tensor) return promotePair(a, b);
  if (b instanceof Tensor) {
    const [y, x] = promotePair(b, a);
    return [x, y];
  }
  throw new TesseraError('INVALID_ARGUMENT', `${who}: expected at least one tensor operand, got two scalars`);
}

Tensor.prototype.clamp = function (this: Tensor, min, max) {
  return clamp(this, min, max);
};
Tensor.prototype.clip = Tensor.prototype.clamp;
Tensor.prototype.maximum = function (this: Tensor, other) {
  return maximum(this, other);
};
Tensor.prototype.minimum = function (this: Tensor, other) {
  return minimum(this, other);
};
