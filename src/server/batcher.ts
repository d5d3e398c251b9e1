/**
 * Dynamic batching, per model version. Requests wait in a queue; when an execution slot is free the
 * oldest request and the later ones with the same non-batch shapes are concatenated along dim 0,
 * up to max_batch_size, and run as one execution once the batch is full, reaches a preferred size,
 * or the oldest request has waited max_queue_delay_microseconds. Outputs are split back per request.
 * Models without dynamic batching still queue (so queue limits, timeouts and the pending count
 * apply) but run each request alone.
 */
import type { DataArray } from '../runtime/dtype.js';
import { HttpError, internal, unavailable } from './errors.js';
import type { ExecTiming, RunResult } from './executor.js';
import type { DynamicBatching, QueuePolicy } from './model-config.js';
import type { TensorPayload } from './protocol/types.js';

export interface BatcherOptions {
  modelName: string;
  /** 0: the model takes no batch dimension. */
  maxBatchSize: number;
  dynamic?: DynamicBatching;
  queue: QueuePolicy;
  /** Executions of this model that may be in flight at once. */
  maxInFlight: number;
  execute(inputs: TensorPayload[], outputNames: string[]): Promise<RunResult>;
  /** Called once per execution, with the batch size it ran. */
  onExecution?(batchSize: number, timing: ExecTiming): void;
  /** +1 when a request is queued, -1 when it leaves the queue (dispatched, timed out or dropped). */
  onQueueChange?(delta: number): void;
}

export interface BatchRequest {
  /** In the model's input order; with max_batch_size > 0 every input has the same dim 0. */
  inputs: TensorPayload[];
  outputNames: string[];
  /** Queue timeout for this request (the `timeout` request parameter), overriding the model default. */
  timeoutUs?: number;
  /** Aborting (client gone, server timeout) drops the request from the queue, or abandons its result. */
  signal?: AbortSignal;
}

export interface BatchResult {
  outputs: TensorPayload[];
  queueNs: number;
  timing: ExecTiming;
  /** The batch size of the execution this request was part of. */
  executionBatchSize: number;
}

interface Pending {
  req: BatchRequest;
  batch: number;
  signature: string;
  enqueued: bigint;
  resolve(r: BatchResult): void;
  reject(e: unknown): void;
  timer?: NodeJS.Timeout;
}

const now = () => process.hrtime.bigint();

export class DynamicBatcher {
  private readonly queue: Pending[] = [];
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private drained: (() => void) | undefined;

  constructor(private readonly opts: BatcherOptions) {}

  get queued(): number {
    return this.queue.length;
  }
  get executing(): number {
    return this.inFlight;
  }

