import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  Generator,
  gradcheck,
  int64s,
  randn,
  type Tensor,
  Tensor as TensorClass,
  tensor,
} from '../../../src/index.js';
import { type Attrs, dispatch, dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';

const gen = new Generator(31);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });
const f32 = (v: number[]) => TensorClass.fromData(Float32Array.from(v), [v.length], 'float32');
/** Scalar comparison with a relative tolerance. */
const near = (a: number, b: number, rtol = 1e-6) =>
  assert.ok(Math.abs(a - b) <= rtol * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
const resize = (x: Tensor, attrs: Attrs, o: { scales?: number[]; sizes?: number[]; roi?: number[] }) =>
  dispatch1(
    'Resize',
    [
      x,
      o.roi ? f32(o.roi) : undefined,
      o.scales ? f32(o.scales) : undefined,
      o.sizes ? int64s(o.sizes) : undefined,
    ],
    attrs,
  );

test('Resize nearest (half_pixel, round_prefer_floor) doubles [1, 2] to [1, 1, 2, 2]', () => {
  // Source coordinates (o + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 round to 0, 0, 1, 1.
  assertClose(resize(tensor([1, 2]), {}, { scales: [2] }), [1, 1, 2, 2]);
  // round_prefer_ceil differs at exact halves: asymmetric x = o / 2 = 0, 0.5, 1, 1.5 -> 0, 1, 1, 2 (clamped to 1).
  assertClose(
    resize(
      tensor([1, 2]),
      { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'round_prefer_ceil' },
      { scales: [2] },
    ),
    [1, 2, 2, 2],
  );
  assertClose(
    resize(
      tensor([1, 2]),
      { coordinate_transformation_mode: 'asymmetric', nearest_mode: 'round_prefer_floor' },
      { scales: [2] },
    ),
    [1, 1, 2, 2],
  );
});

test('Resize linear: align_corners and half_pixel, by hand', () => {
  // align_corners: x = o * (3 - 1) / (5 - 1) = 0, 0.5, 1, 1.5, 2.
  assertClose(
    resize(
      tensor([1, 2, 3]),
      { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
      { sizes: [5] },
    ),
    [1, 1.5, 2, 2.5, 3],
  );
  // half_pixel: x = -0.25, 0.25, 0.75, 1.25; the ends clamp to the edge values.
  assertClose(resize(tensor([0, 10]), { mode: 'linear' }, { scales: [2] }), [0, 2.5, 7.5, 10]);
  // 2-D is the product of 1-D interpolations: [[0, 10], [20, 30]] at align_corners 3x3 is the bilinear grid.
  const y = resize(
    tensor([
      [0, 10],
      [20, 30],
    ]),
    { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    { sizes: [3, 3] },
  );
  assertClose(y, [0, 5, 10, 10, 15, 20, 20, 25, 30]);
});

test('Resize cubic with A = -0.75 at the midpoint weighs neighbours -0.09375, 0.59375, 0.59375, -0.09375', () => {
  // asymmetric scale 2: output 3 sits at x = 1.5, between 2 and 4 of [1, 2, 4, 8].
  const y = resize(
    tensor([1, 2, 4, 8]),
    { mode: 'cubic', coordinate_transformation_mode: 'asymmetric' },
    { scales: [2] },
  );
  near(y.numbers()[3]!, -0.09375 * 1 + 0.59375 * 2 + 0.59375 * 4 - 0.09375 * 8);
  // Integer source positions reproduce the input exactly.
  near(y.numbers()[2]!, 2);
  // exclude_outside renormalizes: at x = 0.5 the tap at -1 is dropped, the other three weights sum to 1.09375.
  const e = resize(
    tensor([1, 2, 4, 8]),
    { mode: 'cubic', coordinate_transformation_mode: 'asymmetric', exclude_outside: 1 },
    { scales: [2] },
  );
  near(e.numbers()[1]!, (0.59375 * 1 + 0.59375 * 2 - 0.09375 * 4) / 1.09375);
});

test('Resize linear antialias widens the filter when downsampling', () => {
  // Scale 0.5, o = 0: x = 0.5; taps -1..2 at distances 1.5, 0.5, 0.5, 1.5 scaled by 0.5 give
  // weights 0.25, 0.75, 0.75, 0.25 (then / 2); tap -1 clamps to 0: (1 + 3*1 + 3*2 + 3) / 8 = 1.625.
  const y = resize(tensor([1, 2, 3, 4, 5, 6, 7, 8]), { mode: 'linear', antialias: 1 }, { scales: [0.5] });
  near(y.numbers()[0]!, 1.625);
  assert.deepEqual([...y.shape], [4]);
});

test('Resize tf_crop_and_resize samples the roi and extrapolates outside', () => {
  // roi [0.4, 1.2] of a length-4 axis with 3 outputs: x = 1.2 + 1.2 o = 1.2, 2.4, 3.6 (> 3: outside).
  const y = resize(
    tensor([1, 2, 3, 4]),
    { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 9 },
    { sizes: [3], roi: [0.4, 1.2] },
  );
  assertClose(y, [2.2, 3.4, 9]);
});

test('Resize sizes with keep_aspect_ratio_policy, axes, and output size floor(in * scale)', () => {
  const x = rnd([1, 1, 4, 6]);
  // ratios 3/4 and 3/6: not_larger takes 0.5 -> [2, 3]; not_smaller 0.75 -> [3, floor(4.5 + 0.5)] = [3, 5].
  assert.deepEqual(
    [...resize(x, { keep_aspect_ratio_policy: 'not_larger', axes: [2, 3] }, { sizes: [3, 3] }).shape],
    [1, 1, 2, 3],
  );
  assert.deepEqual(
    [...resize(x, { keep_aspect_ratio_policy: 'not_smaller', axes: [2, 3] }, { sizes: [3, 3] }).shape],
    [1, 1, 3, 5],
  );
  assert.deepEqual([...resize(x, { axes: [-1] }, { scales: [0.5] }).shape], [1, 1, 4, 3]);
  // floor(6 * 0.7) = 4, floor(4 * 1.3) = 5
  assert.deepEqual([...resize(x, {}, { scales: [1, 1, 1.3, 0.7] }).shape], [1, 1, 5, 4]);
});

test('Resize opset 10 and Upsample use asymmetric coordinates (nearest: ceil when downsampling, else floor)', () => {
  const x = tensor([1, 2, 3, 4]);
  assertClose(dispatch('Resize', [x, f32([0.5])], {}, { opset: 10 })[0]!, [1, 3]);
  assertClose(dispatch('Resize', [tensor([1, 2]), f32([2])], {}, { opset: 10 })[0]!, [1, 1, 2, 2]);
  assertClose(
    dispatch('Resize', [tensor([1, 2]), f32([2])], { mode: 'linear' }, { opset: 10 })[0]!,
    [1, 1.5, 2, 2],
  );
  assertClose(dispatch('Upsample', [tensor([1, 2])], { scales: [2] }, { opset: 7 })[0]!, [1, 1, 2, 2]);
  assertClose(
    dispatch('Upsample', [tensor([1, 2]), f32([2])], { mode: 'linear' }, { opset: 9 })[0]!,
    [1, 1.5, 2, 2],
  );
});

test('Resize keeps integer dtypes and checks its inputs', () => {
  const y = resize(tensor([[10, 200]], { dtype: 'uint8' }), {}, { scales: [1, 2] });
  assert.equal(y.dtype, 'uint8');
  assert.deepEqual(y.toArray(), [[10, 10, 200, 200]]);
  assert.throws(() => resize(tensor([1, 2]), {}, { scales: [1, 2] }), /Resize: scales must have 1 values/);
  assert.throws(
    () => resize(tensor([1, 2]), {}, { scales: [2], sizes: [4] }),
    /Resize: give either scales or sizes, not both/,
  );
  assert.throws(
    () => resize(tensor([1, 2]), { mode: 'area' }, { scales: [2] }),
    /Resize: mode must be nearest, linear or cubic, got 'area'/,
  );
  assert.throws(
    () => resize(tensor([1, 2]), { coordinate_transformation_mode: 'x' }, { scales: [2] }),
    /coordinate_transformation_mode must be one of/,
  );
});

test('ResizeGrad is the transpose of the resize map: <A x, y> = <x, A^T y>', () => {
  const x = rnd([1, 2, 3, 4]);
  const attrs = { mode: 'cubic', exclude_outside: 1, antialias: 1 };
  const ax = resize(x, attrs, { scales: [1, 1, 2, 0.5] });
  const y = rnd([...ax.shape]);
  const grad = {
    input_shape: [1, 2, 3, 4],
    output_shape: [...ax.shape],
    scales: [1, 1, 2, 0.5],
    roi: [0, 0, 0, 0, 1, 1, 1, 1],
    mode: 'cubic',
    coordinate_transformation_mode: 'half_pixel',
    nearest_mode: 'round_prefer_floor',
    cubic_coeff_a: -0.75,
    exclude_outside: 1,
    antialias: 1,
  };
  const aty = dispatch1('ResizeGrad', [y], grad, { domain: 'com.tessera' });
  const dot = (a: Tensor, b: Tensor) =>
    Array.from(a.numbers()).reduce((s, v, i) => s + v * b.numbers()[i]!, 0);
  near(dot(ax, y), dot(x, aty), 1e-10);
});

const GRAD_CASES: [string, Attrs, { scales?: number[]; sizes?: number[]; roi?: number[] }][] = [
  ['nearest upsample', {}, { scales: [1, 1, 2, 1.5] }],
  ['nearest downsample (floor)', { nearest_mode: 'floor' }, { sizes: [1, 1, 2, 2] }],
  ['linear half_pixel', { mode: 'linear' }, { scales: [1, 1, 1.7, 0.6] }],
  [
    'linear align_corners',
    { mode: 'linear', coordinate_transformation_mode: 'align_corners' },
    { sizes: [1, 1, 5, 2] },
  ],
  [
    'cubic exclude_outside',
    { mode: 'cubic', exclude_outside: 1, cubic_coeff_a: -0.5 },
    { scales: [1, 1, 2, 2] },
  ],
  ['linear antialias', { mode: 'linear', antialias: 1 }, { scales: [1, 1, 0.5, 0.75] }],
  [
    'tf_crop_and_resize extrapolation',
    { mode: 'linear', coordinate_transformation_mode: 'tf_crop_and_resize', extrapolation_value: 3 },
    { sizes: [1, 1, 3, 3], roi: [0, 0, -0.2, 0.3, 1, 1, 0.9, 1.4] },
  ],
];

for (const [name, attrs, o] of GRAD_CASES) {
  test(`gradcheck: Resize ${name}`, () => {
    const x = rnd([1, 1, 3, 4], true);
    assert.equal(
      gradcheck((x) => resize(x, attrs, o), [x]),
      true,
    );
  });
}

test('gradcheck: Upsample (opsets 7 and 9) and Resize opset 10', () => {
  const x = rnd([1, 1, 2, 3], true);
  assert.equal(
    gradcheck(
      (x) => dispatch('Upsample', [x], { scales: [1, 1, 2, 2], mode: 'linear' }, { opset: 7 })[0]!,
      [x],
    ),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch('Upsample', [x, f32([1, 1, 2, 3])], {}, { opset: 9 })[0]!, [x]),
    true,
  );
  assert.equal(
    gradcheck(
      (x) => dispatch('Resize', [x, f32([1, 1, 0.5, 2])], { mode: 'linear' }, { opset: 10 })[0]!,
      [x],
    ),
    true,
  );
});
