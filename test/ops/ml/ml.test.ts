import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ops, type Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';
import { runNodeTests } from '../misc/node-cases.js';

const ML = { domain: 'ai.onnx.ml' };
const rows = (t: Tensor) => t.toArray() as number[][];
const run = (op: string, inputs: Tensor[], attrs = {}, opset?: number) =>
  ops.dispatch(op, inputs, attrs, { ...ML, opset });
const strs = (v: string[]) => tensor(v, { dtype: 'string' });

test('LabelEncoder: opset 1 classes, opset 2 key/value lists, opset 4 tensors, NaN keys, defaults', () => {
  // Opset 1: string -> index in classes_strings, and back.
  const v1 = { classes_strings: ['a', 'b', 'c'], default_int64: 9 };
  assert.deepEqual(run('LabelEncoder', [strs(['b', 'z', 'a'])], v1, 1)[0]!.toArray(), [1, 9, 0]);
  const back = run(
    'LabelEncoder',
    [tensor([2, 5], { dtype: 'int64' })],
    { ...v1, default_string: '?' },
    1,
  )[0]!;
  assert.deepEqual(back.toArray(), ['c', '?']);
  // Opset 2: int64 keys -> float values, default_float; float keys (NaN matches NaN) -> strings.
  const y = run(
    'LabelEncoder',
    [tensor([3, 7, 4], { dtype: 'int64' }).reshape([3, 1])],
    {
      keys_int64s: [3, 4],
      values_floats: [0.5, 1.5],
      default_float: -1,
    },
    2,
  )[0]!;
  assert.equal(y.dtype, 'float32');
  assert.deepEqual(y.toArray(), [[0.5], [-1], [1.5]]);
  const z = run(
    'LabelEncoder',
    [tensor([Number.NaN, 0.25, 2])],
    {
      keys_floats: [0.25, Number.NaN],
      values_strings: ['quarter', 'nan'],
    },
    2,
  )[0]!;
  assert.deepEqual(z.toArray(), ['nan', 'quarter', '_Unused']);
  // Opset 4: tensor keys and values of other dtypes, default_tensor.
  const w = run(
    'LabelEncoder',
    [tensor([1, 2, 3], { dtype: 'int32' })],
    {
      keys_tensor: tensor([1, 3], { dtype: 'int32' }),
      values_tensor: tensor([10, 30], { dtype: 'int16' }),
      default_tensor: tensor([-7], { dtype: 'int16' }),
    },
    4,
  )[0]!;
  assert.equal(w.dtype, 'int16');
  assert.deepEqual(w.toArray(), [10, -7, 30]);
  assert.throws(
    () => run('LabelEncoder', [strs(['a'])], { keys_strings: ['a', 'b'], values_int64s: [1] }, 2),
    /LabelEncoder: keys has 2 entries and values 1/,
  );
  assert.throws(
    () => run('LabelEncoder', [tensor([1])], { keys_strings: ['a'], values_int64s: [1] }, 2),
    /LabelEncoder: X must be string to match the keys, got float32/,
  );
});

// Two trees over features (x0, x1), two targets. Tree 0: node 0 tests x0 <= 0.5 (true: leaf 0, target
// 0, weight 1; false: node 1), node 1 tests x1 in {1, 3} (true: leaf 1, target 1, weight 2; false:
// leaf 2, target 0, weight 3). Tree 1 (node 2) is the single leaf 3 (target 1, weight 10).
const trees = {
  nodes_featureids: [0, 1, 0],
  nodes_modes: tensor([0, 6, 0], { dtype: 'uint8' }),
  nodes_splits: tensor([0.5, Number.NaN, 0], { dtype: 'float64' }),
  nodes_truenodeids: [0, 1, 3],
  nodes_trueleafs: [1, 1, 1],
  nodes_falsenodeids: [1, 2, 3],
  nodes_falseleafs: [0, 1, 1],
  membership_values: tensor([1, 3, Number.NaN], { dtype: 'float64' }),
  leaf_targetids: [0, 1, 0, 1],
  leaf_weights: tensor([1, 2, 3, 10], { dtype: 'float64' }),
  tree_roots: [0, 2],
  n_targets: 2,
};

