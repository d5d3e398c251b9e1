/**
 * precision, recall and F1 for binary and multiclass labels, with sklearn's averaging:
 * 'binary' (the positive class only), 'micro' (from summed counts), 'macro' (unweighted mean over
 * classes), 'weighted' (mean weighted by each class's support). A ratio with a zero denominator
 * gives `zeroDivision` (0 by default, as sklearn's zero_division=0).
 */
import { TesseraError } from '../runtime/errors.js';
import { type ConfusionOptions, classCount, countMatrix } from './confusion-matrix.js';
import { type MetricInput, readLabels } from './inputs.js';

export type Average = 'binary' | 'micro' | 'macro' | 'weighted';
const AVERAGES: readonly Average[] = ['binary', 'micro', 'macro', 'weighted'];

export interface PRFOptions extends ConfusionOptions {
  /** Defaults to 'binary' when there are at most two classes, else 'macro'. */
  average?: Average;
  /** The positive class for average 'binary' (default 1). */
  posLabel?: number;
  /** The value of a ratio whose denominator is 0 (default 0). */
  zeroDivision?: number;
}

/** Per-class scores. `labels` are the classes averaged over: all numClasses when given, else those present. */
export interface ClassScores {
  labels: number[];
  precision: number[];
  recall: number[];
  f1: number[];
  /** Number of target samples of each class. */
  support: number[];
}

interface Counts {
  tp: number;
  fp: number;
  fn: number;
}

function ratio(num: number, den: number, zeroDivision: number): number {
  return den === 0 ? zeroDivision : num / den;
}
function scores(c: Counts, z: number): { precision: number; recall: number; f1: number } {
  return {
    precision: ratio(c.tp, c.tp + c.fp, z),
    recall: ratio(c.tp, c.tp + c.fn, z),
    // 2PR/(P+R) written with counts, as sklearn does: defined whenever any count is nonzero.
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn, z),
  };
}

interface Prepared {
  counts: Counts[];
  support: number[];
  /** Classes averaged over. */
  labels: number[];
  k: number;
}

function prepare(pred: MetricInput, target: MetricInput, opts: PRFOptions, who: string): Prepared {
  const l = readLabels(pred, target, who, opts);
  const k = classCount(l, who, opts.numClasses);
  const m = countMatrix(l, k);
  const counts: Counts[] = [];
  const support: number[] = [];
  const labels: number[] = [];
  for (let c = 0; c < k; c++) {
    let row = 0;
    let col = 0;
    for (let j = 0; j < k; j++) {
      row += m[c]![j]!;
      col += m[j]![c]!;
    }
    const tp = m[c]![c]!;
    counts.push({ tp, fp: col - tp, fn: row - tp });
    support.push(row);
    if (opts.numClasses !== undefined || row + col > 0) labels.push(c);
  }
  return { counts, support, labels, k };
}

function averaged(
  pred: MetricInput,
  target: MetricInput,
  opts: PRFOptions,
  who: string,
  pick: 'precision' | 'recall' | 'f1',
): number {
  const z = opts.zeroDivision ?? 0;
  const { counts, support, labels, k } = prepare(pred, target, opts, who);
  const average = opts.average ?? (k <= 2 ? 'binary' : 'macro');
  if (!AVERAGES.includes(average)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: average must be one of ${AVERAGES.join(', ')}, got ${String(average)}`,
    );
  }
  if (average === 'binary') {
    if (k > 2) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: average 'binary' needs two classes, got ${k}; choose 'micro', 'macro' or 'weighted'`,
      );
    }
    const pos = opts.posLabel ?? 1;
    if (pos !== 0 && pos !== 1) {
      throw new TesseraError('INVALID_ARGUMENT', `${who}: posLabel must be 0 or 1, got ${pos}`);
    }
    return scores(counts[pos] ?? { tp: 0, fp: 0, fn: 0 }, z)[pick];
  }
  if (average === 'micro') {
    const sum = { tp: 0, fp: 0, fn: 0 };
    for (const c of labels) {
      sum.tp += counts[c]!.tp;
      sum.fp += counts[c]!.fp;
      sum.fn += counts[c]!.fn;
    }
    return scores(sum, z)[pick];
  }
  const per = labels.map((c) => scores(counts[c]!, z)[pick]);
  if (average === 'macro') return per.reduce((a, b) => a + b, 0) / per.length;
  const total = labels.reduce((a, c) => a + support[c]!, 0);
  return total === 0 ? z : labels.reduce((a, c, i) => a + per[i]! * support[c]!, 0) / total;
}

/** tp / (tp + fp). */
export function precision(pred: MetricInput, target: MetricInput, opts: PRFOptions = {}): number {
  return averaged(pred, target, opts, 'precision', 'precision');
}
/** tp / (tp + fn). */
export function recall(pred: MetricInput, target: MetricInput, opts: PRFOptions = {}): number {
  return averaged(pred, target, opts, 'recall', 'recall');
}
/** The harmonic mean of precision and recall: 2tp / (2tp + fp + fn). */
export function f1(pred: MetricInput, target: MetricInput, opts: PRFOptions = {}): number {
  return averaged(pred, target, opts, 'f1', 'f1');
}

/** Precision, recall, F1 and support for every class (sklearn's average=None). */
export function classScores(pred: MetricInput, target: MetricInput, opts: PRFOptions = {}): ClassScores {
  const z = opts.zeroDivision ?? 0;
  const { counts, support, labels } = prepare(pred, target, opts, 'classScores');
  const s = labels.map((c) => scores(counts[c]!, z));
  return {
    labels,
    precision: s.map((x) => x.precision),
    recall: s.map((x) => x.recall),
    f1: s.map((x) => x.f1),
    support: labels.map((c) => support[c]!),
  };
}
