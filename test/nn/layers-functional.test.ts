/**
 * Layers that run through nn.functional (conv, pooling, normalization, dropout): outputs against
 * plain-JS loops written here from the definitions in PyTorch's documentation, running-statistics
 * bookkeeping of BatchNorm, train/eval switching, and gradcheck.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, nn, type Tensor, tensor } from '../../src/index.js';
import { assertClose } from '../helpers/close.js';

const gen = new Generator(4242);
function randTensor(shape: number[], requiresGrad = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Float64Array.from({ length: n }, () => gen.uniform() * 4 - 2),
    { shape },
  ).requiresGrad_(requiresGrad);
}

/** Overwrites a float64 parameter's values (test setup). */
function setValues(t: Tensor, values: number[]): void {
  (t.storage.data as Float64Array).set(values, t.offset);
}

/** Direct 2-d convolution (cross-correlation) with zero padding [top, left], stride, dilation, groups. */
function conv2dRef(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  s: [number, number],
  p: [number, number],
  d: [number, number],
  groups: number,
): { out: number[]; shape: number[] } {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const [O, Cg, KH, KW] = w.shape as [number, number, number, number];
  const OH = Math.floor((H + 2 * p[0] - d[0] * (KH - 1) - 1) / s[0]) + 1;
  const OW = Math.floor((W + 2 * p[1] - d[1] * (KW - 1) - 1) / s[1]) + 1;
  const xv = x.numbers();
  const wv = w.numbers();
  const bv = b?.numbers();
  const out: number[] = [];
  const og = O / groups;
  for (let n = 0; n < N; n++)
    for (let o = 0; o < O; o++)
      for (let i = 0; i < OH; i++)
        for (let j = 0; j < OW; j++) {
          let acc = bv ? bv[o]! : 0;
          const g = Math.floor(o / og);
          for (let c = 0; c < Cg; c++)
            for (let ki = 0; ki < KH; ki++)
              for (let kj = 0; kj < KW; kj++) {
                const hi = i * s[0] - p[0] + ki * d[0];
                const wj = j * s[1] - p[1] + kj * d[1];
                if (hi < 0 || hi >= H || wj < 0 || wj >= W) continue;
                acc +=
                  xv[((n * C + g * Cg + c) * H + hi) * W + wj]! * wv[((o * Cg + c) * KH + ki) * KW + kj]!;
              }
          out.push(acc);
        }
  return { out, shape: [N, O, OH, OW] };
}

test('Conv2d: stride, padding, dilation and groups against a direct loop; gradcheck', () => {
  const cases: [number[], object, [number, number], [number, number], [number, number], number][] = [
    [[1, 1, 1, 1], {}, [1, 1], [0, 0], [1, 1], 1],
    [[2, 4, 5, 6], { stride: 2, padding: 1 }, [2, 2], [1, 1], [1, 1], 1],
    [[1, 4, 7, 7], { stride: [1, 2], padding: [2, 0], dilation: 2, groups: 2 }, [1, 2], [2, 0], [2, 2], 2],
  ];
  for (const [xs, opts, s, p, d, groups] of cases) {
    const conv = new nn.Conv2d(4, 6, [3, 2], { ...opts, dtype: 'float64' });
    const x = randTensor([xs[0]!, 4, xs[2]! + 2, xs[3]! + 2]);
    const ref = conv2dRef(x, conv.weight, conv.bias, s, p, d, groups);
    const y = conv.forward(x);
    assert.deepEqual(y.shape, ref.shape);
    assertClose(y, ref.out, { rtol: 1e-10, atol: 1e-12 });
  }
  // 'same' keeps the spatial size (stride 1), 'valid' is no padding.
  const same = new nn.Conv2d(2, 3, 3, { padding: 'same', dtype: 'float64' });
  const xs = randTensor([1, 2, 5, 4]);
  assert.deepEqual(same.forward(xs).shape, [1, 3, 5, 4]);
  assertClose(same.forward(xs), conv2dRef(xs, same.weight, same.bias, [1, 1], [1, 1], [1, 1], 1).out, {
    rtol: 1e-10,
  });
  const valid = new nn.Conv2d(2, 3, 3, { padding: 'valid', bias: false, dtype: 'float64' });
  assert.deepEqual(valid.forward(xs).shape, [1, 3, 3, 2]);
  assert.throws(
    () => new nn.Conv2d(2, 3, 3, { padding: 'same', stride: 2 }),
    /padding='same' is not supported for strided convolutions/,
  );
  assert.throws(
    () => new nn.Conv2d(3, 4, 3, { groups: 2 }),
    /in_channels \(3\) must be divisible by groups \(2\)/,
  );

  const small = new nn.Conv2d(2, 2, 2, { stride: 1, padding: 1, groups: 2, dtype: 'float64' });
  const xg = randTensor([1, 2, 3, 3], true);
  assert.equal(
    gradcheck((a) => small.forward(a), [xg, small.weight, small.bias!]),
    true,
  );
});

