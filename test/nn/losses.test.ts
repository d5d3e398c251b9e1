/**
 * Loss functions against independent references: values worked out by hand, plain-JS loops that
 * follow the formulas in PyTorch's documentation (written here, not shared with src), and
 * gradcheck for the gradient with respect to the input (and soft targets).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, nn, type Tensor, TesseraError, tensor } from '../../src/index.js';
import { assertClose } from '../helpers/close.js';

const gen = new Generator(20240601);

function randArray(n: number, lo = -2, hi = 2): number[] {
  return Array.from({ length: n }, () => lo + (hi - lo) * gen.uniform());
}
function randTensor(
  shape: number[],
  opts: { lo?: number; hi?: number; requiresGrad?: boolean } = {},
): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(Float64Array.from(randArray(n, opts.lo, opts.hi)), { shape }).requiresGrad_(
    opts.requiresGrad ?? false,
  );
}
function randInts(shape: number[], high: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return tensor(
    Array.from({ length: n }, () => gen.int(0, high)),
    { dtype: 'int64' },
  ).reshape(shape);
}
const sum = (xs: ArrayLike<number>) => Array.from(xs).reduce((a, b) => a + b, 0);

// ---- regression losses ---------------------------------------------------------------------

// input - target = [-0.5, -2, 1, 1.5, 0, -0.5]
const X = [
  [0.5, -1.0, 2.0],
  [1.5, 0.0, -0.5],
];
const Y = [
  [1.0, 1.0, 1.0],
  [0.0, 0.0, 0.0],
];

test('mseLoss: hand-computed values for every reduction', () => {
  const x = tensor(X);
  const y = tensor(Y);
  // squares: 0.25, 4, 1, 2.25, 0, 0.25
  assertClose(nn.mseLoss(x, y, { reduction: 'none' }), [0.25, 4, 1, 2.25, 0, 0.25]);
  assertClose(nn.mseLoss(x, y, { reduction: 'sum' }), 7.75);
  assertClose(nn.mseLoss(x, y), 7.75 / 6);
  assert.deepEqual(nn.mseLoss(x, y).shape, []);
});

test('l1Loss: hand-computed values', () => {
  const x = tensor(X);
  const y = tensor(Y);
  assertClose(nn.l1Loss(x, y, { reduction: 'none' }), [0.5, 2, 1, 1.5, 0, 0.5]);
  assertClose(nn.l1Loss(x, y, { reduction: 'sum' }), 5.5);
  assertClose(nn.l1Loss(x, y), 5.5 / 6);
});

test('smoothL1Loss: quadratic inside beta, linear outside, beta = 0 is L1', () => {
  const x = tensor(X);
  const y = tensor(Y);
  // beta 1: 0.5*0.25, 2-0.5, 1-0.5, 1.5-0.5, 0, 0.5*0.25
  assertClose(nn.smoothL1Loss(x, y, { reduction: 'none' }), [0.125, 1.5, 0.5, 1.0, 0, 0.125]);
  assertClose(nn.smoothL1Loss(x, y), 3.25 / 6);
  // beta 0.5 (|d| = 0.5 is on the linear side): 0.25, 1.75, 0.75, 1.25, 0, 0.25
  assertClose(nn.smoothL1Loss(x, y, { beta: 0.5, reduction: 'sum' }), 4.25);
  // beta 4: everything quadratic: 0.5 d^2 / 4
  assertClose(nn.smoothL1Loss(x, y, { beta: 4, reduction: 'sum' }), (0.5 * 7.75) / 4);
  assertClose(nn.smoothL1Loss(x, y, { beta: 0, reduction: 'sum' }), 5.5);
});

test('huberLoss: delta scales the linear part', () => {
  const x = tensor(X);
  const y = tensor(Y);
  // delta 1 equals smoothL1 with beta 1
  assertClose(nn.huberLoss(x, y, { reduction: 'sum' }), 3.25);
  // delta 2: 0.125, 2*(2-1)=2, 0.5, 1.125, 0, 0.125
  assertClose(nn.huberLoss(x, y, { delta: 2, reduction: 'none' }), [0.125, 2, 0.5, 1.125, 0, 0.125]);
  assertClose(nn.huberLoss(x, y, { delta: 2 }), 3.875 / 6);
});

test('regression losses: errors name the loss, the expectation and the value', () => {
  const x = tensor(X);
  assert.throws(
    () => nn.mseLoss(x, x, { reduction: 'avg' as never }),
    (e: unknown) => {
      return (
        e instanceof TesseraError &&
        /mseLoss: reduction must be 'none', 'mean' or 'sum', got 'avg'/.test(e.message)
      );
    },
  );
  assert.throws(() => nn.smoothL1Loss(x, x, { beta: -1 }), /smoothL1Loss: beta must be non-negative, got -1/);
  assert.throws(() => nn.huberLoss(x, x, { delta: 0 }), /huberLoss: delta must be positive, got 0/);
  assert.throws(() => nn.mseLoss(x, tensor([1, 2])), TesseraError);
});

test('regression losses: gradcheck w.r.t. input and target, with a broadcast target', () => {
  for (const f of [nn.mseLoss, nn.l1Loss, nn.smoothL1Loss, nn.huberLoss]) {
    const x = randTensor([3, 4], { requiresGrad: true });
    const y = randTensor([3, 4], { requiresGrad: true });
    assert.equal(
      gradcheck((a, b) => f(a, b), [x, y]),
      true,
    );
    assert.equal(
      gradcheck((a, b) => f(a, b, { reduction: 'none' }), [x, y]),
      true,
    );
  }
  const x = randTensor([2, 3, 4], { requiresGrad: true });
  const y = randTensor([4], { requiresGrad: true });
  assert.equal(
    gradcheck((a, b) => nn.mseLoss(a, b, { reduction: 'sum' }), [x, y]),
    true,
  );
  assert.equal(
    gradcheck((a, b) => nn.smoothL1Loss(a, b, { beta: 0.7 }), [x, y]),
    true,
  );
  assert.equal(
    gradcheck((a, b) => nn.huberLoss(a, b, { delta: 1.3 }), [x, y]),
    true,
  );
});

// ---- cross entropy / nll -------------------------------------------------------------------

interface CERef {
  weight?: number[];
  ignoreIndex?: number;
  labelSmoothing?: number;
  reduction?: 'none' | 'mean' | 'sum';
}

/**
 * Cross entropy with class-index targets, straight from torch's documentation: for position n,
 * l_n = -sum_c w_c log softmax(x_n)_c q_{n,c} with q = (1 - s) onehot(y_n) + s / C, l_n = 0 where
 * y_n = ignoreIndex; 'mean' divides by sum_n w_{y_n} over counted n. Input is [N, C, ...rest].
 */
