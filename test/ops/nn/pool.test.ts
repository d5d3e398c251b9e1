import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, Generator, gradcheck, int64s, randn, TesseraError, tensor } from '../../../src/index.js';
import { dispatch, dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { flatIndex, poolRef } from './reference.js';

const T = { domain: 'com.tessera' };
const gen = new Generator(11);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });

test('MaxPool 2x2 stride 2 on 0..15, by hand, with whole-tensor indices', () => {
  const x = arange(0, 32, 1, { dtype: 'float32' }).reshape(1, 2, 4, 4);
  const [y, ind] = dispatch('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
  // Channel 0 holds 0..15: window maxima are the bottom-right corners 5, 7, 13, 15; channel 1 adds 16.
  assertClose(y!, [5, 7, 13, 15, 21, 23, 29, 31]);
  assert.equal(ind!.dtype, 'int64');
  assert.deepEqual(ind!.toArray(), [
    [
      [
        [5, 7],
        [13, 15],
      ],
      [
        [21, 23],
        [29, 31],
      ],
    ],
  ]);
  // storage_order 1: the spatial index is column-major (w * H + h): (1,1) -> 5, (1,3) -> 13, (3,1) -> 7.
  const [, col] = dispatch('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2], storage_order: 1 });
  assert.deepEqual(col!.toArray(), [
    [
      [
        [5, 13],
        [7, 15],
      ],
      [
        [21, 29],
        [23, 31],
      ],
    ],
  ]);
});

const MAX_CASES = [
  { name: '1-D pads and dilation', x: [2, 2, 9], k: [3], s: { strides: [2], pads: [1, 2], dilations: [2] } },
  {
    name: '2-D ceil mode',
    x: [1, 2, 5, 6],
    k: [2, 3],
    s: { strides: [2, 2], pads: [0, 1, 1, 0], dilations: [1, 1], ceil: true },
  },
  {
    name: '3-D',
    x: [1, 1, 4, 3, 5],
    k: [2, 2, 3],
    s: { strides: [1, 2, 2], pads: [1, 0, 1, 0, 1, 1], dilations: [1, 1, 1] },
  },
];

for (const c of MAX_CASES) {
  test(`MaxPool and its indices match the direct definition: ${c.name}`, () => {
    const x = rnd(c.x);
    const xs = x.numbers();
    const ref = poolRef(xs, c.x, c.k, c.s, (v) => Math.max(...v));
    const attrs = {
      kernel_shape: c.k,
      strides: c.s.strides,
      pads: c.s.pads,
      dilations: c.s.dilations,
      ceil_mode: c.s.ceil ? 1 : 0,
    };
    const [y, ind] = dispatch('MaxPool', [x], attrs);
    assert.deepEqual([...y!.shape], ref.shape);
    assertClose(y!, ref.y, { rtol: 0, atol: 0 });
    // Each index points at an element equal to the window maximum.
    const iv = ind!.numbers();
    const ys = y!.numbers();
    for (let i = 0; i < ys.length; i++) assert.equal(xs[iv[i]!], ys[i]);
  });
}

test('MaxPool keeps int8 and uint8', () => {
  const x = tensor(
    [
      [
        [
          [1, 200],
          [3, 4],
        ],
      ],
    ],
    { dtype: 'uint8' },
  );
  const y = dispatch1('MaxPool', [x], { kernel_shape: [2, 2] });
  assert.equal(y.dtype, 'uint8');
  assert.deepEqual(y.toArray(), [[[[200]]]]);
  const z = dispatch1('MaxPool', [tensor([[[-5, -3, -9]]], { dtype: 'int8' })], { kernel_shape: [2] });
  assert.deepEqual(z.toArray(), [[[-3, -3]]]);
});

const AVG_CASES = [
  {
    name: 'pads, count_include_pad 0',
    x: [1, 2, 5, 5],
    k: [3, 3],
    s: { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] },
    include: 0,
  },
  {
    name: 'pads, count_include_pad 1',
    x: [1, 2, 5, 5],
    k: [3, 3],
    s: { strides: [2, 2], pads: [1, 1, 1, 1], dilations: [1, 1] },
    include: 1,
  },
  {
    name: 'ceil mode with padding counted up to the padded edge',
    x: [1, 1, 6, 7],
    k: [3, 2],
    s: { strides: [2, 3], pads: [1, 0, 1, 1], dilations: [1, 1], ceil: true },
    include: 1,
  },
  {
    name: 'dilations (opset 19)',
    x: [2, 1, 7],
    k: [3],
    s: { strides: [1], pads: [2, 1], dilations: [2] },
    include: 0,
  },
];

for (const c of AVG_CASES) {
  test(`AveragePool matches the direct definition: ${c.name}`, () => {
    const x = rnd(c.x);
    const ref = poolRef(
      x.numbers(),
      c.x,
      c.k,
      c.s,
      (v, padCount) => v.reduce((a, b) => a + b, 0) / (c.include ? padCount : v.length),
    );
    const attrs = {
      kernel_shape: c.k,
      strides: c.s.strides,
      pads: c.s.pads,
      dilations: c.s.dilations,
      ceil_mode: c.s.ceil ? 1 : 0,
      count_include_pad: c.include,
    };
    const y = dispatch1('AveragePool', [x], attrs);
    assert.deepEqual([...y.shape], ref.shape);
    assertClose(y, ref.y, { rtol: 1e-12 });
  });
}

test('LpPool p = 1, 2, 3 matches (sum |x|^p)^(1/p) over each window', () => {
  const x = rnd([1, 2, 4, 5]);
  const s = { strides: [1, 2], pads: [0, 1, 1, 0], dilations: [1, 1] };
  for (const p of [1, 2, 3]) {
    const ref = poolRef(
      x.numbers(),
      [1, 2, 4, 5],
      [2, 2],
      s,
      (v) => v.reduce((a, b) => a + Math.abs(b) ** p, 0) ** (1 / p),
    );
    assertClose(
      dispatch1('LpPool', [x], { kernel_shape: [2, 2], strides: s.strides, pads: s.pads, p }),
      ref.y,
      { rtol: 1e-12 },
    );
  }
});

test('GlobalAveragePool, GlobalMaxPool and GlobalLpPool, by hand', () => {
  const x = tensor([
    [
      [
        [1, 2],
        [3, 6],
      ],
      [
        [-1, -2],
        [-3, -4],
      ],
    ],
  ]);
  assertClose(dispatch1('GlobalAveragePool', [x]), [3, -2.5]);
  assertClose(dispatch1('GlobalMaxPool', [x]), [6, -1]);
  // sqrt(1 + 4 + 9 + 36) = sqrt(50); sqrt(1 + 4 + 9 + 16) = sqrt(30)
  assertClose(dispatch1('GlobalLpPool', [x]), [Math.sqrt(50), Math.sqrt(30)]);
});

test('AdaptiveAveragePool windows are [floor(i*in/out), ceil((i+1)*in/out))', () => {
  const x = tensor([[[1, 2, 3, 4, 5]]]);
  // in 5, out 3: [0, 2), [1, 4), [3, 5) -> 1.5, 3, 4.5
  assertClose(dispatch1('AdaptiveAveragePool', [x], { output_size: [3] }, T), [1.5, 3, 4.5]);
  const x2 = arange(0, 12, 1, { dtype: 'float32' }).reshape(1, 1, 3, 4);
  // rows [0,2) and [1,3); cols [0,2) and [2,4)
  const y = dispatch1('AdaptiveAveragePool', [x2], { output_size: [2, 2] }, T);
  assertClose(y, [(0 + 1 + 4 + 5) / 4, (2 + 3 + 6 + 7) / 4, (4 + 5 + 8 + 9) / 4, (6 + 7 + 10 + 11) / 4]);
  assert.throws(
    () => dispatch1('AdaptiveAveragePool', [x2], { output_size: [2] }, T),
    /AdaptiveAveragePool: output_size must hold 2 positive integers/,
  );
});

test('MaxUnpool places values at the pooling indices (and in the leading corner of a larger output_shape)', () => {
  const x = tensor([
    [
      [
        [5, 6],
        [7, 8],
      ],
    ],
  ]);
  const idx = int64s([5, 7, 13, 15]).reshape(1, 1, 2, 2);
  const y = dispatch1('MaxUnpool', [x, idx], { kernel_shape: [2, 2], strides: [2, 2] });
  assert.deepEqual(y.toArray(), [
    [
      [
        [0, 0, 0, 0],
        [0, 5, 0, 6],
        [0, 0, 0, 0],
        [0, 7, 0, 8],
      ],
    ],
  ]);
  const big = dispatch1('MaxUnpool', [x, idx, int64s([1, 1, 5, 5])], {
    kernel_shape: [2, 2],
    strides: [2, 2],
  });
  const flat = big.numbers();
  assert.deepEqual([flat[6], flat[8], flat[16], flat[18]], [5, 6, 7, 8]);
  assert.equal(
    [...flat].reduce((a, b) => a + b, 0),
    26,
  );
});

test('pooling errors name the op and what was wrong', () => {
  const x = rnd([1, 1, 4, 4]);
  assert.throws(
    () => dispatch1('MaxPool', [x], { kernel_shape: [2, 2], pads: [-1, 0, 0, 0] }),
    /MaxPool: pads must be >= 0/,
  );
  assert.throws(() => dispatch1('MaxPool', [x]), /MaxPool: attribute 'kernel_shape' is required/);
  assert.throws(
    () => dispatch1('AveragePool', [rnd([4, 4])], { kernel_shape: [2] }),
    /AveragePool: X must be \[N, C, \.\.\.spatial\] with rank >= 3, got shape \[4, 4\]/,
  );
  assert.throws(
    () => dispatch1('MaxPool', [x], { kernel_shape: [2, 2], storage_order: 2 }),
    (e: unknown) => e instanceof TesseraError && /storage_order must be 0 or 1, got 2/.test(e.message),
  );
});

test('gradcheck: MaxPool 2-D with pads, dilation and ceil mode', () => {
  const x = rnd([1, 2, 5, 4], true);
  const attrs = {
    kernel_shape: [2, 2],
    strides: [2, 1],
    pads: [1, 0, 0, 1],
    dilations: [1, 2],
    ceil_mode: 1,
  };
  assert.equal(
    gradcheck((x) => dispatch('MaxPool', [x], attrs)[0]!, [x]),
    true,
  );
});

test('gradcheck: MaxPool with storage_order 1 and 1-D / 3-D windows', () => {
  const x = rnd([1, 1, 4, 3], true);
  assert.equal(
    gradcheck((x) => dispatch('MaxPool', [x], { kernel_shape: [2, 2], storage_order: 1 })[0]!, [x]),
    true,
  );
  const x1 = rnd([2, 1, 6], true);
  assert.equal(
    gradcheck(
      (x) => dispatch('MaxPool', [x], { kernel_shape: [3], strides: [2], auto_pad: 'SAME_UPPER' })[0]!,
      [x1],
    ),
    true,
  );
  const x3 = rnd([1, 1, 3, 3, 2], true);
  assert.equal(
    gradcheck((x) => dispatch('MaxPool', [x], { kernel_shape: [2, 2, 2] })[0]!, [x3]),
    true,
  );
});

test('gradcheck: AveragePool (count_include_pad, ceil mode, dilations) and its second order', () => {
  const x = rnd([1, 2, 5, 4], true);
  for (const include of [0, 1]) {
    const attrs = {
      kernel_shape: [3, 2],
      strides: [2, 2],
      pads: [1, 1, 1, 0],
      ceil_mode: 1,
      count_include_pad: include,
    };
    assert.equal(
      gradcheck((x) => dispatch1('AveragePool', [x], attrs), [x]),
      true,
    );
  }
  assert.equal(
    gradcheck((x) => dispatch1('AveragePool', [x], { kernel_shape: [2, 2], dilations: [2, 1] }), [x]),
    true,
  );
  const attrs = { kernel_shape: [2, 2], strides: [2, 2], pads: [1, 1, 0, 0], input_shape: [1, 2, 5, 4] };
  // AveragePoolGrad (the adjoint) is differentiable too: its gradient is AveragePool. The pooled
  // size is [floor((5+1-2)/2)+1, floor((4+1-2)/2)+1] = [3, 2].
  const dy = rnd([1, 2, 3, 2], true);
  assert.equal(
    gradcheck((g) => dispatch1('AveragePoolGrad', [g], attrs, T), [dy]),
    true,
  );
});

test('gradcheck: LpPool, GlobalAveragePool, GlobalMaxPool, AdaptiveAveragePool, MaxUnpool', () => {
  const x = rnd([1, 2, 4, 3], true);
  assert.equal(
    gradcheck((x) => dispatch1('LpPool', [x], { kernel_shape: [2, 2], pads: [1, 0, 0, 1], p: 3 }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('LpPool', [x], { kernel_shape: [2, 2], p: 2 }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('GlobalAveragePool', [x]), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('GlobalMaxPool', [x]), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('AdaptiveAveragePool', [x], { output_size: [3, 2] }, T), [x]),
    true,
  );
  const v = rnd([1, 1, 2, 2], true);
  const idx = int64s([5, 7, 13, 15]).reshape(1, 1, 2, 2);
  assert.equal(
    gradcheck((v) => dispatch1('MaxUnpool', [v, idx], { kernel_shape: [2, 2], strides: [2, 2] }), [v]),
    true,
  );
});

test("gradcheck: FlatGather and FlatScatterAdd are each other's gradients", () => {
  const idx = int64s([0, 3, 3, 5]);
  const d = rnd([2, 3], true);
  assert.equal(
    gradcheck((d) => dispatch1('FlatGather', [d, idx], {}, T), [d]),
    true,
  );
  const v = rnd([4], true);
  assert.equal(
    gradcheck((v) => dispatch1('FlatScatterAdd', [v, idx], { shape: [2, 3] }, T), [v]),
    true,
  );
  // Repeated indices accumulate.
  const s = dispatch1('FlatScatterAdd', [tensor([1, 2, 3, 4]), idx], { shape: [6] }, T);
  assertClose(s, [1, 0, 0, 5, 0, 4]);
  assert.equal(flatIndex([1, 2], [2, 3]), 5);
});
