/**
 * Optimizers on WebGPU: every optimizer and option set updates GPU parameters in place with its
 * fused kernel, state kept in GPU buffers, nothing read back per step; the reference is the CPU
 * optimizer (the float64 rule that test/optim checks against hand values and PyTorch) run on the
 * same float32 parameters and gradients. Also: state_dict save/load across devices, the CPU-rule
 * fallback (float64 parameters, an optimizer without a GPU rule), clipGradNorm / clipGradValue /
 * zeroGrad on GPU gradients, parameters over the binding limit, and an MLP trained 50 steps on
 * the GPU against the same training on the CPU, and TrainingSession with device 'webgpu'.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { webgpuStats } from '../../../src/backends/webgpu/index.js';
import { activeClient } from '../../../src/backends/webgpu/runtime.js';
import { importOnnxFile, manualSeed, nn, optim, randn, type Tensor, tensor } from '../../../src/index.js';
import { fallbackCounts } from '../../../src/ops/registry.js';
import type { OptimizerStateDict, ParamState } from '../../../src/optim/index.js';
import { Optimizer } from '../../../src/optim/optimizer.js';
import { TesseraError } from '../../../src/runtime/errors.js';
import { TrainingSession } from '../../../src/train/training-session.js';
import { assertSameValues, gpuReady, rn } from './helpers.js';

before(async () => {
  await gpuReady();
});

type Make = (params: Tensor[]) => Optimizer<any>;

/** Odd shapes: a matrix, a 3-D weight, a 0-d scalar, one element, and one past the 4096-element upload shadow. */
const SHAPES = [[37, 5], [3, 1, 7], [], [1], [65, 67]];

/** A float32 GPU tensor's elements (from `await t.data()`). */
const f32 = (d: unknown): number[] => Array.from(d as Float32Array);

function totalFallbacks(): number {
  let n = 0;
  for (const v of fallbackCounts.values()) n += v;
  return n;
}

function reads(): number {
  const s = webgpuStats();
  return s.reads + s.syncReads;
}

/** The two optimizers' state dicts hold the same keys, steps and buffers (within tolerance). */
function assertSameState(got: OptimizerStateDict, want: OptimizerStateDict, tol: number, what: string): void {
  assert.deepEqual(Object.keys(got.state), Object.keys(want.state), `${what}: parameters with state`);
  for (const [idx, w] of Object.entries(want.state)) {
    const g = got.state[Number(idx)]!;
    assert.deepEqual(Object.keys(g).sort(), Object.keys(w).sort(), `${what}: state keys of ${idx}`);
    for (const [k, wv] of Object.entries(w)) {
      const gv = g[k]!;
      if (typeof wv === 'number') {
        assert.equal(gv, wv, `${what}: ${k} of ${idx}`);
        continue;
      }
      const ga = gv as number[];
      assert.equal(ga.length, wv.length, `${what}: ${k} of ${idx} length`);
      for (let i = 0; i < wv.length; i++) {
        const d = Math.abs(ga[i]! - wv[i]!);
        assert.ok(
          d <= tol + tol * Math.abs(wv[i]!),
          `${what}: ${k}[${i}] of ${idx}: got ${ga[i]}, expected ${wv[i]}`,
        );
      }
    }
  }
  assert.deepEqual(
    got.paramGroups.map((g) => g.params),
    want.paramGroups.map((g) => g.params),
  );
}

/**
 * Runs `steps` steps of `make` on CPU float32 parameters and on the same parameters on the GPU, with
 * the same fresh random gradients each step (the last parameter gets none on odd steps), and
 * compares parameters and state. Checks the GPU steps read nothing back and fell back nowhere.
 */
async function compareOptimizer(what: string, make: Make, steps = 5, tol = 2e-5): Promise<void> {
  const init = SHAPES.map((s) => rn(s));
  const cpu = init.map((t) => t.clone().requiresGrad_(true));
  const gpu = init.map((t) => t.to('webgpu').requiresGrad_(true));
  const oc = make(cpu);
  const og = make(gpu);
  const fb = totalFallbacks();
  const r0 = reads();
  for (let k = 0; k < steps; k++) {
    init.forEach((t, i) => {
      const skip = i === init.length - 1 && k % 2 === 1;
      const g = skip ? null : rn([...t.shape], 0.5 + k);
      cpu[i]!.grad = g;
      gpu[i]!.grad = g ? g.to('webgpu') : null;
    });
    oc.step();
    og.step();
  }
  assert.equal(reads(), r0, `${what}: steps read nothing back from the GPU`);
  assert.equal(totalFallbacks(), fb, `${what}: no CPU fallback`);
  for (let i = 0; i < init.length; i++) {
    assert.equal(gpu[i]!.device, 'webgpu');
    await assertSameValues(gpu[i]!, cpu[i]!, tol, tol, `${what}: parameter ${i}`);
    for (const [k, v] of Object.entries(og.state.get(gpu[i]!) ?? {})) {
      if (typeof v !== 'number')
        assert.equal((v as Tensor).device, 'webgpu', `${what}: state ${k} on the GPU`);
    }
  }
  assertSameState(og.stateDict(), oc.stateDict(), tol, what);
}