function crossEntropyRef(x: number[], shape: number[], y: number[], o: CERef): number[] | number {
  const C = shape[1]!;
  const N = shape[0]!;
  const inner = shape.slice(2).reduce((a, b) => a * b, 1);
  const w = o.weight ?? new Array(C).fill(1);
  const s = o.labelSmoothing ?? 0;
  const ign = o.ignoreIndex ?? -100;
  const losses: number[] = [];
  let denom = 0;
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < inner; k++) {
      const logits = Array.from({ length: C }, (_, c) => x[(n * C + c) * inner + k]!);
      const m = Math.max(...logits);
      const lse = m + Math.log(sum(logits.map((v) => Math.exp(v - m))));
      const target = y[n * inner + k]!;
      if (target === ign) {
        losses.push(0);
        continue;
      }
      let l = 0;
      for (let c = 0; c < C; c++) {
        const q = (1 - s) * (c === target ? 1 : 0) + s / C;
        l -= w[c]! * (logits[c]! - lse) * q;
      }
      losses.push(l);
      denom += w[target]!;
    }
  }
  const r = o.reduction ?? 'mean';
  if (r === 'none') return losses;
  return r === 'sum' ? sum(losses) : sum(losses) / denom;
}

test('crossEntropy: value for one sample, by hand (log(e + e^2 + e^3) - 3)', () => {
  const x = tensor([[1, 2, 3]]);
  // Python: math.log(math.e + math.e**2 + math.e**3) - 3 = 0.40760596444438013 (torch gives 0.4076)
  assertClose(nn.crossEntropy(x, tensor([2], { dtype: 'int64' })), 0.40760596444438013);
  // label smoothing 0.1: 0.9 * 0.4076... + 0.1 / 3 * sum_c -logp_c (Python, same formula)
  assertClose(
    nn.crossEntropy(x, tensor([2], { dtype: 'int64' }), { labelSmoothing: 0.1 }),
    0.5076059644443801,
  );
  // Unbatched: [C] input with a 0-d target.
  assertClose(nn.crossEntropy(tensor([1, 2, 3]), tensor(2, { dtype: 'int64' })), 0.40760596444438013);
});

