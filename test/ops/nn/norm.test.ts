import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, ones, rand, randn, type Tensor, tensor, zeros } from '../../../src/index.js';
import { dispatch, dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { indices } from './reference.js';

const T = { domain: 'com.tessera' };
const gen = new Generator(23);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });
/** Positive values (variances). */
const pos = (shape: number[], requiresGrad = false) => {
  const t = rand(shape, { dtype: 'float64', generator: gen }).add(0.5);
  return requiresGrad ? t.detach().requiresGrad_() : t;
};

/** Normalizes groups of x (keyed by `key(index)`) with biased variance: the definition, in loops. */
function normalizeRef(x: Tensor, key: (idx: number[]) => string, eps: number): number[] {
  const xs = x.numbers();
  const all = [...indices(x.shape)];
  const groups = new Map<string, number[]>();
  all.forEach((idx, e) => {
    const k = key(idx);
    if (!groups.has(k)) groups.set(k, []);
    groups.get(k)!.push(xs[e]!);
  });
  const stats = new Map<string, [number, number]>();
  for (const [k, v] of groups) {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    stats.set(k, [m, v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length]);
  }
  return all.map((idx, e) => {
    const [m, v] = stats.get(key(idx))!;
    return (xs[e]! - m) / Math.sqrt(v + eps);
  });
}

test('BatchNormalization inference, by hand', () => {
  const x = tensor([[[[1, 2]], [[3, 4]]]]);
  const y = dispatch1(
    'BatchNormalization',
    [x, tensor([2, 1]), tensor([0, 1]), tensor([1, 3]), tensor([1, 4])],
    { epsilon: 0 },
  );
  // channel 0: (1-1)/1*2 = 0, (2-1)/1*2 = 2; channel 1: (3-3)/2+1 = 1, (4-3)/2+1 = 1.5
  assertClose(y, [0, 2, 1, 1.5]);
  // Opset 7 with is_test = 0 and spatial: still inference, as ONNX Runtime.
  const old = dispatch(
    'BatchNormalization',
    [x, tensor([2, 1]), tensor([0, 1]), tensor([1, 3]), tensor([1, 4])],
    { epsilon: 0, is_test: 0, spatial: 1 },
    { opset: 7 },
  );
  assert.equal(old.length, 1);
  assertClose(old[0]!, [0, 2, 1, 1.5]);
});

test('BatchNormalization training mode: batch statistics and running averages, by hand', () => {
  // One channel holding 1 and 3: mean 2, biased variance 1.
  const x = tensor([[[1]], [[3]]]);
  const [y, rm, rv] = dispatch(
    'BatchNormalization',
    [x, tensor([1]), tensor([0]), tensor([0]), tensor([1])],
    { epsilon: 0, momentum: 0.9, training_mode: 1 },
  );
  assertClose(y!, [-1, 1]);
  assertClose(rm!, [0 * 0.9 + 2 * 0.1]);
  assertClose(rv!, [1 * 0.9 + 1 * 0.1]);
});

test('LayerNormalization: by hand, against the definition for every axis, and its Mean/InvStdDev outputs', () => {
  // [1, 2, 3]: mean 2, variance 2/3.
  const s = Math.sqrt(2 / 3);
  assertClose(dispatch1('LayerNormalization', [tensor([[1, 2, 3]]), ones([3])], { epsilon: 0 }), [
    -1 / s,
    0,
    1 / s,
  ]);
  const x = rnd([2, 3, 4]);
  for (const axis of [0, 1, 2, -1, -2]) {
    const a = axis < 0 ? axis + 3 : axis;
    const scale = rnd(x.shape.slice(a));
    const b = rnd(x.shape.slice(a));
    const [y, mean, inv] = dispatch('LayerNormalization', [x, scale, b], { axis, epsilon: 1e-3 });
    const ref = normalizeRef(x, (i) => i.slice(0, a).join(), 1e-3);
    const sc = scale.numbers();
    const bs = b.numbers();
    const inner = scale.numel();
    assertClose(
      y!,
      ref.map((v, e) => v * sc[e % inner]! + bs[e % inner]!),
      { rtol: 1e-10 },
    );
    assert.deepEqual([...mean!.shape], [...x.shape.slice(0, a), ...x.shape.slice(a).map(() => 1)]);
    assert.deepEqual([...inv!.shape], [...mean!.shape]);
  }
});

