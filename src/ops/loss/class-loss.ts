/**
 * What NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss share: checking input [N, C, d1...]
 * against target [N, d1...] (int32/int64) and weight [C], the per-element weight (0 where the
 * target is ignore_index), the loss from log-probabilities with its reduction, and the constant
 * "pick" tensor -w[t] * onehot(t) / denominator the gradients multiply the incoming gradient by.
 */
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrString, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import type { Attrs, OpInputs } from '../registry.js';

export type Reduction = 'none' | 'sum' | 'mean';

export interface ClassLossPlan {
  N: number;
  C: number;
  /** Elements per (n, c) pair: the product of d1...dk. */
  inner: number;
  /** Target class of every (n, d), and its weight (0 when ignored). */
  target: Int32Array;
  weight: Float64Array;
  reduction: Reduction;
  /** What 'mean' divides by: the summed weights of the counted targets. */
  denominator: number;
  targetShape: number[];
}

export function readReduction(op: string, attrs: Attrs): Reduction {
  const r = attrString(attrs, 'reduction', 'mean');
  if (r !== 'none' && r !== 'sum' && r !== 'mean') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: reduction must be 'none', 'sum' or 'mean', got '${r}'`,
    );
  }
  return r;
}

export function planClassLoss(op: string, inputs: OpInputs, attrs: Attrs): ClassLossPlan {
  const x = input(inputs, 0, op);
  const t = input(inputs, 1, op);
  const w = inputs[2];
  if (!isFloat(x.dtype)) {
    throw new TesseraError('DTYPE_MISMATCH', `${op}: input must be a float tensor, got ${x.dtype}`);
  }
  if (t.dtype !== 'int32' && t.dtype !== 'int64') {
    throw new TesseraError('DTYPE_MISMATCH', `${op}: target must be int32 or int64, got ${t.dtype}`);
  }
  if (x.ndim < 2) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: input must have shape [N, C, d1, ...], got ${fmtShape(x.shape)}`,
    );
  }
  const [N, C] = x.shape as [number, number];
  const want = [N, ...x.shape.slice(2)];
  if (t.ndim !== want.length || t.shape.some((d, i) => d !== want[i])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: target must have shape ${fmtShape(want)} for input ${fmtShape(x.shape)}, got ${fmtShape(t.shape)}`,
    );
  }
  if (w) {
    if (w.dtype !== x.dtype) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `${op}: weight must have the input's dtype ${x.dtype}, got ${w.dtype}`,
      );
    }
    if (w.ndim !== 1 || w.shape[0] !== C) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: weight must have shape [${C}], got ${fmtShape(w.shape)}`,
      );
    }
  }
  const ii = typeof attrs.ignore_index === 'number' ? attrs.ignore_index : undefined;
  const tv = t.numbers();
  const wv = w ? floats(w) : null;
  const target = new Int32Array(tv.length);
  const weight = new Float64Array(tv.length);
  let denominator = 0;
  for (let i = 0; i < tv.length; i++) {
    const c = tv[i]!;
    if (c === ii) continue;
    if (!(c >= 0 && c < C)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: target value ${c} is out of range for ${C} classes${ii === undefined ? '' : ` (ignore_index is ${ii})`}`,
      );
    }
    target[i] = c;
    weight[i] = wv ? wv[c]! : 1;
    denominator += weight[i]!;
  }
  return {
    N,
    C,
    inner: tv.length / Math.max(N, 1),
    target,
    weight,
    reduction: readReduction(op, attrs),
    denominator,
    targetShape: [...t.shape],
  };
}

/** The loss from log-probabilities `logp` laid out [N, C, inner], reduced as planned. */
export function classLoss(plan: ClassLossPlan, logp: ArrayLike<number>, dtype: Tensor['dtype']): Tensor {
  const { N, C, inner, target, weight, reduction } = plan;
  const per = new Float64Array(target.length);
  let sum = 0;
  for (let n = 0; n < N; n++)
    for (let d = 0; d < inner; d++) {
      const i = n * inner + d;
      if (weight[i] === 0) continue;
      per[i] = -logp[(n * C + target[i]!) * inner + d]! * weight[i]!;
      sum += per[i]!;
    }
  if (reduction === 'none') return Tensor.fromData(fromNumbers(dtype, per), plan.targetShape, dtype);
  // mean over no counted targets is 0/0 = NaN, as the reference (and torch) give.
  const v = reduction === 'sum' ? sum : sum / plan.denominator;
  return Tensor.fromData(fromNumbers(dtype, [v]), [], dtype);
}

/**
 * d loss / d logp as a constant [N, C, d1...] tensor to multiply the incoming gradient by (after
 * unsqueezing it at axis 1 for reduction 'none'): -w[t] at the target class, 0 elsewhere, divided
 * by the denominator for 'mean'.
 */
export function pickTensor(plan: ClassLossPlan, shape: readonly number[], dtype: Tensor['dtype']): Tensor {
  const { N, C, inner, target, weight, reduction } = plan;
  const out = new Float64Array(N * C * inner);
  const scale = reduction === 'mean' ? 1 / plan.denominator : 1;
  for (let n = 0; n < N; n++)
    for (let d = 0; d < inner; d++) {
      const i = n * inner + d;
      if (weight[i] !== 0) out[(n * C + target[i]!) * inner + d] = -weight[i]! * scale;
    }
  return Tensor.fromData(fromNumbers(dtype, out), shape, dtype);
}
