/**
 * The server with webgpu models (issue 8): they run in a GPU worker process. Killing that process
 * mid-request fails only the request in flight (503); the server keeps answering, health endpoints
 * too; with --gpu-fallback cpu the models stay ready and are served from the CPU worker threads
 * meanwhile, with 'none' they are not ready with the reason; once the worker has restarted they are
 * ready again on the GPU and their outputs match the CPU's.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeMessage } from '../../../src/importers/onnx/proto.js';
import type { DeviceExecutor } from '../../../src/server/gpu-executor.js';
import { type RunningServer, startServer } from '../../../src/server/server.js';
import { writeMatmulChain } from '../../server/onnx-models.js';
import { gpuReady } from './helpers.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const repo = mkdtempSync(join(tmpdir(), 'tessera-gpu-server-'));
const logs: string[] = [];
const servers: RunningServer[] = [];

/** models/mlp as 'mlp_gpu' (device webgpu) and 'mlp_cpu' (device cpu), and a slow webgpu MatMul chain. */
function writeRepository(): void {
  const config = JSON.parse(readFileSync(join(ROOT, 'models', 'mlp', 'config.json'), 'utf8'));
  for (const [name, device] of [
    ['mlp_gpu', 'webgpu'],
    ['mlp_cpu', 'cpu'],
  ] as const) {
    cpSync(join(ROOT, 'models', 'mlp', '1'), join(repo, name, '1'), { recursive: true });
    writeFileSync(join(repo, name, 'config.json'), JSON.stringify({ ...config, name, device }));
  }
  writeMatmulChain(join(repo, 'slow', '1'), 256, 60);
  writeFileSync(join(repo, 'slow', 'config.json'), JSON.stringify({ device: 'webgpu' }));
  // NonZero has no WebGPU kernel: it runs on the CPU, counted (the fallback metric).
  const info = (name: string, elem_type: number, dims: (number | string)[]) => ({
    name,
    type: {
      tensor_type: {
        elem_type,
        shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
      },
    },
  });
  mkdirSync(join(repo, 'nonzero', '1'), { recursive: true });
  writeFileSync(
    join(repo, 'nonzero', '1', 'model.onnx'),
    encodeMessage('ModelProto', {
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'nonzero',
        node: [{ op_type: 'NonZero', input: ['x'], output: ['y'] }],
        input: [info('x', 1, ['n'])],
        output: [info('y', 7, [1, 'k'])],
      },
    }),
  );
  writeFileSync(join(repo, 'nonzero', 'config.json'), JSON.stringify({ device: 'webgpu' }));
}

async function serve(
  gpuFallback: 'cpu' | 'none',
  software: 'allow' | 'deny' = 'allow',
): Promise<RunningServer> {
  const s = await startServer({
    modelRepository: repo,
    host: '127.0.0.1',
    port: 0,
    threads: 1,
    gpuFallback,
    webgpu: { software },
    training: false,
    processMetrics: false,
    log: (m) => logs.push(m),
  });
  servers.push(s);
  return s;
}

const gpuOf = (s: RunningServer) => (s.executor as DeviceExecutor).gpu!;

const X = Array.from({ length: 3 * 4 }, (_, i) => Math.sin(i + 1));

async function infer(s: RunningServer, model: string, body?: object): Promise<{ status: number; json: any }> {
  const res = await fetch(`${s.url}/v2/models/${model}/infer`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body ?? { inputs: [{ name: 'input', shape: [3, 4], datatype: 'FP32', data: X }] }),
  });
  return { status: res.status, json: await res.json() };
}

async function outputsOf(s: RunningServer, model: string): Promise<number[]> {
  const r = await infer(s, model);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json.outputs[0].data as number[];
}

function close(a: number[], b: number[]): void {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 + 1e-4 * Math.abs(b[i]!), `element ${i}: ${a[i]} vs ${b[i]}`);
}

const get = async (s: RunningServer, path: string) => {
  const res = await fetch(`${s.url}${path}`);
  return { status: res.status, body: await res.text() };
};

/** The slow model's request, started; the GPU worker is killed while it runs. */
function slowRequest(s: RunningServer) {
  const n = 64;
  return infer(s, 'slow', {
    inputs: [
      {
        name: 'x',
        shape: [n, 256],
        datatype: 'FP32',
        data: Array.from({ length: n * 256 }, (_, i) => (i % 7) / 7),
      },
    ],
  });
}

async function killMidRequest(s: RunningServer): Promise<{ status: number; json: any }> {
  const gpu = gpuOf(s);
  const down = new Promise<string>((resolve) => gpu.on('down', resolve));
  const inflight = slowRequest(s);
  await new Promise((r) => setTimeout(r, 300));
  gpu.kill('SIGKILL');
  assert.match(await down, /SIGKILL/);
  return inflight;
}

