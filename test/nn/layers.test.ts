/**
 * Layers that are compositions of registry ops (Linear, Bilinear, Embedding, activations,
 * Flatten/Unflatten, Sequential): outputs against plain-JS loops written here, gradcheck with
 * respect to inputs and parameters, and a tiny end-to-end forward/backward checked by hand.
 * Conv, pool, norm and dropout layers are tested in layers-functional.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, nn, type Tensor, TesseraError, tensor } from '../../src/index.js';
import { assertClose } from '../helpers/close.js';

const gen = new Generator(77);
function randTensor(shape: number[], requiresGrad = false): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const t = tensor(
    Float64Array.from({ length: n }, () => gen.uniform() * 4 - 2),
    { shape },
  );
  return t.requiresGrad_(requiresGrad);
}

/** y[..., o] = sum_i x[..., i] W[o, i] + b[o] */
function linearRef(x: Tensor, w: Tensor, b: Tensor | null): number[] {
  const [o, i] = w.shape as [number, number];
  const xv = x.numbers();
  const wv = w.numbers();
  const bv = b?.numbers();
  const rows = xv.length / i;
  const out: number[] = [];
  for (let r = 0; r < rows; r++) {
    for (let k = 0; k < o; k++) {
      let s = bv ? bv[k]! : 0;
      for (let j = 0; j < i; j++) s += xv[r * i + j]! * wv[k * i + j]!;
      out.push(s);
    }
  }
  return out;
}

test('Linear: 1-d, 2-d (Gemm) and 3-d (MatMul + Add) inputs match x W^T + b', () => {
  const lin = new nn.Linear(3, 4, { dtype: 'float64' });
  for (const shape of [[3], [5, 3], [2, 5, 3]]) {
    const x = randTensor(shape);
    const y = lin.forward(x);
    assert.deepEqual(y.shape, [...shape.slice(0, -1), 4]);
    assertClose(y, linearRef(x, lin.weight, lin.bias), { rtol: 1e-12, atol: 1e-12 });
  }
  const nobias = new nn.Linear(3, 2, { bias: false, dtype: 'float64' });
  const x = randTensor([4, 3]);
  assertClose(nobias.forward(x), linearRef(x, nobias.weight, null), { rtol: 1e-12, atol: 1e-12 });
  const x3 = randTensor([2, 2, 3]);
  assertClose(nobias.forward(x3), linearRef(x3, nobias.weight, null), { rtol: 1e-12, atol: 1e-12 });
  assert.throws(
    () => lin.forward(randTensor([2, 4])),
    (e: unknown) => {
      return (
        e instanceof TesseraError &&
        /Linear: expected input of shape \[\*, 3\] \(in_features\), got \[2, 4\]/.test(e.message)
      );
    },
  );
});

test('Linear: gradcheck w.r.t. input, weight and bias for 2-d and 3-d inputs', () => {
  const lin = new nn.Linear(3, 2, { dtype: 'float64' });
  for (const shape of [
    [4, 3],
    [2, 2, 3],
  ]) {
    const x = randTensor(shape, true);
    assert.equal(
      gradcheck((a) => lin.forward(a), [x, lin.weight, lin.bias!]),
      true,
    );
  }
});

test('Bilinear: y = x1^T A x2 + b, and gradcheck', () => {
  const m = new nn.Bilinear(3, 2, 4, { dtype: 'float64' });
  const x1 = randTensor([2, 5, 3], true);
  const x2 = randTensor([2, 5, 2], true);
  const y = m.forward(x1, x2);
  assert.deepEqual(y.shape, [2, 5, 4]);
  const a = x1.numbers();
  const c = x2.numbers();
  const w = m.weight.numbers();
  const b = m.bias!.numbers();
  const ref: number[] = [];
  for (let r = 0; r < 10; r++) {
    for (let o = 0; o < 4; o++) {
      let s = b[o]!;
      for (let i = 0; i < 3; i++)
        for (let j = 0; j < 2; j++) s += a[r * 3 + i]! * w[(o * 3 + i) * 2 + j]! * c[r * 2 + j]!;
      ref.push(s);
    }
  }
  assertClose(y, ref, { rtol: 1e-12, atol: 1e-12 });
  assert.equal(
    gradcheck((p, q) => m.forward(p, q), [x1, x2, m.weight, m.bias!]),
    true,
  );
  assert.throws(
    () => m.forward(randTensor([5, 3]), randTensor([4, 2])),
    /Bilinear: expected inputs of shapes \[\*, 3\] and \[\*, 2\]/,
  );
});

