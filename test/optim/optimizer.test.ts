import assert from 'node:assert/strict';
import { test } from 'node:test';
import { optim, type Tensor, TesseraError, tensor } from '../../src/index.js';

const param = (v: number[], dtype: 'float32' | 'float64' | 'float16' = 'float64') =>
  tensor(v, { dtype, requiresGrad: true });

test('zeroGrad: sets gradients to null by default, or zeros them in place', () => {
  const p = param([1, 2]);
  const opt = new optim.SGD([p], { lr: 0.1 });
  p.grad = tensor([3, 4], { dtype: 'float64' });
  const g = p.grad;
  opt.zeroGrad(false);
  assert.equal(p.grad, g, 'same gradient tensor, zeroed in place');
  assert.deepEqual(Array.from(g.numbers()), [0, 0]);
  opt.zeroGrad();
  assert.equal(p.grad, null);
});

test('step: parameters without a gradient are left alone and get no state', () => {
  const a = param([1]);
  const b = param([2]);
  const opt = new optim.SGD([a, b], { lr: 0.5, momentum: 0.9 });
  a.grad = tensor([1], { dtype: 'float64' });
  opt.step();
  assert.deepEqual(Array.from(a.numbers()), [0.5]);
  assert.deepEqual(Array.from(b.numbers()), [2]);
  assert.ok(opt.state.has(a));
  assert.ok(!opt.state.has(b));
});

test('param groups: each group uses its own hyper-parameters, missing ones come from defaults', () => {
  const a = param([1]);
  const b = param([1]);
  const opt = new optim.SGD([{ params: [a] }, { params: [b], lr: 0.01, momentum: 0.5 }], { lr: 0.1 });
  assert.equal(opt.paramGroups[0]!.lr, 0.1);
  assert.equal(opt.paramGroups[0]!.momentum, 0);
  assert.equal(opt.paramGroups[1]!.lr, 0.01);
  for (let k = 0; k < 2; k++) {
    a.grad = tensor([1], { dtype: 'float64' });
    b.grad = tensor([1], { dtype: 'float64' });
    opt.step();
  }
  // a: two plain steps of 0.1. b: buffer 1 then 1.5, so 1 - 0.01*(1 + 1.5).
  assert.ok(Math.abs((a.item() as number) - 0.8) < 1e-15);
  assert.ok(Math.abs((b.item() as number) - 0.975) < 1e-15);
  opt.addParamGroup({ params: [param([0])], lr: 1 });
  assert.equal(opt.paramGroups.length, 3);
});

test('parameters are updated in place: views and other references see the new values (float32)', () => {
  const p = param([1, 2, 3, 4], 'float32').detach().requiresGrad_();
  const storage = p.storage.data;
  const view = p.detach().reshape(2, 2);
  const opt = new optim.SGD([p], { lr: 0.25 });
  p.grad = tensor([1, 1, 1, 1]);
  opt.step();
  assert.equal(p.storage.data, storage);
  assert.deepEqual(view.toArray(), [
    [0.75, 1.75],
    [2.75, 3.75],
  ]);
  assert.equal(p.dtype, 'float32');
});

test('float16 parameters are rounded to float16 after the update', () => {
  const p = param([1], 'float16');
  const opt = new optim.SGD([p], { lr: 1e-4 });
  p.grad = tensor([1], { dtype: 'float16' });
  opt.step();
  // float16 spacing just below 1 is 2^-11 = 0.000488, so 1 - 1e-4 = 0.9999 rounds back to 1.
  assert.equal(p.item(), 1);
  p.grad = tensor([10], { dtype: 'float16' });
  opt.step();
  // 1 - 1e-3 = 0.999 -> nearest float16 is 1 - 2*2^-11 = 0.9990234375.
  assert.equal(p.item(), 0.9990234375);
});