test('SGD: plain, momentum, dampening, nesterov, weight decay, maximize', async () => {
  const cases: [string, Partial<optim.SGDOptions>][] = [
    ['plain', { lr: 0.1 }],
    ['momentum', { lr: 0.05, momentum: 0.9 }],
    ['dampening', { lr: 0.05, momentum: 0.8, dampening: 0.3 }],
    ['nesterov + weightDecay', { lr: 0.05, momentum: 0.9, nesterov: true, weightDecay: 0.1 }],
    ['maximize + momentum + weightDecay', { lr: 0.02, momentum: 0.5, weightDecay: 0.05, maximize: true }],
  ];
  for (const [name, o] of cases) await compareOptimizer(`SGD ${name}`, (ps) => new optim.SGD(ps, o));
});

test('Adam and AdamW: defaults, weight decay, amsgrad, maximize', async () => {
  const adam: [string, Partial<optim.AdamOptions>][] = [
    ['defaults', { lr: 0.01 }],
    ['weightDecay', { lr: 0.01, weightDecay: 0.1, betas: [0.8, 0.95] }],
    ['amsgrad', { lr: 0.02, amsgrad: true }],
    [
      'maximize + amsgrad + weightDecay',
      { lr: 0.01, amsgrad: true, maximize: true, weightDecay: 0.05, eps: 1e-6 },
    ],
  ];
  for (const [name, o] of adam) await compareOptimizer(`Adam ${name}`, (ps) => new optim.Adam(ps, o));
  const adamw: [string, Partial<optim.AdamWOptions>][] = [
    ['defaults', { lr: 0.01 }],
    ['weightDecay 0.3 + amsgrad', { lr: 0.05, weightDecay: 0.3, amsgrad: true }],
    ['maximize', { lr: 0.01, maximize: true }],
  ];
  for (const [name, o] of adamw) await compareOptimizer(`AdamW ${name}`, (ps) => new optim.AdamW(ps, o));
});

test('RMSprop: plain, centered, momentum, all together', async () => {
  const cases: [string, Partial<optim.RMSpropOptions>][] = [
    ['plain', { lr: 0.01 }],
    ['centered', { lr: 0.01, centered: true, alpha: 0.9 }],
    ['momentum', { lr: 0.01, momentum: 0.7 }],
    [
      'centered + momentum + weightDecay + maximize',
      { lr: 0.005, centered: true, momentum: 0.5, weightDecay: 0.1, maximize: true, eps: 1e-4 },
    ],
  ];
  for (const [name, o] of cases) await compareOptimizer(`RMSprop ${name}`, (ps) => new optim.RMSprop(ps, o));
});

test('Adagrad: plain, lrDecay with an initial accumulator, weight decay and maximize', async () => {
  const cases: [string, Partial<optim.AdagradOptions>][] = [
    ['plain', { lr: 0.1 }],
    ['lrDecay + initialAccumulatorValue', { lr: 0.1, lrDecay: 0.2, initialAccumulatorValue: 0.5 }],
    ['weightDecay + maximize', { lr: 0.05, weightDecay: 0.2, maximize: true, eps: 1e-6 }],
  ];
  for (const [name, o] of cases) await compareOptimizer(`Adagrad ${name}`, (ps) => new optim.Adagrad(ps, o));
});

test('parameter groups with their own hyper-parameters', async () => {
  await compareOptimizer('SGD groups', (ps) => {
    return new optim.SGD(
      [
        { params: ps.slice(0, 2), lr: 0.2, momentum: 0.9, nesterov: true },
        { params: ps.slice(2), lr: 0.01 },
      ],
      { lr: 0.1 },
    );
  });
  await compareOptimizer('Adam groups', (ps) => {
    return new optim.Adam(
      [
        { params: ps.slice(0, 3), amsgrad: true },
        { params: ps.slice(3), lr: 0.1 },
      ],
      { lr: 0.01 },
    );
  });
});

