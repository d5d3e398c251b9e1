/**
 * Chained comparisons and logic (torch names, camelCase): eq/ne/lt/le/gt/ge return bool tensors and
 * take scalar operands; logical ops treat any nonzero (NaN included) as true; isnan/isinf; where.
 * The top-level `where(cond, a, b)` is exported too.
 */
import { dispatch1 } from '../../ops/registry.js';
import { full, zeros } from '../creation.js';
import { DEFAULT_FLOAT, type DType, isFloat } from '../dtype.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { promotePair } from './operands.js';

declare module '../tensor.js' {
  interface Tensor {
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    logicalAnd(other: TensorLike): Tensor;
    logicalOr(other: TensorLike): Tensor;
    logicalXor(other: TensorLike): Tensor;
    logicalNot(): Tensor;
    isnan(): Tensor;
    /** True at +inf and -inf. */
    isinf(): Tensor;
    /** this where `condition`, else `other` (torch's Tensor.where). */
    where(condition: Tensor, other: TensorLike): Tensor;
  }
}

const compare = (name: string) =>
  function (this: Tensor, other: TensorLike) {
    return dispatch1(name, promotePair(this, other));
  };

Tensor.prototype.eq = compare('Equal');
Tensor.prototype.lt = compare('Less');
Tensor.prototype.le = compare('LessOrEqual');
Tensor.prototype.gt = compare('Greater');
Tensor.prototype.ge = compare('GreaterOrEqual');
Tensor.prototype.ne = function (this: Tensor, other) {
  return dispatch1('Not', [this.eq(other)]);
};

/** Truth of every element as torch sees it: nonzero is true, NaN included (x != 0). */
function truth(x: TensorLike, like: Tensor): Tensor {
  if (!(x instanceof Tensor)) return full([], Boolean(x), { device: like.device });
  if (x.dtype === 'bool') return x;
  return dispatch1('Not', [dispatch1('Equal', [x, full([], 0, { dtype: x.dtype, device: x.device })])]);
}

const logical = (name: string) =>
  function (this: Tensor, other: TensorLike) {
    return dispatch1(name, [truth(this, this), truth(other, this)]);
  };
Tensor.prototype.logicalAnd = logical('And');
Tensor.prototype.logicalOr = logical('Or');
Tensor.prototype.logicalXor = logical('Xor');
Tensor.prototype.logicalNot = function (this: Tensor) {
  return dispatch1('Not', [truth(this, this)]);
};

// Integers and bools are never NaN or infinite.
const floatPredicate = (name: string) =>
  function (this: Tensor) {
    return isFloat(this.dtype)
      ? dispatch1(name, [this])
      : zeros(this.shape, { dtype: 'bool', device: this.device });
  };
Tensor.prototype.isnan = floatPredicate('IsNaN');
Tensor.prototype.isinf = floatPredicate('IsInf');

/** The dtype of two scalars in torch.where: bool for bools, int64 for integers, else float32. */
function scalarsDType(a: number | boolean, b: number | boolean): DType {
  if (typeof a === 'boolean' && typeof b === 'boolean') return 'bool';
  if ([a, b].every((v) => typeof v === 'boolean' || Number.isInteger(v))) return 'int64';
  return DEFAULT_FLOAT;
}

/**
 * Elements of `a` where `condition` is true, else of `b` (torch.where), broadcasting all three.
 * Scalars take the other operand's dtype by torch's promotion; a non-bool condition is compared to 0.
 */
export function where(condition: Tensor, a: TensorLike, b: TensorLike): Tensor {
  const cond = truth(condition, condition);
  let x: Tensor;
  let y: Tensor;
  if (a instanceof Tensor) [x, y] = promotePair(a, b);
  else if (b instanceof Tensor) [y, x] = promotePair(b, a);
  else {
    const dtype = scalarsDType(a, b);
    x = full([], Number(a), { dtype, device: condition.device });
    y = full([], Number(b), { dtype, device: condition.device });
  }
  return dispatch1('Where', [cond, x, y]);
}

Tensor.prototype.where = function (this: Tensor, condition, other) {
  return where(condition, this, other);
};
