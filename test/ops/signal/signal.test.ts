import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, int64s, ops, randn, scalar, type Tensor, tensor } from '../../../src/index.js';
import { Generator } from '../../../src/runtime/random.js';
import { assertClose } from '../../helpers/close.js';
import { runNodeTests } from '../misc/node-cases.js';

const run = (op: string, inputs: (Tensor | undefined)[], attrs = {}, opts = {}) =>
  ops.dispatch(op, inputs, attrs, opts);
const axis = (a: number) => scalar(a, 'int64');

// Expected spectra below were computed with Python's cmath as the direct sum
// sum_t x[t] exp(-2 pi i k t / N) (and its 1/N-normalized inverse).
const X5 = [
  15, 0, -2.500000000000001, 3.440954801177934, -2.5, 0.8122992405822647, -2.499999999999999,
  -0.8122992405822673, -2.4999999999999964, -3.440954801177935,
];

test('DFT: forward transform of a real signal (odd length: the direct-sum path)', () => {
  const x = tensor([1, 2, 3, 4, 5], { dtype: 'float64' }).reshape([1, 5, 1]);
  const y = run('DFT', [x, undefined, axis(1)])[0]!;
  assert.deepEqual(y.shape, [1, 5, 2]);
  assertClose(y, X5, { atol: 1e-12 });
  // Negative axis counts from the back: -2 is the signal axis here; opset 17 takes axis as an attribute.
  assertClose(run('DFT', [x, undefined, axis(-2)])[0]!, X5, { atol: 1e-12 });
  assertClose(run('DFT', [x], { axis: 1 }, { opset: 17 })[0]!, X5, { atol: 1e-12 });
});

test('DFT: power-of-two path, onesided, dft_length padding and cropping', () => {
  // By hand: DFT([1, 2, 3, 4]) = [10, -2+2i, -2, -2-2i].
  const x = tensor([1, 2, 3, 4], { dtype: 'float32' }).reshape([1, 4, 1]);
  assertClose(run('DFT', [x, undefined, axis(1)])[0]!, [10, 0, -2, 2, -2, 0, -2, -2]);
  const half = run('DFT', [x, undefined, axis(1)], { onesided: 1 })[0]!;
  assert.deepEqual(half.shape, [1, 3, 2]);
  assertClose(half, [10, 0, -2, 2, -2, 0]);
  // dft_length 4 on [1, 2, 3] zero-pads: [6, -2-2i, 2, -2+2i]; length 2 on [1, 2, 3, 4] crops to [3, -1].
  const x3 = tensor([1, 2, 3]).reshape([1, 3, 1]);
  assertClose(run('DFT', [x3, scalar(4, 'int64'), axis(1)])[0]!, [6, 0, -2, -2, 2, 0, -2, 2]);
  assertClose(run('DFT', [x, scalar(2, 'int64'), axis(1)])[0]!, [3, 0, -1, 0]);
});

test('DFT: inverse of a complex signal, and IRFFT (inverse + onesided) with default and odd lengths', () => {
  const x = tensor([1, 1, 2, -1, 0, 0.5], { dtype: 'float64' }).reshape([3, 2]);
  assertClose(
    run('DFT', [x, undefined, axis(0)], { inverse: 1 })[0]!,
    [
      1.0, 0.16666666666666666, 0.43301270189221946, 0.9940169358562922, -0.43301270189221963,
      -0.16068360252295863,
    ],
    { atol: 1e-12 },
  );
  // IRFFT of the one-sided spectrum of [1, 2, 3, 4] gives it back (length 2 (3 - 1) = 4).
  const spec = tensor([10, 0, -2, 2, -2, 0], { dtype: 'float64' }).reshape([1, 3, 2]);
  const back = run('DFT', [spec, undefined, axis(1)], { inverse: 1, onesided: 1 })[0]!;
  assert.deepEqual(back.shape, [1, 4, 1]);
  assertClose(back, [1, 2, 3, 4], { atol: 1e-12 });
  // An odd length needs dft_length: the first 3 bins of DFT([1..5]) with length 5 give [1..5].
  const spec5 = tensor(X5.slice(0, 6), { dtype: 'float64' }).reshape([1, 3, 2]);
  assertClose(
    run('DFT', [spec5, scalar(5, 'int64'), axis(1)], { inverse: 1, onesided: 1 })[0]!,
    [1, 2, 3, 4, 5],
    {
      atol: 1e-12,
    },
  );
});