test('parameters are updated in place: views and the small-upload CPU copy see the new values', async () => {
  const p = tensor([1, 2, 3, 4]).to('webgpu').requiresGrad_(true);
  const view = p.detach().reshape(2, 2);
  const opt = new optim.SGD([p], { lr: 0.25 });
  p.grad = tensor([1, 1, 1, 1]).to('webgpu');
  opt.step();
  // Synchronous readback of a small uploaded tensor may use its CPU copy: that copy must be gone.
  assert.deepEqual(view.to('cpu').toArray(), [
    [0.75, 1.75],
    [2.75, 3.75],
  ]);
  assert.deepEqual(f32(await p.data()), [0.75, 1.75, 2.75, 3.75]);
});

test('float16 and bfloat16 parameters: computed in f32, rounded on write as their CPU storage', async () => {
  for (const dtype of ['float16', 'bfloat16'] as const) {
    const init = rn([9, 11]).to(dtype);
    const cpu = init.clone().requiresGrad_(true);
    const gpu = init.to('webgpu').requiresGrad_(true);
    const oc = new optim.Adam([cpu], { lr: 0.01 });
    const og = new optim.Adam([gpu], { lr: 0.01 });
    for (let k = 0; k < 3; k++) {
      const g = rn([9, 11]).to(dtype);
      cpu.grad = g;
      gpu.grad = g.to('webgpu');
      oc.step();
      og.step();
    }
    // The CPU rule runs in float64 and rounds once per step; f32 may land one 16-bit step away.
    const tol = dtype === 'float16' ? 2e-3 : 1.6e-2;
    await assertSameValues(gpu, cpu, tol, tol, `Adam ${dtype}`);
  }
});

test('state_dict: read back on save, restored on the GPU, portable between CPU and GPU', async () => {
  const init = [rn([13, 3]), rn([7])];
  const grads = Array.from({ length: 6 }, () => init.map((t) => rn([...t.shape])));
  const run = (ps: Tensor[], opt: Optimizer<any>, from: number, to: number) => {
    for (let k = from; k < to; k++) {
      ps.forEach((p, i) => {
        p.grad = p.device === 'cpu' ? grads[k]![i]! : grads[k]![i]!.to(p.device);
      });
      opt.step();
    }
  };
  const make = (ps: Tensor[]) => new optim.Adam(ps, { lr: 0.05, amsgrad: true });
  // Reference: 6 steps on the CPU.
  const ref = init.map((t) => t.clone().requiresGrad_(true));
  const refOpt = make(ref);
  run(ref, refOpt, 0, 6);

  // 3 steps on the GPU, saved through JSON, loaded into a new GPU optimizer, 3 more steps.
  const a = init.map((t) => t.to('webgpu').requiresGrad_(true));
  const optA = make(a);
  run(a, optA, 0, 3);
  const saved = JSON.parse(JSON.stringify(optA.stateDict())) as OptimizerStateDict;
  assert.equal(saved.state[0]!.step, 3);
  assert.equal((saved.state[0]!.expAvg as number[]).length, 39);
  const b = a.map((t) => t.detach().clone().requiresGrad_(true));
  assert.equal(b[0]!.device, 'webgpu');
  const optB = make(b);
  optB.loadStateDict(saved);
  run(b, optB, 3, 6);
  for (let i = 0; i < 2; i++)
    await assertSameValues(b[i]!, ref[i]!, 2e-5, 2e-5, `GPU resumed, parameter ${i}`);
  assertSameState(optB.stateDict(), refOpt.stateDict(), 2e-5, 'GPU resumed');

  // The GPU state loaded into a CPU optimizer, and a CPU state into a GPU one.
  const c = await Promise.all(a.map(async (t) => tensor(f32(await t.data())).reshape([...t.shape])));
  const cpuParams = c.map((t) => t.requiresGrad_(true));
  const optC = make(cpuParams);
  optC.loadStateDict(saved);
  run(cpuParams, optC, 3, 6);
  for (let i = 0; i < 2; i++)
    await assertSameValues(cpuParams[i]!, ref[i]!, 2e-5, 2e-5, `CPU from GPU state ${i}`);

  const cpuHalf = init.map((t) => t.clone().requiresGrad_(true));
  const optD = make(cpuHalf);
  run(cpuHalf, optD, 0, 3);
  const d = cpuHalf.map((t) => t.detach().to('webgpu').requiresGrad_(true));
  const optE = make(d);
  optE.loadStateDict(optD.stateDict());
  run(d, optE, 3, 6);
  for (let i = 0; i < 2; i++) await assertSameValues(d[i]!, ref[i]!, 2e-5, 2e-5, `GPU from CPU state ${i}`);
  for (const v of Object.values(optE.state.get(d[0]!)!)) {
    if (typeof v !== 'number') assert.equal((v as Tensor).device, 'webgpu');
  }
});