test('crossEntropy: class indices with weights, ignoreIndex and label smoothing, every reduction', () => {
  const shape = [4, 3];
  const xv = randArray(12);
  const yv = [2, 0, 1, 0];
  const x = tensor(Float64Array.from(xv), { shape });
  const y = tensor(yv, { dtype: 'int64' });
  const weight = [0.2, 1.5, 0.7];
  for (const reduction of ['none', 'mean', 'sum'] as const) {
    for (const o of [
      {},
      { weight },
      { ignoreIndex: 0 },
      { weight, ignoreIndex: 0 },
      { labelSmoothing: 0.2 },
      { weight, ignoreIndex: 1, labelSmoothing: 0.3 },
    ] as CERef[]) {
      const got = nn.crossEntropy(x, y, {
        weight: o.weight ? tensor(Float64Array.from(o.weight)) : undefined,
        ignoreIndex: o.ignoreIndex,
        labelSmoothing: o.labelSmoothing,
        reduction,
      });
      assertClose(got, crossEntropyRef(xv, shape, yv, { ...o, reduction }), { rtol: 1e-10, atol: 1e-12 });
    }
  }
  // The weighted mean divides by the summed weights of the targets: (w2 l0 + w0 l1 + w1 l2 + w0 l3) / (w2 + w0 + w1 + w0).
  const ls = crossEntropyRef(xv, shape, yv, { reduction: 'none' }) as number[];
  const byHand = (0.7 * ls[0]! + 0.2 * ls[1]! + 1.5 * ls[2]! + 0.2 * ls[3]!) / (0.7 + 0.2 + 1.5 + 0.2);
  assertClose(nn.crossEntropy(x, y, { weight: tensor(Float64Array.from(weight)) }), byHand, { rtol: 1e-10 });
});

test('crossEntropy: [N, C, d1, d2] inputs, all targets ignored gives NaN for mean', () => {
  const shape = [2, 3, 2, 2];
  const xv = randArray(24);
  const yv = [0, 2, 1, -100, 2, 2, 0, 1];
  const x = tensor(Float64Array.from(xv), { shape });
  const y = tensor(yv, { dtype: 'int64' }).reshape([2, 2, 2]);
  const w = [1.0, 0.5, 2.0];
  const none = nn.crossEntropy(x, y, { reduction: 'none', weight: tensor(Float64Array.from(w)) });
  assert.deepEqual(none.shape, [2, 2, 2]);
  assertClose(none, crossEntropyRef(xv, shape, yv, { reduction: 'none', weight: w }) as number[], {
    rtol: 1e-10,
  });
  assertClose(
    nn.crossEntropy(x, y, { labelSmoothing: 0.15, weight: tensor(Float64Array.from(w)) }),
    crossEntropyRef(xv, shape, yv, { labelSmoothing: 0.15, weight: w }),
    { rtol: 1e-10 },
  );
  const allIgnored = tensor([-100, -100], { dtype: 'int64' });
  assert.ok(
    Number.isNaN(
      nn
        .crossEntropy(
          tensor([
            [1, 2],
            [3, 4],
          ]),
          allIgnored,
        )
        .item(),
    ),
  );
  assertClose(
    nn.crossEntropy(
      tensor([
        [1, 2],
        [3, 4],
      ]),
      allIgnored,
      { reduction: 'sum' },
    ),
    0,
  );
});

