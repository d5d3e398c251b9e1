/**
 * Models whose device is 'webgpu' run in a GPU worker process (createGpuWorker), every other model
 * on the CPU executor (the worker pool). The GPU worker starts on the first webgpu model; when it
 * dies its models are marked not ready (gpuFallback 'none') or stay ready with the reason said and
 * are served from the CPU executor meanwhile (gpuFallback 'cpu', the default). It restarts by
 * itself; on 'up' its models are reloaded there and become ready again. No usable adapter is a
 * load error for those models (not ready, with the reason), never a crash.
 */
import type { GpuWorker, GpuWorkerOptions } from '../backends/webgpu/gpu-process.js';
import { createGpuWorker } from '../backends/webgpu/gpu-process.js';
import { messageOf, unavailable } from './errors.js';
import type { LoadSpec, ModelExecutor, ModelSignature, RunResult } from './executor.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelVersion } from './model-version.js';
import type { TensorPayload } from './protocol/types.js';

export type GpuFallback = 'cpu' | 'none';

export interface DeviceExecutorOptions {
  /** Runs the CPU models, and the webgpu models while the GPU worker is down (gpuFallback 'cpu'). */
  cpu: ModelExecutor;
  /** What serves webgpu models while the GPU worker is down (default 'cpu'). */
  gpuFallback?: GpuFallback;
  /** GPU worker options (adapter choice, start timeout...). */
  webgpu?: Omit<GpuWorkerOptions, 'cpuFallback' | 'log'>;
  log?: (message: string) => void;
}

/** A ModelExecutor that sends each model to the CPU executor or the GPU worker by its device. */
export class DeviceExecutor implements ModelExecutor {
  readonly cpu: ModelExecutor;
  readonly gpuFallback: GpuFallback;
  private gpuWorker: GpuWorker | undefined;
  /** Keys loaded on the GPU worker -> their load spec (reloaded after a restart). */
  private readonly onGpu = new Map<string, LoadSpec>();
  private readonly downListeners: ((reason: string, keys: string[]) => void)[] = [];
  private readonly upListeners: ((keys: string[]) => void)[] = [];
  private closed = false;

  constructor(private readonly opts: DeviceExecutorOptions) {
    this.cpu = opts.cpu;
    this.gpuFallback = opts.gpuFallback ?? 'cpu';
  }

  get concurrency(): number {
    return this.cpu.concurrency;
  }

  /** The GPU worker, once a webgpu model has been loaded. */
  get gpu(): GpuWorker | undefined {
    return this.gpuWorker;
  }

  private log(m: string): void {
    this.opts.log?.(m);
  }

  /** Called with the reason and the GPU models' keys when the GPU worker dies. */
  onGpuDown(fn: (reason: string, keys: string[]) => void): void {
    this.downListeners.push(fn);
  }

  /** Called with the keys reloaded on a restarted GPU worker. */
  onGpuUp(fn: (keys: string[]) => void): void {
    this.upListeners.push(fn);
  }

  /** CPU fallbacks per op in the GPU worker (empty before it starts). */
  fallbackCounts(): Record<string, number> {
    return this.gpuWorker?.fallbackCounts() ?? {};
  }

  private worker(): GpuWorker {
    if (this.gpuWorker) return this.gpuWorker;
    const w = createGpuWorker({
      ...this.opts.webgpu,
      cpuFallback: this.gpuFallback === 'cpu' ? this.cpu : undefined,
      log: (line) => this.log(line),
    });
    let started = false;
    w.on('up', (info) => {
      const what = `${info.device || info.description}, ${info.backend} backend`;
      if (info.software) {
        this.log(
          `webgpu: the GPU worker (pid ${w.pid}) uses a SOFTWARE adapter (${what}): webgpu models run on the CPU through it, slower than device cpu`,
        );
      } else this.log(`webgpu: the GPU worker (pid ${w.pid}) uses ${what}`);
      if (started) void this.reloadAfterRestart();
      started = true;
    });
    w.on('down', (reason) => {
      const keys = [...this.onGpu.keys()];
      this.log(
        `webgpu: ${reason}; ${keys.length} model version(s) ${this.gpuFallback === 'cpu' ? 'served from the CPU' : 'not ready'} until it restarts`,
      );
      for (const fn of this.downListeners) fn(reason, keys);
    });
    this.gpuWorker = w;
    return w;
  }

  /** Loads every GPU model again on the restarted worker, then reports them ready. */
  private async reloadAfterRestart(): Promise<void> {
    const w = this.gpuWorker!;
    const ok: string[] = [];
    await Promise.all(
      [...this.onGpu].map(async ([key, spec]) => {
        try {
          await w.load(key, spec);
          ok.push(key);
        } catch (e) {
          this.log(`webgpu: reloading '${key}' after the GPU worker restarted failed: ${messageOf(e)}`);
        }
      }),
    );
    if (this.closed) return;
    // A key unloaded meanwhile is not reported.
    const keys = ok.filter((k) => this.onGpu.has(k));
    if (keys.length) this.log(`webgpu: the GPU worker is back; ${keys.length} model version(s) ready again`);
    for (const fn of this.upListeners) fn(keys);
  }

  async load(key: string, spec: LoadSpec): Promise<ModelSignature> {
    if (spec.device !== 'webgpu') return this.cpu.load(key, spec);
    const w = this.worker();
    try {
      await w.ready;
    } catch (e) {
      throw unavailable(`device 'webgpu' is not available: ${messageOf(e)}`, 'BACKEND');
    }
    const sig = await w.load(key, spec);
    this.onGpu.set(key, spec);
    return sig;
  }

  run(key: string, inputs: TensorPayload[], outputNames: string[]): Promise<RunResult> {
    if (this.onGpu.has(key)) return this.gpuWorker!.run(key, inputs, outputNames);
    return this.cpu.run(key, inputs, outputNames);
  }

  async unload(key: string): Promise<void> {
    if (this.onGpu.delete(key)) await this.gpuWorker?.unload(key);
    else await this.cpu.unload(key);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([this.gpuWorker?.close(), this.cpu.close()]);
  }
}

/**
 * Keeps model readiness in step with the GPU worker: on 'down' its model versions become
 * UNAVAILABLE with the reason (gpuFallback 'none'), or stay READY with the reason saying they are
 * served from the CPU (gpuFallback 'cpu'); once they are reloaded on the restarted worker they are
 * READY again with no reason.
 */
export function trackGpuReadiness(
  exec: DeviceExecutor,
  repository: { allVersions(): ModelVersion[] },
  metrics: ServerMetrics,
): void {
  const affected = new Set<ModelVersion>();
  exec.onGpuDown((reason, keys) => {
    for (const v of repository.allVersions()) {
      if (!keys.includes(v.key) || v.state !== 'READY') continue;
      affected.add(v);
      if (exec.gpuFallback === 'cpu') {
        v.reason = `served from the CPU while the GPU worker restarts: ${reason}`;
      } else {
        v.state = 'UNAVAILABLE';
        v.reason = `the GPU worker is restarting: ${reason}`;
        metrics.modelReady.set({ model: v.name, version: v.versionString }, 0);
      }
    }
  });
  exec.onGpuUp((keys) => {
    for (const v of affected) {
      if (!keys.includes(v.key)) continue;
      affected.delete(v);
      // A version unloaded or replaced meanwhile keeps its state.
      if (v.state === 'UNAVAILABLE' && v.reason.startsWith('the GPU worker is restarting')) {
        v.state = 'READY';
        metrics.modelReady.set({ model: v.name, version: v.versionString }, 1);
      }
      if (v.state === 'READY') v.reason = '';
    }
  });
}