test('Conv1d: against the 2-d reference with a height of 1', () => {
  const conv = new nn.Conv1d(3, 4, 3, { stride: 2, padding: 1, dtype: 'float64' });
  const x = randTensor([2, 3, 9]);
  const ref = conv2dRef(
    x.reshape(2, 3, 1, 9),
    conv.weight.reshape(4, 3, 1, 3),
    conv.bias,
    [1, 2],
    [0, 1],
    [1, 1],
    1,
  );
  const y = conv.forward(x);
  assert.deepEqual(y.shape, [2, 4, 5]);
  assertClose(y, ref.out, { rtol: 1e-10, atol: 1e-12 });
  const xg = randTensor([1, 3, 5], true);
  const c = new nn.Conv1d(3, 2, 2, { dtype: 'float64' });
  assert.equal(
    gradcheck((a) => c.forward(a), [xg, c.weight]),
    true,
  );
});

/** Pooling windows over one [H, W] plane: `reduce` gets the values inside the input and the window's size. */
function pool2dRef(
  x: Tensor,
  k: number,
  s: number,
  p: number,
  ceil: boolean,
  reduce: (vals: number[], window: number) => number,
): number[] {
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const size = (L: number) => {
    let o = (ceil ? Math.ceil : Math.floor)((L + 2 * p - k) / s) + 1;
    if (ceil && (o - 1) * s >= L + p) o--; // the last window must start inside the input or left padding
    return o;
  };
  const [OH, OW] = [size(H), size(W)];
  const xv = x.numbers();
  const out: number[] = [];
  for (let nc = 0; nc < N * C; nc++)
    for (let i = 0; i < OH; i++)
      for (let j = 0; j < OW; j++) {
        const vals: number[] = [];
        const h0 = i * s - p;
        const w0 = j * s - p;
        // window clipped to input + padding (torch's count_include_pad divisor)
        const hEnd = Math.min(h0 + k, H + p);
        const wEnd = Math.min(w0 + k, W + p);
        const window = (hEnd - h0) * (wEnd - w0);
        for (let h = Math.max(h0, 0); h < Math.min(h0 + k, H); h++)
          for (let w = Math.max(w0, 0); w < Math.min(w0 + k, W); w++) vals.push(xv[(nc * H + h) * W + w]!);
        out.push(reduce(vals, window));
      }
  return out;
}

