/**
 * GPU isolation for the server: `createGpuWorker()` runs InferenceSessions with device 'webgpu' in
 * a child process, behind the same load/run/unload/close interface as the server's ModelExecutor.
 * Dawn's Node bindings have crashed (SIGSEGV/SIGBUS in event processing) when their JS thread was
 * busy; in a child process such a crash fails only the requests in flight (TesseraError
 * 'UNAVAILABLE', HTTP 503), then the worker restarts (models reload on their next request).
 * While it is down, requests go to `cpuFallback` when one is given (running the same model file on
 * the CPU), else fail with 'UNAVAILABLE'.
 *
 * Wiring into the server: pass a GpuWorker as the executor for models whose device is 'webgpu'
 * (with the CPU WorkerPool as its cpuFallback), and subscribe to 'down'/'up' to mark those models
 * not ready / ready (or to keep them ready when serving from the CPU meanwhile).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { EventEmitter } from 'node:events';
import type { DataArray, DType } from '../../runtime/dtype.js';
import { type ErrorCode, TesseraError } from '../../runtime/errors.js';
import type { Device } from '../../runtime/tensor.js';
import type { AdapterInfo, ThreadInit } from './protocol.js';

/** A tensor as the server moves it (the server's TensorPayload). */
export interface TensorPayload {
  name: string;
  dtype: DType;
  shape: number[];
  data: DataArray;
}
export interface Signature {
  inputs: { name: string; dtype: DType; shape: number[] }[];
  outputs: { name: string; dtype: DType; shape: number[] }[];
}
export interface RunOutput {
  outputs: TensorPayload[];
  timing: { inputNs: number; inferNs: number; outputNs: number };
}
/** The server's ModelExecutor, structurally. */
export interface Executor {
  load(key: string, spec: { file: string; device: Device }): Promise<Signature>;
  run(key: string, inputs: TensorPayload[], outputNames: string[]): Promise<RunOutput>;
  unload(key: string): Promise<void>;
  readonly concurrency: number;
  close(): Promise<void>;
}

interface ErrorInfo {
  code?: string;
  message: string;
}
export type ParentMsg =
  | { type: 'init'; options: Partial<ThreadInit> }
  | { type: 'load'; id: number; key: string; file: string }
  | { type: 'run'; id: number; key: string; file: string; inputs: TensorPayload[]; outputs: string[] }
  | { type: 'unload'; id: number; key: string }
  | { type: 'crash'; id: number };
export type ChildMsg =
  | { type: 'ready'; info: AdapterInfo }
  | { type: 'init-error'; error: ErrorInfo }
  | { type: 'log'; line: string }
  | ({ type: 'reply'; id: number } & (
      | ({ ok: true; signature?: Signature; fallbacks?: Record<string, number> } & Partial<RunOutput>)
      | { ok: false; error: ErrorInfo }
    ));

export interface GpuWorkerOptions extends Partial<ThreadInit> {
  /** Restart the process after it dies (default true). */
  restart?: boolean;
  /** Where requests go while the GPU worker is down (e.g. the server's CPU pool); without one they fail with 503. */
  cpuFallback?: Executor;
  /** Longest wait for the GPU worker to start (ms, default 60 s). */
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface GpuWorker extends Executor {
  /** The adapter of the current process (waits for it to start). */
  readonly ready: Promise<AdapterInfo>;
  /** True while a process is up and initialized. */
  readonly alive: boolean;
  readonly pid: number | undefined;
  /** Kills the process now (tests; or an operator's "reset GPU"). */
  kill(signal?: NodeJS.Signals): void;
  /** Asks the process to die as a native crash would (SIGKILL from inside, no reply). */
  crash(): void;
  /** CPU fallbacks per op in the GPU worker processes so far (every process's counts added up). */
  fallbackCounts(): Record<string, number>;
  /** 'down' (reason) when the process dies, 'up' (AdapterInfo) each time one is ready. */
  on(event: 'down', fn: (reason: string) => void): this;
  on(event: 'up', fn: (info: AdapterInfo) => void): this;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./gpu-process-entry.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

/** The parent's loader flags (tsx when running from source), without test-runner or inspector flags. */
function childExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (
      ['--import', '--require', '-r', '--loader', '--experimental-loader'].includes(a) &&
      i + 1 < argv.length
    ) {
      out.push(a, argv[++i]!);
    } else if (
      /^--(import|require|loader|experimental-loader)=/.test(a) ||
      a === '--expose-gc' ||
      a.startsWith('--no-warnings')
    ) {
      out.push(a);
    }
  }
  if (FROM_SOURCE && !out.some((a) => a.includes('tsx'))) out.push('--import', import.meta.resolve('tsx'));
  return out;
}

