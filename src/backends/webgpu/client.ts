/**
 * The main thread's side of the GPU: names buffers, batches commands and posts them to the GPU
 * thread once per microtask (or when a readback needs them), and waits for readbacks, synchronously
 * (Atomics.wait on a SharedArrayBuffer, so `t.to('cpu')` and the registry's CPU fallback work) or
 * asynchronously (`await t.data()`). GPU buffers are freed when their tensors are garbage-collected.
 */
import v8 from 'node:v8';
import vm from 'node:vm';
import { Worker } from 'node:worker_threads';
import type { DataArray } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import {
  type AdapterInfo,
  type Cmd,
  type PoolStats,
  READ_DONE,
  READ_HEADER,
  READ_PENDING,
  type ThreadInit,
  type ThreadMsg,
} from './protocol.js';

/** A GPU buffer as the main thread knows it: an id, its byte size, and (for small uploads) the CPU data it holds. */
export class GpuBuffer {
  constructor(
    readonly id: number,
    readonly bytes: number,
    /** Contiguous CPU storage with the same elements, kept for small uploaded tensors so reading them costs nothing. */
    public shadow?: DataArray,
  ) {}
}

export interface ClientOptions extends Partial<ThreadInit> {
  /**
   * V8 cannot see GPU memory, so tensors that hold large buffers may go uncollected for long: after
   * this many bytes of new GPU buffers (default 1 GiB) the backend asks V8 for a collection, which
   * returns unreachable tensors' buffers to the pool. 0 turns it off.
   */
  gcEveryBytes?: number;
  /** Longest a synchronous readback waits before giving up (ms). */
  syncTimeoutMs?: number;
  /** Where log lines go (default: console.error). */
  log?: (line: string) => void;
  /**
   * float16 storage: 'auto' (the default) stores float16 tensors as WGSL f16 where the device has
   * 'shader-f16', 'emulated' always as rounded f32 values. The environment variable
   * TESSERA_WEBGPU_F16=emulated sets the default.
   */
  float16?: 'auto' | 'emulated';
}

const BATCH_LIMIT = 512;

let gcFn: (() => void) | null | undefined;
/** A full V8 collection: global gc() when exposed, else the runtime-enabled one; a no-op if neither. */
function collectGarbage(): void {
  if (gcFn === undefined) {
    gcFn = (globalThis as { gc?: () => void }).gc ?? null;
    if (!gcFn) {
      try {
        v8.setFlagsFromString('--expose-gc');
        gcFn = vm.runInNewContext('gc') as () => void;
      } catch {
        gcFn = null;
      }
    }
  }
  gcFn?.();
}

// Running from the TypeScript sources (tsx) or from dist: the thread's entry has the same extension.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./gpu-thread.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