test('TreeEnsemble: traversal, set membership, missing values, aggregates (worked by hand)', () => {
  const x = tensor([0.2, 7, 0.9, 3, 0.9, 2, Number.NaN, 1], { dtype: 'float64' }).reshape([4, 2]);
  // Row 0 -> leaf 0 + leaf 3; row 1 -> leaf 1 + leaf 3; row 2 -> leaf 2 + leaf 3; row 3 (x0 NaN fails
  // x0 <= 0.5, x1 = 1 is a member) -> leaf 1 + leaf 3.
  const sum = run('TreeEnsemble', [x], { ...trees, aggregate_function: 1 })[0]!;
  assert.equal(sum.dtype, 'float64');
  assert.deepEqual(sum.toArray(), [
    [1, 10],
    [0, 12],
    [3, 10],
    [0, 12],
  ]);
  // A NaN feature takes the true branch where nodes_missing_value_tracks_true says so: row 3 -> leaf 0.
  const miss = run('TreeEnsemble', [x], { ...trees, nodes_missing_value_tracks_true: [1, 0, 0] })[0]!;
  assert.deepEqual(rows(miss)[3], [1, 10]);
  // AVERAGE divides by the number of trees; MIN / MAX keep the extreme leaf weight per target.
  assert.deepEqual(rows(run('TreeEnsemble', [x], { ...trees, aggregate_function: 0 })[0]!)[1], [0, 6]);
  assert.deepEqual(rows(run('TreeEnsemble', [x], { ...trees, aggregate_function: 3 })[0]!)[1], [0, 10]);
  assert.deepEqual(rows(run('TreeEnsemble', [x], { ...trees, aggregate_function: 2 })[0]!)[1], [0, 2]);
});

test('TreeEnsemble: post transforms (values from Python math / statistics)', () => {
  const x = tensor([0.2, 7], { dtype: 'float64' }).reshape([1, 2]);
  // Logistic of [1, 10] and softmax of [1, 10].
  assertClose(
    run('TreeEnsemble', [x], { ...trees, post_transform: 2 })[0]!,
    [0.7310585786300049, 0.9999546021312976],
  );
  assertClose(
    run('TreeEnsemble', [x], { ...trees, post_transform: 1 })[0]!,
    [0.0001233945759862317, 0.9998766054240137],
  );
  // PROBIT: NormalDist().inv_cdf(0.975) = 1.9599639845400536, inv_cdf(0.3) = -0.5244005127080407.
  const probit = {
    ...trees,
    leaf_weights: tensor([0.975, 2, 3, 0.3], { dtype: 'float64' }),
    post_transform: 4,
  };
  assertClose(run('TreeEnsemble', [x], probit)[0]!, [1.9599639845400536, -0.5244005127080407], {
    rtol: 1e-5,
  });
  assert.throws(
    () => run('TreeEnsemble', [x], { ...trees, post_transform: 9 }),
    /TreeEnsemble: post_transform must be in \[0, 4\], got 9/,
  );
  assert.throws(
    () => run('TreeEnsemble', [tensor([1, 2])], trees),
    /TreeEnsemble: X must have shape \[N, F\], got \[2\]/,
  );
});

test('ArrayFeatureExtractor and Binarizer', () => {
  const x = tensor([0, 1, 2, 3, 4, 5], { dtype: 'int32' }).reshape([2, 3]);
  const idx = tensor([2, 0], { dtype: 'int64' });
  assert.deepEqual(run('ArrayFeatureExtractor', [x, idx])[0]!.toArray(), [
    [2, 0],
    [5, 3],
  ]);
  // A 1-D X gives a [1, count] result, as ONNX Runtime.
  assert.deepEqual(run('ArrayFeatureExtractor', [strs(['a', 'b', 'c']), idx])[0]!.toArray(), [['c', 'a']]);
  assert.throws(
    () => run('ArrayFeatureExtractor', [x, tensor([3], { dtype: 'int64' })]),
    /ArrayFeatureExtractor: index 3 is out of range for a last axis of 3/,
  );
  const b = run('Binarizer', [tensor([-1, 0.5, 1, 2])], { threshold: 0.5 })[0]!;
  assert.equal(b.dtype, 'float32');
  assert.deepEqual(b.toArray(), [0, 0, 1, 1]);
  assert.deepEqual(run('Binarizer', [tensor([-1, 0, 3], { dtype: 'int64' })])[0]!.toArray(), [0, 0, 1]);
});

test('ONNX conformance: ai.onnx.ml node tests', () => {
  runNodeTests([
    'test_ai_onnx_ml_array_feature_extractor',
    'test_ai_onnx_ml_binarizer',
    'test_ai_onnx_ml_label_encoder_string_int',
    'test_ai_onnx_ml_label_encoder_string_int_no_default',
    'test_ai_onnx_ml_label_encoder_tensor_mapping',
    'test_ai_onnx_ml_label_encoder_tensor_value_only_mapping',
    'test_ai_onnx_ml_tree_ensemble_set_membership',
    'test_ai_onnx_ml_tree_ensemble_single_tree',
  ]);
});