test('Embedding: rows gathered by index; padding row gets no gradient; index errors', () => {
  const w = tensor(
    Float64Array.from({ length: 12 }, (_, i) => i / 4),
    { shape: [4, 3] },
  );
  const emb = nn.Embedding.fromPretrained(w, { freeze: false, paddingIdx: 1 });
  assert.equal(emb.weight.storage, w.storage, 'fromPretrained shares the tensor');
  const idx = tensor(
    [
      [0, 1],
      [3, 1],
    ],
    { dtype: 'int64' },
  );
  const out = emb.forward(idx);
  assert.deepEqual(out.shape, [2, 2, 3]);
  assert.deepEqual(out.toArray(), [
    [
      [0, 0.25, 0.5],
      [0.75, 1, 1.25],
    ],
    [
      [2.25, 2.5, 2.75],
      [0.75, 1, 1.25],
    ],
  ]);
  out
    .mul(randTensor([2, 2, 3]))
    .sum()
    .backward();
  const g = emb.weight.grad!.toArray() as number[][];
  assert.deepEqual(g[1], [0, 0, 0], 'the padding row is not updated');
  assert.deepEqual(g[2], [0, 0, 0], 'unused row');
  assert.ok(g[0]!.some((v) => v !== 0) && g[3]!.some((v) => v !== 0));
  assert.equal(nn.Embedding.fromPretrained(w).weight.requiresGrad, false, 'frozen by default');
  const free = new nn.Embedding(5, 2, { dtype: 'float64' });
  const ix = tensor([4, 0, 4, 2], { dtype: 'int64' });
  assert.equal(
    gradcheck(() => free.forward(ix), [free.weight]),
    true,
  );
  assert.throws(
    () => free.forward(tensor([5], { dtype: 'int64' })),
    /Embedding: index 5 is out of range for 5 embeddings/,
  );
  assert.throws(() => free.forward(tensor([1.0])), /Embedding: indices must be an integer tensor/);
  assert.deepEqual(free.forward(tensor([1, 2], { dtype: 'int32' })).shape, [2, 2]);
});

test('activations: values against their formulas, and gradcheck', () => {
  const xs = [-2, -0.5, 0, 0.7, 3];
  const x = tensor(Float64Array.from(xs));
  const sig = (v: number) => 1 / (1 + Math.exp(-v));
  assertClose(
    new nn.ReLU().forward(x),
    xs.map((v) => Math.max(v, 0)),
  );
  assertClose(
    new nn.LeakyReLU(0.2).forward(x),
    xs.map((v) => (v > 0 ? v : 0.2 * v)),
  );
  assertClose(
    new nn.ELU(1.5).forward(x),
    xs.map((v) => (v > 0 ? v : 1.5 * (Math.exp(v) - 1))),
    { rtol: 1e-12 },
  );
  assertClose(new nn.Sigmoid().forward(x), xs.map(sig), { rtol: 1e-12 });
  assertClose(new nn.Tanh().forward(x), xs.map(Math.tanh), { rtol: 1e-12 });
  assertClose(
    new nn.SiLU().forward(x),
    xs.map((v) => v * sig(v)),
    { rtol: 1e-12 },
  );
  // Python: x * 0.5 * (1 + math.erf(x / math.sqrt(2))), and the tanh form with 0.044715
  assertClose(
    new nn.GELU().forward(x),
    [-0.04550026389635842, -0.15426876936299344, 0, 0.5306254434438489, 2.99595030590511],
    {
      rtol: 1e-7,
      atol: 1e-9,
    },
  );
  assertClose(
    new nn.GELU('tanh').forward(x),
    [-0.04540230591222494, -0.15428599017485606, 0, 0.5305701347051167, 2.996362607918227],
    { rtol: 1e-7, atol: 1e-9 },
  );
  assert.throws(() => new nn.GELU('erf' as never), /GELU: approximate must be 'none' or 'tanh', got 'erf'/);

  const m = randTensor([2, 3]);
  const soft = new nn.Softmax(1).forward(m).numbers();
  const logSoft = new nn.LogSoftmax(-1).forward(m).numbers();
  const mv = m.numbers();
  for (let r = 0; r < 2; r++) {
    const row = Array.from(mv.slice(r * 3, r * 3 + 3));
    const z = row.reduce((s, v) => s + Math.exp(v), 0);
    row.forEach((v, c) => {
      assert.ok(Math.abs(soft[r * 3 + c]! - Math.exp(v) / z) < 1e-12);
      assert.ok(Math.abs(logSoft[r * 3 + c]! - (v - Math.log(z))) < 1e-12);
    });
  }
  // dim 0 over columns
  const col = new nn.Softmax(0).forward(m).numbers();
  assert.ok(Math.abs(col[0]! + col[3]! - 1) < 1e-12);

  const g = randTensor([2, 3, 2], true);
  for (const layer of [
    new nn.ReLU(),
    new nn.LeakyReLU(0.1),
    new nn.ELU(),
    new nn.GELU(),
    new nn.GELU('tanh'),
    new nn.SiLU(),
    new nn.Sigmoid(),
    new nn.Tanh(),
    new nn.Softmax(1),
    new nn.LogSoftmax(-1),
  ]) {
    assert.equal(
      gradcheck((a) => layer.forward(a), [g]),
      true,
      layer.getName(),
    );
  }
});

