/**
 * nllLoss and crossEntropy with torch's exact rules: class-index targets (ignoreIndex, class
 * weights; 'mean' divides by the summed weights of the counted targets) or class-probability
 * targets, and label smoothing. Built from registry ops (LogSoftmax, GatherElements, Gather,
 * Where, ReduceSum, ...), so autograd and every backend come for free.
 */
import { dispatch1 } from '../../ops/registry.js';
import { full, int64s } from '../../runtime/creation.js';
import { isFloat, isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, sameShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import {
  add,
  checkReduction,
  div,
  expectFloatInput,
  floatTarget,
  mul,
  neg,
  type Reduction,
  scalarLike,
  sumAll,
} from './reduction.js';

export interface NLLLossOptions {
  /** A weight per class, shape [C]. */
  weight?: Tensor | null;
  /** Targets equal to this do not count (class-index targets only). Default -100. */
  ignoreIndex?: number;
  reduction?: Reduction;
}

export interface CrossEntropyOptions extends NLLLossOptions {
  /** Mixes the target with the uniform distribution: (1 - s) * target + s / C. In [0, 1]. */
  labelSmoothing?: number;
}

const reshape = (t: Tensor, shape: readonly number[]) => dispatch1('Reshape', [t, int64s(shape)]);

function classDim(input: Tensor): number {
  return input.ndim === 1 ? 0 : 1;
}

function checkInput(who: string, input: Tensor): number {
  expectFloatInput(who, 'input', input);
  if (input.ndim === 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: input must have shape [C], [N, C] or [N, C, d1, ...], got a 0-d tensor`,
    );
  }
  return input.shape[classDim(input)]!;
}

function checkWeight(
  who: string,
  weight: Tensor | null | undefined,
  c: number,
  input: Tensor,
): Tensor | undefined {
  if (!weight) return undefined;
  if (weight.ndim !== 1 || weight.shape[0] !== c) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: weight must be a 1-d tensor with one entry per class (${c}), got shape ${fmtShape(weight.shape)}`,
    );
  }
  if (!isFloat(weight.dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${who}: weight must be a floating-point tensor, got ${weight.dtype}`,
    );
  }
  return weight.dtype === input.dtype ? weight : dispatch1('Cast', [weight], { to: input.dtype });
}

/** The weight shaped to broadcast along the class dim: [C] for 1-d input, else [1, C, 1, ...]. */
function weightAlongClasses(weight: Tensor, input: Tensor): Tensor {
  if (input.ndim === 1) return weight;
  return reshape(
    weight,
    input.shape.map((d, i) => (i === 1 ? d : 1)),
  );
}

/** Checks class-index targets: shape of input without the class dim, integers in [0, C) or ignoreIndex. */
function checkIndexTarget(
  who: string,
  input: Tensor,
  target: Tensor,
  c: number,
  ignoreIndex: number,
): Tensor {
  const cd = classDim(input);
  const expected = input.shape.filter((_, i) => i !== cd);
  if (!isInt(target.dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${who}: class-index targets must be an integer tensor (int64), got ${target.dtype}; class-probability targets must have the input's shape ${fmtShape(input.shape)}`,
    );
  }
  if (!sameShape(target.shape, expected)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: expected target of shape ${fmtShape(expected)} for input of shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`,
    );
  }
  if (target.device === 'cpu') {
    const vals = target.numbers();
    for (let i = 0; i < vals.length; i++) {
      const v = vals[i]!;
      if (v !== ignoreIndex && (v < 0 || v >= c)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${who}: target ${v} is out of bounds: expected 0 <= target < ${c} (classes) or ignoreIndex ${ignoreIndex}`,
        );
      }
    }
  }
  return target.dtype === 'int64' ? target : dispatch1('Cast', [target], { to: 'int64' });
}

interface IndexTerms {
  /** -w[y] * logp[y] per element, 0 where ignored. */
  loss: Tensor;
  /** w[y] per element (1 without class weights), 0 where ignored: the 'mean' denominator's terms. */
  wt: Tensor;
  /** bool, false where the target is ignoreIndex. */
  valid: Tensor;
}

