/**
 * GridSample, AffineGrid, RoiAlign, DeformConv and Col2Im: values worked out by hand (bilinear
 * weights, padding rules, bins), consistency with independent ops (an identity AffineGrid feeding
 * GridSample reproduces the image; DeformConv with zero offsets is Conv), errors, gradcheck for
 * AffineGrid, conformance cases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, randn, tensor, zeros } from '../../../src/index.js';
import { dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { conformanceCases } from '../transformer/conformance-cases.js';

const gen = new Generator(17);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });
const f64 = (v: number[], shape: number[]) => tensor(v, { dtype: 'float64' }).reshape(shape);
const i64 = (v: number[]) => tensor(v, { dtype: 'int64' });

const img = f64([1, 2, 3, 4], [1, 1, 2, 2]);
/** GridSample of `img` at normalized points (x, y). */
const sample = (pts: number[][], attrs: Record<string, unknown>) =>
  dispatch1('GridSample', [img, f64(pts.flat(), [1, 1, pts.length, 2])], attrs as never);

test('GridSample linear by hand: corners, center and padding modes', () => {
  // align_corners: -1 and 1 are the corner pixels' centers; (0, 0) is the middle of all four.
  assertClose(
    sample(
      [
        [-1, -1],
        [1, 1],
        [0, 0],
        [1, -1],
      ],
      { align_corners: 1 },
    ),
    [1, 4, 2.5, 2],
  );
  // Without it, -1 is the image edge, half a pixel outside the first center: zeros padding
  // weighs the pixel by 1/4, border clamps to it, reflection mirrors back onto it.
  assertClose(
    sample(
      [
        [-1, -1],
        [0, 0],
      ],
      {},
    ),
    [0.25, 2.5],
  );
  assertClose(sample([[-1, -1]], { padding_mode: 'border' }), [1]);
  assertClose(sample([[-1, -1]], { padding_mode: 'reflection' }), [1]);
});

test('GridSample nearest (round half to even), cubic on a constant, 3-D volumes', () => {
  // x: (1.4 / 2) * 1 = 0.7 -> column 1; y: 0.5 -> row 0 (half to even).
  assertClose(sample([[0.4, 0]], { mode: 'nearest', align_corners: 1 }), [2]);
  const flat = f64(Array(9).fill(5), [1, 1, 3, 3]);
  const y = dispatch1('GridSample', [flat, f64([0.3, -0.7, 0.9, 0.2], [1, 1, 2, 2])], {
    mode: 'cubic',
    padding_mode: 'border',
  });
  assertClose(y, [5, 5], { rtol: 1e-12 });
  const vol = f64([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 2, 2, 2]);
  assertClose(dispatch1('GridSample', [vol, f64([0, 0, 0], [1, 1, 1, 1, 3])], { align_corners: 1 }), [3.5]);
  // (x, y, z) = (1, -1, 1): the last axis of the grid runs x first -> vol[1][0][1] = 5.
  assertClose(dispatch1('GridSample', [vol, f64([1, -1, 1], [1, 1, 1, 1, 3])], { align_corners: 1 }), [5]);
});

test('GridSample: opset 16 names bilinear/bicubic; errors', () => {
  const g = f64([0, 0], [1, 1, 1, 2]);
  assertClose(dispatch1('GridSample', [img, g], { mode: 'bilinear' }, { opset: 16 }), [2.5]);
  assert.throws(
    () => dispatch1('GridSample', [img, g], { mode: 'linear' }, { opset: 16 }),
    /mode must be 'bilinear', 'nearest' or 'bicubic', got 'linear'/,
  );
  assert.throws(
    () => dispatch1('GridSample', [img, f64([0, 0, 0], [1, 1, 1, 3])]),
    /GridSample: grid must have shape \[1, \*, \*, 2\]/,
  );
  assert.throws(
    () => dispatch1('GridSample', [img, g], { padding_mode: 'wrap' }),
    /padding_mode must be 'zeros', 'border' or 'reflection', got 'wrap'/,
  );
});

