import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metrics, TesseraError, tensor } from '../../src/index.js';

const near = (a: number, b: number, what = '') =>
  assert.ok(Math.abs(a - b) < 1e-12, `${what}: got ${a}, expected ${b}`);

// A hand-counted multiclass case. Rows are true classes, columns predictions:
//          pred 0  1  2
//   true 0      2  0  1
//   true 1      1  1  1
//   true 2      0  0  4
const TARGET = [0, 0, 0, 1, 1, 2, 2, 2, 2, 1];
const PRED = [0, 2, 0, 1, 2, 2, 2, 2, 2, 0];
// Per class (tp, fp, fn): c0 (2, 1, 1), c1 (1, 0, 2), c2 (4, 2, 0); supports 3, 3, 4.
// precision 2/3, 1, 2/3; recall 2/3, 1/3, 1; F1 = 2tp/(2tp+fp+fn) = 2/3, 1/2, 4/5.

/** Logits whose argmax is PRED (the predicted class gets the largest score). */
function logitsFor(pred: number[], k: number): number[][] {
  return pred.map((c, i) => Array.from({ length: k }, (_, j) => (j === c ? 2 : -((i + j) % 3) / 10)));
}

test('confusionMatrix: hand-counted, from labels, tensors and logits', () => {
  const want = [
    [2, 0, 1],
    [1, 1, 1],
    [0, 0, 4],
  ];
  assert.deepEqual(metrics.confusionMatrix(PRED, TARGET), want);
  assert.deepEqual(
    metrics.confusionMatrix(tensor(PRED, { dtype: 'int64' }), tensor(TARGET, { dtype: 'int32' })),
    want,
  );
  assert.deepEqual(metrics.confusionMatrix(tensor(logitsFor(PRED, 3)), TARGET), want);
  assert.deepEqual(metrics.confusionMatrix(PRED, TARGET, { numClasses: 4 }), [
    [2, 0, 1, 0],
    [1, 1, 1, 0],
    [0, 0, 4, 0],
    [0, 0, 0, 0],
  ]);
});

test('accuracy: labels and logits (argmax over the last dim)', () => {
  near(metrics.accuracy(PRED, TARGET), 0.7);
  near(metrics.accuracy(tensor(logitsFor(PRED, 3)), tensor(TARGET, { dtype: 'int64' })), 0.7);
  // Batched [2, 5, 3] logits against [2, 5] targets.
  const logits = tensor(logitsFor(PRED, 3)).reshape(2, 5, 3);
  near(metrics.accuracy(logits, tensor(TARGET, { dtype: 'int64' }).reshape(2, 5)), 0.7);
  // Ties in the logits go to the first maximum, as torch.argmax.
  near(metrics.accuracy([[1, 1, 0]], [0]), 1);
});

test('precision / recall / f1: macro, weighted and micro averages', () => {
  near(metrics.precision(PRED, TARGET, { average: 'macro' }), (2 / 3 + 1 + 2 / 3) / 3, 'macro P');
  near(metrics.recall(PRED, TARGET, { average: 'macro' }), (2 / 3 + 1 / 3 + 1) / 3, 'macro R');
  near(metrics.f1(PRED, TARGET, { average: 'macro' }), (2 / 3 + 1 / 2 + 4 / 5) / 3, 'macro F1');
  // Multiclass defaults to macro.
  near(metrics.f1(PRED, TARGET), (2 / 3 + 1 / 2 + 4 / 5) / 3, 'default');
  near(
    metrics.precision(PRED, TARGET, { average: 'weighted' }),
    (3 * (2 / 3) + 3 * 1 + 4 * (2 / 3)) / 10,
    'wP',
  );
  near(metrics.recall(PRED, TARGET, { average: 'weighted' }), 0.7, 'weighted recall is accuracy');
  near(metrics.f1(PRED, TARGET, { average: 'weighted' }), (3 * (2 / 3) + 3 * 0.5 + 4 * 0.8) / 10, 'wF1');
  // micro: tp 7, fp 3, fn 3.
  for (const f of [metrics.precision, metrics.recall, metrics.f1])
    near(f(PRED, TARGET, { average: 'micro' }), 0.7);
  // An explicit numClasses adds class 3, which has no samples: its scores are zeroDivision (0).
  near(metrics.precision(PRED, TARGET, { average: 'macro', numClasses: 4 }), (2 / 3 + 1 + 2 / 3) / 4);
  near(
    metrics.precision(PRED, TARGET, { average: 'macro', numClasses: 4, zeroDivision: 1 }),
    (2 / 3 + 1 + 2 / 3 + 1) / 4,
  );
  const per = metrics.classScores(PRED, TARGET);
  assert.deepEqual(per.labels, [0, 1, 2]);
  assert.deepEqual(per.support, [3, 3, 4]);
  per.f1.forEach((v, i) => {
    near(v, [2 / 3, 1 / 2, 4 / 5][i]!);
  });
});