test('no GPU rule: float64 parameters and optimizers without one run the CPU rule on copies, counted', async () => {
  const init = rn([6, 5]).to('float64');
  const grads = [rn([6, 5]).to('float64'), rn([6, 5]).to('float64')];
  const cpu = init.clone().requiresGrad_(true);
  const gpu = init.to('webgpu').requiresGrad_(true);
  const oc = new optim.RMSprop([cpu], { lr: 0.01, momentum: 0.3 });
  const og = new optim.RMSprop([gpu], { lr: 0.01, momentum: 0.3 });
  const before = fallbackCounts.get('RMSprop.step') ?? 0;
  for (const g of grads) {
    cpu.grad = g;
    gpu.grad = g.to('webgpu');
    oc.step();
    og.step();
  }
  assert.equal(fallbackCounts.get('RMSprop.step'), before + 2);
  assert.equal(gpu.device, 'webgpu');
  // float64 on both sides, the same float64 rule: exact.
  await assertSameValues(gpu, cpu, 0, 0, 'RMSprop float64');

  // A user optimizer with only the CPU rule: p <- p - lr * sign(g).
  class SignSGD extends Optimizer<{ lr: number }> {
    constructor(params: Tensor[]) {
      super(params, { lr: 0.1 });
    }
    protected validate(): void {}
    protected update(p: Float64Array, g: Float64Array, s: ParamState, h: { lr: number }): void {
      s.step = ((s.step as number | undefined) ?? 0) + 1;
      for (let i = 0; i < p.length; i++) p[i] = p[i]! - h.lr * Math.sign(g[i]!);
    }
  }
  const q = tensor([1, 2, 3]).to('webgpu').requiresGrad_(true);
  const oq = new SignSGD([q]);
  q.grad = tensor([-5, 0, 2]).to('webgpu');
  oq.step();
  assert.deepEqual(f32(await q.data()), [Math.fround(1.1), 2, Math.fround(2.9)]);
  assert.equal(oq.state.get(q)!.step, 1);
});

test('a CPU gradient of a GPU parameter is moved; a wrong shape is an error naming it', async () => {
  const p = rn([4, 3]).to('webgpu').requiresGrad_(true);
  const c = f32(await p.data());
  const g = rn([4, 3]);
  p.grad = g;
  new optim.SGD([p], { lr: 0.5 }).step();
  const want = Array.from(c, (v, i) => Math.fround(v - 0.5 * g.numbers()[i]!));
  assert.deepEqual(f32(await p.data()), want);
  p.grad = rn([3, 4]).to('webgpu');
  assert.throws(
    () => new optim.SGD([p], { lr: 0.5 }).step(),
    (e: unknown) => e instanceof TesseraError && /shape \[3, 4\], expected \[4, 3\]/.test(e.message),
  );
});

test('zeroGrad(false) zeroes GPU gradients in place', async () => {
  const p = rn([5, 3]).to('webgpu').requiresGrad_(true);
  const opt = new optim.SGD([p], { lr: 0.1 });
  p.grad = rn([5, 3]).to('webgpu');
  const g = p.grad;
  opt.zeroGrad(false);
  assert.equal(p.grad, g, 'the same gradient tensor');
  assert.deepEqual(f32(await g.data()), new Array(15).fill(0));
  opt.zeroGrad();
  assert.equal(p.grad, null);
});

/** Pairs of CPU and GPU parameters with the same gradients (a large one spans many workgroups). */
function gradPairs(scale = 1): { cpu: Tensor[]; gpu: Tensor[] } {
  const shapes = [[300, 251], [17], [5, 1, 3], []];
  const cpu = shapes.map((s) => rn(s).requiresGrad_(true));
  const gpu = cpu.map((t) => t.detach().to('webgpu').requiresGrad_(true));
  cpu.forEach((t, i) => {
    const g = rn(shapes[i]!, scale);
    t.grad = g;
    gpu[i]!.grad = g.to('webgpu');
  });
  return { cpu, gpu };
}