test('crossEntropy: class-probability targets (weights, smoothing; mean divides by N * d)', () => {
  const shape = [3, 4];
  const xv = randArray(12);
  const raw = randArray(12, 0.1, 1);
  // rows of the target sum to 1
  const tv = raw.map((v, i) => v / sum(raw.slice(Math.floor(i / 4) * 4, Math.floor(i / 4) * 4 + 4)));
  const w = [0.5, 1, 2, 0.25];
  const ref = (s: number, weight: number[] | null, reduction: string) => {
    const ls: number[] = [];
    for (let n = 0; n < 3; n++) {
      const logits = xv.slice(n * 4, n * 4 + 4);
      const lse = Math.log(sum(logits.map(Math.exp)));
      let l = 0;
      for (let c = 0; c < 4; c++)
        l -= (weight ? weight[c]! : 1) * (logits[c]! - lse) * ((1 - s) * tv[n * 4 + c]! + s / 4);
      ls.push(l);
    }
    return reduction === 'none' ? ls : reduction === 'sum' ? sum(ls) : sum(ls) / 3;
  };
  const x = tensor(Float64Array.from(xv), { shape });
  const t = tensor(Float64Array.from(tv), { shape });
  for (const reduction of ['none', 'mean', 'sum'] as const) {
    assertClose(nn.crossEntropy(x, t, { reduction }), ref(0, null, reduction), { rtol: 1e-10 });
    assertClose(
      nn.crossEntropy(x, t, { reduction, weight: tensor(Float64Array.from(w)), labelSmoothing: 0.25 }),
      ref(0.25, w, reduction),
      { rtol: 1e-10 },
    );
  }
  // One-hot probabilities give the same loss as class indices.
  const onehot = tensor([
    [0, 1, 0, 0],
    [0, 0, 0, 1],
    [1, 0, 0, 0],
  ]);
  assertClose(
    nn.crossEntropy(x.float(), onehot),
    nn.crossEntropy(x.float(), tensor([1, 3, 0], { dtype: 'int64' })),
    {
      rtol: 1e-6,
    },
  );
});

test('nllLoss: picks -w[y] * input[y], weighted mean, ignoreIndex', () => {
  const logp = tensor([
    [-0.5, -1.0, -2.0],
    [-1.5, -0.25, -3.0],
    [-0.1, -2.5, -4.0],
  ]);
  const y = tensor([1, 2, 0], { dtype: 'int64' });
  assertClose(nn.nllLoss(logp, y, { reduction: 'none' }), [1.0, 3.0, 0.1]);
  assertClose(nn.nllLoss(logp, y), 4.1 / 3);
  const w = tensor([2, 0.5, 1]);
  // (0.5*1 + 1*3 + 2*0.1) / (0.5 + 1 + 2)
  assertClose(nn.nllLoss(logp, y, { weight: w }), 3.7 / 3.5);
  // ignoring class 2: (0.5*1 + 2*0.1) / (0.5 + 2)
  assertClose(nn.nllLoss(logp, y, { weight: w, ignoreIndex: 2 }), 0.7 / 2.5);
  assertClose(nn.nllLoss(logp, y, { weight: w, ignoreIndex: 2, reduction: 'none' }), [0.5, 0, 0.2]);
});

test('crossEntropy / nllLoss: errors', () => {
  const x = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);
  assert.throws(
    () => nn.crossEntropy(x, tensor([0, 3], { dtype: 'int64' })),
    /crossEntropy: target 3 is out of bounds/,
  );
  assert.throws(
    () => nn.crossEntropy(x, tensor([0, 1, 2], { dtype: 'int64' })),
    /expected target of shape \[2\]/,
  );
  assert.throws(() => nn.crossEntropy(x, tensor([0, 1])), /integer tensor/);
  assert.throws(
    () => nn.crossEntropy(x, tensor([0, 1], { dtype: 'int64' }), { weight: tensor([1, 2]) }),
    /one entry per class \(3\)/,
  );
  assert.throws(
    () => nn.crossEntropy(x, tensor([0, 1], { dtype: 'int64' }), { labelSmoothing: 1.5 }),
    /between 0.0 and 1.0/,
  );
  assert.throws(
    () => nn.nllLoss(x, tensor([0, 1], { dtype: 'int64' }), { reduction: 'batchmean' as never }),
    TesseraError,
  );
});

test('crossEntropy / nllLoss: gradcheck w.r.t. logits (and probability targets)', () => {
  const x = randTensor([3, 4], { requiresGrad: true });
  const y = tensor([3, 0, -100], { dtype: 'int64' });
  const w = randTensor([4], { lo: 0.2, hi: 2 });
  assert.equal(
    gradcheck((a) => nn.crossEntropy(a, y), [x]),
    true,
  );
  assert.equal(
    gradcheck((a) => nn.crossEntropy(a, y, { weight: w, labelSmoothing: 0.2 }), [x]),
    true,
  );
  assert.equal(
    gradcheck((a) => nn.crossEntropy(a, y, { reduction: 'none', weight: w }), [x]),
    true,
  );
  const x4 = randTensor([2, 3, 2, 2], { requiresGrad: true });
  const y4 = randInts([2, 2, 2], 3);
  assert.equal(
    gradcheck((a) => nn.crossEntropy(a, y4, { labelSmoothing: 0.1, reduction: 'sum' }), [x4]),
    true,
  );
  const p = randTensor([3, 4], { lo: 0, hi: 1, requiresGrad: true });
  assert.equal(
    gradcheck((a, t) => nn.crossEntropy(a, t, { weight: w, labelSmoothing: 0.3 }), [x, p]),
    true,
  );
  const logp = randTensor([3, 4], { requiresGrad: true });
  assert.equal(
    gradcheck((a) => nn.nllLoss(a, y, { weight: w }), [logp]),
    true,
  );
});