test('AffineGrid by hand: pixel centers or corners in [-1, 1], then theta', () => {
  const identity = f64([1, 0, 0, 0, 1, 0], [1, 2, 3]);
  const size = i64([1, 1, 2, 3]);
  // align_corners: x over 3 columns -1, 0, 1; y over 2 rows -1, 1. Points are (x, y).
  assertClose(
    dispatch1('AffineGrid', [identity, size], { align_corners: 1 }),
    [-1, -1, 0, -1, 1, -1, -1, 1, 0, 1, 1, 1],
  );
  // Pixel centers: x = -2/3, 0, 2/3; y = -1/2, 1/2. A translation of 0.5 in x.
  const shift = f64([1, 0, 0.5, 0, 1, 0], [1, 2, 3]);
  assertClose(dispatch1('AffineGrid', [shift, size]), [
    -2 / 3 + 0.5,
    -0.5,
    0.5,
    -0.5,
    2 / 3 + 0.5,
    -0.5,
    -2 / 3 + 0.5,
    0.5,
    0.5,
    0.5,
    2 / 3 + 0.5,
    0.5,
  ]);
  // 3-D: size [N, C, D, H, W] = [1, 1, 1, 1, 2]; points (x, y, z) with z = y = 0.
  const id3 = f64([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0], [1, 3, 4]);
  assertClose(dispatch1('AffineGrid', [id3, i64([1, 1, 1, 1, 2])]), [-0.5, 0, 0, 0.5, 0, 0]);
  assert.throws(
    () => dispatch1('AffineGrid', [identity, i64([1, 1, 2, 3, 4])]),
    /AffineGrid: theta must have shape \[1, 3, 4\]/,
  );
});

test('AffineGrid then GridSample with the identity reproduces the image; gradcheck of theta', () => {
  const x = rnd([2, 3, 4, 5]);
  const theta = f64([1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 1, 0], [2, 2, 3]);
  for (const align_corners of [0, 1]) {
    const grid = dispatch1('AffineGrid', [theta, i64([2, 3, 4, 5])], { align_corners });
    assertClose(dispatch1('GridSample', [x, grid], { align_corners }), x, { rtol: 1e-9, atol: 1e-12 });
  }
  assert.ok(gradcheck((t) => dispatch1('AffineGrid', [t, i64([2, 1, 3, 4])]), [rnd([2, 2, 3], true)]));
  assert.ok(
    gradcheck(
      (t) => dispatch1('AffineGrid', [t, i64([1, 1, 2, 3, 2])], { align_corners: 1 }),
      [rnd([1, 3, 4], true)],
    ),
  );
});

test('RoiAlign by hand: bin averages of bilinear samples, clamping at the last pixel, max mode', () => {
  // X[h][w] = w on a 4 x 4 map.
  const ramp = f64([0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3], [1, 1, 4, 4]);
  const bi = i64([0]);
  // half_pixel: region [-0.5, 2.5], one bin, one sample at its center x = 1.
  const one = { output_height: 1, output_width: 1, sampling_ratio: 1 };
  assertClose(dispatch1('RoiAlign', [ramp, f64([0, 0, 3, 3], [1, 4]), bi], one), [1]);
  // output_half_pixel, 2 x 2 bins of size 2, samples at 0.5 and 1.5 (bin 0) and 2.5 and 3.5 (bin
  // 1); 3.5 lies past the last pixel center, so it reads the last pixel: (2.5 + 3) / 2.
  const y = dispatch1('RoiAlign', [ramp, f64([0, 0, 4, 4], [1, 4]), bi], {
    coordinate_transformation_mode: 'output_half_pixel',
    output_height: 2,
    output_width: 2,
    sampling_ratio: 2,
  });
  assertClose(y, [1, 2.75, 1, 2.75]);
  // A sample between four pixels of ones: average 1; max takes the largest weighted corner, 1/4.
  const ones = f64([1, 1, 1, 1], [1, 1, 2, 2]);
  const mid = { ...one, coordinate_transformation_mode: 'output_half_pixel' };
  assertClose(dispatch1('RoiAlign', [ones, f64([0, 0, 1, 1], [1, 4]), bi], mid), [1]);
  assertClose(dispatch1('RoiAlign', [ones, f64([0, 0, 1, 1], [1, 4]), bi], { ...mid, mode: 'max' }), [0.25]);
  assert.throws(
    () => dispatch1('RoiAlign', [ones, f64([0, 0, 1, 1], [1, 4]), i64([3])]),
    /RoiAlign: batch index 3 is out of range \[0, 1\)/,
  );
});

