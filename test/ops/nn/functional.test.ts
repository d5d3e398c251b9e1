import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, Generator, gradcheck, nn, ones, randn, tensor, zeros } from '../../../src/index.js';
import { dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';

const F = nn.functional;
const gen = new Generator(41);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });

test('conv2d: padding "same" pads d*(k-1) with the odd element at the end, as torch', () => {
  const x = rnd([1, 2, 5, 6]);
  const w = rnd([3, 2, 2, 3]);
  // k = (2, 3), dilation (2, 1): totals (2, 2) -> pads (1, 1) and (1, 1); k = 2 with dilation 1: total 1 -> (0, 1).
  const y = F.conv2d(x, w, null, { padding: 'same', dilation: [2, 1] });
  assert.deepEqual([...y.shape], [1, 3, 5, 6]);
  assertClose(y, dispatch1('Conv', [x, w], { pads: [1, 1, 1, 1], dilations: [2, 1] }), { rtol: 1e-12 });
  const w2 = rnd([1, 2, 2, 2]);
  assertClose(
    F.conv2d(x, w2, null, { padding: 'same' }),
    dispatch1('Conv', [x, w2], { pads: [0, 0, 1, 1] }),
    { rtol: 1e-12 },
  );
  assert.throws(
    () => F.conv2d(x, w, null, { padding: 'same', stride: 2 }),
    /conv2d: padding='same' is not supported for strided convolutions/,
  );
});

test('conv1d / conv3d accept unbatched input and torch-style int-or-tuple arguments', () => {
  const x = rnd([4, 7]);
  const w = rnd([6, 2, 3]);
  const b = rnd([6]);
  const y = F.conv1d(x, w, b, { stride: 2, padding: 1, groups: 2 });
  // floor((7 + 2 - 3) / 2) + 1 = 4
  assert.deepEqual([...y.shape], [6, 4]);
  const batched = F.conv1d(x.reshape(1, 4, 7), w, b, { stride: 2, padding: 1, groups: 2 });
  assertClose(y, batched.reshape(6, 4), { rtol: 1e-12 });
  const y3 = F.conv3d(rnd([1, 1, 3, 4, 5]), rnd([2, 1, 2, 2, 2]), null, {
    stride: [1, 2, 2],
    padding: 'valid',
  });
  assert.deepEqual([...y3.shape], [1, 2, 2, 2, 2]);
  assert.throws(
    () => F.conv2d(rnd([2, 3]), rnd([1, 3, 1, 1])),
    /conv2d: expected a 3-D \(unbatched\) or 4-D \(batched\) input, got shape \[2, 3\]/,
  );
});

test('convTranspose2d output size is (in-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1', () => {
  const y = F.convTranspose2d(rnd([1, 4, 3, 5]), rnd([4, 3, 3, 2]), rnd([6]), {
    stride: [2, 3],
    padding: [1, 0],
    outputPadding: [1, 2],
    groups: 2,
    dilation: [1, 2],
  });
  // H: 2*2 - 2 + 2 + 1 + 1 = 6; W: 4*3 - 0 + 2 + 2 + 1 = 17
  assert.deepEqual([...y.shape], [1, 6, 6, 17]);
  assert.throws(
    () => F.convTranspose2d(rnd([1, 1, 2, 2]), rnd([1, 1, 2, 2]), null, { outputPadding: 1 }),
    /output_padding must be smaller than either stride or dilation/,
  );
});

test('maxPool2d: stride defaults to the kernel; indices count within each plane, as torch', () => {
  const x = arange(0, 32, 1, { dtype: 'float32' }).reshape(1, 2, 4, 4);
  assertClose(F.maxPool2d(x, { kernelSize: 2 }), [5, 7, 13, 15, 21, 23, 29, 31]);
  const [, ind] = F.maxPool2dWithIndices(x, { kernelSize: 2 });
  assert.deepEqual(ind.toArray(), [
    [
      [
        [5, 7],
        [13, 15],
      ],
      [
        [5, 7],
        [13, 15],
      ],
    ],
  ]);
  const [, ind3] = F.maxPool2dWithIndices(x.reshape(2, 4, 4), { kernelSize: 2 });
  assert.deepEqual([...ind3.shape], [2, 2, 2]);
  assert.throws(
    () => F.maxPool2d(x, { kernelSize: 2, padding: 2 }),
    /maxPool2d: pad should be at most half of effective kernel size/,
  );
});

