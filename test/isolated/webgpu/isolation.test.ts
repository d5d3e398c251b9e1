/**
 * GPU isolation: models run with device 'webgpu' in a child process (createGpuWorker). Killing that
 * process mid-request fails only the request in flight (TesseraError 'UNAVAILABLE', which the server
 * maps to 503); the worker restarts and the model reloads on its next request; with a CPU fallback
 * executor, requests made while the GPU worker is down are served from the CPU. Without a usable
 * adapter the worker reports a clear error at start-up instead of crashing.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  createGpuWorker,
  type Executor,
  type GpuWorker,
  type TensorPayload,
} from '../../../src/backends/webgpu/index.js';
import { InferenceSession, type Tensor } from '../../../src/index.js';
import { TesseraError } from '../../../src/runtime/errors.js';
import { writeMatmulChain } from '../../server/onnx-models.js';
import { gpuReady } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-gpu-worker-'));
const D = 48;
const file = writeMatmulChain(join(dir, 'chain'), D, 6);
const slow = writeMatmulChain(join(dir, 'slow'), 256, 60);
const logs: string[] = [];
const workers: GpuWorker[] = [];

function start(opts: Parameters<typeof createGpuWorker>[0] = {}): GpuWorker {
  const w = createGpuWorker({ software: 'allow', log: (l) => logs.push(l), ...opts });
  workers.push(w);
  return w;
}

const input = (n: number, d = D): TensorPayload => ({
  name: 'x',
  dtype: 'float32',
  shape: [n, d],
  data: Float32Array.from({ length: n * d }, (_, i) => Math.sin(i) / 2),
});

async function cpuResult(f: string, x: TensorPayload): Promise<Float32Array> {
  const s = await InferenceSession.create(f);
  const { Tensor: T } = await import('../../../src/runtime/tensor.js');
  const out = await s.run({ x: T.fromData(x.data, x.shape, x.dtype) });
  return (out.y as Tensor).dataSync() as Float32Array;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-4 + 1e-4 * Math.abs(b[i]!), `element ${i}: ${a[i]} vs ${b[i]}`);
}

before(async () => {
  await gpuReady();
});
after(async () => {
  await Promise.all(workers.map((w) => w.close()));
  rmSync(dir, { recursive: true, force: true });
});

// One worker for the first three tests: it is killed and restarted along the way.
let shared: GpuWorker;

test('a GPU worker process loads and runs a model on its own adapter', async () => {
  const w = (shared = start());
  const info = await w.ready;
  assert.equal(typeof info.software, 'boolean');
  assert.ok(w.pid && w.pid !== process.pid);
  const sig = await w.load('chain', { file, device: 'webgpu' });
  assert.deepEqual(
    sig.inputs.map((i) => i.name),
    ['x'],
  );
  const x = input(3);
  const r = await w.run('chain', [x], ['y']);
  assert.deepEqual(r.outputs[0]!.shape, [3, D]);
  close(r.outputs[0]!.data as Float32Array, await cpuResult(file, x));
});

test('killing the worker mid-request fails that request with UNAVAILABLE; the next one restarts it', async () => {
  const w = shared;
  await w.load('slow', { file: slow, device: 'webgpu' });
  const firstPid = w.pid;
  const downs: string[] = [];
  w.on('down', (reason) => downs.push(reason));
  const inflight = w.run('slow', [input(64, 256)], ['y']);
  await new Promise((r) => setTimeout(r, 150));
  w.kill('SIGKILL');
  await assert.rejects(
    inflight,
    (e: unknown) => e instanceof TesseraError && e.code === 'UNAVAILABLE' && /died/.test(e.message),
  );
  assert.equal(downs.length, 1);
  // The next request waits for the restarted worker, which reloads the model from its file.
  const x = input(2);
  const r = await w.run('chain', [x], ['y']);
  assert.notEqual(w.pid, firstPid);
  close(r.outputs[0]!.data as Float32Array, await cpuResult(file, x));
});

test('a native-style crash inside the worker is survived the same way', async () => {
  const w = shared;
  const ups: unknown[] = [];
  w.on('up', (i) => ups.push(i));
  const down = new Promise<string>((resolve) => w.on('down', resolve));
  w.crash();
  assert.match(await down, /SIGKILL/);
  const r = await w.run('chain', [input(1)], ['y']);
  assert.deepEqual(r.outputs[0]!.shape, [1, D]);
  assert.equal(ups.length, 1, 'one restart');
});

test('with a CPU fallback, requests made while the GPU worker is down are served from the CPU', async () => {
  const cpuSessions = new Map<string, InferenceSession>();
  const served: string[] = [];
  const cpu: Executor = {
    concurrency: 1,
    async load(key, spec) {
      cpuSessions.set(key, await InferenceSession.create(spec.file));
      return { inputs: [], outputs: [] };
    },
    async run(key, inputs) {
      served.push(key);
      const { Tensor: T } = await import('../../../src/runtime/tensor.js');
      const i = inputs[0]!;
      const out = await cpuSessions.get(key)!.run({ x: T.fromData(i.data, i.shape, i.dtype) });
      const y = out.y as Tensor;
      return {
        outputs: [{ name: 'y', dtype: y.dtype, shape: [...y.shape], data: y.dataSync() }],
        timing: { inputNs: 0, inferNs: 0, outputNs: 0 },
      };
    },
    async unload(key) {
      cpuSessions.delete(key);
    },
    async close() {},
  };
  const w = start({ cpuFallback: cpu });
  await w.load('chain', { file, device: 'webgpu' });
  const down = new Promise((resolve) => w.on('down', resolve));
  w.kill();
  await down;
  const x = input(2);
  const r = await w.run('chain', [x], ['y']);
  assert.deepEqual(served, ['chain'], 'served by the CPU executor');
  close(r.outputs[0]!.data as Float32Array, await cpuResult(file, x));
  await w.ready;
  await w.run('chain', [x], ['y']);
  assert.deepEqual(served, ['chain'], 'back on the GPU once restarted');
});

test('no usable adapter is a clear start-up error, not a crash', async (t) => {
  const info = await gpuReady();
  if (!info.software) {
    t.skip('this machine has a hardware adapter');
    return;
  }
  const w = start({ software: 'deny', restart: false });
  await assert.rejects(
    w.ready,
    (e: unknown) =>
      e instanceof TesseraError && e.code === 'UNAVAILABLE' && /no usable WebGPU adapter/.test(e.message),
  );
  await assert.rejects(w.run('anything', [], []), (e: unknown) => e instanceof TesseraError);
});
