import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ops, type Tensor, tensor } from '../../../src/index.js';
import { runNodeTests } from './node-cases.js';

const run = (op: string, inputs: (Tensor | undefined)[], attrs = {}) => ops.dispatch(op, inputs, attrs);
const i64 = (v: number[]) => tensor(v, { dtype: 'int64' });
const f = (v: number[]) => tensor(v);

// A = [0,0,2,2]; B = [0,1,2,3] overlaps A by 2 of 6 units (IoU 1/3); C is A with its corners swapped.
const boxes = f([0, 0, 2, 2, 0, 1, 2, 3, 2, 2, 0, 0]).reshape([1, 3, 4]);
const scores = f([0.9, 0.8, 0.7]).reshape([1, 1, 3]);
const nms = (ins: (Tensor | undefined)[], attrs = {}) => run('NonMaxSuppression', ins, attrs)[0]!.toArray();

test('NonMaxSuppression: IoU and score thresholds, limits, flipped corners, center boxes (by hand)', () => {
  const max3 = i64([3]);
  assert.deepEqual(nms([boxes, scores, max3, f([0.5])]), [
    [0, 0, 0],
    [0, 0, 1],
  ]);
  assert.deepEqual(nms([boxes, scores, max3, f([0.3])]), [[0, 0, 0]]); // 1/3 > 0.3 suppresses B
  assert.deepEqual(nms([boxes, scores, max3, f([1])]), [
    [0, 0, 0],
    [0, 0, 1],
    [0, 0, 2],
  ]);
  assert.deepEqual(nms([boxes, scores, max3, f([0.5]), f([0.85])]), [[0, 0, 0]]);
  assert.deepEqual(nms([boxes, scores, i64([1]), f([0.5])]), [[0, 0, 0]]);
  // No max_output_boxes_per_class: nothing is selected.
  const none = run('NonMaxSuppression', [boxes, scores])[0]!;
  assert.deepEqual(none.shape, [0, 3]);
  assert.equal(none.dtype, 'int64');
  // Center format [xc, yc, w, h]: A = [1,1,2,2], B = [2,1,2,2] (x 1..3), C = A.
  const centers = f([1, 1, 2, 2, 2, 1, 2, 2, 1, 1, 2, 2]).reshape([1, 3, 4]);
  assert.deepEqual(nms([centers, scores, max3, f([0.5])], { center_point_box: 1 }), [
    [0, 0, 0],
    [0, 0, 1],
  ]);
  // Two batches and two classes; the second class ranks C, B, A and stops at the limit of 2.
  const b2 = f([...boxes.numbers(), ...boxes.numbers()]).reshape([2, 3, 4]);
  const s2 = f([0.9, 0.8, 0.7, 0.1, 0.2, 0.3, 0.9, 0.8, 0.7, 0.1, 0.2, 0.3]).reshape([2, 2, 3]);
  assert.deepEqual(nms([b2, s2, i64([2]), f([0.5])]), [
    [0, 0, 0],
    [0, 0, 1],
    [0, 1, 2],
    [0, 1, 1],
    [1, 0, 0],
    [1, 0, 1],
    [1, 1, 2],
    [1, 1, 1],
  ]);
  assert.throws(
    () => nms([f([0, 0, 1, 1]).reshape([1, 4]), scores]),
    /NonMaxSuppression: boxes must have shape \[batch, boxes, 4\], got \[1, 4\]/,
  );
  assert.throws(
    () => nms([boxes, f([1, 2]).reshape([1, 1, 2])]),
    /NonMaxSuppression: scores must have shape \[1, classes, 3\], got \[1, 1, 2\]/,
  );
});

const sum = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0);
const mean = (t: Tensor) => sum(t.numbers()) / t.numel();