function indexTerms(
  logp: Tensor,
  target: Tensor,
  weight: Tensor | undefined,
  ignoreIndex: number,
): IndexTerms {
  const cd = classDim(logp);
  const zero64 = full([], 0, { dtype: 'int64', device: target.device });
  const valid = dispatch1('Not', [
    dispatch1('Equal', [target, full([], ignoreIndex, { dtype: 'int64', device: target.device })]),
  ]);
  // Ignored positions gather class 0 (any valid index) and are masked out below.
  const safe = dispatch1('Where', [valid, target, zero64]);
  const idxShape = [...target.shape];
  idxShape.splice(cd, 0, 1);
  const picked = reshape(
    dispatch1('GatherElements', [logp, reshape(safe, idxShape)], { axis: cd }),
    target.shape,
  );
  const validF = dispatch1('Cast', [valid], { to: logp.dtype });
  const wt = weight ? mul(dispatch1('Gather', [weight, safe], { axis: 0 }), validF) : validF;
  const loss = dispatch1('Where', [valid, neg(mul(picked, wt)), scalarLike(logp, 0)]);
  return { loss, wt, valid };
}

/** torch's weighted reduction: 'mean' is sum(loss) / sum(weights of counted targets). */
function reduceWeighted(loss: Tensor, wt: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  if (reduction === 'sum') return sumAll(loss);
  return div(sumAll(loss), sumAll(wt));
}

/**
 * Negative log likelihood of class-index targets, given log-probabilities `input` of shape [C],
 * [N, C] or [N, C, d1, ...] and targets of shape [], [N] or [N, d1, ...].
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NLLLossOptions = {}): Tensor {
  const who = 'nllLoss';
  const reduction = checkReduction(who, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const c = checkInput(who, input);
  const weight = checkWeight(who, opts.weight, c, input);
  const tgt = checkIndexTarget(who, input, target, c, ignoreIndex);
  const { loss, wt } = indexTerms(input, tgt, weight, ignoreIndex);
  return reduceWeighted(loss, wt, reduction);
}

/**
 * Cross entropy between logits `input` ([C], [N, C] or [N, C, d1, ...]) and either class indices
 * (integer target without the class dim) or class probabilities (float target of input's shape).
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const who = 'crossEntropy';
  const reduction = checkReduction(who, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: labelSmoothing must be between 0.0 and 1.0, got ${eps}`,
    );
  }
  const c = checkInput(who, input);
  const weight = checkWeight(who, opts.weight, c, input);
  const cd = classDim(input);
  const logp = dispatch1('LogSoftmax', [input], { axis: cd });
  const sumClasses = (t: Tensor) => dispatch1('ReduceSum', [t, int64s([cd])], { keepdims: 0 });

  if (sameShape(target.shape, input.shape)) {
    // Class probabilities.
    if (!isFloat(target.dtype)) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `${who}: a target of the input's shape holds class probabilities and must be a floating-point tensor, got ${target.dtype}`,
      );
    }
    if (opts.ignoreIndex !== undefined && opts.ignoreIndex >= 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: ignoreIndex is not supported for class-probability targets, got ${opts.ignoreIndex}`,
      );
    }
    let t = floatTarget(who, input, target);
    if (eps > 0) t = add(mul(t, scalarLike(t, 1 - eps)), scalarLike(t, eps / c));
    let prod = mul(logp, t);
    if (weight) prod = mul(prod, weightAlongClasses(weight, input));
    const loss = neg(sumClasses(prod));
    if (reduction === 'none') return loss;
    const s = sumAll(loss);
    return reduction === 'sum' ? s : div(s, scalarLike(s, input.numel() / c));
  }

  const tgt = checkIndexTarget(who, input, target, c, ignoreIndex);
  const { loss, wt, valid } = indexTerms(logp, tgt, weight, ignoreIndex);
  const nll = reduceWeighted(loss, wt, reduction);
  if (eps === 0) return nll;
  // torch's label smoothing for class indices: (1 - eps) * nll + eps / C * smooth, where smooth
  // is -sum_c w_c logp_c, zero at ignored targets, reduced with nll's denominator.
  const smoothTerms = neg(sumClasses(weight ? mul(logp, weightAlongClasses(weight, input)) : logp));
  const smooth = reduceWeighted(dispatch1('Where', [valid, smoothTerms, scalarLike(logp, 0)]), wt, reduction);
  return add(mul(nll, scalarLike(nll, 1 - eps)), mul(smooth, scalarLike(smooth, eps / c)));
}