  submit(req: BatchRequest): Promise<BatchResult> {
    const { opts } = this;
    if (this.closed) return Promise.reject(unavailable(`model '${opts.modelName}' is being unloaded`));
    const max = opts.queue.maxQueueSize;
    if (max > 0 && this.queue.length >= max) {
      return Promise.reject(
        unavailable(
          `Exceeds maximum queue size: model '${opts.modelName}' already has ${this.queue.length} requests queued (max_queue_size ${max})`,
          'REJECTED',
        ),
      );
    }
    const signal = req.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<BatchResult>((res, rej) => {
      const batch = opts.maxBatchSize > 0 ? (req.inputs[0]?.shape[0] ?? 1) : 1;
      const signature = req.inputs.map((t) => `${t.name}:${t.dtype}:${t.shape.slice(1).join('x')}`).join('|');
      const dequeue = () => {
        const i = this.queue.indexOf(p);
        if (i < 0) return;
        this.queue.splice(i, 1);
        if (p.timer) clearTimeout(p.timer);
        opts.onQueueChange?.(-1);
      };
      const onAbort = () => {
        dequeue();
        rej(signal!.reason);
      };
      const done = () => signal?.removeEventListener('abort', onAbort);
      const p: Pending = {
        req,
        batch,
        signature,
        enqueued: now(),
        resolve: (r) => {
          done();
          res(r);
        },
        reject: (e) => {
          done();
          rej(e);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const timeoutUs = req.timeoutUs ?? opts.queue.defaultTimeoutUs;
      if (timeoutUs > 0) {
        p.timer = setTimeout(
          () => {
            // The timeout bounds the wait for an execution slot: a request only waiting for its
            // batch to fill (a slot is free) runs now instead of failing.
            if (this.inFlight < opts.maxInFlight && this.queue.includes(p)) {
              this.pump(true);
              if (!this.queue.includes(p)) return;
            }
            dequeue();
            p.reject(
              unavailable(
                `Request timeout expired: waited ${timeoutUs} us in the queue of model '${opts.modelName}'`,
                'REJECTED',
              ),
            );
          },
          Math.max(1, Math.ceil(timeoutUs / 1000)),
        );
      }
      this.queue.push(p);
      opts.onQueueChange?.(1);
      this.pump();
    });
  }

  /** Forms and dispatches batches while execution slots are free (`force`: without waiting for the batch delay). */
  private pump(force = false): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const { opts } = this;
    while (this.inFlight < opts.maxInFlight && this.queue.length) {
      const head = this.queue[0]!;
      if (!opts.dynamic) {
        this.take([head]);
        continue;
      }
      const group: Pending[] = [];
      let total = 0;
      for (const p of this.queue) {
        if (p.signature !== head.signature) continue;
        if (total + p.batch > opts.maxBatchSize) break;
        group.push(p);
        total += p.batch;
        if (total === opts.maxBatchSize) break;
      }
      if (!group.length) {
        // The head alone exceeds max_batch_size (validation should have caught it): run it alone.
        this.take([head]);
        continue;
      }
      let ready = total >= opts.maxBatchSize;
      if (!ready && opts.dynamic.preferredBatchSizes.length) {
        // Dispatch at once when a prefix of the group makes a preferred size (the largest such).
        let sum = 0;
        let cut = 0;
        const prefix: number[] = [];
        for (const p of group) prefix.push((sum += p.batch));
        for (let i = prefix.length - 1; i >= 0 && !cut; i--) {
          if (opts.dynamic.preferredBatchSizes.includes(prefix[i]!)) cut = i + 1;
        }
        if (cut) {
          group.length = cut;
          ready = true;
        }
      }
      const waitedUs = Number(now() - head.enqueued) / 1000;
      const delayUs = opts.dynamic.maxQueueDelayUs;
      if (ready || force || waitedUs >= delayUs) {
        this.take(group);
        continue;
      }
      this.timer = setTimeout(() => this.pump(), Math.max(1, Math.ceil((delayUs - waitedUs) / 1000)));
      break;
    }
  }

  private take(group: Pending[]): void {
    for (const p of group) {
      const i = this.queue.indexOf(p);
      if (i >= 0) this.queue.splice(i, 1);
      if (p.timer) clearTimeout(p.timer);
    }
    this.opts.onQueueChange?.(-group.length);
    this.inFlight++;
    void this.execute(group).finally(() => {
      this.inFlight--;
      if (this.closed && this.inFlight === 0) this.drained?.();
      if (!this.closed) this.pump();
    });
  }

  private async execute(group: Pending[]): Promise<void> {
    const { opts } = this;
    const start = now();
    const outputNames: string[] = [];
    for (const p of group)
      for (const n of p.req.outputNames) if (!outputNames.includes(n)) outputNames.push(n);
    const total = group.reduce((a, p) => a + p.batch, 0);
    try {
      const inputs = group.length === 1 ? group[0]!.req.inputs : concatInputs(group.map((p) => p.req.inputs));
      const result = await opts.execute(inputs, outputNames);
      opts.onExecution?.(total, result.timing);
      if (group.length === 1) {
        const p = group[0]!;
        p.resolve({
          outputs: pick(result.outputs, p.req.outputNames),
          queueNs: Number(start - p.enqueued),
          timing: result.timing,
          executionBatchSize: total,
        });
        return;
      }
      const parts = splitOutputs(
        result.outputs,
        group.map((p) => p.batch),
        opts.modelName,
      );
      group.forEach((p, i) => {
        p.resolve({
          outputs: pick(parts[i]!, p.req.outputNames),
          queueNs: Number(start - p.enqueued),
          timing: result.timing,
          executionBatchSize: total,
        });
      });
    } catch (e) {
      for (const p of group) p.reject(e);
    }
  }

  /** Rejects everything still queued and waits for running executions to finish. */
  close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    const dropped = this.queue.splice(0);
    if (dropped.length) this.opts.onQueueChange?.(-dropped.length);
    for (const p of dropped) {
      if (p.timer) clearTimeout(p.timer);
      p.reject(unavailable(`model '${this.opts.modelName}' was unloaded while the request was queued`));
    }
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => (this.drained = resolve));
  }
}

function pick(outputs: TensorPayload[], names: string[]): TensorPayload[] {
  return names.map((n) => {
    const t = outputs.find((o) => o.name === n);
    if (!t) throw internal(`the model did not produce output '${n}'`);
    return t;
  });
}

/** Concatenates each input along dim 0 across requests (same names and order in each). */
export function concatInputs(requests: TensorPayload[][]): TensorPayload[] {
  return requests[0]!.map((first, j) => {
    const parts = requests.map((r) => r[j]!);
    const batch = parts.reduce((a, t) => a + t.shape[0]!, 0);
    return {
      name: first.name,
      dtype: first.dtype,
      shape: [batch, ...first.shape.slice(1)],
      data: concatData(parts.map((t) => t.data)),
    };
  });
}

function concatData(parts: DataArray[]): DataArray {
  if (Array.isArray(parts[0])) return ([] as string[]).concat(...(parts as string[][]));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const Ctor = (parts[0] as Float32Array).constructor as new (n: number) => Float32Array;
  const out = new Ctor(total);
  let o = 0;
  for (const p of parts) {
    out.set(p as Float32Array, o);
    o += p.length;
  }
  return out as DataArray;
}

/** Splits every output along dim 0 into pieces of the given batch sizes. */
export function splitOutputs(
  outputs: TensorPayload[],
  sizes: number[],
  modelName: string,
): TensorPayload[][] {
  const total = sizes.reduce((a, b) => a + b, 0);
  const result: TensorPayload[][] = sizes.map(() => []);
  for (const t of outputs) {
    if (t.shape[0] !== total) {
      throw new HttpError(
        500,
        `model '${modelName}': output '${t.name}' has shape [${t.shape.join(',')}] but the batch has ${total} rows; it cannot be split per request`,
        'BACKEND',
      );
    }
    const inner = total ? t.data.length / total : 0;
    let row = 0;
    sizes.forEach((n, i) => {
      result[i]!.push({
        name: t.name,
        dtype: t.dtype,
        shape: [n, ...t.shape.slice(1)],
        data: t.data.slice(row * inner, (row + n) * inner) as DataArray,
      });
      row += n;
    });
  }
  return result;
}