test('MaxPool2d and AvgPool2d: windows, padding, ceilMode, countIncludePad', () => {
  const x = randTensor([2, 3, 5, 6]);
  const max = (v: number[]) => Math.max(...v);
  const meanAll = (v: number[], window: number) => v.reduce((a, b) => a + b, 0) / window;
  const meanIn = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  assertClose(new nn.MaxPool2d(2).forward(x), pool2dRef(x, 2, 2, 0, false, max));
  const mp = new nn.MaxPool2d(3, { stride: 2, padding: 1, ceilMode: true });
  const y = mp.forward(x);
  assert.deepEqual(y.shape, [2, 3, 3, 4]);
  assertClose(y, pool2dRef(x, 3, 2, 1, true, max));
  assertClose(new nn.AvgPool2d(2).forward(x), pool2dRef(x, 2, 2, 0, false, meanAll), { rtol: 1e-12 });
  assertClose(
    new nn.AvgPool2d(3, { stride: 2, padding: 1 }).forward(x),
    pool2dRef(x, 3, 2, 1, false, meanAll),
    {
      rtol: 1e-12,
    },
  );
  assertClose(
    new nn.AvgPool2d(3, { stride: 2, padding: 1, countIncludePad: false }).forward(x),
    pool2dRef(x, 3, 2, 1, false, meanIn),
    { rtol: 1e-12 },
  );
  const xg = randTensor([1, 2, 4, 4], true);
  assert.equal(
    gradcheck((a) => new nn.MaxPool2d(2).forward(a), [xg]),
    true,
  );
  assert.equal(
    gradcheck((a) => new nn.AvgPool2d(3, { stride: 1, padding: 1 }).forward(a), [xg]),
    true,
  );
});

test('AdaptiveAvgPool2d: bins [floor(i L / out), ceil((i + 1) L / out))', () => {
  const x = randTensor([1, 2, 5, 7]);
  const xv = x.numbers();
  const y = new nn.AdaptiveAvgPool2d([3, 2]).forward(x);
  assert.deepEqual(y.shape, [1, 2, 3, 2]);
  const ref: number[] = [];
  for (let c = 0; c < 2; c++)
    for (let i = 0; i < 3; i++)
      for (let j = 0; j < 2; j++) {
        const [h0, h1] = [Math.floor((i * 5) / 3), Math.ceil(((i + 1) * 5) / 3)];
        const [w0, w1] = [Math.floor((j * 7) / 2), Math.ceil(((j + 1) * 7) / 2)];
        let s = 0;
        for (let h = h0; h < h1; h++) for (let w = w0; w < w1; w++) s += xv[(c * 5 + h) * 7 + w]!;
        ref.push(s / ((h1 - h0) * (w1 - w0)));
      }
  assertClose(y, ref, { rtol: 1e-12 });
  assert.deepEqual(new nn.AdaptiveAvgPool2d(1).forward(x).shape, [1, 2, 1, 1]);
  const xg = randTensor([1, 1, 5, 4], true);
  assert.equal(
    gradcheck((a) => new nn.AdaptiveAvgPool2d([2, 3]).forward(a), [xg]),
    true,
  );
});

/** Per-channel mean and biased/unbiased variance over every dim but 1. */
function channelStats(x: Tensor): { mean: number[]; varB: number[]; varU: number[] } {
  const [N, C] = x.shape as [number, number];
  const inner = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const xv = x.numbers();
  const mean: number[] = [];
  const varB: number[] = [];
  const varU: number[] = [];
  for (let c = 0; c < C; c++) {
    const vals: number[] = [];
    for (let n = 0; n < N; n++) for (let k = 0; k < inner; k++) vals.push(xv[(n * C + c) * inner + k]!);
    const m = vals.reduce((a, b) => a + b, 0) / vals.length;
    const q = vals.reduce((a, b) => a + (b - m) ** 2, 0);
    mean.push(m);
    varB.push(q / vals.length);
    varU.push(q / (vals.length - 1));
  }
  return { mean, varB, varU };
}

function normalizeRef(
  x: Tensor,
  mean: number[],
  vars: number[],
  eps: number,
  w?: number[],
  b?: number[],
): number[] {
  const C = x.shape[1]!;
  const inner = x.shape.slice(2).reduce((a, c) => a * c, 1);
  return Array.from(x.numbers(), (v, i) => {
    const c = Math.floor(i / inner) % C;
    return ((v - mean[c]!) / Math.sqrt(vars[c]! + eps)) * (w ? w[c]! : 1) + (b ? b[c]! : 0);
  });
}