test('Flatten and Unflatten', () => {
  const x = randTensor([2, 3, 4, 5]);
  assert.deepEqual(new nn.Flatten().forward(x).shape, [2, 60]);
  assert.deepEqual(new nn.Flatten(0, 1).forward(x).shape, [6, 4, 5]);
  assert.deepEqual(new nn.Flatten(-2).forward(x).shape, [2, 3, 20]);
  assert.deepEqual(new nn.Flatten(0).forward(tensor(3)).shape, [1]);
  assert.deepEqual(new nn.Flatten().forward(x).numbers(), x.numbers());
  assert.throws(
    () => new nn.Flatten(2, 1).forward(x),
    /Flatten: start_dim \(2\) cannot come after end_dim \(1\)/,
  );
  assert.deepEqual(new nn.Unflatten(1, [3, 1]).forward(randTensor([2, 3])).shape, [2, 3, 1]);
  assert.deepEqual(new nn.Unflatten(-1, [2, -1]).forward(randTensor([4, 10])).shape, [4, 2, 5]);
  assert.throws(
    () => new nn.Unflatten(1, [4, 2]).forward(randTensor([2, 10])),
    /Unflatten: unflattened_size \(4, 2\) does not match dim 1 of size 10/,
  );
  const f = randTensor([2, 3, 2], true);
  assert.equal(
    gradcheck((a) => new nn.Flatten().forward(a), [f]),
    true,
  );
});

test('Sequential end to end: forward and backward through Linear-Tanh-Linear + MSE, checked by hand', () => {
  const model = new nn.Sequential(new nn.Linear(2, 2), new nn.Tanh(), new nn.Linear(2, 1));
  model.loadStateDict({
    '0.weight': tensor([
      [0.5, -1],
      [0.25, 0.75],
    ]),
    '0.bias': tensor([0.1, -0.2]),
    '2.weight': tensor([[1.5, -0.5]]),
    '2.bias': tensor([0.3]),
  });
  const x = tensor([[1, 2]]);
  const target = tensor([[0.5]]);
  const loss = nn.mseLoss(model.forward(x), target);
  // By hand: h = W1 x + b1 = [0.5 - 2 + 0.1, 0.25 + 1.5 - 0.2] = [-1.4, 1.55]; a = tanh(h);
  // y = 1.5 a0 - 0.5 a1 + 0.3; L = (y - 0.5)^2.
  const a0 = Math.tanh(-1.4);
  const a1 = Math.tanh(1.55);
  const y = 1.5 * a0 - 0.5 * a1 + 0.3;
  assertClose(loss, (y - 0.5) ** 2, { rtol: 1e-5 });
  loss.backward();
  const dy = 2 * (y - 0.5);
  const dh = [dy * 1.5 * (1 - a0 * a0), dy * -0.5 * (1 - a1 * a1)];
  const l2 = model.at(2) as nn.Linear;
  const l0 = model.at(0) as nn.Linear;
  assertClose(l2.weight.grad!, [dy * a0, dy * a1], { rtol: 1e-5 });
  assertClose(l2.bias!.grad!, [dy], { rtol: 1e-5 });
  assertClose(l0.weight.grad!, [dh[0]! * 1, dh[0]! * 2, dh[1]! * 1, dh[1]! * 2], { rtol: 1e-5 });
  assertClose(l0.bias!.grad!, dh, { rtol: 1e-5 });

  // A deeper one in float64: gradcheck w.r.t. the input and every parameter.
  const net = new nn.Sequential(
    new nn.Linear(3, 4),
    new nn.GELU(),
    new nn.Linear(4, 3),
    new nn.LogSoftmax(1),
  ).double();
  const xin = randTensor([5, 3], true);
  const labels = tensor([0, 2, 1, 1, 0], { dtype: 'int64' });
  assert.equal(
    gradcheck((inp) => nn.nllLoss(net.forward(inp), labels), [xin, ...net.parameters()]),
    true,
  );
});