test('macro averages over the classes present when numClasses is not given (as sklearn)', () => {
  // Classes 0 and 3 only: c0 tp 1 fp 1 fn 0 -> P 1/2; c3 tp 1 fp 0 fn 1 -> P 1.
  near(metrics.precision([0, 0, 3], [0, 3, 3], { average: 'macro' }), 0.75);
});

// A hand-counted binary case: tp 3 (i0, i3, i6), fp 2 (i1, i4), fn 1 (i2), tn 2 (i5, i7).
const BT = [1, 0, 1, 1, 0, 0, 1, 0];
const BP = [1, 1, 0, 1, 1, 0, 1, 0];
const SCORES = [0.9, 0.6, 0.4, 0.8, 0.5, 0.1, 0.7, 0.3];

test('binary precision / recall / f1 / accuracy', () => {
  assert.deepEqual(metrics.confusionMatrix(BP, BT), [
    [2, 2],
    [1, 3],
  ]);
  near(metrics.precision(BP, BT), 3 / 5);
  near(metrics.recall(BP, BT), 3 / 4);
  near(metrics.f1(BP, BT), 2 / 3);
  near(metrics.accuracy(BP, BT), 5 / 8);
  // Class 0 as positive: tp 2, fp 1, fn 2.
  near(metrics.precision(BP, BT, { posLabel: 0 }), 2 / 3);
  near(metrics.recall(BP, BT, { posLabel: 0 }), 1 / 2);
  near(metrics.f1(BP, BT, { posLabel: 0 }), 4 / 7);
  // Scores thresholded at 0.5 give BP; booleans work as labels.
  near(metrics.precision(SCORES, BT, { threshold: 0.5 }), 3 / 5);
  near(metrics.accuracy(tensor(SCORES), tensor(BT.map((v) => v === 1)), { threshold: 0.5 }), 5 / 8);
  // No positive predictions: precision is zeroDivision.
  assert.equal(metrics.precision([0, 0], [1, 0]), 0);
  assert.equal(metrics.precision([0, 0], [1, 0], { zeroDivision: 1 }), 1);
});

test('rocAuc: hand-computed, with ties at mid-rank', () => {
  // Positives score 0.9, 0.4, 0.8, 0.7; negatives 0.6, 0.5, 0.1, 0.3: 14 of 16 pairs ordered.
  near(metrics.rocAuc(SCORES, BT), 14 / 16);
  near(metrics.rocAuc(tensor(SCORES, { dtype: 'float64' }), tensor(BT, { dtype: 'int64' })), 14 / 16);
  // Ties: positives 0.8, 0.4, 0.8, 0.7; negatives 0.8, 0.4, 0.1, 0.3.
  // Pairs: each 0.8 positive 3 + 0.5 (tie), the 0.4 positive 2 + 0.5, the 0.7 positive 3 -> 12.5 of 16.
  near(metrics.rocAuc([0.8, 0.8, 0.4, 0.8, 0.4, 0.1, 0.7, 0.3], BT), 12.5 / 16);
  near(metrics.rocAuc([1, 2, 3, 4], [0, 0, 1, 1]), 1);
  near(metrics.rocAuc([4, 3, 2, 1], [0, 0, 1, 1]), 0);
  near(metrics.rocAuc([5, 5, 5, 5], [0, 1, 0, 1]), 0.5);
});

test('metric errors name the metric, the expectation and what was given', () => {
  const err = (re: RegExp) => (e: unknown) => e instanceof TesseraError && re.test(e.message);
  assert.throws(
    () => metrics.rocAuc([0.1, 0.2], [1, 1]),
    err(/rocAuc: needs both classes in target, got 2 positives and 0 negatives/),
  );
  assert.throws(
    () => metrics.rocAuc([0.1, 0.2], [1, 2]),
    err(/rocAuc: target must hold 0 or 1, got 2 at index 1/),
  );
  assert.throws(
    () => metrics.accuracy([1, 2, 3], [1, 2]),
    err(/accuracy: pred of shape \[3\] does not match target of shape \[2\]/),
  );
  assert.throws(
    () => metrics.accuracy([0.5, 1], [1, 1]),
    err(/accuracy: pred must hold class labels \(integers >= 0\), got 0.5 at index 0/),
  );
  assert.throws(
    () => metrics.precision(PRED, TARGET, { average: 'binary' }),
    err(/precision: average 'binary' needs two classes, got 3/),
  );
  assert.throws(
    () => metrics.confusionMatrix(PRED, TARGET, { numClasses: 2 }),
    err(/confusionMatrix: labels must be < numClasses \(2\), got label 2/),
  );
  assert.throws(() => metrics.accuracy([], []), err(/accuracy: expected at least one sample, got none/));
});
