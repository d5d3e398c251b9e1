/**
 * rocAuc: area under the ROC curve of binary scores, computed as the Mann-Whitney statistic
 * (the probability that a random positive scores above a random negative, ties counting half),
 * with tied scores given their mid-rank. Equals sklearn's roc_auc_score for binary targets.
 */
import { TesseraError } from '../runtime/errors.js';
import { type MetricInput, readValues } from './inputs.js';

export function rocAuc(scores: MetricInput, target: MetricInput): number {
  const s = readValues(scores, 'rocAuc', 'scores');
  const t = readValues(target, 'rocAuc', 'target');
  if (s.values.length !== t.values.length || s.shape.length !== t.shape.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `rocAuc: scores of shape [${s.shape.join(', ')}] must match target of shape [${t.shape.join(', ')}] (one score per sample)`,
    );
  }
  const n = s.values.length;
  let pos = 0;
  for (let i = 0; i < n; i++) {
    const y = t.values[i]!;
    if (y !== 0 && y !== 1) {
      throw new TesseraError('INVALID_ARGUMENT', `rocAuc: target must hold 0 or 1, got ${y} at index ${i}`);
    }
    if (Number.isNaN(s.values[i]!))
      throw new TesseraError('INVALID_ARGUMENT', `rocAuc: scores hold NaN at index ${i}`);
    pos += y;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `rocAuc: needs both classes in target, got ${pos} positives and ${neg} negatives; the ROC AUC is undefined`,
    );
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const x = s.values[a]!;
    const y = s.values[b]!;
    return x < y ? -1 : x > y ? 1 : 0;
  });
  // Sum of the (1-based, mid-ranked) ranks of the positives.
  let rankSum = 0;
  for (let i = 0; i < n; ) {
    let j = i;
    while (j + 1 < n && s.values[order[j + 1]!] === s.values[order[i]!]) j++;
    const midRank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) if (t.values[order[k]!] === 1) rankSum += midRank;
    i = j + 1;
  }
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg);
}