test('step(closure) evaluates the closure with grad on and returns its loss', () => {
  const w = param([0]);
  const opt = new optim.SGD([w], { lr: 0.1 });
  const closure = () => {
    opt.zeroGrad();
    const loss = w.sub(3).mul(w.sub(3)).sum();
    loss.backward();
    return loss;
  };
  const first = opt.step(closure);
  assert.equal(first, 9);
  // d/dw (w-3)^2 = 2(w-3) = -6 at 0, so w = 0.6 after one step.
  assert.ok(Math.abs((w.item() as number) - 0.6) < 1e-15);
  for (let i = 0; i < 100; i++) opt.step(closure);
  assert.ok(Math.abs((w.item() as number) - 3) < 1e-6);
});

test('stateDict/loadStateDict: a restored optimizer continues exactly (through JSON)', () => {
  const grads = [
    [0.5, -1],
    [0.2, 0.3],
    [-0.7, 0.1],
    [0.4, 0.4],
  ];
  const run = (p: Tensor, opt: optim.Optimizer<any>, gs: number[][]) => {
    for (const g of gs) {
      p.grad = tensor(g, { dtype: 'float64' });
      opt.step();
    }
  };
  const a = param([1, -1]);
  const optA = new optim.Adam([a], { lr: 0.1, amsgrad: true });
  run(a, optA, grads.slice(0, 2));
  const saved = JSON.parse(JSON.stringify(optA.stateDict()));
  assert.equal(saved.state[0].step, 2);
  assert.deepEqual(saved.paramGroups[0].params, [0]);
  assert.deepEqual(saved.paramGroups[0].betas, [0.9, 0.999]);

  const b = param(Array.from(a.numbers()));
  const optB = new optim.Adam([b], { lr: 0.5 });
  optB.loadStateDict(saved);
  assert.equal(optB.paramGroups[0]!.lr, 0.1);
  assert.equal(optB.paramGroups[0]!.amsgrad, true);
  run(a, optA, grads.slice(2));
  run(b, optB, grads.slice(2));
  assert.deepEqual(Array.from(b.numbers()), Array.from(a.numbers()));
});

test('loadStateDict rejects a state for another parameter layout', () => {
  const opt = new optim.SGD([param([1, 2])], { lr: 0.1, momentum: 0.9 });
  const other = new optim.SGD([param([1]), param([2])], { lr: 0.1 });
  assert.throws(
    () => opt.loadStateDict(other.stateDict()),
    /SGD.loadStateDict: group 0 has 2 parameters in the state, 1 in the optimizer/,
  );
  const sd = opt.stateDict();
  sd.state[0] = { momentumBuffer: [1, 2, 3] };
  assert.throws(
    () => opt.loadStateDict(sd),
    /state 'momentumBuffer' of parameter 0 has 3 elements, the parameter has 2/,
  );
});

test('invalid parameters throw a TesseraError naming the problem', () => {
  const isErr = (re: RegExp) => (e: unknown) => e instanceof TesseraError && re.test(e.message);
  assert.throws(() => new optim.SGD([]), isErr(/SGD: got an empty parameter list/));
  const p = param([1]);
  assert.throws(
    () => new optim.SGD(p as any),
    isErr(/SGD: params must be an iterable of Tensors or of parameter groups, got a single Tensor/),
  );
  assert.throws(
    () => new optim.SGD([p, p]),
    isErr(/SGD: some parameters appear in more than one parameter group/),
  );
  assert.throws(
    () => new optim.Adam([p.mul(2)]),
    isErr(/Adam: parameter 0 must be a leaf tensor, got one produced by MulBackward0/),
  );
  assert.throws(
    () => new optim.SGD([tensor([1, 2], { dtype: 'int64' })]),
    isErr(/SGD: parameter 0 must be a float tensor, got int64/),
  );
  const opt = new optim.SGD([p], { lr: 0.1 });
  p.grad = tensor([1, 2], { dtype: 'float64' });
  assert.throws(() => opt.step(), isErr(/SGD: the gradient of parameter 0 has shape \[2\], expected \[1\]/));
});
