import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, randn, Tensor, TesseraError, tensor } from '../../../src/index.js';
import { gemm } from '../../../src/ops/nn/gemm.js';
import { type Attrs, dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { type ConvSpec, convRef, convTransposeRef } from './reference.js';

const T = 'com.tessera';
const gen = new Generator(7);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });

function spec(r: number, o: Partial<ConvSpec> = {}): ConvSpec {
  return {
    strides: o.strides ?? new Array(r).fill(1),
    pads: o.pads ?? new Array(2 * r).fill(0),
    dilations: o.dilations ?? new Array(r).fill(1),
    group: o.group ?? 1,
  };
}
const attrsOf = (s: ConvSpec): Attrs => ({
  strides: s.strides,
  pads: s.pads,
  dilations: s.dilations,
  group: s.group,
});

test('Conv: a 3x3 image with a 2x2 kernel of ones, by hand', () => {
  const x = tensor([
    [
      [
        [0, 1, 2],
        [3, 4, 5],
        [6, 7, 8],
      ],
    ],
  ]);
  const w = tensor([
    [
      [
        [1, 1],
        [1, 1],
      ],
    ],
  ]);
  // Each output is the sum of a 2x2 block: 0+1+3+4 = 8, 1+2+4+5 = 12, 3+4+6+7 = 20, 4+5+7+8 = 24.
  assertClose(dispatch1('Conv', [x, w]), [8, 12, 20, 24]);
  // With pads 1 on every side and bias 1: 2x2 sums over the zero-bordered 5x5 image, plus 1.
  const y = dispatch1('Conv', [x, w, tensor([1])], { pads: [1, 1, 1, 1] });
  assert.deepEqual([...y.shape], [1, 1, 4, 4]);
  assertClose(y, [1, 2, 4, 3, 4, 9, 13, 8, 10, 21, 25, 14, 7, 14, 16, 9]);
});

const CASES: { name: string; x: number[]; w: number[]; s: ConvSpec; bias?: boolean }[] = [
  {
    name: '1-D strided, dilated, asymmetric pads',
    x: [2, 3, 11],
    w: [4, 3, 3],
    s: spec(1, { strides: [2], pads: [1, 2], dilations: [2] }),
    bias: true,
  },
  {
    name: '2-D groups 2',
    x: [1, 4, 5, 6],
    w: [6, 2, 3, 2],
    s: spec(2, { group: 2, pads: [1, 0, 0, 1], strides: [1, 2] }),
    bias: true,
  },
  {
    name: '2-D depthwise with multiplier',
    x: [2, 3, 5, 5],
    w: [6, 1, 3, 3],
    s: spec(2, { group: 3, pads: [1, 1, 1, 1] }),
  },
  { name: '2-D 1x1 kernel (direct GEMM path)', x: [2, 3, 4, 5], w: [5, 3, 1, 1], s: spec(2), bias: true },
  {
    name: '3-D strided and padded',
    x: [1, 2, 4, 5, 3],
    w: [3, 2, 2, 3, 2],
    s: spec(3, { strides: [2, 1, 2], pads: [1, 0, 1, 0, 1, 1] }),
    bias: true,
  },
];

for (const c of CASES) {
  test(`Conv matches the direct definition: ${c.name}`, () => {
    const x = rnd(c.x);
    const w = rnd(c.w);
    const b = c.bias ? rnd([c.w[0]!]) : null;
    const ref = convRef(x.numbers(), c.x, w.numbers(), c.w, b?.numbers() ?? null, c.s);
    const y = dispatch1('Conv', b ? [x, w, b] : [x, w], attrsOf(c.s));
    assert.deepEqual([...y.shape], ref.shape);
    assertClose(y, ref.y, { rtol: 1e-12, atol: 1e-12 });
  });
}

test('Conv auto_pad: SAME_UPPER puts the odd pad at the end, SAME_LOWER at the start, VALID none', () => {
  const x = rnd([1, 1, 6, 5]);
  const w = rnd([2, 1, 3, 2]);
  // Strides 2: out = ceil(6/2) = 3, ceil(5/2) = 3; total pads: (3-1)*2+3-6 = 1, (3-1)*2+2-5 = 1.
  const upper = convRef(
    x.numbers(),
    [1, 1, 6, 5],
    w.numbers(),
    [2, 1, 3, 2],
    null,
    spec(2, { strides: [2, 2], pads: [0, 0, 1, 1] }),
  );
  const lower = convRef(
    x.numbers(),
    [1, 1, 6, 5],
    w.numbers(),
    [2, 1, 3, 2],
    null,
    spec(2, { strides: [2, 2], pads: [1, 1, 0, 0] }),
  );
  const valid = convRef(
    x.numbers(),
    [1, 1, 6, 5],
    w.numbers(),
    [2, 1, 3, 2],
    null,
    spec(2, { strides: [2, 2] }),
  );
  assertClose(dispatch1('Conv', [x, w], { strides: [2, 2], auto_pad: 'SAME_UPPER' }), upper.y, {
    rtol: 1e-12,
  });
  assertClose(dispatch1('Conv', [x, w], { strides: [2, 2], auto_pad: 'SAME_LOWER' }), lower.y, {
    rtol: 1e-12,
  });
  const v = dispatch1('Conv', [x, w], { strides: [2, 2], auto_pad: 'VALID', pads: [5, 5, 5, 5] });
  assert.deepEqual([...v.shape], valid.shape);
  assertClose(v, valid.y, { rtol: 1e-12 });
});