class GpuWorkerImpl extends EventEmitter implements GpuWorker {
  readonly concurrency = 1;
  private child: ChildProcess | null = null;
  private starting: Promise<AdapterInfo> | null = null;
  private up = false;
  private closed = false;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: any) => void; reject: (e: Error) => void }>();
  private readonly files = new Map<string, string>();
  private readonly fallbackLoaded = new Set<string>();
  /** Fallback counts of processes that died, and the latest counts the current one reported. */
  private readonly pastFallbacks = new Map<string, number>();
  private currentFallbacks: Record<string, number> = {};

  constructor(private readonly opts: GpuWorkerOptions) {
    super();
  }

  get ready(): Promise<AdapterInfo> {
    return (this.starting ??= this.spawn());
  }
  get alive(): boolean {
    return this.up;
  }
  get pid(): number | undefined {
    return this.child?.pid;
  }

  private log(line: string): void {
    (this.opts.log ?? console.error)(`[tessera gpu-worker] ${line}`);
  }

  private spawn(): Promise<AdapterInfo> {
    const child = fork(ENTRY, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      execArgv: childExecArgv(),
    });
    this.child = child;
    const { restart: _r, cpuFallback: _c, startTimeoutMs: _s, log: _l, ...options } = this.opts;
    return new Promise<AdapterInfo>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new TesseraError('UNAVAILABLE', 'webgpu: the GPU worker did not start in time'));
        child.kill('SIGKILL');
      }, this.opts.startTimeoutMs ?? 60_000);
      timer.unref();
      child.on('message', (m: ChildMsg) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.up = true;
          if (m.info.software)
            this.log(
              `GPU worker ${child.pid} is using a software adapter (${m.info.device || m.info.description})`,
            );
          this.emit('up', m.info);
          resolve(m.info);
        } else if (m.type === 'init-error') {
          clearTimeout(timer);
          reject(new TesseraError((m.error.code as ErrorCode) ?? 'UNAVAILABLE', m.error.message));
          this.restartAllowed = false;
          child.kill('SIGKILL');
        } else if (m.type === 'log') this.log(m.line);
        else if (m.type === 'reply') {
          const p = this.pending.get(m.id);
          this.pending.delete(m.id);
          if (m.ok && m.fallbacks) this.currentFallbacks = m.fallbacks;
          if (!p) return;
          if (m.ok) p.resolve(m);
          else p.reject(new TesseraError((m.error.code as ErrorCode) ?? 'INTERNAL', m.error.message));
        }
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        this.onExit(child, code, signal);
        reject(
          new TesseraError(
            'UNAVAILABLE',
            `webgpu: the GPU worker exited during start-up (${signal ?? `code ${code}`})`,
          ),
        );
      });
      child.send({ type: 'init', options } satisfies ParentMsg);
    });
  }

  private restartAllowed = true;

  private onExit(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.child !== child) return;
    const reason = `the GPU worker (pid ${child.pid}) died (${signal ?? `exit code ${code}`})`;
    this.child = null;
    this.starting = null;
    for (const [op, n] of Object.entries(this.currentFallbacks))
      this.pastFallbacks.set(op, (this.pastFallbacks.get(op) ?? 0) + n);
    this.currentFallbacks = {};
    const wasUp = this.up;
    this.up = false;
    for (const p of this.pending.values()) p.reject(new TesseraError('UNAVAILABLE', `webgpu: ${reason}`));
    this.pending.clear();
    if (this.closed) return;
    if (wasUp) {
      this.log(reason);
      this.emit('down', reason);
    }
    if (wasUp && this.restartAllowed && (this.opts.restart ?? true)) {
      this.ready.catch((e) => this.log(`restart failed: ${(e as Error).message}`));
    }
  }

  private async call(msg: DistributiveOmit<Extract<ParentMsg, { id: number }>, 'id'>): Promise<any> {
    await this.ready;
    const child = this.child;
    if (!child || !this.up) throw new TesseraError('UNAVAILABLE', 'webgpu: the GPU worker is restarting');
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      child.send({ ...msg, id } as ParentMsg);
    });
  }

  /** The CPU fallback, when there is one and the GPU worker is down. */
  private async fallbackFor(key: string): Promise<Executor | null> {
    const fb = this.opts.cpuFallback;
    if (!fb || this.up) return null;
    if (!this.fallbackLoaded.has(key)) {
      await fb.load(key, { file: this.files.get(key)!, device: 'cpu' });
      this.fallbackLoaded.add(key);
    }
    return fb;
  }

  async load(key: string, spec: { file: string; device: Device }): Promise<Signature> {
    this.files.set(key, spec.file);
    const r = await this.call({ type: 'load', key, file: spec.file });
    return r.signature as Signature;
  }

  async run(key: string, inputs: TensorPayload[], outputNames: string[]): Promise<RunOutput> {
    const file = this.files.get(key);
    if (!file) throw new TesseraError('NOT_FOUND', `webgpu: model '${key}' is not loaded`);
    const fb = await this.fallbackFor(key);
    if (fb) return fb.run(key, inputs, outputNames);
    const r = await this.call({ type: 'run', key, file, inputs, outputs: outputNames });
    return { outputs: r.outputs, timing: r.timing };
  }

  async unload(key: string): Promise<void> {
    this.files.delete(key);
    if (this.fallbackLoaded.delete(key)) await this.opts.cpuFallback?.unload(key);
    if (this.up) await this.call({ type: 'unload', key });
  }

  fallbackCounts(): Record<string, number> {
    const out = Object.fromEntries(this.pastFallbacks);
    for (const [op, n] of Object.entries(this.currentFallbacks)) out[op] = (out[op] ?? 0) + n;
    return out;
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child?.kill(signal);
  }

  crash(): void {
    this.child?.send({ type: 'crash', id: 0 } satisfies ParentMsg);
  }

  async close(): Promise<void> {
    this.closed = true;
    const child = this.child;
    // Gone already (it exited, e.g. after failing to find an adapter): 'exit' will not come again.
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      // Its IPC channel may have closed before 'exit' arrives; disconnecting again would throw.
      if (child.connected) child.disconnect();
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }
}

/** Starts (lazily, on first use or `ready`) a GPU worker process. */
export function createGpuWorker(opts: GpuWorkerOptions = {}): GpuWorker {
  return new GpuWorkerImpl(opts);
}
