/**
 * Chained reductions with torch's `dim` (int or list) and `keepdim`, plus softmax/logSoftmax and
 * cumsum. Dtype rules follow torch: sum/prod/cumsum of ints and bools give int64; mean, var, std and
 * norm need a float input; softmax and logsumexp promote ints to float32; all/any give bool.
 */
import { indicator, signMask } from '../../ops/reduce/indicator.js';
import { dispatch1 } from '../../ops/registry.js';
import { full, int64s } from '../creation.js';
import { isFloat } from '../dtype.js';
import { TesseraError } from '../errors.js';
import { fmtShape, normAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { castTo, promoteToFloat } from './operands.js';

export interface VarOptions {
  /** Subtracted from the element count in the divisor: 1 (default) is Bessel's correction. */
  correction?: number;
  keepdim?: boolean;
}

declare module '../tensor.js' {
  interface Tensor {
    /** Sum over `dim` (all dims when omitted); ints and bools sum as int64, like torch. */
    sum(dim?: number | number[], keepdim?: boolean): Tensor;
    /** Mean over `dim` (all dims when omitted); float inputs only, like torch. */
    mean(dim?: number | number[], keepdim?: boolean): Tensor;
    /** The largest element (no dim) or the largest values along `dim` (values only; see argmax for indices). */
    max(dim?: number, keepdim?: boolean): Tensor;
    /** The smallest element (no dim) or the smallest values along `dim`. */
    min(dim?: number, keepdim?: boolean): Tensor;
    /** Maximum over one or more dims; the gradient is split evenly between ties. */
    amax(dim?: number | number[], keepdim?: boolean): Tensor;
    /** Minimum over one or more dims; the gradient is split evenly between ties. */
    amin(dim?: number | number[], keepdim?: boolean): Tensor;
    /** Product over `dim` (all elements when omitted); ints and bools multiply as int64. */
    prod(dim?: number, keepdim?: boolean): Tensor;
    /** int64 index of the first maximum along `dim`, or in the flattened tensor when omitted. */
    argmax(dim?: number, keepdim?: boolean): Tensor;
    /** int64 index of the first minimum along `dim`, or in the flattened tensor when omitted. */
    argmin(dim?: number, keepdim?: boolean): Tensor;
    /** Variance over `dim` with `correction` (default 1, torch's unbiased estimate). */
    var(dim?: number | number[], correction?: number | VarOptions, keepdim?: boolean): Tensor;
    /** Standard deviation over `dim` with `correction` (default 1). */
    std(dim?: number | number[], correction?: number | VarOptions, keepdim?: boolean): Tensor;
    /** log(sum(exp(x))) over `dim`, computed stably (all dims when omitted). */
    logsumexp(dim?: number | number[], keepdim?: boolean): Tensor;
    /** True where every element (along `dim`) is nonzero; a bool tensor. */
    all(dim?: number | number[], keepdim?: boolean): Tensor;
    /** True where some element (along `dim`) is nonzero; a bool tensor. */
    any(dim?: number | number[], keepdim?: boolean): Tensor;
    /** Vector p-norm over `dim` (all elements when omitted): p = 2 (default, also 'fro'), 1, Infinity, -Infinity, 0 or any other number. */
    norm(p?: number | 'fro', dim?: number | number[], keepdim?: boolean): Tensor;
    /** Softmax along `dim` (default -1). */
    softmax(dim?: number): Tensor;
    /** Log of softmax along `dim` (default -1), computed stably. */
    logSoftmax(dim?: number): Tensor;
    /** Running sum along `dim`; ints and bools accumulate as int64. */
    cumsum(dim: number): Tensor;
  }
}

/** Normalized, de-duplicated axes for a torch-style `dim` argument (undefined: all). */
export function dimsArg(t: Tensor, dim: number | number[] | undefined, who: string): number[] {
  if (dim === undefined) return t.shape.map((_, i) => i);
  const list = Array.isArray(dim) ? dim : [dim];
  return [...new Set(list.map((d) => normAxis(d, t.ndim, who)))];
}

/** Runs a ReduceXxx op (opset 18 form) over torch-style dims. */
function reduce(
  op: string,
  x: Tensor,
  dim: number | number[] | undefined,
  keepdim: boolean,
  who: string,
): Tensor {
  const axes = dimsArg(x, dim, who);
  const keepdims = keepdim ? 1 : 0;
  // An empty axes list means "all axes" to the op, which is also what torch does for dim=[].
  return dispatch1(op, axes.length ? [x, int64s(axes)] : [x], { keepdims });
}

function needFloat(x: Tensor, who: string): void {
  if (!isFloat(x.dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${who}(): expected a floating-point input, got ${x.dtype}; convert it first, e.g. x.float()`,
    );
  }
}

function needNonEmpty(x: Tensor, dim: number | number[] | undefined, who: string): void {
  const axes = dimsArg(x, dim, who);
  if (axes.some((a) => x.shape[a] === 0) || (x.numel() === 0 && axes.length === x.ndim)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}(): cannot reduce over an empty dimension of a tensor of shape ${fmtShape(x.shape)}; expected non-zero sizes`,
    );
  }
}

const asInt64 = (t: Tensor) => (isFloat(t.dtype) ? t : castTo(t, 'int64'));
const scalar = (like: Tensor, v: number) => full([], v, { dtype: like.dtype, device: like.device });

Tensor.prototype.sum = function (this: Tensor, dim, keepdim = false) {
  const x = asInt64(this);
  const axes = dimsArg(x, dim, 'sum');
  if (axes.length === 0) return dispatch1('Identity', [x], { copy: 1 });
  return dispatch1('ReduceSum', [x, int64s(axes)], { keepdims: keepdim ? 1 : 0 });
};

Tensor.prototype.mean = function (this: Tensor, dim, keepdim = false) {
  needFloat(this, 'mean');
  return reduce('ReduceMean', this, dim, keepdim, 'mean');
};

function extremum(x: Tensor, op: string, dim: number | number[] | undefined, keepdim: boolean, who: string) {
  needNonEmpty(x, dim, who);
  return reduce(op, x, dim, keepdim, who);
}

Tensor.prototype.max = function (this: Tensor, dim, keepdim = false) {
  return extremum(this, 'ReduceMax', dim, dim === undefined ? false : keepdim, 'max');
};
Tensor.prototype.min = function (this: Tensor, dim, keepdim = false) {
  return extremum(this, 'ReduceMin', dim, dim === undefined ? false : keepdim, 'min');
};
Tensor.prototype.amax = function (this: Tensor, dim, keepdim = false) {
  return extremum(this, 'ReduceMax', dim, keepdim, 'amax');
};
Tensor.prototype.amin = function (this: Tensor, dim, keepdim = false) {
  return extremum(this, 'ReduceMin', dim, keepdim, 'amin');
};

Tensor.prototype.prod = function (this: Tensor, dim, keepdim = false) {
  return reduce('ReduceProd', asInt64(this), dim, keepdim, 'prod');
};

function arg(x: Tensor, op: string, dim: number | undefined, keepdim: boolean): Tensor {
  if (dim !== undefined) {
    return dispatch1(op, [x], { axis: normAxis(dim, x.ndim, op.toLowerCase()), keepdims: keepdim ? 1 : 0 });
  }
  const flat = dispatch1(op, [x.reshape(-1)], { axis: 0, keepdims: 0 });
  return keepdim ? flat.reshape(x.shape.map(() => 1)) : flat;
}
Tensor.prototype.argmax = function (this: Tensor, dim, keepdim = false) {
  return arg(this, 'ArgMax', dim, keepdim);
};
Tensor.prototype.argmin = function (this: Tensor, dim, keepdim = false) {
  return arg(this, 'ArgMin', dim, keepdim);
};

function varArgs(correction: number | VarOptions | undefined, keepdim: boolean | undefined) {
  if (typeof correction === 'object')
    return { c: correction.correction ?? 1, keep: correction.keepdim ?? false };
  return { c: correction ?? 1, keep: keepdim ?? false };
}

/** x - mean(x) over `axes` and the divisor max(0, N - correction). */
function centered(x: Tensor, dim: number | number[] | undefined, c: number, who: string) {
  needFloat(x, who);
  const axes = dimsArg(x, dim, who);
  const n = axes.reduce((p, a) => p * x.shape[a]!, 1);
  const mean = reduce('ReduceMean', x, dim, true, who);
  return { d: dispatch1('Sub', [x, mean]), divisor: Math.max(0, n - c) };
}

Tensor.prototype.var = function (this: Tensor, dim, correction, keepdim) {
  const { c, keep } = varArgs(correction, keepdim);
  const { d, divisor } = centered(this, dim, c, 'var');
  const ss = reduce('ReduceSumSquare', d, dim, keep, 'var');
  return dispatch1('Div', [ss, scalar(ss, divisor)]);
};
Tensor.prototype.std = function (this: Tensor, dim, correction, keepdim) {
  const { c, keep } = varArgs(correction, keepdim);
  const { d, divisor } = centered(this, dim, c, 'std');
  const l2 = reduce('ReduceL2', d, dim, keep, 'std');
  return dispatch1('Div', [l2, scalar(l2, Math.sqrt(divisor))]);
};

Tensor.prototype.logsumexp = function (this: Tensor, dim, keepdim = false) {
  return reduce('ReduceLogSumExp', promoteToFloat(this), dim, keepdim, 'logsumexp');
};

Tensor.prototype.all = function (this: Tensor, dim, keepdim = false) {
  return reduce('ReduceMin', castTo(this, 'bool'), dim, keepdim, 'all');
};
Tensor.prototype.any = function (this: Tensor, dim, keepdim = false) {
  return reduce('ReduceMax', castTo(this, 'bool'), dim, keepdim, 'any');
};

/** |x| as x * sign(x), so its gradient is sign(x) without needing an Abs op. */
function abs(x: Tensor): Tensor {
  return dispatch1('Mul', [x, signMask(x)]);
}

Tensor.prototype.norm = function (this: Tensor, p = 2, dim, keepdim = false) {
  needFloat(this, 'norm');
  if (p === 2 || p === 'fro') return reduce('ReduceL2', this, dim, keepdim, 'norm');
  if (p === 1) return reduce('ReduceL1', this, dim, keepdim, 'norm');
  if (p === Number.POSITIVE_INFINITY) return extremum(abs(this), 'ReduceMax', dim, keepdim, 'norm');
  if (p === Number.NEGATIVE_INFINITY) return extremum(abs(this), 'ReduceMin', dim, keepdim, 'norm');
  if (p === 0) {
    const nonzero = dispatch1('Sub', [scalar(this, 1), indicator(this, scalar(this, 0), 'eq')]);
    return reduce('ReduceSum', nonzero, dim, keepdim, 'norm');
  }
  if (typeof p !== 'number' || Number.isNaN(p)) {
    throw new TesseraError('INVALID_ARGUMENT', `norm(): p must be a number or 'fro', got ${String(p)}`);
  }
  const powered = dispatch1('Pow', [abs(this), scalar(this, p)]);
  return dispatch1('Pow', [reduce('ReduceSum', powered, dim, keepdim, 'norm'), scalar(this, 1 / p)]);
};

Tensor.prototype.softmax = function (this: Tensor, dim = -1) {
  return softmax(this, dim);
};
Tensor.prototype.logSoftmax = function (this: Tensor, dim = -1) {
  return logSoftmax(this, dim);
};

Tensor.prototype.cumsum = function (this: Tensor, dim: number) {
  const x = asInt64(this);
  const axis = Tensor.fromData(BigInt64Array.of(BigInt(normAxis(dim, x.ndim, 'cumsum'))), [], 'int64');
  return dispatch1('CumSum', [x, axis]);
};

/** Softmax of `x` along `dim` (default -1); ints are promoted to float32. */
export function softmax(x: Tensor, dim = -1): Tensor {
  return dispatch1('Softmax', [promoteToFloat(x)], { axis: normAxis(dim, x.ndim, 'softmax') });
}
/** Log-softmax of `x` along `dim` (default -1); ints are promoted to float32. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  return dispatch1('LogSoftmax', [promoteToFloat(x)], { axis: normAxis(dim, x.ndim, 'logSoftmax') });
}