test('Conv keeps float32 and float16 dtypes and handles an empty batch', () => {
  const x = tensor([[[1, 2, 3]]]);
  const w = tensor([[[1, -1]]]);
  const y = dispatch1('Conv', [x, w]);
  assert.equal(y.dtype, 'float32');
  assertClose(y, [-1, -1]);
  const h = dispatch1('Conv', [x.half(), w.half()]);
  assert.equal(h.dtype, 'float16');
  assertClose(h, [-1, -1]);
  const e = dispatch1('Conv', [Tensor.empty([0, 1, 3], 'float32'), w]);
  assert.deepEqual([...e.shape], [0, 1, 2]);
});

test('Conv errors name the op, the expectation and what was given', () => {
  const x = rnd([1, 3, 4, 4]);
  assert.throws(
    () => dispatch1('Conv', [x, rnd([2, 2, 3, 3])]),
    (e: unknown) =>
      e instanceof TesseraError &&
      /Conv: X has 3 channels, expected W.shape\[1\] \* group = 2 \* 1/.test(e.message),
  );
  assert.throws(
    () => dispatch1('Conv', [x, rnd([2, 3, 5, 5])]),
    /Conv: input spatial size \[4, 4\].*smaller than the dilated kernel/,
  );
  assert.throws(
    () => dispatch1('Conv', [x, rnd([2, 3, 1, 1]), rnd([3])]),
    /Conv: B must have shape \[2\], got \[3\]/,
  );
  assert.throws(
    () => dispatch1('Conv', [x, rnd([2, 3, 1, 1])], { strides: [1] }),
    /Conv: attribute 'strides' must have 2 values/,
  );
  assert.throws(
    () => dispatch1('Conv', [x, tensor([[[[1]]]], { dtype: 'float32' })]),
    /Conv: inputs must have the same dtype/,
  );
});

const T_CASES: { name: string; x: number[]; w: number[]; s: ConvSpec; op: number[]; bias?: boolean }[] = [
  {
    name: '1-D stride 2, output_padding 1',
    x: [2, 2, 4],
    w: [2, 3, 3],
    s: spec(1, { strides: [2], pads: [1, 0] }),
    op: [1],
    bias: true,
  },
  {
    name: '2-D groups 2, dilation 2',
    x: [1, 4, 3, 3],
    w: [4, 1, 2, 2],
    s: spec(2, { group: 2, dilations: [2, 1], strides: [1, 2] }),
    op: [0, 1],
  },
  {
    name: '3-D',
    x: [1, 2, 2, 3, 2],
    w: [2, 2, 2, 2, 3],
    s: spec(3, { strides: [2, 1, 2], pads: [0, 1, 1, 0, 0, 1] }),
    op: [0, 0, 1],
    bias: true,
  },
];

for (const c of T_CASES) {
  test(`ConvTranspose matches the scatter definition: ${c.name}`, () => {
    const x = rnd(c.x);
    const w = rnd(c.w);
    const b = c.bias ? rnd([c.w[1]! * c.s.group]) : null;
    const r = c.x.length - 2;
    const out = c.x
      .slice(2)
      .map(
        (n, i) =>
          c.s.strides[i]! * (n - 1) +
          c.op[i]! +
          (c.w[i + 2]! - 1) * c.s.dilations[i]! +
          1 -
          c.s.pads[i]! -
          c.s.pads[i + r]!,
      );
    const ref = convTransposeRef(x.numbers(), c.x, w.numbers(), c.w, b?.numbers() ?? null, c.s, out);
    const y = dispatch1('ConvTranspose', b ? [x, w, b] : [x, w], { ...attrsOf(c.s), output_padding: c.op });
    assert.deepEqual([...y.shape], [c.x[0], c.w[1]! * c.s.group, ...out]);
    assertClose(y, ref, { rtol: 1e-12, atol: 1e-12 });
  });
}

test('ConvTranspose output_shape and auto_pad pick the pads (extra at the start unless SAME_UPPER)', () => {
  const x = rnd([1, 1, 3]);
  const w = rnd([1, 1, 3]);
  // Stride 2: the full output is 2*(3-1)+3 = 7; output_shape 6 leaves total padding 1, at the start.
  const ref = convTransposeRef(
    x.numbers(),
    [1, 1, 3],
    w.numbers(),
    [1, 1, 3],
    null,
    spec(1, { strides: [2], pads: [1, 0] }),
    [6],
  );
  assertClose(dispatch1('ConvTranspose', [x, w], { strides: [2], output_shape: [6] }), ref, { rtol: 1e-12 });
  const upper = convTransposeRef(
    x.numbers(),
    [1, 1, 3],
    w.numbers(),
    [1, 1, 3],
    null,
    spec(1, { strides: [2], pads: [0, 1] }),
    [6],
  );
  const y = dispatch1('ConvTranspose', [x, w], { strides: [2], auto_pad: 'SAME_UPPER' });
  assert.deepEqual([...y.shape], [1, 1, 6]);
  assertClose(y, upper, { rtol: 1e-12 });
});

