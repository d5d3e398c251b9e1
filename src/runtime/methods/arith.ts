/** Chained arithmetic: add/sub/mul/div (with scalar operands and torch's promotion), neg, exp, log. */
import { dispatch1 } from '../../ops/registry.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { promotePair, promoteToFloat } from './operands.js';

declare module '../tensor.js' {
  interface Tensor {
    /** this + alpha * other */
    add(other: TensorLike, alpha?: number): Tensor;
    /** this - alpha * other */
    sub(other: TensorLike, alpha?: number): Tensor;
    mul(other: TensorLike): Tensor;
    /** True division (ints become float32), as torch's `/`. */
    div(other: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    log(): Tensor;
  }
}

function scaled(other: TensorLike, alpha: number | undefined): TensorLike {
  if (alpha === undefined || alpha === 1) return other;
  return other instanceof Tensor ? other.mul(alpha) : Number(other) * alpha;
}

Tensor.prototype.add = function (this: Tensor, other, alpha) {
  const [a, b] = promotePair(this, scaled(other, alpha));
  return dispatch1('Add', [a, b]);
};
Tensor.prototype.sub = function (this: Tensor, other, alpha) {
  const [a, b] = promotePair(this, scaled(other, alpha));
  return dispatch1('Sub', [a, b]);
};
Tensor.prototype.mul = function (this: Tensor, other) {
  const [a, b] = promotePair(this, other);
  return dispatch1('Mul', [a, b]);
};
Tensor.prototype.div = function (this: Tensor, other) {
  const [a, b] = promotePair(promoteToFloat(this), other);
  return dispatch1('Div', [promoteToFloat(a), promoteToFloat(b)]);
};
Tensor.prototype.neg = function (this: Tensor) {
  return dispatch1('Neg', [this]);
};
Tensor.prototype.exp = function (this: Tensor) {
  return dispatch1('Exp', [promoteToFloat(this)]);
};
Tensor.prototype.log = function (this: Tensor) {
  return dispatch1('Log', [promoteToFloat(this)]);
};