test('avgPool2d counts the padding by default; countIncludePad false and divisorOverride', () => {
  const x = tensor([
    [
      [
        [1, 2],
        [3, 4],
      ],
    ],
  ]);
  // kernel 2, stride 2, padding 1: every window holds one element and three zeros.
  assertClose(F.avgPool2d(x, { kernelSize: 2, padding: 1 }), [0.25, 0.5, 0.75, 1]);
  assertClose(F.avgPool2d(x, { kernelSize: 2, padding: 1, countIncludePad: false }), [1, 2, 3, 4]);
  assertClose(F.avgPool2d(x, { kernelSize: 2, padding: 1, divisorOverride: 2 }), [0.5, 1, 1.5, 2]);
  assertClose(F.avgPool1d(tensor([[[1, 2, 3, 4, 5]]]), { kernelSize: 2 }), [1.5, 3.5]);
});

test('adaptiveAvgPool2d: an int, a pair, and null to keep a size', () => {
  const x = arange(0, 12, 1, { dtype: 'float32' }).reshape(1, 1, 3, 4);
  assertClose(F.adaptiveAvgPool2d(x, 1), [5.5]);
  const y = F.adaptiveAvgPool2d(x, [null, 2]);
  assert.deepEqual([...y.shape], [1, 1, 3, 2]);
  assertClose(y, [0.5, 2.5, 4.5, 6.5, 8.5, 10.5]);
});

test('batchNorm in training normalizes with batch statistics and updates the running ones in place', () => {
  // One channel holding 1, 3, 5, 7: mean 4, biased variance 5, unbiased 20/3.
  const x = tensor([[[1, 3]], [[5, 7]]]);
  const rm = zeros([1]);
  const rv = ones([1]);
  const y = F.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.1, eps: 0 });
  assertClose(
    y,
    [-3, -1, 1, 3].map((v) => v / Math.sqrt(5)),
  );
  assertClose(rm, [0.1 * 4], { rtol: 1e-6 });
  assertClose(rv, [0.9 + (0.1 * 20) / 3], { rtol: 1e-6 });
  // Eval mode uses the running statistics.
  const e = F.batchNorm(x, rm, rv, tensor([2]), tensor([1]), { eps: 0 });
  assertClose(
    e,
    [1, 3, 5, 7].map((v) => ((v - 0.4) / Math.sqrt(0.9 + 2 / 3)) * 2 + 1),
    { rtol: 1e-5 },
  );
  assert.throws(
    () => F.batchNorm(tensor([[1, 2]]), null, null, null, null, { training: true }),
    /batchNorm: expected more than 1 value per channel when training/,
  );
  assert.throws(
    () => F.batchNorm(x, null, null),
    /batchNorm: running_mean and running_var must be given when not training/,
  );
});

test('instanceNorm, layerNorm and groupNorm with and without affine parameters', () => {
  const x = rnd([2, 4, 3]);
  const ref = dispatch1('InstanceNormalization', [
    x,
    ones([4], { dtype: 'float64' }),
    zeros([4], { dtype: 'float64' }),
  ]);
  const rm = zeros([4], { dtype: 'float64' });
  const rv = ones([4], { dtype: 'float64' });
  assertClose(F.instanceNorm(x, rm, rv), ref, { rtol: 1e-12 });
  // Running mean moves 0.1 of the way to the batch average of the instance means.
  const xs = Array.from(x.numbers());
  const m0 = (xs.slice(0, 3).reduce((a, b) => a + b) / 3 + xs.slice(12, 15).reduce((a, b) => a + b) / 3) / 2;
  assert.ok(Math.abs(rm.numbers()[0]! - 0.1 * m0) < 1e-12);
  // layerNorm over the last two dims equals GroupNormalization with one group on [N, C, L].
  assertClose(F.layerNorm(x, [4, 3]), F.groupNorm(x, 1), { rtol: 1e-10 });
  assert.throws(
    () => F.layerNorm(x, [3, 4]),
    /layerNorm: given normalized_shape=\[3, 4\], expected input with shape \[\*, 3, 4\], got \[2, 4, 3\]/,
  );
  assert.throws(
    () => F.groupNorm(x, 3),
    /groupNorm: expected the 4 channels to be divisible by num_groups, got 3/,
  );
});