test('BatchNorm1d/2d: batch statistics in training, running averages (momentum, cumulative), eval mode', () => {
  const bn = new nn.BatchNorm2d(3, { dtype: 'float64' });
  setValues(bn.weight!, [1, 2, 0.5]);
  setValues(bn.bias!, [0, -1, 0.25]);
  const x1 = randTensor([4, 3, 2, 2]);
  const s1 = channelStats(x1);
  assertClose(bn.forward(x1), normalizeRef(x1, s1.mean, s1.varB, 1e-5, [1, 2, 0.5], [0, -1, 0.25]), {
    rtol: 1e-8,
    atol: 1e-10,
  });
  // running = (1 - 0.1) * running + 0.1 * batch statistic (unbiased variance)
  assertClose(
    bn.runningMean!,
    s1.mean.map((m) => 0.1 * m),
    { rtol: 1e-10 },
  );
  assertClose(
    bn.runningVar!,
    s1.varU.map((v) => 0.9 + 0.1 * v),
    { rtol: 1e-10 },
  );
  assert.equal(bn.numBatchesTracked!.item(), 1);
  const x2 = randTensor([4, 3, 2, 2]);
  const s2 = channelStats(x2);
  bn.forward(x2);
  assertClose(
    bn.runningMean!,
    s1.mean.map((m, c) => 0.9 * 0.1 * m + 0.1 * s2.mean[c]!),
    { rtol: 1e-10 },
  );
  assert.equal(bn.numBatchesTracked!.item(), 2);
  // eval: the running statistics, no update
  bn.eval();
  const rm = Array.from(bn.runningMean!.numbers());
  const rv = Array.from(bn.runningVar!.numbers());
  const x3 = randTensor([2, 3, 2, 2]);
  assertClose(bn.forward(x3), normalizeRef(x3, rm, rv, 1e-5, [1, 2, 0.5], [0, -1, 0.25]), {
    rtol: 1e-8,
    atol: 1e-10,
  });
  assert.deepEqual(Array.from(bn.runningMean!.numbers()), rm);
  assert.equal(bn.numBatchesTracked!.item(), 2);

  // momentum null: cumulative average 1/n
  const cum = new nn.BatchNorm1d(2, { momentum: null, dtype: 'float64' });
  const a = randTensor([5, 2]);
  const b = randTensor([5, 2]);
  cum.forward(a);
  cum.forward(b);
  const [sa, sb] = [channelStats(a), channelStats(b)];
  assertClose(
    cum.runningMean!,
    sa.mean.map((m, c) => (m + sb.mean[c]!) / 2),
    { rtol: 1e-10 },
  );
  // no running stats: batch statistics even in eval
  const free = new nn.BatchNorm1d(2, { trackRunningStats: false, affine: false, dtype: 'float64' }).eval();
  assert.equal(free.runningMean, null);
  assert.deepEqual([...free.stateDict().keys()], []);
  const x4 = randTensor([6, 2, 3]);
  const s4 = channelStats(x4);
  assertClose(free.forward(x4), normalizeRef(x4, s4.mean, s4.varB, 1e-5), { rtol: 1e-8, atol: 1e-10 });
  assert.throws(
    () => new nn.BatchNorm1d(2).forward(randTensor([2, 2, 2, 2])),
    /BatchNorm1d: expected 2D or 3D input, got 4D input/,
  );
  assert.throws(() => new nn.BatchNorm2d(2).forward(randTensor([2, 3, 2, 2])), /expected 2 channels/);

  const g = new nn.BatchNorm1d(3, { dtype: 'float64' });
  const xg = randTensor([4, 3], true);
  assert.equal(
    gradcheck((t) => g.forward(t), [xg, g.weight!, g.bias!]),
    true,
  );
});

