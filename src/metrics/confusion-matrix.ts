/** confusionMatrix: counts of (true class, predicted class) pairs, rows true, columns predicted (as sklearn). */
import { TesseraError } from '../runtime/errors.js';
import { type LabelOptions, type Labels, type MetricInput, readLabels } from './inputs.js';

export interface ConfusionOptions extends LabelOptions {
  /** Number of classes; defaults to the logits width, else the largest label + 1. */
  numClasses?: number;
}

/** The class count for labels: `numClasses` when given (checked), else the logits width or max label + 1. */
export function classCount(l: Labels, who: string, numClasses?: number): number {
  let max = -1;
  for (const v of l.pred) if (v > max) max = v;
  for (const v of l.target) if (v > max) max = v;
  if (numClasses !== undefined) {
    if (!Number.isInteger(numClasses) || numClasses < 1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: numClasses must be a positive integer, got ${numClasses}`,
      );
    }
    if (max >= numClasses) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: labels must be < numClasses (${numClasses}), got label ${max}`,
      );
    }
    return numClasses;
  }
  return Math.max(max + 1, l.width ?? 0);
}

/** matrix[i][j] = number of samples of true class i predicted as class j. */
export function countMatrix(l: Labels, k: number): number[][] {
  const m = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < l.target.length; i++) m[l.target[i]!]![l.pred[i]!]!++;
  return m;
}

export function confusionMatrix(
  pred: MetricInput,
  target: MetricInput,
  opts: ConfusionOptions = {},
): number[][] {
  const l = readLabels(pred, target, 'confusionMatrix', opts);
  return countMatrix(l, classCount(l, 'confusionMatrix', opts.numClasses));
}
