/// <reference types="@webgpu/types" />
/**
 * The GPU thread: owns Dawn (through the `webgpu` package), the device, the buffer pool, the
 * pipeline cache and the uniform cache. The main thread sends batches of commands (protocol.ts);
 * each batch becomes one command encoder and one queue submission, so kernels stay synchronous on
 * the main thread and only readbacks wait. Keeping Dawn on a thread whose JS is idle between
 * batches is deliberate: Dawn's event processing runs on this thread's event loop, which a busy
 * main thread can never starve.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { openDevice, pickAdapter } from './adapter.js';
import {
  type Cmd,
  type PoolStats,
  READ_DONE,
  READ_ERROR,
  READ_HEADER,
  type ThreadInit,
  type ThreadMsg,
} from './protocol.js';

const port = parentPort!;
const init = workerData as ThreadInit;
const post = (m: ThreadMsg) => port.postMessage(m);

let device: GPUDevice;
let fatal: string | null = null;
let shuttingDown = false;
let lastError: string | null = null;

const STORAGE_USAGE = 0x80 | 0x04 | 0x08; // STORAGE | COPY_SRC | COPY_DST
const MAP_READ = 0x01;
const COPY_DST = 0x08;
const COPY_SRC = 0x04;
const UNIFORM = 0x40;

// ---- buffer pool --------------------------------------------------------------------------------

/** Sizes rounded up to 256 bytes, then to 1, 1.25, 1.5 or 1.75 times a power of two: at most 25% slack. */
function bucket(bytes: number): number {
  if (bytes <= 256) return 256;
  const p = 2 ** Math.floor(Math.log2(bytes));
  for (const f of [1, 1.25, 1.5, 1.75, 2]) {
    const b = Math.ceil((p * f) / 256) * 256;
    if (b >= bytes) return b;
  }
  return Math.ceil(bytes / 256) * 256;
}

const live = new Map<number, GPUBuffer>();
const idle = new Map<number, GPUBuffer[]>();
const idleOrder: GPUBuffer[] = [];
const stats: PoolStats = {
  liveBuffers: 0,
  liveBytes: 0,
  freeBuffers: 0,
  freeBytes: 0,
  reused: 0,
  created: 0,
  pipelines: 0,
  uniforms: 0,
  uniformHits: 0,
  dispatches: 0,
  submits: 0,
};

function acquire(id: number, bytes: number): GPUBuffer {
  const have = live.get(id);
  if (have) return have;
  const size = bucket(bytes);
  let buf = idle.get(size)?.pop();
  if (buf) {
    idleOrder.splice(idleOrder.indexOf(buf), 1);
    stats.freeBuffers--;
    stats.freeBytes -= size;
    stats.reused++;
  } else {
    buf = device.createBuffer({ size, usage: STORAGE_USAGE });
    stats.created++;
  }
  live.set(id, buf);
  stats.liveBuffers++;
  stats.liveBytes += size;
  return buf;
}

function release(id: number): void {
  const buf = live.get(id);
  if (!buf) return;
  live.delete(id);
  stats.liveBuffers--;
  stats.liveBytes -= buf.size;
  let list = idle.get(buf.size);
  if (!list) idle.set(buf.size, (list = []));
  list.push(buf);
  idleOrder.push(buf);
  stats.freeBuffers++;
  stats.freeBytes += buf.size;
  while (stats.freeBytes > init.poolLimitBytes && idleOrder.length) {
    const old = idleOrder.shift()!;
    const l = idle.get(old.size)!;
    l.splice(l.indexOf(old), 1);
    stats.freeBuffers--;
    stats.freeBytes -= old.size;
    toDestroy.push(old);
  }
}

// ---- pipelines and uniforms ---------------------------------------------------------------------

const shaders = new Map<number, { code: string; pipeline?: GPUComputePipeline }>();

function pipeline(id: number): GPUComputePipeline {
  const s = shaders.get(id);
  if (!s) throw new Error(`shader ${id} was never defined`);
  if (!s.pipeline) {
    const module = device.createShaderModule({ code: s.code });
    s.pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
    stats.pipelines++;
  }
  return s.pipeline;
}