test('dropout: identity when not training, zeros when p = 1, and rejects p outside [0, 1]', () => {
  const x = tensor([1, 2, 3]);
  assert.equal(F.dropout(x, 0.5, false), x);
  assertClose(F.dropout(x, 1, true), [0, 0, 0]);
  const big = ones([1000]);
  const y = F.dropout(big, 0.5, true).numbers();
  assert.ok(y.every((v) => v === 0 || v === 2));
  assert.throws(() => F.dropout(x, -0.1, true), /dropout: probability has to be between 0 and 1, got -0.1/);
});

test('interpolate follows torch: nearest, nearest-exact, linear, bilinear (align_corners), bicubic, area', () => {
  const x = tensor([[[1, 2, 3]]]);
  // nearest: src = floor(o / 2) -> 0 0 1 1 2 2; with size 4: floor(o * 3/4) -> 0 0 1 2.
  assertClose(F.interpolate(x, { scaleFactor: 2 }), [1, 1, 2, 2, 3, 3]);
  assertClose(F.interpolate(x, { size: 4 }), [1, 1, 2, 3]);
  // nearest-exact: floor((o + 0.5) * 3/4) -> 0 1 1 2.
  assertClose(F.interpolate(x, { size: 4, mode: 'nearest-exact' }), [1, 2, 2, 3]);
  // linear (align_corners false): src = (o + 0.5) / 2 - 0.5 clamped at 0.
  assertClose(F.interpolate(x, { scaleFactor: 2, mode: 'linear' }), [1, 1.25, 1.75, 2.25, 2.75, 3]);
  const g = tensor([
    [
      [
        [0, 10],
        [20, 30],
      ],
    ],
  ]);
  assertClose(
    F.interpolate(g, { size: [3, 3], mode: 'bilinear', alignCorners: true }),
    [0, 5, 10, 10, 15, 20, 20, 25, 30],
  );
  // bicubic (a = -0.75) at src 1.25 of [1, 2, 4, 8]: weights k(1.25), k(0.25), k(0.75), k(1.75)
  // = -0.10546875, 0.87890625, 0.26171875, -0.03515625.
  const c = F.interpolate(tensor([[[[1, 2, 4, 8]]]]), { scaleFactor: [1, 2], mode: 'bicubic' });
  assert.ok(
    Math.abs(c.numbers()[3]! - (-0.10546875 + 0.87890625 * 2 + 0.26171875 * 4 - 0.03515625 * 8)) < 1e-5,
  );
  assertClose(F.interpolate(tensor([[[1, 2, 3, 4, 5, 6]]]), { size: 3, mode: 'area' }), [1.5, 3.5, 5.5]);
  assert.throws(
    () => F.interpolate(x, { scaleFactor: 2, mode: 'bilinear' }),
    /interpolate: mode 'bilinear' expects a 4-D input/,
  );
  assert.throws(() => F.interpolate(x, {}), /interpolate: give exactly one of size and scaleFactor/);
});

test('gradcheck through the functional API: conv2d same, batchNorm training, layerNorm, interpolate', () => {
  const [x, w, b] = [rnd([1, 2, 3, 3], true), rnd([2, 2, 2, 2], true), rnd([2], true)];
  assert.equal(
    gradcheck((x, w, b) => F.conv2d(x, w, b, { padding: 'same' }), [x, w, b]),
    true,
  );
  const [bw, bb] = [rnd([2], true), rnd([2], true)];
  assert.equal(
    gradcheck((x, w, b) => F.batchNorm(x, null, null, w, b, { training: true }), [x, bw, bb]),
    true,
  );
  assert.equal(
    gradcheck((x) => F.layerNorm(x, [3, 3]), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => F.interpolate(x, { scaleFactor: 1.5, mode: 'bilinear' }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => F.maxPool2d(x, { kernelSize: 2, stride: 1 }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => F.adaptiveAvgPool2d(x, [2, 2]), [x]),
    true,
  );
});
