/** Shared pieces of the loss functions: reductions, argument checks and small op wrappers. */
import { dispatch1 } from '../../ops/registry.js';
import { full } from '../../runtime/creation.js';
import { isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, sameShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';

export type Reduction = 'none' | 'mean' | 'sum';

export function checkReduction(who: string, r: unknown): Reduction {
  if (r !== 'none' && r !== 'mean' && r !== 'sum') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: reduction must be 'none', 'mean' or 'sum', got '${String(r)}'`,
    );
  }
  return r;
}

/** 'none' keeps the per-element loss, 'sum' adds it up, 'mean' divides the sum by the count (NaN when empty). */
export function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  const s = sumAll(loss);
  return reduction === 'sum' ? s : dispatch1('Div', [s, scalarLike(s, loss.numel())]);
}

export function sumAll(t: Tensor): Tensor {
  return t.sum();
}

/** A 0-d tensor of `v` with t's dtype and device. */
export function scalarLike(t: Tensor, v: number): Tensor {
  return full([], v, { dtype: t.dtype, device: t.device });
}

export function expectFloatInput(who: string, what: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${who}: ${what} must be a floating-point tensor, got ${t.dtype}`,
    );
  }
}

/** Target brought to the input's dtype (a float tensor of another dtype is cast, as torch promotes). */
export function floatTarget(who: string, input: Tensor, target: Tensor): Tensor {
  if (target.dtype === input.dtype) return target;
  if (target.dtype === 'string') {
    throw new TesseraError('DTYPE_MISMATCH', `${who}: target must be numeric, got ${target.dtype}`);
  }
  return dispatch1('Cast', [target], { to: input.dtype });
}

export function expectSameShape(who: string, input: Tensor, target: Tensor): void {
  if (!sameShape(input.shape, target.shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: target shape ${fmtShape(target.shape)} must be the same as input shape ${fmtShape(input.shape)}`,
    );
  }
}

export const add = (a: Tensor, b: Tensor) => dispatch1('Add', [a, b]);
export const sub = (a: Tensor, b: Tensor) => dispatch1('Sub', [a, b]);
export const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
export const div = (a: Tensor, b: Tensor) => dispatch1('Div', [a, b]);
export const neg = (a: Tensor) => dispatch1('Neg', [a]);
export const abs = (a: Tensor) => dispatch1('Abs', [a]);
