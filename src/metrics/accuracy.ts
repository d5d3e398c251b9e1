/** accuracy: the fraction of samples whose predicted class equals the target class. */
import { type LabelOptions, type MetricInput, readLabels } from './inputs.js';

/**
 * `pred` holds labels (target's shape), scores with `threshold`, or logits/probabilities with a
 * trailing class dim (argmax). Returns a number in [0, 1].
 */
export function accuracy(pred: MetricInput, target: MetricInput, opts: LabelOptions = {}): number {
  const { pred: p, target: t } = readLabels(pred, target, 'accuracy', opts);
  let correct = 0;
  for (let i = 0; i < t.length; i++) if (p[i] === t[i]) correct++;
  return correct / t.length;
}