/** Params buffers by content: written once at creation, immutable, least recently used evicted past the cap. */
const uniforms = new Map<string, GPUBuffer>();
const UNIFORM_CAP = 4096;
let toDestroy: GPUBuffer[] = [];

function uniform(words: Uint32Array): GPUBuffer {
  const key = words.join(',');
  const hit = uniforms.get(key);
  if (hit) {
    uniforms.delete(key);
    uniforms.set(key, hit);
    stats.uniformHits++;
    return hit;
  }
  const size = Math.max(16, Math.ceil(words.byteLength / 16) * 16);
  const buf = device.createBuffer({ size, usage: UNIFORM, mappedAtCreation: true });
  new Uint32Array(buf.getMappedRange()).set(words);
  buf.unmap();
  uniforms.set(key, buf);
  if (uniforms.size > UNIFORM_CAP) {
    const oldest = uniforms.keys().next().value!;
    toDestroy.push(uniforms.get(oldest)!);
    uniforms.delete(oldest);
  }
  stats.uniforms = uniforms.size;
  return buf;
}

// ---- batches ------------------------------------------------------------------------------------

function signal(sab: SharedArrayBuffer, ok: boolean, payload: Uint8Array | null, notify?: number): void {
  const ctrl = new Int32Array(sab, 0, 4);
  if (payload) new Uint8Array(sab, READ_HEADER, payload.length).set(payload);
  ctrl[1] = payload?.length ?? 0;
  Atomics.store(ctrl, 0, ok ? READ_DONE : READ_ERROR);
  Atomics.notify(ctrl, 0);
  if (notify !== undefined) post({ t: 'read-done', notify });
}

function signalError(sab: SharedArrayBuffer, message: string, notify?: number): void {
  const room = sab.byteLength - READ_HEADER;
  const bytes = new TextEncoder().encode(message).subarray(0, room);
  signal(sab, false, bytes, notify);
}

function runBatch(cmds: Cmd[]): void {
  let enc: GPUCommandEncoder | null = null;
  let pass: GPUComputePassEncoder | null = null;
  const staging: GPUBuffer[] = [];
  const reads: { rb: GPUBuffer; c: Extract<Cmd, { t: 'read' }> }[] = [];
  const encoder = () => (enc ??= device.createCommandEncoder());
  const endPass = () => {
    pass?.end();
    pass = null;
  };
  for (const c of cmds) {
    switch (c.t) {
      case 'shader':
        shaders.set(c.id, { code: c.code });
        break;
      case 'run': {
        const p = pipeline(c.shader);
        const entries: GPUBindGroupEntry[] = c.bufs.map((id, i) => {
          const buffer = acquire(id, c.sizes[i]!);
          const r = c.ranges?.[i];
          // The requested size, not the pool bucket's: arrayLength() and binding limits see the tensor's bytes.
          return {
            binding: i,
            resource: r ? { buffer, offset: r[0], size: r[1] } : { buffer, offset: 0, size: c.sizes[i]! },
          };
        });
        if (c.params) entries.push({ binding: c.bufs.length, resource: { buffer: uniform(c.params) } });
        const bg = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries });
        pass ??= encoder().beginComputePass();
        pass.setPipeline(p);
        pass.setBindGroup(0, bg);
        pass.dispatchWorkgroups(c.wg[0], c.wg[1], c.wg[2]);
        stats.dispatches++;
        break;
      }
      case 'upload': {
        endPass();
        const size = Math.ceil(c.data.byteLength / 4) * 4;
        if (size === 0) break;
        const st = device.createBuffer({ size, usage: COPY_SRC, mappedAtCreation: true });
        new Uint8Array(st.getMappedRange()).set(new Uint8Array(c.data));
        st.unmap();
        encoder().copyBufferToBuffer(st, 0, acquire(c.id, c.bytes), 0, size);
        staging.push(st);
        break;
      }
      case 'copy': {
        endPass();
        if (c.bytes === 0) break;
        const src = live.get(c.src);
        if (!src) throw new Error(`copy from unknown buffer ${c.src}`);
        encoder().copyBufferToBuffer(src, c.srcOffset, acquire(c.dst, c.dstBytes), c.dstOffset, c.bytes);
        break;
      }
      case 'free':
        release(c.id);
        break;
      case 'read': {
        endPass();
        const size = Math.max(4, Math.ceil(c.bytes / 4) * 4);
        const src = live.get(c.id);
        if (!src) {
          signalError(c.sab, `read of unknown buffer ${c.id}`, c.notify);
          break;
        }
        const rb = device.createBuffer({ size, usage: MAP_READ | COPY_DST });
        encoder().copyBufferToBuffer(src, c.offset, rb, 0, size);
        reads.push({ rb, c });
        break;
      }
      case 'shutdown':
        shuttingDown = true;
        break;
      case 'stats': {
        const json = new TextEncoder().encode(JSON.stringify(stats));
        signal(c.sab, true, json.subarray(0, c.sab.byteLength - READ_HEADER));
        break;
      }
    }
  }
  endPass();
  if (enc) {
    device.queue.submit([(enc as GPUCommandEncoder).finish()]);
    stats.submits++;
  }
  for (const s of staging) s.destroy();
  for (const b of toDestroy) b.destroy();
  toDestroy = [];
  for (const { rb, c } of reads) {
    rb.mapAsync(MAP_READ).then(
      () => {
        const err = lastError;
        lastError = null;
        if (err) signalError(c.sab, err, c.notify);
        else signal(c.sab, true, new Uint8Array(rb.getMappedRange(), 0, c.bytes), c.notify);
        rb.unmap();
        rb.destroy();
      },
      (e: Error) => {
        signalError(c.sab, `readback failed: ${e.message}`, c.notify);
        rb.destroy();
      },
    );
  }
}