test('LayerNorm and GroupNorm against per-group loops; gradcheck', () => {
  const ln = new nn.LayerNorm([2, 3], { dtype: 'float64' });
  setValues(ln.weight!, [1, 2, 3, 0.5, -1, 0.25]);
  setValues(ln.bias!, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  const x = randTensor([4, 2, 3]);
  const xv = x.numbers();
  const w = ln.weight!.numbers();
  const bb = ln.bias!.numbers();
  const ref: number[] = [];
  for (let r = 0; r < 4; r++) {
    const v = Array.from(xv.slice(r * 6, r * 6 + 6));
    const m = v.reduce((a, c) => a + c, 0) / 6;
    const va = v.reduce((a, c) => a + (c - m) ** 2, 0) / 6;
    v.forEach((e, i) => {
      ref.push(((e - m) / Math.sqrt(va + 1e-5)) * w[i]! + bb[i]!);
    });
  }
  assertClose(ln.forward(x), ref, { rtol: 1e-8, atol: 1e-10 });
  assert.throws(() => ln.forward(randTensor([2, 3, 2])), /LayerNorm: given normalized_shape=\[2, 3\]/);

  const gn = new nn.GroupNorm(2, 4, { dtype: 'float64' });
  setValues(gn.weight!, [1, 2, 3, 4]);
  const xg = randTensor([2, 4, 3]);
  const gv = xg.numbers();
  const gref: number[] = [];
  for (let n = 0; n < 2; n++)
    for (let g = 0; g < 2; g++) {
      const v = Array.from(gv.slice(n * 12 + g * 6, n * 12 + g * 6 + 6));
      const m = v.reduce((a, c) => a + c, 0) / 6;
      const va = v.reduce((a, c) => a + (c - m) ** 2, 0) / 6;
      v.forEach((e, i) => {
        gref.push(((e - m) / Math.sqrt(va + 1e-5)) * (g * 2 + Math.floor(i / 3) + 1));
      });
    }
  assertClose(gn.forward(xg), gref, { rtol: 1e-8, atol: 1e-10 });
  assert.throws(() => new nn.GroupNorm(3, 4), /num_channels \(4\) must be divisible by num_groups \(3\)/);

  const t = randTensor([3, 2, 3], true);
  assert.equal(
    gradcheck((a) => ln.forward(a), [t, ln.weight!, ln.bias!]),
    true,
  );
  const small = new nn.GroupNorm(2, 2, { dtype: 'float64' });
  const t2 = randTensor([2, 2, 3], true);
  assert.equal(
    gradcheck((a) => small.forward(a), [t2, small.weight!, small.bias!]),
    true,
  );
});

test('Dropout: scales kept elements by 1/(1-p) in training, identity in eval; train/eval through Sequential', () => {
  const x = tensor(new Float32Array(4000).fill(1), { shape: [4000] });
  const drop = new nn.Dropout(0.25);
  const y = Array.from(drop.forward(x).numbers());
  const kept = y.filter((v) => v !== 0);
  assert.ok(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6));
  // 3000 kept on average, standard deviation sqrt(4000 * 0.25 * 0.75) = 27
  assert.ok(Math.abs(kept.length - 3000) < 140, `kept ${kept.length}`);
  drop.eval();
  assert.deepEqual(Array.from(drop.forward(x).numbers()), Array.from(x.numbers()));
  assert.ok(
    new nn.Dropout(1)
      .forward(x)
      .numbers()
      .every((v) => v === 0),
  );
  assert.throws(
    () => new nn.Dropout(1.5),
    /Dropout: dropout probability has to be between 0 and 1, but got 1.5/,
  );

  const model = new nn.Sequential(new nn.Linear(4, 4), new nn.BatchNorm1d(4), new nn.Dropout(0.5));
  const inp = randTensor([8, 4]).float();
  model.eval();
  const e1 = model.forward(inp).numbers();
  const e2 = model.forward(inp).numbers();
  assert.deepEqual(Array.from(e1), Array.from(e2), 'eval is deterministic and leaves running stats alone');
  model.train();
  const bn = model.at(1) as nn.BatchNorm1d;
  model.forward(inp);
  assert.equal(bn.numBatchesTracked!.item(), 1);
  const t1 = Array.from(model.forward(inp).numbers());
  assert.ok(
    t1.some((v) => v === 0),
    'dropout active in training',
  );
});
