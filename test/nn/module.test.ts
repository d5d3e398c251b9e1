/**
 * Module bookkeeping: registration by assignment, dotted names as torch prints them, stateDict
 * round trips (in place), train/eval, apply, zeroGrad, to(dtype), and torch's module repr
 * (the expected strings are what PyTorch 2.x prints for the same modules).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { nn, type Tensor, TesseraError, tensor, zeros } from '../../src/index.js';

class Net extends nn.Module {
  fc1 = new nn.Linear(2, 3);
  act = new nn.ReLU();
  head = new nn.Sequential(new nn.Linear(3, 4), new nn.Tanh(), new nn.Linear(4, 1, { bias: false }));
  scale = new nn.Parameter(tensor([1.5]));
  notState = tensor([1, 2, 3]);
  constructor() {
    super();
    this.registerBuffer('steps', zeros([], { dtype: 'int64' }));
    this.registerBuffer('cache', zeros([2]), false);
  }
  override forward(x: Tensor): Tensor {
    return this.head.forward(this.act.forward(this.fc1.forward(x))).mul(this.scale);
  }
}

test('parameters, buffers and submodules are registered by assignment, with torch names', () => {
  const net = new Net();
  assert.deepEqual(
    net.namedParameters().map(([k]) => k),
    ['scale', 'fc1.weight', 'fc1.bias', 'head.0.weight', 'head.0.bias', 'head.2.weight'],
  );
  assert.equal(net.parameters().length, 6);
  assert.ok(net.parameters().every((p) => p instanceof nn.Parameter && p.requiresGrad && p.isLeaf));
  assert.deepEqual(
    net.namedParameters('', false).map(([k]) => k),
    ['scale'],
  );
  assert.deepEqual(
    net.namedBuffers().map(([k]) => k),
    ['steps', 'cache'],
  );
  assert.deepEqual(
    net.namedChildren().map(([k]) => k),
    ['fc1', 'act', 'head'],
  );
  assert.deepEqual(
    net.namedModules().map(([k]) => k),
    ['', 'fc1', 'act', 'head', 'head.0', 'head.1', 'head.2'],
  );
  assert.equal(net.modules().length, 7);
  assert.equal(net.getSubmodule('head.2'), net.head.at(-1));
  assert.equal(net.getParameter('head.0.bias'), (net.head[0] as nn.Linear).bias);
  assert.equal(net.getBuffer('steps'), (net as any).steps);
  assert.throws(() => net.getSubmodule('head.7'), /no submodule '7'/);
  // Reassigning and deleting behave like torch's setattr/delattr.
  (net as any).extra = new nn.Parameter(zeros([2]));
  assert.ok(net.namedParameters().some(([k]) => k === 'extra'));
  delete (net as any).extra;
  assert.ok(!net.namedParameters().some(([k]) => k === 'extra'));
  // Shared parameters are listed once.
  const shared = new nn.Sequential(net.fc1, net.fc1);
  assert.equal(shared.parameters().length, 2);
});

test('registration errors name the method, the attribute and what was wrong', () => {
  const m = new nn.Identity();
  assert.throws(
    () => m.registerParameter('w', tensor([1]) as any),
    (e: unknown) => {
      return (
        e instanceof TesseraError && /registerParameter: 'w' must be a Parameter or null/.test(e.message)
      );
    },
  );
  assert.throws(
    () => m.registerBuffer('a.b', tensor([1])),
    /registerBuffer: name must be a non-empty string without '.'/,
  );
  assert.throws(() => m.registerModule('training', new nn.ReLU()), /attribute 'training' already exists/);
  m.registerBuffer('b', tensor([1]));
  assert.throws(() => m.registerParameter('b', new nn.Parameter(tensor([1]))), /'b' is already a buffer/);
  assert.throws(
    () => new nn.Parameter(tensor([1], { dtype: 'int64' })),
    /only floating-point tensors can require gradients/,
  );
  assert.equal(new nn.Parameter(tensor([1], { dtype: 'int64' }), false).requiresGrad, false);
});

test('stateDict: torch order and names, detached, persistent buffers only; round trip copies in place', () => {
  const a = new Net();
  const sd = a.stateDict();
  assert.deepEqual(
    [...sd.keys()],
    ['scale', 'steps', 'fc1.weight', 'fc1.bias', 'head.0.weight', 'head.0.bias', 'head.2.weight'],
  );
  assert.ok([...sd.values()].every((t) => !t.requiresGrad));
  // Views share storage with the parameters, as torch's state_dict does.
  assert.equal(sd.get('fc1.weight')!.storage, a.fc1.weight.storage);

  const b = new Net();
  const bWeight = b.fc1.weight;
  assert.notDeepEqual(bWeight.toArray(), a.fc1.weight.toArray());
  const r = b.loadStateDict(sd);
  assert.deepEqual(r, { missingKeys: [], unexpectedKeys: [] });
  assert.equal(b.fc1.weight, bWeight, 'the same Parameter object, updated in place');
  for (const [k, t] of a.stateDict()) assert.deepEqual(b.stateDict().get(k)!.toArray(), t.toArray(), k);
  // The copy does not alias the source.
  assert.notEqual(b.fc1.weight.storage, a.fc1.weight.storage);

  // Plain records and dtype conversion (float64 values into float32 parameters).
  const rec: Record<string, Tensor> = {};
  for (const [k, t] of a.stateDict()) rec[k] = t.dtype === 'float32' ? t.to('float64') : t;
  new Net().loadStateDict(rec);

  // strict: missing/unexpected keys are errors listing every key; non-strict reports them.
  const partial = new Map(sd);
  partial.delete('fc1.bias');
  partial.set('bogus', zeros([1]));
  assert.throws(
    () => b.loadStateDict(partial),
    (e: unknown) => {
      return (
        e instanceof TesseraError &&
        /Error\(s\) in loading state_dict for Net/.test(e.message) &&
        /Missing key\(s\) in state_dict: "fc1.bias"/.test(e.message) &&
        /Unexpected key\(s\) in state_dict: "bogus"/.test(e.message)
      );
    },
  );
  assert.deepEqual(b.loadStateDict(partial, false), { missingKeys: ['fc1.bias'], unexpectedKeys: ['bogus'] });
  const wrong = new Map(sd);
  wrong.set('fc1.weight', zeros([2, 3]));
  assert.throws(
    () => b.loadStateDict(wrong, false),
    /size mismatch for fc1.weight: copying a param with shape \[2, 3\] from checkpoint, the shape in current model is \[3, 2\]/,
  );
});

test('train/eval switch every submodule; apply visits children first', () => {
  const net = new Net();
  assert.ok(net.modules().every((m) => m.training));
  net.eval();
  assert.ok(net.modules().every((m) => !m.training));
  net.train();
  assert.ok(net.modules().every((m) => m.training));
  net.head.train(false);
  assert.equal(net.training, true);
  assert.equal(net.head.at(0).training, false);
  const order: string[] = [];
  net.apply((m) => order.push(m.getName()));
  assert.deepEqual(order, ['Linear', 'ReLU', 'Linear', 'Tanh', 'Linear', 'Sequential', 'Net']);
  assert.throws(() => net.train('yes' as any), /train: mode is expected to be a boolean/);
});

test('zeroGrad, requiresGrad_ and to(dtype)', () => {
  const net = new Net();
  for (const p of net.parameters())
    p.grad = tensor(new Float32Array(p.numel()).fill(1), { shape: [...p.shape] });
  net.zeroGrad(false);
  assert.ok(net.parameters().every((p) => p.grad?.numbers().every((v) => v === 0)));
  net.zeroGrad();
  assert.ok(net.parameters().every((p) => p.grad === null));
  net.requiresGrad_(false);
  assert.ok(net.parameters().every((p) => !p.requiresGrad));
  net.requiresGrad_(true);

  const before = net.fc1.weight.toArray() as number[][];
  net.to('float64');
  assert.ok(
    net.parameters().every((p) => p.dtype === 'float64' && p instanceof nn.Parameter && p.requiresGrad),
  );
  assert.equal((net as any).steps.dtype, 'int64', 'integer buffers keep their dtype');
  assert.equal((net as any).cache.dtype, 'float64');
  assert.deepEqual(
    net.fc1.weight.toArray(),
    before.map((r) => r.map((v) => Math.fround(v))),
  );
  assert.throws(() => net.to('int32'), /only floating-point dtypes are accepted, got int32/);
  assert.throws(() => net.to('nope' as any), /neither a dtype nor a device/);
});

test('toString prints like torch', () => {
  const seq = new nn.Sequential(new nn.Linear(2, 3), new nn.ReLU(), new nn.Linear(3, 1, { bias: false }));
  assert.equal(
    String(seq),
    [
      'Sequential(',
      '  (0): Linear(in_features=2, out_features=3, bias=True)',
      '  (1): ReLU()',
      '  (2): Linear(in_features=3, out_features=1, bias=False)',
      ')',
    ].join('\n'),
  );
  assert.equal(
    String(new Net()),
    [
      'Net(',
      '  (fc1): Linear(in_features=2, out_features=3, bias=True)',
      '  (act): ReLU()',
      '  (head): Sequential(',
      '    (0): Linear(in_features=3, out_features=4, bias=True)',
      '    (1): Tanh()',
      '    (2): Linear(in_features=4, out_features=1, bias=False)',
      '  )',
      ')',
    ].join('\n'),
  );
  const list = new nn.ModuleList([
    new nn.Linear(2, 2),
    new nn.Linear(2, 2),
    new nn.Linear(2, 2),
    new nn.ReLU(),
  ]);
  assert.equal(
    String(list),
    [
      'ModuleList(',
      '  (0-2): 3 x Linear(in_features=2, out_features=2, bias=True)',
      '  (3): ReLU()',
      ')',
    ].join('\n'),
  );
  const reprs: [nn.Module, string][] = [
    [new nn.Conv2d(1, 6, 3), 'Conv2d(1, 6, kernel_size=(3, 3), stride=(1, 1))'],
    [
      new nn.Conv2d(3, 8, [3, 5], { stride: 2, padding: [1, 2], bias: false, groups: 1 }),
      'Conv2d(3, 8, kernel_size=(3, 5), stride=(2, 2), padding=(1, 2), bias=False)',
    ],
    [
      new nn.Conv1d(4, 8, 3, { padding: 'same', dilation: 2, groups: 2 }),
      'Conv1d(4, 8, kernel_size=(3,), stride=(1,), padding=same, dilation=(2,), groups=2)',
    ],
    [new nn.BatchNorm2d(3), 'BatchNorm2d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)'],
    [
      new nn.BatchNorm1d(4, { momentum: null, affine: false }),
      'BatchNorm1d(4, eps=1e-05, momentum=None, affine=False, track_running_stats=True)',
    ],
    [new nn.LayerNorm(4), 'LayerNorm((4,), eps=1e-05, elementwise_affine=True)'],
    [new nn.LayerNorm([2, 3], { eps: 1e-6 }), 'LayerNorm((2, 3), eps=1e-06, elementwise_affine=True)'],
    [new nn.GroupNorm(2, 4), 'GroupNorm(2, 4, eps=1e-05, affine=True)'],
    [new nn.Dropout(), 'Dropout(p=0.5, inplace=False)'],
    [new nn.MaxPool2d(2), 'MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)'],
    [new nn.AvgPool2d(3, { stride: 1, padding: 1 }), 'AvgPool2d(kernel_size=3, stride=1, padding=1)'],
    [new nn.AdaptiveAvgPool2d([5, 7]), 'AdaptiveAvgPool2d(output_size=(5, 7))'],
    [new nn.Embedding(10, 3, { paddingIdx: 0 }), 'Embedding(10, 3, padding_idx=0)'],
    [new nn.Bilinear(2, 3, 4), 'Bilinear(in1_features=2, in2_features=3, out_features=4, bias=True)'],
    [new nn.Flatten(), 'Flatten(start_dim=1, end_dim=-1)'],
    [new nn.Unflatten(1, [2, 5]), 'Unflatten(dim=1, unflattened_size=(2, 5))'],
    [new nn.Identity(), 'Identity()'],
    [new nn.LeakyReLU(), 'LeakyReLU(negative_slope=0.01)'],
    [new nn.ELU(), 'ELU(alpha=1.0)'],
    [new nn.GELU('tanh'), "GELU(approximate='tanh')"],
    [new nn.SiLU(), 'SiLU()'],
    [new nn.Sigmoid(), 'Sigmoid()'],
    [new nn.Softmax(1), 'Softmax(dim=1)'],
    [new nn.LogSoftmax(-1), 'LogSoftmax(dim=-1)'],
    [new nn.MSELoss(), 'MSELoss()'],
  ];
  for (const [m, s] of reprs) assert.equal(String(m), s);
  assert.match(
    String(new nn.Parameter(tensor([1, 2]))),
    /^Parameter containing:\ntensor\(\[1\., 2\.\], requires_grad=True\)$/,
  );
});

test('Sequential and ModuleList: indexing, append, insert, pop, slice', () => {
  const a = new nn.ReLU();
  const b = new nn.Tanh();
  const c = new nn.Sigmoid();
  const seq = new nn.Sequential(a, b);
  assert.equal(seq.length, 2);
  assert.equal(seq[0], a);
  assert.equal(seq.at(-1), b);
  assert.throws(() => seq.at(2), /Sequential: index 2 is out of range for length 2/);
  seq.append(c);
  assert.deepEqual([...seq], [a, b, c]);
  const sl = seq.slice(1);
  assert.deepEqual(
    sl.namedChildren().map(([k]) => k),
    ['1', '2'],
  );
  const named = new nn.Sequential({ first: a, second: b });
  assert.deepEqual(
    named.namedChildren().map(([k]) => k),
    ['first', 'second'],
  );
  assert.throws(() => new nn.Sequential(a, 3 as any), /Sequential: entry 1 must be a Module, got number/);

  const list = new nn.ModuleList([a, b]);
  list.insert(1, c);
  assert.deepEqual([...list], [a, c, b]);
  assert.equal(list.pop(0), a);
  assert.deepEqual([...list], [c, b]);
  assert.deepEqual(
    list.namedChildren().map(([k]) => k),
    ['0', '1'],
  );
  list.set(-1, a);
  assert.equal(list[1], a);
  assert.throws(() => list.forward(), /ModuleList has no forward/);

  const dict = new nn.ModuleDict({ enc: a, dec: b });
  assert.deepEqual(dict.keys(), ['enc', 'dec']);
  assert.equal(dict.get('dec'), b);
  assert.throws(() => dict.set('keys', c), /attribute 'keys' already exists/);
  assert.ok(dict.delete('enc'));
  assert.deepEqual(dict.keys(), ['dec']);
});