test('clipGradNorm: the norm by GPU reductions, gradients rescaled in place, as on the CPU', async () => {
  for (const order of [2, 1, 3, 'inf'] as const) {
    for (const maxNorm of [0.5, 1e9]) {
      const { cpu, gpu } = gradPairs(0.1);
      const before = gpu.map((p) => p.grad);
      const r0 = webgpuStats().syncReads;
      const tc = optim.clipGradNorm(cpu, maxNorm, order);
      const tg = optim.clipGradNorm(gpu, maxNorm, order);
      assert.ok(webgpuStats().syncReads - r0 <= 1, 'one read-back of the total');
      assert.ok(Math.abs(tg - tc) <= 1e-5 * tc, `norm ${order}: got ${tg}, expected ${tc}`);
      for (let i = 0; i < cpu.length; i++) {
        assert.equal(gpu[i]!.grad, before[i], 'clipped in place');
        await assertSameValues(
          gpu[i]!.grad!,
          cpu[i]!.grad!,
          2e-5,
          1e-7,
          `clip ${order} ${maxNorm} grad ${i}`,
        );
      }
    }
  }
  // A NaN gradient: the norm is NaN on both devices; errorIfNonfinite throws.
  const { gpu } = gradPairs();
  gpu[1]!.grad = tensor(Array.from({ length: 17 }, (_, i) => (i === 4 ? Number.NaN : i))).to('webgpu');
  assert.ok(Number.isNaN(optim.clipGradNorm(gpu.slice(0, 2), 1, 'inf')));
  assert.throws(() => optim.clipGradNorm(gpu, 1, 2, true), TesseraError);
});

test('clipGradValue clamps GPU gradients in place', async () => {
  const { cpu, gpu } = gradPairs();
  optim.clipGradValue(cpu, 0.7);
  const g0 = gpu[0]!.grad;
  optim.clipGradValue(gpu, 0.7);
  assert.equal(gpu[0]!.grad, g0);
  for (let i = 0; i < cpu.length; i++)
    await assertSameValues(gpu[i]!.grad!, cpu[i]!.grad!, 0, 0, `clamp ${i}`);
});

test('buffers over the binding limit are updated and reduced in parts', async () => {
  const client = activeClient()!;
  const limits = client.info.limits as Record<string, number>;
  const saved = limits.maxStorageBufferBindingSize!;
  try {
    // Pretend the adapter binds at most 4 KiB, so a 3001-element parameter needs several parts.
    const init = rn([3001]);
    const cpu = init.clone().requiresGrad_(true);
    const gpu = init.to('webgpu').requiresGrad_(true);
    const oc = new optim.Adam([cpu], { lr: 0.01, amsgrad: true });
    const og = new optim.Adam([gpu], { lr: 0.01, amsgrad: true });
    limits.maxStorageBufferBindingSize = 4096;
    for (let k = 0; k < 3; k++) {
      const g = rn([3001]);
      cpu.grad = g;
      gpu.grad = g.to('webgpu');
      oc.step();
      og.step();
    }
    const tc = optim.clipGradNorm([cpu], 1);
    const tg = optim.clipGradNorm([gpu], 1);
    limits.maxStorageBufferBindingSize = saved;
    await assertSameValues(gpu, cpu, 2e-5, 2e-5, 'Adam in parts');
    assertSameState(og.stateDict(), oc.stateDict(), 2e-5, 'Adam in parts');
    assert.ok(Math.abs(tg - tc) <= 1e-5 * tc, `norm in parts: got ${tg}, expected ${tc}`);
    await assertSameValues(gpu.grad!, cpu.grad!, 2e-5, 1e-7, 'clipped in parts');
  } finally {
    limits.maxStorageBufferBindingSize = saved;
  }
});

/** An MLP classifier trained `steps` steps with Adam on `device`; returns the losses. */
function trainMlp(device: 'cpu' | 'webgpu', steps: number): { losses: number[]; model: nn.Module } {
  manualSeed(7);
  const x = randn([128, 4]);
  const y = x.index(':', 0).mul(x.index(':', 1)).add(x.index(':', 2)).gt(0).long();
  const model = new nn.Sequential(new nn.Linear(4, 24), new nn.Tanh(), new nn.Linear(24, 2)).to(device);
  const opt = new optim.Adam(model.parameters(), { lr: 0.03 });
  const xd = x.to(device);
  const yd = y.to(device);
  const losses: number[] = [];
  for (let step = 0; step < steps; step++) {
    opt.zeroGrad();
    const loss = nn.crossEntropy(model.forward(xd), yd);
    loss.backward();
    optim.clipGradNorm(model.parameters(), 5);
    opt.step();
    losses.push(Number(loss.to('cpu').item()));
  }
  return { losses, model };
}

