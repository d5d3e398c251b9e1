/** One loaded (or failed, or unloaded) version of a model: its resolved signature, batcher and statistics. */
import { DynamicBatcher } from './batcher.js';
import type { ModelExecutor } from './executor.js';
import type { ServerMetrics } from './metrics.js';
import type { ModelConfig, TensorConfig } from './model-config.js';
import { ModelStats } from './stats.js';

export type ModelState = 'LOADING' | 'READY' | 'UNLOADING' | 'UNAVAILABLE';

export class ModelVersion {
  state: ModelState = 'LOADING';
  reason = '';
  inputs: TensorConfig[] = [];
  outputs: TensorConfig[] = [];
  batcher: DynamicBatcher | undefined;
  readonly stats = new ModelStats();

  constructor(
    readonly name: string,
    readonly version: number,
    /** Unique per load, so a reload never collides with the sessions it replaces. */
    readonly key: string,
    readonly config: ModelConfig,
    readonly file: string,
  ) {}

  get versionString(): string {
    return String(this.version);
  }

  get ready(): boolean {
    return this.state === 'READY';
  }

  /** The shape clients see: the batch dimension (-1) first when the model batches. */
  servedShape(t: TensorConfig): number[] {
    return this.config.maxBatchSize > 0 ? [-1, ...t.dims] : [...t.dims];
  }

  /** Starts serving: builds the batcher over `executor` with the configured queue and batching policy. */
  start(executor: ModelExecutor, metrics: ServerMetrics): void {
    const cfg = this.config;
    const labels = { model: this.name, version: this.versionString };
    this.batcher = new DynamicBatcher({
      modelName: this.name,
      maxBatchSize: cfg.maxBatchSize,
      dynamic: cfg.dynamicBatching,
      queue: cfg.queuePolicy,
      maxInFlight: Math.max(1, Math.min(cfg.instanceCount ?? executor.concurrency, executor.concurrency)),
      execute: (inputs, outputNames) => executor.run(this.key, inputs, outputNames),
      onExecution: (batchSize, timing) => {
        this.stats.recordExecution(batchSize, timing);
        metrics.execution(this.name, this.versionString, batchSize);
      },
      onQueueChange: (delta) => metrics.pending.inc(labels, delta),
    });
    metrics.initModel(this.name, this.versionString);
    metrics.modelReady.set(labels, 1);
    this.state = 'READY';
    this.reason = '';
  }

  /**
   * Stops taking requests, fails the queued ones and waits for running executions. `stillServed`:
   * a fresh instance of the same version already serves (a reload), so the version stays ready.
   */
  async stop(metrics: ServerMetrics, stillServed = false): Promise<void> {
    if (this.state === 'READY') this.state = 'UNLOADING';
    await this.batcher?.close();
    if (!stillServed) metrics.modelReady.set({ model: this.name, version: this.versionString }, 0);
  }
}
