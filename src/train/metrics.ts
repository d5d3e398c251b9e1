/**
 * Metrics the Trainer reports per epoch, as sums that add up across batches and data-parallel
 * shards: accuracy (argmax of the class dim, or a 0.5 threshold for one-column outputs, against
 * class indices or one-hot / probability targets), mae and mse (per element).
 */
import { accuracy } from '../metrics/accuracy.js';
import { noGrad } from '../runtime/autograd.js';
import { isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import type { Tensor } from '../runtime/tensor.js';

export type MetricName = 'accuracy' | 'mae' | 'mse';
export const METRIC_NAMES: readonly MetricName[] = ['accuracy', 'mae', 'mse'];

/** A metric's running sum and the count it is an average over. */
export interface MetricSum {
  sum: number;
  count: number;
}

export function checkMetrics(names: readonly string[] | undefined): MetricName[] {
  for (const n of names ?? []) {
    if (!METRIC_NAMES.includes(n as MetricName)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Trainer: unknown metric '${n}', expected one of ${METRIC_NAMES.join(', ')}`,
      );
    }
  }
  return [...(names ?? [])] as MetricName[];
}

function classTargets(output: Tensor, target: Tensor): Tensor {
  // One-hot or probability targets with the output's shape: their argmax is the class.
  if (isFloat(target.dtype) && target.ndim === output.ndim && output.ndim >= 2 && output.shape.at(-1)! > 1)
    return target.argmax(-1);
  return target;
}

/** The metric over one batch, as a sum and a count. */
export function metricSum(name: MetricName, output: Tensor, target: Tensor): MetricSum {
  return noGrad(() => {
    if (name === 'accuracy') {
      const t = classTargets(output, target);
      const opts = output.ndim === t.ndim && output.shape.at(-1) === 1 ? { threshold: 0.5 } : {};
      const n = t.numel();
      return { sum: accuracy(output, t, opts) * n, count: n };
    }
    const o = output.numbers();
    const t = target.numbers();
    if (o.length !== t.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `metric ${name}: output has ${o.length} elements, target ${t.length}`,
      );
    }
    let s = 0;
    for (let i = 0; i < o.length; i++) {
      const d = o[i]! - t[i]!;
      s += name === 'mae' ? Math.abs(d) : d * d;
    }
    return { sum: s, count: o.length };
  });
}

export function addSums(into: Record<string, MetricSum>, from: Record<string, MetricSum>): void {
  for (const [k, v] of Object.entries(from)) {
    const cur = into[k] ?? { sum: 0, count: 0 };
    into[k] = { sum: cur.sum + v.sum, count: cur.count + v.count };
  }
}

export function means(sums: Record<string, MetricSum>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(sums)) out[k] = v.count ? v.sum / v.count : Number.NaN;
  return out;
}