// ---- binary cross entropy ------------------------------------------------------------------

test('binaryCrossEntropy: values, weights and torch’s clamp of log at -100', () => {
  const x = [0.9, 0.2, 0.6, 0.5];
  const t = [1, 0, 0, 1];
  const ref = x.map((p, i) => -(t[i]! * Math.log(p) + (1 - t[i]!) * Math.log(1 - p)));
  const xi = tensor(Float64Array.from(x));
  const ti = tensor(Float64Array.from(t));
  assertClose(nn.binaryCrossEntropy(xi, ti, { reduction: 'none' }), ref, { rtol: 1e-12 });
  assertClose(nn.binaryCrossEntropy(xi, ti), sum(ref) / 4, { rtol: 1e-12 });
  const w = [1, 2, 0.5, 3];
  assertClose(
    nn.binaryCrossEntropy(xi, ti, { weight: tensor(Float64Array.from(w)), reduction: 'sum' }),
    sum(ref.map((l, i) => l * w[i]!)),
    { rtol: 1e-12 },
  );
  // p = 0 or 1 exactly: log is clamped to -100, so 0 * log(0) contributes 0, not NaN.
  assertClose(
    nn.binaryCrossEntropy(tensor([0, 0, 1, 1]), tensor([0, 1, 1, 0]), { reduction: 'none' }),
    [0, 100, 0, 100],
  );
  assert.throws(() => nn.binaryCrossEntropy(tensor([1.5]), tensor([1])), /between 0 and 1, got 1.5/);
  assert.throws(
    () => nn.binaryCrossEntropy(tensor([0.5, 0.5]), tensor([1])),
    /must be the same as input shape/,
  );
});

test('binaryCrossEntropyWithLogits: matches sigmoid + BCE, posWeight, and is stable for large logits', () => {
  const x = randArray(6, -3, 3);
  const t = [1, 0, 0.3, 1, 0, 0.8];
  const p = [2, 0.5, 1.5];
  const w = [1, 0.5];
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  // torch's documented form: -w [p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))], pos_weight along the last dim.
  const ref = x.map((v, i) => {
    const pw = p[i % 3]!;
    const wi = w[Math.floor(i / 3)]!;
    return -wi * (pw * t[i]! * Math.log(sig(v)) + (1 - t[i]!) * Math.log(1 - sig(v)));
  });
  const xi = tensor(Float64Array.from(x), { shape: [2, 3] });
  const ti = tensor(Float64Array.from(t), { shape: [2, 3] });
  const got = nn.binaryCrossEntropyWithLogits(xi, ti, {
    posWeight: tensor(Float64Array.from(p)),
    weight: tensor(Float64Array.from(w), { shape: [2, 1] }),
    reduction: 'none',
  });
  assertClose(got, ref, { rtol: 1e-10 });
  assertClose(
    nn.binaryCrossEntropyWithLogits(xi, ti),
    sum(x.map((v, i) => -(t[i]! * Math.log(sig(v)) + (1 - t[i]!) * Math.log(1 - sig(v))))) / 6,
    {
      rtol: 1e-10,
    },
  );
  // log(1 + exp(1000)) = 1000 exactly in floating point; a naive form overflows.
  assertClose(
    nn.binaryCrossEntropyWithLogits(tensor([1000, -1000, 0]), tensor([0, 1, 1]), { reduction: 'none' }),
    [1000, 1000, Math.LN2],
  );
});