/** Ends the thread cleanly: queued work finishes, buffers and the device are destroyed, Dawn's instance released. */
async function shutdown(): Promise<void> {
  try {
    await device.queue.onSubmittedWorkDone();
  } catch {}
  for (const b of live.values()) b.destroy();
  for (const l of idle.values()) for (const b of l) b.destroy();
  for (const b of uniforms.values()) b.destroy();
  live.clear();
  idle.clear();
  uniforms.clear();
  device.destroy();
  // Let Dawn deliver the device-lost and any pending callbacks before the instance goes.
  await new Promise((r) => setTimeout(r, 20));
  delete (globalThis as any).__tesseraGpu;
  device = undefined as unknown as GPUDevice;
  post({ t: 'shutdown-done' });
  port.close();
}

port.on('message', (cmds: Cmd[]) => {
  if (fatal) {
    for (const c of cmds)
      if (c.t === 'read' || c.t === 'stats') signalError(c.sab, fatal, c.t === 'read' ? c.notify : undefined);
    return;
  }
  try {
    runBatch(cmds);
    if (shuttingDown) void shutdown();
  } catch (e) {
    fatal = `GPU thread failed: ${(e as Error).stack ?? e}`;
    for (const c of cmds)
      if (c.t === 'read' || c.t === 'stats') signalError(c.sab, fatal, c.t === 'read' ? c.notify : undefined);
  }
});

try {
  const { create, globals } = await import('webgpu');
  Object.assign(globalThis, globals);
  const picked = await pickAdapter(create as (f: string[]) => GPU, init);
  const opened = await openDevice(picked);
  device = opened.device;
  device.addEventListener('uncapturederror', (ev) => {
    const msg = (ev as GPUUncapturedErrorEvent).error.message;
    lastError = lastError ? `${lastError}\n${msg}` : msg;
    post({ t: 'log', message: `WebGPU error: ${msg}` });
  });
  device.lost.then((info) => {
    if (info.reason !== 'destroyed') {
      fatal = `WebGPU device lost: ${info.message}`;
      post({ t: 'log', message: fatal });
    }
  });
  // Keep the instance alive as long as the thread: dawn.node tears down with it.
  (globalThis as any).__tesseraGpu = picked.gpu;
  post({ t: 'ready', info: opened.info });
} catch (e) {
  post({ t: 'init-error', message: (e as Error).message });
}
