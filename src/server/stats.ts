/**
 * Per model-version statistics in the shape of Triton's statistics extension
 * (GET v2/models[/{m}[/versions/{v}]]/stats).
 */
import type { ExecTiming } from './executor.js';

interface Duration {
  count: number;
  ns: number;
}

const d = (): Duration => ({ count: 0, ns: 0 });

export class ModelStats {
  /** Milliseconds since the epoch of the last successful inference (0: none yet). */
  lastInference = 0;
  inferenceCount = 0;
  executionCount = 0;
  readonly success = d();
  readonly fail = d();
  readonly queue = d();
  readonly computeInput = d();
  readonly computeInfer = d();
  readonly computeOutput = d();
  private readonly batches = new Map<
    number,
    { computeInput: Duration; computeInfer: Duration; computeOutput: Duration }
  >();

  /** One successful request: its own batch size, total duration, queue time and the compute timing of its execution. */
  recordSuccess(batchSize: number, durationNs: number, queueNs: number, timing: ExecTiming): void {
    this.lastInference = Date.now();
    this.inferenceCount += batchSize;
    add(this.success, durationNs);
    add(this.queue, queueNs);
    add(this.computeInput, timing.inputNs);
    add(this.computeInfer, timing.inferNs);
    add(this.computeOutput, timing.outputNs);
  }

  recordFailure(durationNs: number): void {
    add(this.fail, durationNs);
  }

  recordExecution(batchSize: number, timing: ExecTiming): void {
    this.executionCount++;
    let b = this.batches.get(batchSize);
    if (!b) this.batches.set(batchSize, (b = { computeInput: d(), computeInfer: d(), computeOutput: d() }));
    add(b.computeInput, timing.inputNs);
    add(b.computeInfer, timing.inferNs);
    add(b.computeOutput, timing.outputNs);
  }

  toJSON(name: string, version: string): Record<string, unknown> {
    return {
      name,
      version,
      last_inference: this.lastInference,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: { ...this.success },
        fail: { ...this.fail },
        queue: { ...this.queue },
        compute_input: { ...this.computeInput },
        compute_infer: { ...this.computeInfer },
        compute_output: { ...this.computeOutput },
        cache_hit: d(),
        cache_miss: d(),
      },
      batch_stats: [...this.batches.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([size, b]) => ({
          batch_size: size,
          compute_input: { ...b.computeInput },
          compute_infer: { ...b.computeInfer },
          compute_output: { ...b.computeOutput },
        })),
      memory_usage: [],
    };
  }
}

function add(x: Duration, ns: number): void {
  x.count++;
  x.ns += Math.round(ns);
}
