/**
 * Data parallelism on one machine: N replicas of the model in worker threads, each computing the
 * gradient of its shard of every global batch; gradients are summed over shared memory.
 *
 * Shared memory (SharedArrayBuffer, float64): the parameters (written by the trainer before each
 * step, read by every replica), one gradient slot per replica, the state buffers (running
 * statistics: the trainer's at start, then replica 0's after each step), and the training set
 * itself, copied once. A step posts each replica its sample indices and its share n_k / B of the
 * global batch; a replica scales its mean loss by that share, so the slots sum to the gradient of
 * the mean loss over the whole batch, which is what one thread computes (up to float rounding).
 * The trainer's optimizer then steps once, in the trainer's thread, so there is one optimizer
 * state to checkpoint.
 *
 * BatchNormalization in training mode normalizes with each shard's statistics (as PyTorch's
 * DistributedDataParallel without SyncBatchNorm), and Dropout masks differ per replica: models
 * with those train correctly but not bit-for-bit like one thread.
 */
import { Worker } from 'node:worker_threads';
import { encodeTsr } from '../../importers/tsr/index.js';
import { noGrad } from '../../runtime/autograd.js';
import { type ErrorCode, TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import type { Dataset } from '../data.js';
import type { LossSpec } from '../loss.js';
import { addSums, type MetricName, type MetricSum } from '../metrics.js';
import { SessionTarget, type TrainTarget } from '../target.js';
import {
  type ModuleFactory,
  type ReplicaInit,
  type ReplicaSpec,
  readValues,
  reduceGradients,
  type SlotLayout,
  type StepReply,
  tensorToShared,
  toDTypeTensor,
  writeValues,
} from './replica.js';

export type { ModuleFactory } from './replica.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./replica-worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

export type ToReplica = { type: 'step'; id: number; indices: Int32Array; scale: number } | { type: 'close' };
export type FromReplica =
  | { type: 'ready' }
  | ({ type: 'done'; id: number } & StepReply)
  | { type: 'error'; id?: number; message: string; code?: ErrorCode };

function startWorker(workerData: ReplicaInit): Worker {
  if (!FROM_SOURCE) return new Worker(ENTRY, { workerData });
  // `--import tsx` in execArgv does not reach worker threads on Node 20: the worker registers
  // tsx itself before importing the TypeScript entry (as the server's worker pool does).
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

function layout(named: [string, Tensor][]): { slots: SlotLayout[]; total: number } {
  let offset = 0;
  const slots = named.map(([name, t]) => {
    const s = { name, shape: [...t.shape], offset, size: t.numel() };
    offset += t.numel();
    return s;
  });
  return { slots, total: offset };
}

interface Pending {
  resolve(r: StepReply): void;
  reject(e: unknown): void;
}

export interface DataParallelOptions {
  target: TrainTarget;
  data: Dataset;
  workers: number;
  loss: LossSpec;
  metrics: MetricName[];
  /** For Module targets: how each worker builds the module. */
  module?: ModuleFactory;
  /** The run's seed, from which each replica's random seed derives. */
  seed?: number;
}

export class DataParallelGroup {
  private readonly pending = new Map<number, Pending[]>();
  private nextId = 0;
  private failure: TesseraError | undefined;
  private closed = false;

  private constructor(
    private readonly workers: Worker[],
    private readonly target: TrainTarget,
    private readonly params: SlotLayout[],
    private readonly buffers: SlotLayout[],
    private readonly paramValues: Float64Array,
    private readonly grads: Float64Array,
    private readonly state: Float64Array,
    private readonly total: number,
    /** Scale each shard's loss by its share of the batch (mean reductions). */
    private readonly byShare: boolean,
  ) {}

  static async start(o: DataParallelOptions): Promise<DataParallelGroup> {
    const n = o.workers;
    const target = o.target;
    let spec: ReplicaSpec;
    if (target instanceof SessionTarget) {
      const s = target.session;
      spec = {
        kind: 'session',
        model: encodeTsr(s.toModel()),
        trainable: s.namedParameters().map(([k]) => k),
        loss: s.lossSpec,
        output: s.lossInput,
        targetName: s.targetName,
      };
    } else {
      if (!o.module)
        throw new TesseraError(
          'INVALID_ARGUMENT',
          'data parallelism: a Module needs workerModule to be rebuilt in workers',
        );
      spec = { kind: 'module', factory: o.module, loss: o.loss };
    }
    const p = layout(target.namedParameters());
    const b = layout(target.namedBuffers());
    const paramBuffer = new SharedArrayBuffer(8 * Math.max(1, p.total));
    const gradBuffer = new SharedArrayBuffer(8 * Math.max(1, p.total * n));
    const stateBuffer = new SharedArrayBuffer(8 * Math.max(1, b.total));
    const state = new Float64Array(stateBuffer);
    const bufTensors = new Map(target.namedBuffers());
    for (const l of b.slots) readValues(bufTensors.get(l.name)!, state, l.offset);
    const data = {
      names: o.data.names,
      inputs: o.data.inputs.map(tensorToShared),
      target: tensorToShared(o.data.target),
    };
    const reduction =
      typeof o.loss === 'object' && o.loss !== null && 'reduction' in o.loss ? o.loss.reduction : 'mean';
    const workers: Worker[] = [];
    const group = new DataParallelGroup(
      workers,
      target,
      p.slots,
      b.slots,
      new Float64Array(paramBuffer),
      new Float64Array(gradBuffer),
      state,
      p.total,
      reduction !== 'sum',
    );
    const ready: Promise<void>[] = [];
    for (let rank = 0; rank < n; rank++) {
      const init: ReplicaInit = {
        rank,
        seed: ((o.seed ?? 0) * 1000003 + rank * 7919 + 1) >>> 0,
        spec,
        params: p.slots,
        buffers: b.slots,
        paramBuffer,
        gradBuffer,
        stateBuffer,
        data,
        metrics: o.metrics,
      };
      const w = startWorker(init);
      workers.push(w);
      ready.push(group.attach(w, rank));
    }
    try {
      await Promise.all(ready);
    } catch (e) {
      await group.close();
      throw e;
    }
    return group;
  }

  /** Wires a worker's messages; resolves when it reports ready. */
  private attach(w: Worker, rank: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      let isReady = false;
      w.on('message', (m: FromReplica) => {
        if (m.type === 'ready') {
          isReady = true;
          resolve();
        } else if (m.type === 'done') {
          this.pending.get(m.id)?.[rank]?.resolve(m);
        } else if (m.type === 'error') {
          const err = new TesseraError(m.code ?? 'INTERNAL', `data-parallel replica ${rank}: ${m.message}`);
          if (!isReady) reject(err);
          else if (m.id !== undefined) this.pending.get(m.id)?.[rank]?.reject(err);
          else this.fail(err);
        }
      });
      w.on('error', (e) => {
        const err = new TesseraError('INTERNAL', `data-parallel replica ${rank} crashed: ${e.message}`, {
          cause: e,
        });
        if (!isReady) reject(err);
        this.fail(err);
      });
      w.on('exit', (code) => {
        if (this.closed) return;
        const err = new TesseraError('INTERNAL', `data-parallel replica ${rank} exited (code ${code})`);
        if (!isReady) reject(err);
        this.fail(err);
      });
    });
  }

  private fail(err: TesseraError): void {
    this.failure ??= err;
    for (const list of this.pending.values()) for (const p of list) p?.reject(err);
    this.pending.clear();
  }

  /**
   * One data-parallel step over the global batch `indices`: shards to the replicas, gradients
   * summed into the trainer's parameters' .grad, replica 0's state buffers copied back.
   * Returns the summed loss (sum over samples of the per-shard mean loss) and metric sums.
   */
  async step(indices: Int32Array): Promise<{ lossSum: number; metrics: Record<string, MetricSum> }> {
    if (this.failure) throw this.failure;
    const n = this.workers.length;
    const B = indices.length;
    const named = this.target.namedParameters();
    for (const l of this.params)
      readValues(named.find(([k]) => k === l.name)![1], this.paramValues, l.offset);
    const id = this.nextId++;
    const shards: Int32Array[] = [];
    for (let r = 0; r < n; r++)
      shards.push(indices.slice(Math.floor((r * B) / n), Math.floor(((r + 1) * B) / n)));
    const replies = await new Promise<StepReply[]>((resolve, reject) => {
      const got: StepReply[] = new Array(n);
      let left = n;
      const list: Pending[] = [];
      this.pending.set(id, list);
      shards.forEach((shard, r) => {
        list[r] = {
          resolve: (rep) => {
            got[r] = rep;
            if (--left === 0) {
              this.pending.delete(id);
              resolve(got);
            }
          },
          reject: (e) => {
            this.pending.delete(id);
            reject(e);
          },
        };
        if (shard.length === 0) {
          // A batch smaller than the worker count: this replica contributes nothing.
          this.grads.fill(0, r * this.total, (r + 1) * this.total);
          list[r]!.resolve({ lossSum: 0, metrics: {}, hasGrad: this.params.map(() => false) });
          return;
        }
        const msg: ToReplica = {
          type: 'step',
          id,
          indices: shard,
          scale: this.byShare ? shard.length / B : 1,
        };
        this.workers[r]!.postMessage(msg);
      });
    });
    noGrad(() => {
      const byName = new Map(named);
      this.params.forEach((l, i) => {
        const p = byName.get(l.name)!;
        if (!replies.some((rep) => rep.hasGrad[i])) {
          p.grad = null;
          return;
        }
        p.grad = toDTypeTensor(reduceGradients(this.grads, n, this.total, l), l.shape, p.dtype);
      });
      const bufs = new Map(this.target.namedBuffers());
      for (const l of this.buffers) {
        const t = bufs.get(l.name);
        if (t) writeValues(t, this.state, l.offset, `buffer '${l.name}'`);
      }
    });
    let lossSum = 0;
    const metrics: Record<string, MetricSum> = {};
    for (const rep of replies) {
      // A replica's loss is its shard's mean (unscaled): weight by shard size for the batch sum.
      lossSum += rep.lossSum;
      addSums(metrics, rep.metrics);
    }
    return { lossSum, metrics };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const t = setTimeout(() => {
              void w.terminate().then(() => resolve());
            }, 2000);
            w.once('exit', () => {
              clearTimeout(t);
              resolve();
            });
            w.postMessage({ type: 'close' } satisfies ToReplica);
          }),
      ),
    );
  }
}
