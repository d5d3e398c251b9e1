/**
 * The WebGPU backend itself: adapter start-up, exact round trips for every dtype the GPU holds,
 * views and empty tensors, synchronous and asynchronous readback, the buffer pool reusing freed
 * buffers, the pipeline and uniform caches (a second run compiles nothing), batching past the
 * flush limit, mixed CPU/GPU inputs, counted CPU fallbacks, clear errors, and restarting.
 */
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import {
  disposeWebGPU,
  initWebGPU,
  webgpuAvailable,
  webgpuInfo,
  webgpuStats,
  webgpuSync,
} from '../../../src/backends/webgpu/index.js';
import { int64s, tensor } from '../../../src/index.js';
import { dispatch1, fallbackCounts } from '../../../src/ops/registry.js';
import { TesseraError } from '../../../src/runtime/errors.js';
import { Tensor } from '../../../src/runtime/tensor.js';
import { gpuReady, rn } from './helpers.js';

before(async () => {
  await gpuReady();
});

/** Elements of any storage array as a plain list (for deepEqual). */
const list = (d: unknown) => Array.from(d as ArrayLike<number | bigint>);
const gc = () => (globalThis as { gc?: () => void }).gc?.();
const tick = () => new Promise((r) => setTimeout(r, 10));

test('start-up reports the adapter; a second init returns the same one', async () => {
  const info = await gpuReady();
  assert.ok(webgpuAvailable());
  assert.equal(typeof info.software, 'boolean');
  assert.ok(
    info.limits.maxComputeInvocationsPerWorkgroup! >= 256,
    'kernels need 256 invocations per workgroup',
  );
  assert.equal(await initWebGPU(), info);
  assert.equal(webgpuInfo(), info);
});

test('every dtype the GPU holds round-trips exactly (sync and async readback)', async () => {
  const cases: Tensor[] = [
    tensor([1.5, -2.25, 3e38, -1e-38, 0]),
    tensor([1.5, -2.25, 65504, -0.000061035156], { dtype: 'float16' }),
    tensor([1.5, -2.25, 3e38, 1], { dtype: 'bfloat16' }),
    tensor([0.1, -1e300, 5e-324], { dtype: 'float64' }),
    tensor([-128, 127, 0], { dtype: 'int8' }),
    tensor([0, 255, 7], { dtype: 'uint8' }),
    tensor([-32768, 32767], { dtype: 'int16' }),
    tensor([0, 65535], { dtype: 'uint16' }),
    tensor([-2147483648, 2147483647], { dtype: 'int32' }),
    tensor([0, 4294967295], { dtype: 'uint32' }),
    Tensor.fromData(BigInt64Array.of(-(2n ** 63n), 2n ** 63n - 1n, -1n), [3], 'int64'),
    Tensor.fromData(BigUint64Array.of(2n ** 64n - 1n, 0n), [2], 'uint64'),
    tensor([true, false, true]),
  ];
  for (const t of cases) {
    const g = t.to('webgpu');
    assert.equal(g.device, 'webgpu');
    assert.deepEqual(list(await g.data()), list(t.dataSync()), `${t.dtype} async`);
    // A kernel's output (no CPU shadow copy) read back synchronously.
    const copy = dispatch1('Identity', [g], { copy: 1 });
    assert.deepEqual(list(copy.to('cpu').dataSync()), list(t.dataSync()), `${t.dtype} sync`);
  }
  // Strings have no GPU form: they stay in CPU memory.
  assert.equal(tensor(['a']).to('webgpu').device, 'cpu');
});

test('views and empty tensors read back correctly; item() on a GPU tensor says to await data()', async () => {
  const x = rn([3, 4]);
  const g = x.to('webgpu');
  const t = dispatch1('Transpose', [g], {});
  assert.deepEqual(list(await t.data()), list(dispatch1('Transpose', [x], {}).dataSync()));
  const s = dispatch1('Slice', [g, int64s([1]), int64s([3]), int64s([0])]);
  assert.deepEqual(list(s.to('cpu').dataSync()), list(x.dataSync().slice(4, 12)));
  const e = tensor([], { dtype: 'float32' }).reshape([0, 3]).to('webgpu');
  assert.deepEqual([...dispatch1('Relu', [e]).shape], [0, 3]);
  assert.equal((await dispatch1('Add', [e, e]).data()).length, 0);
  assert.throws(() => tensor([5]).to('webgpu').item(), /await t.data\(\)/);
});

test('mixed CPU and GPU inputs run on the GPU (CPU operands uploaded), in either position', async () => {
  const a = rn([2, 3]);
  const b = rn([3]);
  for (const [x, y] of [
    [a.to('webgpu'), b],
    [a, b.to('webgpu')],
  ] as const) {
    const r = dispatch1('Sub', [x, y]);
    assert.equal(r.device, 'webgpu');
    assert.deepEqual(list(await r.data()), list(dispatch1('Sub', [a, b]).dataSync()));
  }
  // Tensor methods (promotion with scalars included) work on GPU tensors.
  const m = a.to('webgpu').mul(2).add(1).relu().sum();
  assert.ok(Math.abs((await m.data())[0] as number) - (a.mul(2).add(1).relu().sum().item() as number) < 1e-4);
});