test('binary cross entropy losses: gradcheck', () => {
  const x = randTensor([3, 4], { lo: 0.05, hi: 0.95, requiresGrad: true });
  const t = randTensor([3, 4], { lo: 0, hi: 1 });
  const w = randTensor([4], { lo: 0.5, hi: 2 });
  assert.equal(
    gradcheck((a) => nn.binaryCrossEntropy(a, t, { weight: w }), [x]),
    true,
  );
  const z = randTensor([3, 4], { requiresGrad: true });
  const tz = randTensor([3, 4], { lo: 0, hi: 1, requiresGrad: true });
  const pw = randTensor([4], { lo: 0.5, hi: 3 });
  assert.equal(
    gradcheck((a, b) => nn.binaryCrossEntropyWithLogits(a, b, { posWeight: pw, weight: w }), [z, tz]),
    true,
  );
});

test('klDiv: pointwise t (log t - x), 0 log 0 = 0, batchmean and logTarget', () => {
  const logq = [Math.log(0.2), Math.log(0.3), Math.log(0.5), Math.log(0.6), Math.log(0.3), Math.log(0.1)];
  const pv = [0.5, 0.5, 0, 0.25, 0.25, 0.5];
  const ref = pv.map((p, i) => (p === 0 ? 0 : p * (Math.log(p) - logq[i]!)));
  const x = tensor(Float64Array.from(logq), { shape: [2, 3] });
  const p = tensor(Float64Array.from(pv), { shape: [2, 3] });
  assertClose(nn.klDiv(x, p, { reduction: 'none' }), ref, { rtol: 1e-12 });
  assertClose(nn.klDiv(x, p, { reduction: 'batchmean' }), sum(ref) / 2, { rtol: 1e-12 });
  assertClose(nn.klDiv(x, p), sum(ref) / 6, { rtol: 1e-12 });
  const logp = tensor(Float64Array.from([0.2, 0.3, 0.5, 0.1, 0.6, 0.3].map(Math.log)), { shape: [2, 3] });
  const refLog = [0.2, 0.3, 0.5, 0.1, 0.6, 0.3].map((q, i) => q * (Math.log(q) - logq[i]!));
  assertClose(nn.klDiv(x, logp, { logTarget: true, reduction: 'sum' }), sum(refLog), { rtol: 1e-12 });
  const xg = randTensor([2, 3], { requiresGrad: true });
  assert.equal(
    gradcheck((a) => nn.klDiv(a, p, { reduction: 'batchmean' }), [xg]),
    true,
  );
});

test('loss modules hold options and weights as buffers', () => {
  const x = randTensor([4, 3]);
  const y = tensor([0, 2, 1, 1], { dtype: 'int64' });
  const w = tensor(Float64Array.from([1, 2, 3]));
  const m = new nn.CrossEntropyLoss({ weight: w, ignoreIndex: 1, labelSmoothing: 0.1, reduction: 'sum' });
  assertClose(
    m.forward(x, y),
    nn.crossEntropy(x, y, { weight: w, ignoreIndex: 1, labelSmoothing: 0.1, reduction: 'sum' }),
  );
  assert.deepEqual([...m.stateDict().keys()], ['weight']);
  assert.equal(String(m), 'CrossEntropyLoss()');
  assert.deepEqual([...new nn.BCEWithLogitsLoss({ posWeight: w }).stateDict().keys()], ['posWeight']);
  assert.deepEqual([...new nn.MSELoss().stateDict().keys()], []);
  const a = randTensor([5]);
  const b = randTensor([5]);
  assertClose(new nn.MSELoss({ reduction: 'sum' }).forward(a, b), nn.mseLoss(a, b, { reduction: 'sum' }));
  assertClose(new nn.L1Loss().forward(a, b), nn.l1Loss(a, b));
  assertClose(new nn.SmoothL1Loss({ beta: 0.5 }).forward(a, b), nn.smoothL1Loss(a, b, { beta: 0.5 }));
  assertClose(new nn.HuberLoss({ delta: 0.5 }).forward(a, b), nn.huberLoss(a, b, { delta: 0.5 }));
  assertClose(new nn.NLLLoss().forward(x, y), nn.nllLoss(x, y));
  const pr = randTensor([5], { lo: 0.1, hi: 0.9 });
  const t = randTensor([5], { lo: 0, hi: 1 });
  assertClose(new nn.BCELoss().forward(pr, t), nn.binaryCrossEntropy(pr, t));
  assertClose(new nn.BCEWithLogitsLoss().forward(a, t), nn.binaryCrossEntropyWithLogits(a, t));
  assert.throws(() => new nn.MSELoss({ reduction: 'avg' as never }), /MSELoss: reduction must be/);
});