test('LayerNormalization keeps Mean/InvStdDev in float32 for float16 input (stash_type 1)', () => {
  const [y, mean] = dispatch('LayerNormalization', [tensor([[1, 2, 3]]).half(), ones([3]).half()]);
  assert.equal(y!.dtype, 'float16');
  assert.equal(mean!.dtype, 'float32');
  assertClose(mean!, [2]);
});

test('InstanceNormalization and GroupNormalization (opsets 18 and 21) against the definition', () => {
  const x = rnd([2, 4, 3, 2]);
  const scale = rnd([4]);
  const b = rnd([4]);
  const sc = scale.numbers();
  const bs = b.numbers();
  const inst = normalizeRef(x, (i) => `${i[0]},${i[1]}`, 1e-5);
  const chan = [...indices(x.shape)].map((i) => i[1]!);
  assertClose(
    dispatch1('InstanceNormalization', [x, scale, b]),
    inst.map((v, e) => v * sc[chan[e]!]! + bs[chan[e]!]!),
    { rtol: 1e-10 },
  );
  // Two groups of two channels.
  const grp = normalizeRef(x, (i) => `${i[0]},${Math.floor(i[1]! / 2)}`, 1e-5);
  assertClose(
    dispatch1('GroupNormalization', [x, scale, b], { num_groups: 2 }),
    grp.map((v, e) => v * sc[chan[e]!]! + bs[chan[e]!]!),
    { rtol: 1e-10 },
  );
  // Opset 18: one scale and bias per group.
  const gs = rnd([2]);
  const gb = rnd([2]);
  const y18 = dispatch('GroupNormalization', [x, gs, gb], { num_groups: 2 }, { opset: 18 })[0]!;
  const g = (e: number) => Math.floor(chan[e]! / 2);
  assertClose(
    y18,
    grp.map((v, e) => v * gs.numbers()[g(e)]! + gb.numbers()[g(e)]!),
    { rtol: 1e-10 },
  );
  assert.throws(
    () => dispatch1('GroupNormalization', [x, scale, b], { num_groups: 3 }),
    /GroupNormalization: num_groups must divide the 4 channels of X, got 3/,
  );
});

test('LpNormalization, MeanVarianceNormalization and LRN, by hand', () => {
  assertClose(
    dispatch1('LpNormalization', [
      tensor([
        [3, 4],
        [0, 0],
      ]),
    ]),
    [0.6, 0.8, 0, 0],
  );
  assertClose(dispatch1('LpNormalization', [tensor([[3, -4]])], { p: 1 }), [3 / 7, -4 / 7]);
  assertClose(
    dispatch1(
      'LpNormalization',
      [
        tensor([
          [3, 1],
          [4, 1],
        ]),
      ],
      { axis: 0 },
    ),
    [0.6, Math.SQRT1_2, 0.8, Math.SQRT1_2],
  );
  // MVN over axes [0, 2, 3] of one channel [1, 3]: mean 2, std 1 -> -1, 1 (up to the 1e-9 in the divisor).
  assertClose(dispatch1('MeanVarianceNormalization', [tensor([[[[1, 3]]]])]), [-1, 1]);
  const x = rnd([2, 3, 2, 2]);
  const ref = normalizeRef(x, (i) => String(i[1]), 0);
  assertClose(dispatch1('MeanVarianceNormalization', [x]), ref, { rtol: 1e-7 });
  // LRN over 3 channels [1, 2, 3] with size 3, alpha 3 (alpha/size = 1), beta 1, bias 1:
  // c0 sees 1+4 -> 1/6; c1 sees 1+4+9 -> 2/15; c2 sees 4+9 -> 3/14.
  const lrn = tensor([[[[1]], [[2]], [[3]]]]);
  assertClose(dispatch1('LRN', [lrn], { size: 3, alpha: 3, beta: 1, bias: 1 }), [1 / 6, 2 / 15, 3 / 14]);
  // Even size 2: the window is [c, c + 1] (floor((size-1)/2) before, ceil after): alpha/size = 1.
  assertClose(dispatch1('LRN', [lrn], { size: 2, alpha: 2, beta: 1, bias: 1 }), [1 / 6, 2 / 14, 3 / 10]);
});