/** Waits until `fn` is true (polling), at most `ms`. */
async function until(fn: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

before(async () => {
  await gpuReady(); // skips nothing: the runner only gets here with a usable adapter
  writeRepository();
});
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(repo, { recursive: true, force: true });
});

test('gpu-fallback cpu: a killed GPU worker fails the request in flight, CPU serves meanwhile, the GPU comes back', async () => {
  const s = await serve('cpu');
  assert.ok(
    logs.some((l) => /webgpu: the GPU worker \(pid \d+\) uses/.test(l)),
    logs.join('\n'),
  );
  const cpu = await outputsOf(s, 'mlp_cpu');
  close(await outputsOf(s, 'mlp_gpu'), cpu);
  const nz = await infer(s, 'nonzero', {
    inputs: [{ name: 'x', shape: [4], datatype: 'FP32', data: [0, 2, 0, 3] }],
  });
  assert.equal(nz.status, 200, JSON.stringify(nz.json));
  assert.deepEqual(nz.json.outputs[0].data, [1, 3]);
  assert.ok((gpuOf(s).fallbackCounts().NonZero ?? 0) >= 1, JSON.stringify(gpuOf(s).fallbackCounts()));

  const r = await killMidRequest(s);
  if (process.env.TESSERA_TEST_DEBUG) console.log('request in flight when killed:', r.status, r.json.error);
  // Failed with 503 (UNAVAILABLE), or answered from the CPU if the kill came after the GPU finished.
  assert.ok(r.status === 503 || r.status === 200, `status ${r.status}: ${JSON.stringify(r.json)}`);
  if (r.status === 503) assert.match(r.json.error, /GPU worker .* died/);
  assert.equal((await get(s, '/v2/health/live')).status, 200);
  assert.equal((await get(s, '/v2/health/ready')).status, 200);
  // Still ready, with the reason said; served from the CPU while the worker restarts.
  const index = JSON.parse(
    await fetch(`${s.url}/v2/repository/index`, { method: 'POST' }).then((x) => x.text()),
  );
  const entry = index.find((e: { name: string }) => e.name === 'mlp_gpu');
  assert.equal(entry.state, 'READY');
  assert.match(entry.reason, /served from the CPU/);
  close(await outputsOf(s, 'mlp_gpu'), cpu);

  await until(() => gpuOf(s).alive, 30_000, 'the GPU worker to restart');
  await until(
    async () => {
      const ix = JSON.parse(
        await fetch(`${s.url}/v2/repository/index`, { method: 'POST' }).then((x) => x.text()),
      );
      return ix.find((e: { name: string }) => e.name === 'mlp_gpu').reason === '';
    },
    30_000,
    'mlp_gpu to be back on the GPU',
  );
  close(await outputsOf(s, 'mlp_gpu'), cpu);
  const metrics = await get(s, '/metrics');
  // Counted in the worker that was killed, still there.
  assert.match(metrics.body, /tessera_webgpu_cpu_fallbacks_total\{op="NonZero"\} [1-9]/);
});

test('gpu-fallback none: the models are not ready with the reason, then ready again', async () => {
  const s = await serve('none');
  const cpu = await outputsOf(s, 'mlp_cpu');
  const r = await killMidRequest(s);
  assert.ok(r.status === 503 || r.status === 200, `status ${r.status}`);
  const ready = await get(s, '/v2/models/mlp_gpu/ready');
  assert.equal(ready.status, 503, 'not ready while the GPU worker restarts');
  const during = await infer(s, 'mlp_gpu');
  assert.equal(during.status, 503);
  assert.match(during.json.error, /GPU worker is restarting/);
  // The server and its CPU models keep answering.
  assert.equal((await get(s, '/v2/health/live')).status, 200);
  close(await outputsOf(s, 'mlp_cpu'), cpu);

  await until(async () => (await get(s, '/v2/models/mlp_gpu/ready')).status === 200, 30_000, 'mlp_gpu ready');
  close(await outputsOf(s, 'mlp_gpu'), cpu);
  assert.ok(logs.some((l) => /ready again/.test(l)));
});

test('no usable adapter: the webgpu models are not ready with the reason; the server and its CPU models serve', async (t) => {
  if (!(await gpuReady()).software) {
    t.skip('this machine has a hardware adapter');
    return;
  }
  const s = await serve('cpu', 'deny');
  assert.equal((await get(s, '/v2/health/ready')).status, 200);
  const during = await infer(s, 'mlp_gpu');
  assert.equal(during.status, 503);
  assert.match(during.json.error, /device 'webgpu' is not available: .*no usable WebGPU adapter/);
  assert.equal((await get(s, '/v2/models/mlp_gpu/ready')).status, 503);
  assert.equal((await outputsOf(s, 'mlp_cpu')).length, 9);
});