test('DeformConv: zero offsets is Conv; whole-pixel and half-pixel offsets shift the taps; mask scales', () => {
  const x = rnd([2, 4, 5, 5]);
  const w = rnd([6, 2, 3, 2]);
  const b = rnd([6]);
  const attrs = { group: 2, pads: [1, 0, 1, 1], strides: [2, 1], dilations: [1, 2] };
  const conv = dispatch1('Conv', [x, w, b], attrs);
  const off = zeros([2, 2 * 6 * 2, ...conv.shape.slice(2)], { dtype: 'float64' });
  assertClose(dispatch1('DeformConv', [x, w, off, b], { ...attrs, offset_group: 2 }), conv, {
    rtol: 1e-10,
    atol: 1e-12,
  });
  // 1 x 1 kernel of weight 1: the output reads X at (i + dh, j + dw).
  const x3 = f64([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 1, 3, 3]);
  const w1 = f64([1], [1, 1, 1, 1]);
  const shift = (dh: number, dw: number) => f64([...Array(9).fill(dh), ...Array(9).fill(dw)], [1, 2, 3, 3]);
  assertClose(dispatch1('DeformConv', [x3, w1, shift(1, 0)]), [4, 5, 6, 7, 8, 9, 0, 0, 0]);
  assertClose(dispatch1('DeformConv', [x3, w1, shift(0, 0.5)]), [1.5, 2.5, 1.5, 4.5, 5.5, 3, 7.5, 8.5, 4.5]);
  const mask = f64(Array(9).fill(2), [1, 1, 3, 3]);
  assertClose(
    dispatch1('DeformConv', [x3, w1, shift(0, 0), undefined, mask]),
    [2, 4, 6, 8, 10, 12, 14, 16, 18],
  );
  assert.throws(
    () => dispatch1('DeformConv', [x3, w1, f64([0], [1, 1, 1, 1])]),
    /DeformConv: offset must have shape \[1, 2, 3, 3\], got \[1, 1, 1, 1\]/,
  );
});

test('Col2Im by hand: blocks summed where they overlap; pads drop what falls outside', () => {
  // Image 1 x 3, blocks 1 x 2 at columns 0 and 1: [a, b + c, d].
  const cols = f64([1, 2, 10, 20], [1, 2, 2]);
  assertClose(dispatch1('Col2Im', [cols, i64([1, 3]), i64([1, 2])]), [1, 12, 20]);
  // Pads of 1 on both sides of W: 4 block positions starting at column -1.
  const padded = f64([1, 2, 3, 4, 10, 20, 30, 40], [1, 2, 4]);
  assertClose(dispatch1('Col2Im', [padded, i64([1, 3]), i64([1, 2])], { pads: [0, 1, 0, 1] }), [12, 23, 34]);
  // Strides 2 and dilation 2 on a 1 x 5 image: block taps at columns {0, 2} and {2, 4}.
  const strided = f64([1, 2, 10, 20], [1, 2, 2]);
  assertClose(
    dispatch1('Col2Im', [strided, i64([1, 5]), i64([1, 2])], { strides: [1, 2], dilations: [1, 2] }),
    [1, 0, 12, 0, 20],
  );
  assert.throws(
    () => dispatch1('Col2Im', [cols, i64([1, 4]), i64([1, 2])]),
    /Col2Im: input must have shape \[N, C \* 2, 3\]/,
  );
});

conformanceCases([
  'test_gridsample_bicubic_align_corners_1_additional_1',
  'test_gridsample_reflection_padding',
  'test_gridsample_volumetric_nearest_align_corners_0',
  'test_affine_grid_3d_align_corners',
  'test_roialign_mode_max',
  'test_roialign_aligned_true',
  'test_deform_conv_with_multiple_offset_groups',
  'test_basic_deform_conv_with_padding',
  'test_col2im_5d',
  'test_col2im_dilations',
]);
