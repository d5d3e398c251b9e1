/**
 * Chained matrix products (matmul, mm, bmm, dot, outer) and the top-level matmul and einsum, with
 * torch's shape rules. Operand dtypes are promoted as torch's binary ops promote them.
 */
import { dispatch1 } from '../../ops/registry.js';
import { TesseraError } from '../errors.js';
import { fmtShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { promotePair } from './operands.js';

declare module '../tensor.js' {
  interface Tensor {
    /** NumPy/torch matmul: 1-D operands are vectors, leading dims are broadcast batch dims. */
    matmul(other: Tensor): Tensor;
    /** Product of two 2-D matrices. */
    mm(other: Tensor): Tensor;
    /** Batched product of [B, n, m] and [B, m, p] (no broadcasting, as torch.bmm). */
    bmm(other: Tensor): Tensor;
    /** Inner product of two 1-D tensors of equal length; a 0-d tensor. */
    dot(other: Tensor): Tensor;
    /** Outer product of two 1-D tensors: [n] x [m] -> [n, m]. */
    outer(other: Tensor): Tensor;
  }
}

function expectRanks(who: string, a: Tensor, b: Tensor, rank: number): void {
  if (a.ndim !== rank || b.ndim !== rank) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}(): expected ${rank}-D tensors, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
    );
  }
}

/** a @ b with NumPy matmul semantics (torch.matmul). */
export function matmul(a: Tensor, b: Tensor): Tensor {
  const [x, y] = promotePair(a, b);
  return dispatch1('MatMul', [x, y]);
}

/** Einstein summation (torch.einsum / numpy.einsum), e.g. einsum('bij,bjk->bik', a, b). */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  let xs = operands;
  if (xs.length > 1) {
    const d = xs.reduce((acc, t) => promotePair(acc, t)[0], xs[0]!).dtype;
    xs = xs.map((t) => t.to(d));
  }
  return dispatch1('Einsum', xs, { equation });
}

Tensor.prototype.matmul = function (this: Tensor, other: Tensor) {
  return matmul(this, other);
};
Tensor.prototype.mm = function (this: Tensor, other: Tensor) {
  expectRanks('mm', this, other, 2);
  return matmul(this, other);
};
Tensor.prototype.bmm = function (this: Tensor, other: Tensor) {
  expectRanks('bmm', this, other, 3);
  if (this.shape[0] !== other.shape[0]) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `bmm(): batch sizes differ: ${fmtShape(this.shape)} and ${fmtShape(other.shape)}; expected equal`,
    );
  }
  return matmul(this, other);
};
Tensor.prototype.dot = function (this: Tensor, other: Tensor) {
  expectRanks('dot', this, other, 1);
  if (this.shape[0] !== other.shape[0]) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `dot(): lengths differ: ${this.shape[0]} and ${other.shape[0]}; expected equal`,
    );
  }
  return matmul(this, other);
};
Tensor.prototype.outer = function (this: Tensor, other: Tensor) {
  expectRanks('outer', this, other, 1);
  const [x, y] = promotePair(this, other);
  return dispatch1('Einsum', [x, y], { equation: 'i,j->ij' });
};