test('DFT: transforms every line along the axis of a batched tensor', () => {
  // Rows of a [2, 3, 4, 1] tensor transformed along axis 2 equal the 1-D transforms of each row.
  const g = new Generator(7);
  const x = randn([2, 3, 4, 1], { dtype: 'float64', generator: g });
  const y = run('DFT', [x, undefined, axis(2)])[0]!;
  const xs = x.numbers();
  const ys = y.numbers();
  for (let r = 0; r < 6; r++) {
    const row = tensor(Array.from(xs.subarray(r * 4, r * 4 + 4)), { dtype: 'float64' }).reshape([4, 1]);
    assertClose(run('DFT', [row, undefined, axis(0)])[0]!, Array.from(ys.subarray(r * 8, r * 8 + 8)), {
      atol: 1e-12,
    });
  }
});

test('DFT: errors name the op, the expectation and what was got', () => {
  const x = tensor([1, 2, 3]).reshape([3, 1]);
  assert.throws(
    () => run('DFT', [x, undefined, axis(1)]),
    /DFT: axis must be in \[-2, -2\] or \[0, 0\].*got 1/,
  );
  assert.throws(
    () => run('DFT', [tensor([1, 2, 3]).reshape([1, 3])]),
    /DFT: input must have rank >= 2 with a last dim of 1/,
  );
  assert.throws(
    () => run('DFT', [x, scalar(0, 'int64')]),
    /DFT: dft_length must be a positive integer, got 0/,
  );
  assert.throws(
    () => run('DFT', [tensor([1, 2], { dtype: 'int32' }).reshape([2, 1])]),
    /DFT: input must be a float tensor, got int32/,
  );
});

test('DFT: gradients match finite differences in every mode, with padding and cropping', () => {
  const g = new Generator(11);
  const leaf = (shape: number[]) => randn(shape, { dtype: 'float64', generator: g, requiresGrad: true });
  const cases: [number[], number, Record<string, number>, number | undefined][] = [
    [[2, 5, 1], 1, {}, undefined], // real forward
    [[3, 4, 2], -2, {}, undefined], // complex forward
    [[2, 6, 3, 1], 1, { onesided: 1 }, undefined], // RFFT along a middle axis
    [[4, 2], 0, {}, 6], // zero-padded
    [[5, 2], 0, { onesided: 1 }, 3], // cropped, onesided
    [[3, 5, 2], 1, { inverse: 1 }, undefined], // inverse
    [[2, 4, 2], 1, { inverse: 1 }, 7], // inverse, padded
    [[2, 4, 2], 1, { inverse: 1, onesided: 1 }, undefined], // IRFFT, n = 6
    [[3, 2], 0, { inverse: 1, onesided: 1 }, 5], // IRFFT, odd n
    [[2, 3, 1], 1, { inverse: 1, onesided: 1 }, 6], // IRFFT of a real input, padded bins
  ];
  for (const [shape, ax, attrs, len] of cases) {
    const x = leaf(shape);
    const lenT = len === undefined ? undefined : scalar(len, 'int64');
    gradcheck((t) => run('DFT', [t, lenT, axis(ax)], attrs)[0]!, [x]);
  }
});

test('HannWindow, HammingWindow, BlackmanWindow: periodic and symmetric values', () => {
  const size = scalar(4, 'int64');
  // Periodic, N = 4: Hann 0.5 - 0.5 cos(pi n / 2) = [0, 0.5, 1, 0.5] (by hand).
  assertClose(run('HannWindow', [size])[0]!, [0, 0.5, 1, 0.5]);
  // Symmetric, size 5 (N = 4): Hamming 25/46 - 21/46 cos(pi n / 2) = [2/23, 25/46, 1, 25/46, 2/23].
  assertClose(run('HammingWindow', [scalar(5, 'int32')], { periodic: 0 })[0]!, [
    2 / 23,
    25 / 46,
    1,
    25 / 46,
    2 / 23,
  ]);
  // Blackman, symmetric size 5: 0.42 - 0.5 cos(pi n / 2) + 0.08 cos(pi n) = [0, 0.34, 1, 0.34, 0].
  const b = run('BlackmanWindow', [scalar(5, 'int32')], { periodic: 0, output_datatype: 11 })[0]!;
  assert.equal(b.dtype, 'float64');
  assertClose(b, [0, 0.34, 1, 0.34, 0], { atol: 1e-12 });
  // Python's math, size-5 periodic Hann: [0, 0.34549150281252633, 0.9045084971874737, ...].
  assertClose(
    run('HannWindow', [scalar(5, 'int64')])[0]!,
    [0, 0.3454915028125263, 0.9045084971874737, 0.9045084971874737, 0.3454915028125264],
  );
  assert.deepEqual(run('HannWindow', [scalar(1, 'int64')], { periodic: 0 })[0]!.toArray(), [1]);
  assert.deepEqual(run('HannWindow', [scalar(0, 'int64')])[0]!.shape, [0]);
  assert.throws(
    () => run('HannWindow', [int64s([3, 4])]),
    /HannWindow: size must be a scalar int32\/int64 tensor/,
  );
  assert.throws(
    () => run('HannWindow', [size], { output_datatype: 8 }),
    /HannWindow: output_datatype must name a numeric/,
  );
});