function startThread(init: ThreadInit): Worker {
  if (!FROM_SOURCE) return new Worker(ENTRY, { workerData: init });
  // Loader hooks from `--import tsx` do not reach worker threads on Node 20: register tsx first.
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`;
  return new Worker(code, { eval: true, workerData: init });
}

export class GpuClient {
  readonly info: AdapterInfo;
  private readonly worker: Worker;
  private queue: Cmd[] = [];
  private transfer: ArrayBuffer[] = [];
  private scheduled = false;
  private nextId = 1;
  private nextNotify = 1;
  private readonly shaders = new Map<string, number>();
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  private readonly finalizer: FinalizationRegistry<number>;
  private readonly gcEveryBytes: number;
  private allocatedSinceGc = 0;
  private readonly syncTimeoutMs: number;
  private dead: string | null = null;
  /** Kernel launches and bytes moved, for tests and metrics. */
  readonly counters = { launches: 0, uploads: 0, uploadBytes: 0, reads: 0, readBytes: 0, syncReads: 0 };

  private constructor(worker: Worker, info: AdapterInfo, opts: ClientOptions) {
    this.worker = worker;
    const want = opts.float16 ?? (process.env.TESSERA_WEBGPU_F16 === 'emulated' ? 'emulated' : 'auto');
    this.info = {
      ...info,
      float16: want === 'auto' && info.features.includes('shader-f16') ? 'native' : 'emulated',
    };
    this.syncTimeoutMs = opts.syncTimeoutMs ?? 600_000;
    this.gcEveryBytes = opts.gcEveryBytes ?? 1 << 30;
    this.finalizer = new FinalizationRegistry((id) => {
      if (!this.dead) this.enqueue({ t: 'free', id });
    });
    worker.on('message', (m: ThreadMsg) => {
      if (m.t === 'read-done') {
        const p = this.pending.get(m.notify);
        this.pending.delete(m.notify);
        if (this.pending.size === 0) worker.unref();
        p?.resolve();
      } else if (m.t === 'log') (opts.log ?? console.error)(`[tessera webgpu] ${m.message}`);
    });
    worker.on('exit', (code) => this.kill(`the GPU thread exited (code ${code})`));
    worker.on('error', (e) => this.kill(`the GPU thread failed: ${e.message}`));
    worker.unref();
  }

  /** Starts the GPU thread and waits for its adapter; rejects with a clear message when there is none. */
  static async start(opts: ClientOptions = {}): Promise<GpuClient> {
    const init: ThreadInit = {
      software: opts.software ?? 'allow',
      // TESSERA_WEBGPU_BACKEND (vulkan, opengles, metal, d3d12...) forces one Dawn backend when the caller does not.
      backend: opts.backend ?? (process.env.TESSERA_WEBGPU_BACKEND || undefined),
      powerPreference: opts.powerPreference,
      poolLimitBytes: opts.poolLimitBytes ?? 1 << 30,
      dawnFlags: opts.dawnFlags,
    };
    // Dawn's OpenGL ES backend goes through EGL; without a display, Mesa needs the surfaceless platform.
    // Native code reads the process environment, which only the main thread can change.
    if (!process.env.EGL_PLATFORM && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
      process.env.EGL_PLATFORM = 'surfaceless';
    }
    const worker = startThread(init);
    const info = await new Promise<AdapterInfo>((resolve, reject) => {
      const onMsg = (m: ThreadMsg) => {
        if (m.t === 'ready') resolve(m.info);
        else if (m.t === 'init-error') reject(new TesseraError('UNAVAILABLE', `webgpu: ${m.message}`));
        else return;
        worker.off('message', onMsg);
        worker.off('exit', onExit);
      };
      const onExit = (code: number) =>
        reject(
          new TesseraError('UNAVAILABLE', `webgpu: the GPU thread exited during start-up (code ${code})`),
        );
      worker.on('message', onMsg);
      worker.on('exit', onExit);
    }).catch(async (e) => {
      await worker.terminate();
      throw e;
    });
    return new GpuClient(worker, info, opts);
  }

  get alive(): boolean {
    return this.dead === null;
  }

  private kill(reason: string): void {
    if (this.dead) return;
    this.dead = reason;
    for (const p of this.pending.values()) p.reject(new TesseraError('UNAVAILABLE', `webgpu: ${reason}`));
    this.pending.clear();
  }

  private check(): void {
    if (this.dead) throw new TesseraError('UNAVAILABLE', `webgpu: ${this.dead}`);
  }

  private enqueue(cmd: Cmd, transfer?: ArrayBuffer): void {
    this.queue.push(cmd);
    if (transfer) this.transfer.push(transfer);
    if (this.queue.length >= BATCH_LIMIT) this.flush();
    else if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Posts the queued commands to the GPU thread. */
  flush(): void {
    this.scheduled = false;
    if (this.queue.length === 0 || this.dead) return;
    const q = this.queue;
    const tr = this.transfer;
    this.queue = [];
    this.transfer = [];
    this.worker.postMessage(q, tr);
  }

  /** A new buffer id of `bytes` bytes; the GPU thread allocates it (from the pool) on first use. */
  alloc(bytes: number): GpuBuffer {
    this.check();
    const b = new GpuBuffer(this.nextId++, Math.max(4, Math.ceil(bytes / 4) * 4));
    this.finalizer.register(b, b.id);
    this.allocatedSinceGc += b.bytes;
    if (this.gcEveryBytes > 0 && this.allocatedSinceGc > this.gcEveryBytes) {
      this.allocatedSinceGc = 0;
      collectGarbage();
    }
    return b;
  }

  upload(buf: GpuBuffer, data: ArrayBuffer): void {
    this.check();
    this.counters.uploads++;
    this.counters.uploadBytes += data.byteLength;
    this.enqueue({ t: 'upload', id: buf.id, bytes: buf.bytes, data }, data);
  }

  copy(src: GpuBuffer, srcOffset: number, dst: GpuBuffer, dstOffset: number, bytes: number): void {
    this.check();
    this.enqueue({ t: 'copy', src: src.id, srcOffset, dst: dst.id, dstBytes: dst.bytes, dstOffset, bytes });
  }

  /** The id of shader `code`, defining it on the GPU thread the first time it is seen. */
  shader(code: string): number {
    let id = this.shaders.get(code);
    if (id === undefined) {
      id = this.shaders.size + 1;
      this.shaders.set(code, id);
      this.enqueue({ t: 'shader', id, code });
    }
    return id;
  }

  /** Shader variants seen so far (each compiles once on the GPU thread). */
  get shaderCount(): number {
    return this.shaders.size;
  }

  run(
    code: string,
    bufs: GpuBuffer[],
    params: Uint32Array | null,
    wg: [number, number, number],
    ranges?: ([number, number] | null)[],
  ): void {
    this.check();
    if (wg[0] === 0 || wg[1] === 0 || wg[2] === 0) return;
    const shader = this.shader(code);
    this.counters.launches++;
    this.enqueue({
      t: 'run',
      shader,
      bufs: bufs.map((b) => b.id),
      sizes: bufs.map((b) => b.bytes),
      params,
      wg,
      ranges,
    });
  }

  /** The largest part of a buffer one binding may cover. */
  get maxBinding(): number {
    return this.info.limits.maxStorageBufferBindingSize ?? 134217728;
  }

  private readCmd(buf: GpuBuffer, offset: number, bytes: number, notify?: number) {
    const sab = new SharedArrayBuffer(READ_HEADER + Math.max(bytes, 4096));
    this.enqueue({ t: 'read', id: buf.id, offset, bytes, sab, notify });
    return sab;
  }

  private finishRead(sab: SharedArrayBuffer, bytes: number): ArrayBuffer {
    const ctrl = new Int32Array(sab, 0, 4);
    const len = ctrl[1]!;
    if (Atomics.load(ctrl, 0) !== READ_DONE) {
      const msg = new TextDecoder().decode(new Uint8Array(sab, READ_HEADER, len).slice());
      throw new TesseraError('INTERNAL', `webgpu: ${msg}`);
    }
    const out = new Uint8Array(bytes);
    out.set(new Uint8Array(sab, READ_HEADER, bytes));
    this.counters.reads++;
    this.counters.readBytes += bytes;
    return out.buffer;
  }

  /** Blocks until the GPU has produced `bytes` bytes of `buf` and returns them. */
  readSync(buf: GpuBuffer, bytes: number, offset = 0): ArrayBuffer {
    this.check();
    const sab = this.readCmd(buf, offset, bytes);
    this.flush();
    const ctrl = new Int32Array(sab, 0, 4);
    const r = Atomics.wait(ctrl, 0, READ_PENDING, this.syncTimeoutMs);
    if (r === 'timed-out') {
      throw new TesseraError(
        'UNAVAILABLE',
        `webgpu: no answer from the GPU thread in ${this.syncTimeoutMs} ms`,
      );
    }
    this.counters.syncReads++;
    return this.finishRead(sab, bytes);
  }

  async read(buf: GpuBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    this.check();
    const notify = this.nextNotify++;
    const done = new Promise<void>((resolve, reject) => this.pending.set(notify, { resolve, reject }));
    this.worker.ref();
    const sab = this.readCmd(buf, offset, bytes, notify);
    this.flush();
    await done;
    return this.finishRead(sab, bytes);
  }

  /** Pool, pipeline and uniform-cache statistics from the GPU thread (waits for queued work). */
  stats(): PoolStats & { shaderVariants: number; launches: number } {
    this.check();
    const sab = new SharedArrayBuffer(READ_HEADER + 4096);
    this.enqueue({ t: 'stats', sab });
    this.flush();
    const ctrl = new Int32Array(sab, 0, 4);
    Atomics.wait(ctrl, 0, READ_PENDING, this.syncTimeoutMs);
    const text = new TextDecoder().decode(new Uint8Array(sab, READ_HEADER, ctrl[1]!).slice());
    return {
      ...(JSON.parse(text) as PoolStats),
      shaderVariants: this.shaders.size,
      launches: this.counters.launches,
    };
  }

  /** Waits for all queued GPU work (a zero-byte read of a fresh buffer). */
  async sync(): Promise<void> {
    const b = this.alloc(4);
    this.upload(b, new ArrayBuffer(4));
    await this.read(b, 4);
  }

  /** Shuts the GPU thread down cleanly (it finishes queued work and releases Dawn), terminating it only if it hangs. */
  async dispose(): Promise<void> {
    if (this.dead) return;
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.enqueue({ t: 'shutdown' });
    this.flush();
    this.kill('the WebGPU backend was shut down');
    const timer = setTimeout(() => void this.worker.terminate(), 10_000);
    await exited;
    clearTimeout(timer);
  }
}
