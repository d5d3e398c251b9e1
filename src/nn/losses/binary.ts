/** binaryCrossEntropy (on probabilities) and binaryCrossEntropyWithLogits (stable, with posWeight). */
import { dispatch1 } from '../../ops/registry.js';
import { TesseraError } from '../../runtime/errors.js';
import { broadcastShapes, fmtShape, sameShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import {
  abs,
  add,
  checkReduction,
  expectFloatInput,
  floatTarget,
  mul,
  neg,
  type Reduction,
  reduce,
  scalarLike,
  sub,
} from './reduction.js';

export interface BCEOptions {
  /** Rescales each element's loss; broadcast to the input's shape. */
  weight?: Tensor | null;
  reduction?: Reduction;
}

export interface BCEWithLogitsOptions extends BCEOptions {
  /** Weight of positive examples, broadcast along the last dim (one entry per class). */
  posWeight?: Tensor | null;
}

/** A weight cast to the input's dtype, checked to broadcast to `shape` without changing it. */
function broadcastWeight(who: string, what: string, w: Tensor, input: Tensor): Tensor {
  const out = broadcastShapes([input.shape, w.shape], who);
  if (!sameShape(out, input.shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: ${what} of shape ${fmtShape(w.shape)} must broadcast to the input's shape ${fmtShape(input.shape)}`,
    );
  }
  return floatTarget(who, input, w);
}

/** -w [t log(x) + (1 - t) log(1 - x)], each log clamped at -100 as torch does. */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: BCEOptions = {}): Tensor {
  const who = 'binaryCrossEntropy';
  const reduction = checkReduction(who, opts.reduction ?? 'mean');
  expectFloatInput(who, 'input', input);
  if (!sameShape(input.shape, target.shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: target shape ${fmtShape(target.shape)} must be the same as input shape ${fmtShape(input.shape)}`,
    );
  }
  if (input.device === 'cpu') {
    for (const v of input.numbers()) {
      if (!(v >= 0 && v <= 1)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${who}: all elements of input should be between 0 and 1, got ${v}`,
        );
      }
    }
  }
  const t = floatTarget(who, input, target);
  const clampedLog = (x: Tensor) => dispatch1('Max', [dispatch1('Log', [x]), scalarLike(x, -100)]);
  const one = scalarLike(input, 1);
  const pos = mul(t, clampedLog(input));
  const negTerm = mul(sub(one, t), clampedLog(sub(one, input)));
  let loss = neg(add(pos, negTerm));
  if (opts.weight) loss = mul(loss, broadcastWeight(who, 'weight', opts.weight, input));
  return reduce(loss, reduction);
}

/**
 * Sigmoid + binary cross entropy in one stable expression:
 * (1 - t) x + (1 + (p - 1) t) softplus(-x), softplus(-x) = log(1 + exp(-|x|)) + max(-x, 0).
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: BCEWithLogitsOptions = {},
): Tensor {
  const who = 'binaryCrossEntropyWithLogits';
  const reduction = checkReduction(who, opts.reduction ?? 'mean');
  expectFloatInput(who, 'input', input);
  if (!sameShape(input.shape, target.shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: target size ${fmtShape(target.shape)} must be the same as input size ${fmtShape(input.shape)}`,
    );
  }
  const t = floatTarget(who, input, target);
  const one = scalarLike(input, 1);
  const softplusNeg = add(
    dispatch1('Log', [add(one, dispatch1('Exp', [neg(abs(input))]))]),
    dispatch1('Relu', [neg(input)]),
  );
  let logWeight: Tensor = one;
  if (opts.posWeight) {
    const p = broadcastWeight(who, 'posWeight', opts.posWeight, input);
    logWeight = add(one, mul(sub(p, one), t));
  }
  let loss = add(mul(sub(one, t), input), mul(logWeight, softplusNeg));
  if (opts.weight) loss = mul(loss, broadcastWeight(who, 'weight', opts.weight, input));
  return reduce(loss, reduction);
}