test('gradcheck: Conv 1-D with stride, pads, dilation and bias', () => {
  const s = spec(1, { strides: [2], pads: [2, 1], dilations: [2] });
  const [x, w, b] = [rnd([2, 2, 7], true), rnd([3, 2, 2], true), rnd([3], true)];
  assert.equal(
    gradcheck((x, w, b) => dispatch1('Conv', [x, w, b], attrsOf(s)), [x, w, b]),
    true,
  );
});

test('gradcheck: Conv 2-D with groups and asymmetric pads', () => {
  const s = spec(2, { group: 2, strides: [2, 1], pads: [1, 0, 0, 1] });
  const [x, w, b] = [rnd([1, 4, 4, 3], true), rnd([2, 2, 2, 2], true), rnd([2], true)];
  assert.equal(
    gradcheck((x, w, b) => dispatch1('Conv', [x, w, b], attrsOf(s)), [x, w, b]),
    true,
  );
});

test('gradcheck: Conv 3-D and auto_pad SAME_LOWER', () => {
  const [x, w] = [rnd([1, 1, 3, 3, 2], true), rnd([2, 1, 2, 2, 2], true)];
  assert.equal(
    gradcheck((x, w) => dispatch1('Conv', [x, w], { auto_pad: 'SAME_LOWER', strides: [2, 1, 1] }), [x, w]),
    true,
  );
});

test('gradcheck: ConvTranspose with output_padding, groups and bias', () => {
  const attrs = { strides: [2, 2], pads: [1, 0, 0, 1], output_padding: [1, 0], group: 2 };
  const [x, w, b] = [rnd([1, 2, 2, 3], true), rnd([2, 2, 3, 2], true), rnd([4], true)];
  assert.equal(
    gradcheck((x, w, b) => dispatch1('ConvTranspose', [x, w, b], attrs), [x, w, b]),
    true,
  );
});

test('gradcheck: second order through ConvWeightGrad (the gradient of the gradient)', () => {
  const attrs = { kernel_shape: [2, 2], strides: [2, 1], pads: [1, 0, 0, 1], dilations: [1, 1], group: 1 };
  // Conv of [1, 2, 4, 3] by a 2x2 kernel, strides (2, 1), pads (1,0,0,1): output spatial
  // [floor((4+1-2)/2)+1, (3+1-2)+1] = [2, 3].
  const [x, dy] = [rnd([1, 2, 4, 3], true), rnd([1, 3, 2, 3], true)];
  assert.equal(
    gradcheck((x, dy) => dispatch1('ConvWeightGrad', [x, dy], attrs, { domain: T }), [x, dy]),
    true,
  );
});

test('backward through a conv reaches x, w and b with their shapes', () => {
  const x = rnd([2, 3, 5, 5], true);
  const w = rnd([4, 3, 3, 3], true);
  const b = rnd([4], true);
  dispatch1('Conv', [x, w, b], { pads: [1, 1, 1, 1] })
    .sum()
    .backward();
  assert.deepEqual([...x.grad!.shape], [2, 3, 5, 5]);
  assert.deepEqual([...w.grad!.shape], [4, 3, 3, 3]);
  // d(sum y)/db = number of output positions per channel: 2 images x 25 positions.
  assertClose(b.grad!, [50, 50, 50, 50]);
});

test('gemm matches a triple loop for every transpose combination, odd sizes and accumulation', () => {
  // N above the 512-column block and M not a multiple of the 4-row unroll.
  const [M, N, K] = [7, 530, 5];
  const A = Float64Array.from({ length: M * K }, (_, i) => Math.sin(i));
  const B = Float64Array.from({ length: K * N }, (_, i) => Math.cos(i));
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const a = (i: number, p: number) => (transA ? A[p * M + i]! : A[i * K + p]!);
      const b = (p: number, j: number) => (transB ? B[j * K + p]! : B[p * N + j]!);
      const C = new Float64Array(2 + M * N).fill(1);
      gemm(transA, transB, M, N, K, A, 0, B, 0, C, 2, true);
      for (let i = 0; i < M; i++) {
        for (let j = 0; j < N; j++) {
          let s = 1;
          for (let p = 0; p < K; p++) s += a(i, p) * b(p, j);
          assert.ok(
            Math.abs(C[2 + i * N + j]! - s) < 1e-12,
            `transA ${transA} transB ${transB} (${i}, ${j})`,
          );
        }
      }
      assert.deepEqual([C[0], C[1]], [1, 1]);
    }
  }
});