test('STFT: windowed frames by hand, frame count, and frame_length without a window', () => {
  // Signal 0..7, frames of 4 every 2 samples (3 frames), Hann window [0, 0.5, 1, 0.5].
  // Frame 0 = [0, 0.5, 2, 1.5]: bins 4, -2 + i, 0 (by hand); frames 1 and 2: 8, -4 + i, 0 and 12, -6 + i, 0.
  const signal = tensor([0, 1, 2, 3, 4, 5, 6, 7], { dtype: 'float64' }).reshape([1, 8, 1]);
  const win = tensor([0, 0.5, 1, 0.5], { dtype: 'float64' });
  const y = run('STFT', [signal, scalar(2, 'int64'), win])[0]!;
  assert.deepEqual(y.shape, [1, 3, 3, 2]);
  assertClose(y, [4, 0, -2, 1, 0, 0, 8, 0, -4, 1, 0, 0, 12, 0, -6, 1, 0, 0], { atol: 1e-12 });
  // No window, frame_length 4, step 4, two-sided: frames [0..3] and [4..7] are plain DFTs.
  const y2 = run('STFT', [signal, scalar(4, 'int64'), undefined, scalar(4, 'int64')], { onesided: 0 })[0]!;
  assert.deepEqual(y2.shape, [1, 2, 4, 2]);
  assertClose(y2, [6, 0, -2, 2, -2, 0, -2, -2, 22, 0, -2, 2, -2, 0, -2, -2], { atol: 1e-12 });
  assert.throws(
    () => run('STFT', [signal, scalar(2, 'int64'), win, scalar(3, 'int64')]),
    /STFT: window has length 4, expected frame_length 3/,
  );
  assert.throws(
    () => run('STFT', [signal, scalar(0, 'int64'), win]),
    /STFT: frame_step must be a positive integer, got 0/,
  );
});

test('MelWeightMatrix: a triangle with peak 1 between the mel band edges', () => {
  // 1 mel bin over [0, 1000] Hz, dft_length 63 at 8000 Hz: 32 spectrum bins of 125 Hz (64/8000).
  // mel(1000) = 2595 log10(1 + 1000/700) = 999.99; the 3 edges step by a third of it: 0, 240.9 and
  // 564.7 Hz (Python's math), i.e. bins 0, 1 and 4. The triangle rises 0 -> 1 over bins 0..1 and
  // falls 1, 2/3, 1/3 over bins 1..3.
  const ins = [
    scalar(1, 'int64'),
    scalar(63, 'int64'),
    scalar(8000, 'int64'),
    scalar(0, 'float32'),
    scalar(1000, 'float32'),
  ];
  const m = run('MelWeightMatrix', ins)[0]!;
  assert.deepEqual(m.shape, [32, 1]);
  const expected = new Array(32).fill(0);
  expected.splice(0, 4, 0, 1, 2 / 3, 1 / 3);
  assertClose(m, expected);
  assert.throws(
    () =>
      run('MelWeightMatrix', [
        scalar(2, 'int64'),
        scalar(8, 'int64'),
        scalar(8000, 'int64'),
        scalar(10, 'float32'),
        scalar(5, 'float32'),
      ]),
    /MelWeightMatrix: expected 0 <= lower_edge_hertz < upper_edge_hertz, got 10 and 5/,
  );
});

test('ONNX conformance: DFT, STFT, windows and MelWeightMatrix node tests', () => {
  runNodeTests([
    'test_dft',
    'test_dft_axis',
    'test_dft_axis_opset19',
    'test_dft_opset19',
    'test_dft_rfft',
    'test_dft_rfft_opset19',
    'test_dft_irfft',
    'test_dft_irfft_opset19',
    'test_stft',
    'test_stft_with_window',
    'test_hannwindow',
    'test_hannwindow_symmetric',
    'test_hammingwindow',
    'test_hammingwindow_symmetric',
    'test_blackmanwindow',
    'test_blackmanwindow_symmetric',
    'test_melweightmatrix',
  ]);
});
