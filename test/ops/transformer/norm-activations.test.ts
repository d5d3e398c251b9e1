/**
 * RMSNormalization, Swish, SwiGLU and RotaryEmbedding: values by hand, attribute and layout
 * variants, errors, gradcheck (random shapes, broadcast scale), conformance cases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, randn, type Tensor, tensor } from '../../../src/index.js';
import { dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { conformanceCases } from './conformance-cases.js';

const gen = new Generator(11);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });
const f64 = (v: number[], shape = [v.length]) => tensor(v, { dtype: 'float64' }).reshape(shape);
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

test('RMSNormalization by hand: x / sqrt(mean(x^2) + eps) * scale over [axis, rank)', () => {
  const x = f64([3, 4, 1, 7], [2, 2]);
  const w = f64([2, 0.5]);
  // Rows: mean squares 12.5 and 25.
  assertClose(dispatch1('RMSNormalization', [x, w], { epsilon: 0 }), [
    (3 / Math.sqrt(12.5)) * 2,
    (4 / Math.sqrt(12.5)) * 0.5,
    (1 / 5) * 2,
    (7 / 5) * 0.5,
  ]);
  // axis 0: one group of four, mean square (9 + 16 + 1 + 49) / 4 = 18.75; epsilon 0.25 -> 19.
  const all = dispatch1('RMSNormalization', [x, f64([1, 1, 1, 1], [2, 2])], { axis: 0, epsilon: 0.25 });
  assertClose(
    all,
    [3, 4, 1, 7].map((v) => v / Math.sqrt(19)),
  );
  assertClose(dispatch1('RMSNormalization', [x, w], { axis: -2, epsilon: 0.25 }), [
    (3 / Math.sqrt(19)) * 2,
    (4 / Math.sqrt(19)) * 0.5,
    (1 / Math.sqrt(19)) * 2,
    (7 / Math.sqrt(19)) * 0.5,
  ]);
});

test('RMSNormalization: errors', () => {
  assert.throws(
    () =>
      dispatch1('RMSNormalization', [tensor([1, 2], { dtype: 'int32' }), tensor([1, 1], { dtype: 'int32' })]),
    /RMSNormalization: X must be a float tensor, got int32/,
  );
  assert.throws(
    () => dispatch1('RMSNormalization', [rnd([2, 3]), tensor([1, 1, 1])]),
    /RMSNormalization: inputs must have the same dtype/,
  );
  assert.throws(
    () => dispatch1('RMSNormalization', [rnd([2, 3]), rnd([3])], { axis: 2 }),
    /axis 2 is out of range/,
  );
});

test('RMSNormalization: gradcheck for X and scale, normalized and broadcast scale', () => {
  assert.ok(
    gradcheck(
      (x, w) => dispatch1('RMSNormalization', [x, w], { axis: 1 }),
      [rnd([2, 3, 4], true), rnd([3, 4], true)],
    ),
  );
  assert.ok(
    gradcheck(
      (x, w) => dispatch1('RMSNormalization', [x, w], { epsilon: 0.1 }),
      [rnd([3, 5], true), rnd([1, 5], true)],
    ),
  );
});

test('Swish by hand: x * sigmoid(alpha x); float16 stays float16', () => {
  const x = f64([0, 1, -1, 3]);
  assertClose(dispatch1('Swish', [x]), [0, sigmoid(1), -sigmoid(-1), 3 * sigmoid(3)], { rtol: 1e-12 });
  assertClose(dispatch1('Swish', [x], { alpha: 2 }), [0, sigmoid(2), -sigmoid(-2), 3 * sigmoid(6)], {
    rtol: 1e-12,
  });
  const h = dispatch1('Swish', [x.to('float16')]);
  assert.equal(h.dtype, 'float16');
  assertClose(h, [0, sigmoid(1), -sigmoid(-1), 3 * sigmoid(3)], { rtol: 2e-3 });
  assert.throws(
    () => dispatch1('Swish', [tensor([1], { dtype: 'int64' })]),
    /Swish: X must be a float tensor, got int64/,
  );
});

test('SwiGLU by hand: Swish(A) * B; A and B must share a shape', () => {
  const a = f64([1, -1, 0.5]);
  const b = f64([2, 3, -4]);
  assertClose(
    dispatch1('SwiGLU', [a, b], { alpha: 0.5 }),
    [2 * sigmoid(0.5), 3 * -sigmoid(-0.5), -4 * 0.5 * sigmoid(0.25)],
    {
      rtol: 1e-12,
    },
  );
  assert.throws(
    () => dispatch1('SwiGLU', [rnd([2, 3]), rnd([3])]),
    /SwiGLU: A and B must have the same shape, got \[2, 3\] and \[3\]/,
  );
});

test('Swish and SwiGLU: gradcheck', () => {
  assert.ok(gradcheck((x) => dispatch1('Swish', [x], { alpha: 1.7 }), [rnd([3, 4], true)]));
  assert.ok(
    gradcheck((a, b) => dispatch1('SwiGLU', [a, b], { alpha: 0.8 }), [rnd([2, 5], true), rnd([2, 5], true)]),
  );
});

// cos/sin rows: angle pi/2 (cos 0, sin 1) for the first pair and 0 for the second.
const cos1 = [0, 1];
const sin1 = [1, 0];

test('RotaryEmbedding by hand: halves and interleaved pairs rotate by their angles', () => {
  const x = f64([1, 2, 3, 4], [1, 1, 1, 4]);
  const cos = f64(cos1, [1, 1, 2]);
  const sin = f64(sin1, [1, 1, 2]);
  // Halves: x1 = (1, 2), x2 = (3, 4): real = cos x1 - sin x2, imag = sin x1 + cos x2.
  assertClose(dispatch1('RotaryEmbedding', [x, cos, sin]), [-3, 2, 1, 4]);
  // Interleaved: pairs (1, 2) by pi/2 -> (-2, 1); (3, 4) by 0.
  assertClose(dispatch1('RotaryEmbedding', [x, cos, sin], { interleaved: 1 }), [-2, 1, 3, 4]);
});

test('RotaryEmbedding: position_ids pick cache rows; rotary_embedding_dim rotates a prefix; 3-D input', () => {
  const x = f64([1, 2, 3, 4, 5, 6], [1, 1, 1, 6]);
  const cache = (row1: number[]) => f64([1, 1, ...row1], [2, 2]);
  const pos = tensor([[1]], { dtype: 'int64' });
  // Row 1 of the caches is used; only the first 4 features rotate.
  const y = dispatch1('RotaryEmbedding', [x, cache(cos1), cache(sin1), pos], { rotary_embedding_dim: 4 });
  assertClose(y, [-3, 2, 1, 4, 5, 6]);
  // 3-D [batch, seq, heads * size]: two heads of size 2, each rotated by pi/2.
  const x3 = f64([1, 2, 3, 4], [1, 1, 4]);
  const y3 = dispatch1('RotaryEmbedding', [x3, f64([0], [1, 1, 1]), f64([1], [1, 1, 1])], { num_heads: 2 });
  assertClose(y3, [-2, 1, -4, 3]);
  assert.throws(
    () => dispatch1('RotaryEmbedding', [x3, f64([0], [1, 1, 1]), f64([1], [1, 1, 1])]),
    /RotaryEmbedding: num_heads \(a positive int\) is required for a 3-D input/,
  );
  assert.throws(
    () =>
      dispatch1('RotaryEmbedding', [x, cache(cos1), cache(sin1), tensor([[5]], { dtype: 'int64' })], {
        rotary_embedding_dim: 4,
      }),
    /RotaryEmbedding: position id 5 is out of range \[0, 2\)/,
  );
});

test('RotaryEmbedding: gradcheck w.r.t. the input (both layouts)', () => {
  const ang = rnd([2, 3, 2]);
  const cos = ang.cos();
  const sin = ang.sin();
  for (const interleaved of [0, 1]) {
    assert.ok(
      gradcheck(
        (x: Tensor) => dispatch1('RotaryEmbedding', [x, cos, sin], { interleaved }),
        [rnd([2, 2, 3, 4], true)],
      ),
    );
  }
});

conformanceCases([
  'test_rms_normalization_4d_axis_negative_3',
  'test_rms_normalization_3d_axis0_epsilon',
  'test_swish',
  'test_swiglu_float16',
  'test_rotary_embedding_3d_input',
  'test_rotary_embedding_with_interleaved_rotary_dim',
  'test_rotary_embedding_no_position_ids_rotary_dim',
]);