test('gradcheck: BatchNormalization inference for all five inputs', () => {
  const [x, s, b, m] = [rnd([2, 3, 2], true), rnd([3], true), rnd([3], true), rnd([3], true)];
  const v = pos([3], true);
  assert.equal(
    gradcheck(
      (x, s, b, m, v) => dispatch1('BatchNormalization', [x, s, b, m, v], { epsilon: 0.1 }),
      [x, s, b, m, v],
    ),
    true,
  );
});

test('gradcheck: BatchNormalization training mode, through Y and the running statistics', () => {
  const [x, s, b, m] = [rnd([3, 2, 2], true), rnd([2], true), rnd([2], true), rnd([2], true)];
  const v = pos([2], true);
  const attrs = { epsilon: 0.01, momentum: 0.8, training_mode: 1 };
  assert.equal(
    gradcheck((x, s, b, m, v) => dispatch('BatchNormalization', [x, s, b, m, v], attrs), [x, s, b, m, v]),
    true,
  );
});

test('gradcheck: LayerNormalization (broadcast scale, bias, Mean and InvStdDev outputs)', () => {
  const [x, s, b] = [rnd([2, 3, 2], true), rnd([2], true), rnd([3, 2], true)];
  assert.equal(
    gradcheck((x, s, b) => dispatch('LayerNormalization', [x, s, b], { axis: 1, epsilon: 1e-3 }), [x, s, b]),
    true,
  );
  assert.equal(
    gradcheck((x, s) => dispatch('LayerNormalization', [x, s], { axis: -1 }), [x, rnd([2], true)]),
    true,
  );
});

test('gradcheck: InstanceNormalization and GroupNormalization 18 / 21', () => {
  const x = rnd([2, 4, 3], true);
  assert.equal(
    gradcheck(
      (x, s, b) => dispatch1('InstanceNormalization', [x, s, b], { epsilon: 1e-3 }),
      [x, rnd([4], true), rnd([4], true)],
    ),
    true,
  );
  assert.equal(
    gradcheck(
      (x, s, b) => dispatch1('GroupNormalization', [x, s, b], { num_groups: 2 }),
      [x, rnd([4], true), rnd([4], true)],
    ),
    true,
  );
  assert.equal(
    gradcheck(
      (x, s, b) => dispatch('GroupNormalization', [x, s, b], { num_groups: 2 }, { opset: 18 })[0]!,
      [x, rnd([2], true), rnd([2], true)],
    ),
    true,
  );
});

test('gradcheck: LpNormalization, MeanVarianceNormalization, LRN', () => {
  const x = rnd([2, 3, 2, 2], true);
  assert.equal(
    gradcheck((x) => dispatch1('LpNormalization', [x], { axis: 1 }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('LpNormalization', [x], { p: 1 }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('MeanVarianceNormalization', [x], { axes: [0, 2] }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('LRN', [x], { size: 3, alpha: 0.5, beta: 0.75, bias: 2 }), [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch1('LRN', [x], { size: 2, alpha: 0.3, beta: 0.6 }), [x]),
    true,
  );
});

test('gradcheck: the differentiable statistics behind the normalization gradients (Moments, RsqrtEps)', () => {
  const x = rnd([2, 3, 2], true);
  assert.equal(
    gradcheck((x) => dispatch('Moments', [x], { axes: [0, 2], epsilon: 0.1 }, T), [x]),
    true,
  );
  assert.equal(
    gradcheck((v) => dispatch1('RsqrtEps', [v], { epsilon: 0.1 }, T), [pos([4], true)]),
    true,
  );
});

test('normalization errors name the op, what it expected and what it got', () => {
  const x = rnd([2, 3, 2]);
  assert.throws(
    () =>
      dispatch1('BatchNormalization', [
        x,
        ones([2], { dtype: 'float64' }),
        zeros([3], { dtype: 'float64' }),
        zeros([3], { dtype: 'float64' }),
        ones([3], { dtype: 'float64' }),
      ]),
    /BatchNormalization: scale must have shape \[3\] \(the channel count of X \[2, 3, 2\]\), got \[2\]/,
  );
  assert.throws(
    () => dispatch1('InstanceNormalization', [x, rnd([2]), rnd([3])]),
    /InstanceNormalization: scale must have shape \[3\], got \[2\]/,
  );
  assert.throws(
    () => dispatch1('LpNormalization', [x], { p: 3 }),
    /LpNormalization: p must be 1 or 2, got 3/,
  );
  assert.throws(() => dispatch1('LRN', [x]), /LRN: attribute 'size' is required/);
});