test('RandomUniform / RandomNormal (and Like): shapes, dtypes, ranges, seeds, moments', () => {
  const u = run('RandomUniform', [], { shape: [100, 50], low: 2, high: 4, seed: 3 })[0]!;
  assert.deepEqual(u.shape, [100, 50]);
  assert.equal(u.dtype, 'float32');
  assert.ok(u.numbers().every((v) => v >= 2 && v < 4));
  // Mean 3, standard error of the mean sqrt(1/3 / 5000) ~ 0.008.
  assert.ok(Math.abs(mean(u) - 3) < 0.05, `mean ${mean(u)}`);
  // The same seed gives the same values; another seed others.
  const again = run('RandomUniform', [], { shape: [100, 50], low: 2, high: 4, seed: 3 })[0]!;
  assert.deepEqual(Array.from(again.numbers()), Array.from(u.numbers()));
  const other = run('RandomUniform', [], { shape: [100, 50], low: 2, high: 4, seed: 4 })[0]!;
  assert.notDeepEqual(Array.from(other.numbers()), Array.from(u.numbers()));
  const n = run('RandomNormalLike', [tensor([1, 2], { dtype: 'float64' }).expand([4000, 2])], {
    mean: -1,
    scale: 2,
  })[0]!;
  assert.equal(n.dtype, 'float64');
  assert.deepEqual(n.shape, [4000, 2]);
  const m = mean(n);
  const sd = Math.sqrt(sum(Array.from(n.numbers(), (v) => (v - m) ** 2)) / n.numel());
  assert.ok(Math.abs(m + 1) < 0.1 && Math.abs(sd - 2) < 0.1, `mean ${m}, sd ${sd}`);
  const ul = run('RandomUniformLike', [tensor([1, 2, 3])], { dtype: 11 })[0]!;
  assert.equal(ul.dtype, 'float64');
  assert.throws(
    () => run('RandomUniform', [], { shape: [2], dtype: 6 }),
    /RandomUniform: dtype must name a float ONNX type/,
  );
  assert.throws(() => run('RandomNormal', []), /RandomNormal: attribute 'shape' must list non-negative dims/);
});

test('Bernoulli and Multinomial: certain outcomes, frequencies, dtypes', () => {
  const p = tensor([0, 1, 0, 1], { dtype: 'float64' });
  assert.deepEqual(run('Bernoulli', [p])[0]!.toArray(), [0, 1, 0, 1]);
  const b = run('Bernoulli', [p], { dtype: 9 })[0]!;
  assert.equal(b.dtype, 'bool');
  assert.deepEqual(b.toArray(), [false, true, false, true]);
  const many = run('Bernoulli', [tensor([0.3]).expand([20000])], { seed: 1 })[0]!;
  assert.ok(Math.abs(mean(many) - 0.3) < 0.02, `mean ${mean(many)}`);
  assert.throws(
    () => run('Bernoulli', [tensor([1.5])]),
    /Bernoulli: probabilities must be in \[0, 1\], got 1.5/,
  );
  // Log-probabilities: class 1 is impossible in row 0; row 1 is uniform over 2 classes.
  const logits = tensor([0, Number.NEGATIVE_INFINITY, 0, 0]).reshape([2, 2]);
  const s = run('Multinomial', [logits], { sample_size: 4000, seed: 5 })[0]!;
  assert.equal(s.dtype, 'int32');
  assert.deepEqual(s.shape, [2, 4000]);
  const v = s.numbers();
  assert.ok(v.subarray(0, 4000).every((c) => c === 0));
  const ones = sum(v.subarray(4000)) / 4000;
  assert.ok(Math.abs(ones - 0.5) < 0.05, `frequency ${ones}`);
  assert.equal(run('Multinomial', [logits], { dtype: 7 })[0]!.dtype, 'int64');
});

test('ONNX conformance: NonMaxSuppression node tests', () => {
  runNodeTests([
    'test_nonmaxsuppression_center_point_box_format',
    'test_nonmaxsuppression_flipped_coordinates',
    'test_nonmaxsuppression_identical_boxes',
    'test_nonmaxsuppression_iou_threshold_boundary',
    'test_nonmaxsuppression_limit_output_size',
    'test_nonmaxsuppression_single_box',
    'test_nonmaxsuppression_suppress_by_IOU',
    'test_nonmaxsuppression_suppress_by_IOU_and_scores',
    'test_nonmaxsuppression_two_batches',
    'test_nonmaxsuppression_two_classes',
  ]);
});