test('a long synchronous loop flushes in batches and stays correct', async () => {
  let x = tensor([0]).to('webgpu');
  const one = tensor([1]).to('webgpu');
  for (let i = 0; i < 1500; i++) x = dispatch1('Add', [x, one]);
  assert.equal((await x.data())[0], 1500);
  await webgpuSync();
});

test('the pool reuses freed buffers; a second run compiles nothing and reuses uniforms', async () => {
  const run = () => {
    const x = tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]).to('webgpu');
    return dispatch1(
      'Softmax',
      [dispatch1('MatMul', [dispatch1('Relu', [x]), dispatch1('Transpose', [x], {})])],
      { axis: -1 },
    );
  };
  await run().data();
  const first = webgpuStats();
  await run().data();
  const second = webgpuStats();
  assert.equal(second.pipelines, first.pipelines, 'no new pipeline on the second run');
  assert.equal(second.shaderVariants, first.shaderVariants);
  assert.ok(second.uniformHits > first.uniformHits, 'params buffers come from the cache');
  if (!(globalThis as { gc?: unknown }).gc) return; // needs --expose-gc (the suite runner passes it)
  for (let i = 0; i < 3; i++) {
    gc();
    await tick();
  }
  await webgpuSync();
  const freed = webgpuStats();
  assert.ok(freed.freeBuffers > 0, 'garbage-collected tensors return their buffers to the pool');
  await run().data();
  assert.ok(webgpuStats().reused > freed.reused, 'new tensors take buffers from the pool');
});

test('an op without a WebGPU kernel falls back to the CPU, counted and warned once', async () => {
  const warnings: string[] = [];
  const onWarn = (w: Error) => {
    if (w.name === 'TesseraFallback') warnings.push(w.message);
  };
  process.on('warning', onWarn);
  const x = tensor([3, 1, 3, 2, 1]).to('webgpu');
  const before = fallbackCounts.get('TopK') ?? 0;
  const [v, i] = ['TopK'].map(() => dispatch1('TopK', [x, int64s([2])]));
  void i;
  const again = dispatch1('TopK', [x, int64s([2])]);
  await tick();
  process.off('warning', onWarn);
  assert.equal(v!.device, 'webgpu');
  assert.deepEqual(list(await v!.data()), [3, 3]);
  assert.deepEqual(list(await again.data()), [3, 3]);
  assert.equal(fallbackCounts.get('TopK'), before + 2);
  assert.equal(webgpuStats().fallbacks.TopK, before + 2);
  assert.equal(warnings.filter((w) => w.includes('TopK')).length, 1, 'one warning per op');
});

test('user errors from GPU kernels are TesseraErrors naming the op, the expected and the got', () => {
  const a = rn([2, 3]).to('webgpu');
  assert.throws(
    () => dispatch1('MatMul', [a, rn([4, 5]).to('webgpu')]),
    (e: unknown) => e instanceof TesseraError && /MatMul/.test(e.message) && /K=3/.test(e.message),
  );
  assert.throws(
    () => dispatch1('Concat', [a, rn([2]).to('webgpu')], { axis: 0 }),
    (e: unknown) => e instanceof TesseraError && /Concat: input 1 has rank 1, expected 2/.test(e.message),
  );
  assert.throws(
    () => dispatch1('Conv', [rn([1, 3, 5, 5]).to('webgpu'), rn([4, 2, 3, 3]).to('webgpu')]),
    (e: unknown) => e instanceof TesseraError && /Conv/.test(e.message) && /channels/.test(e.message),
  );
});

test('shutting down makes GPU tensors unreadable with a clear error; init starts a fresh backend', async () => {
  const g = tensor([1, 2]).to('webgpu');
  const y = dispatch1('Neg', [g]);
  await disposeWebGPU();
  assert.equal(webgpuAvailable(), false);
  await assert.rejects(y.data(), (e: unknown) => e instanceof TesseraError && e.code === 'UNAVAILABLE');
  await initWebGPU({ log: () => {}, gcEveryBytes: 16 << 20 });
  assert.deepEqual(list(await dispatch1('Neg', [tensor([1, 2]).to('webgpu')]).data()), [-1, -2]);
});

test('GPU memory pressure triggers collections, so dropped tensors return their buffers', async () => {
  // 120 results of 2 MiB each, only the last one kept: with a collection every 16 MiB of new
  // buffers (set at the restart above), live GPU memory stays a small multiple of that.
  const x = rn([512, 1024]).to('webgpu');
  let y = x;
  for (let i = 0; i < 120; i++) {
    y = dispatch1('Add', [x, y]);
    if (i % 10 === 9) await y.data();
  }
  await tick();
  const s = webgpuStats();
  assert.ok(s.liveBytes < 80 * 2 ** 20, `live GPU memory ${s.liveBytes} bytes`);
  assert.ok(s.reused > 0);
});