test('an MLP trained 50 steps on webgpu follows the CPU training: loss falls, same losses and weights', async () => {
  const cpu = trainMlp('cpu', 50);
  const gpu = trainMlp('webgpu', 50);
  for (const p of gpu.model.parameters()) assert.equal(p.device, 'webgpu');
  assert.ok(gpu.losses[49]! < 0.5 * gpu.losses[0]!, `loss falls: ${gpu.losses[0]} -> ${gpu.losses[49]}`);
  for (let k = 0; k < 50; k++) {
    const d = Math.abs(gpu.losses[k]! - cpu.losses[k]!);
    assert.ok(
      d <= 2e-3 * Math.max(1, cpu.losses[k]!),
      `step ${k}: loss ${gpu.losses[k]} vs ${cpu.losses[k]}`,
    );
  }
  const pc = cpu.model.parameters();
  const pg = gpu.model.parameters();
  for (let i = 0; i < pc.length; i++) await assertSameValues(pg[i]!, pc[i]!, 5e-3, 5e-3, `weight ${i}`);
});

test("TrainingSession with device 'webgpu': weights, feeds and optimizer state on the GPU, same training as on the CPU", async () => {
  // The bundled-with-the-suite BatchNorm MLP: running statistics are written back on the GPU too.
  const m = importOnnxFile(
    new URL('../../../../shared/models/mnist_mlp_batchnorm/model.onnx', import.meta.url).pathname,
  );
  const make = (device: 'cpu' | 'webgpu') =>
    TrainingSession.fromModel(m, {
      device,
      loss: 'crossEntropy',
      optimizer: { name: 'sgd', lr: 0.05, momentum: 0.9 },
      liftConstants: true,
    });
  const cpu = make('cpu');
  const gpu = make('webgpu');
  assert.equal(gpu.device, 'webgpu');
  for (const p of gpu.parameters()) assert.equal(p.device, 'webgpu');
  const x = rn([24, 784]);
  const xs = x.dataSync() as Float32Array;
  // The class is the index of the largest of the first 10 pixels.
  const labels = Array.from({ length: 24 }, (_, i) => {
    let b = 0;
    for (let j = 1; j < 10; j++) if (xs[i * 784 + j]! > xs[i * 784 + b]!) b = j;
    return b;
  });
  const y = tensor(labels, { dtype: 'int64' });
  const losses: number[] = [];
  for (let k = 0; k < 6; k++) {
    const rc = await cpu.trainStep({ network_input: x, target: y });
    const rg = await gpu.trainStep({ network_input: x, target: y });
    assert.equal(rg.loss!.device, 'webgpu');
    await cpu.optimizerStep();
    await gpu.optimizerStep();
    await cpu.lazyResetGrad();
    await gpu.lazyResetGrad();
    const lc = Number(rc.loss!.item());
    const lg = Number(rg.loss!.to('cpu').item());
    assert.ok(Math.abs(lg - lc) <= 1e-3 * Math.max(1, lc), `step ${k}: loss ${lg} vs ${lc}`);
    losses.push(lg);
  }
  assert.ok(losses[5]! < losses[0]! / 2, `loss falls: ${losses[0]} -> ${losses[5]}`);
  const pc = cpu.contiguousParameters(false);
  await assertSameValues(gpu.contiguousParameters(false), pc, 2e-3, 2e-3, 'weights and running statistics');
  const momentum = gpu.optimizer!.state.get(gpu.parameters()[0]!)!.momentumBuffer as Tensor;
  assert.equal(momentum.device, 'webgpu');
  // Exported weights are CPU tensors; loading parameters writes the GPU weights in place.
  const exported = gpu.toModel();
  for (const t of exported.graph.initializers.values()) assert.equal(t.device, 'cpu');
  const w0 = gpu.parameters()[0]!;
  gpu.loadParameters(pc, false);
  assert.equal(gpu.parameters()[0], w0);
  await assertSameValues(gpu.contiguousParameters(false), pc, 0, 0, 'loadParameters');
  gpu.loadStateDict(cpu.stateDict());
  await assertSameValues(gpu.contiguousParameters(false), pc, 0, 0, 'loadStateDict');
});
