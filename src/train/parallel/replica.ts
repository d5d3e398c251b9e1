/**
 * One data-parallel replica: how a worker thread rebuilds the model it trains (an imported graph
 * from .tsr bytes, or a Module from a factory it imports), and the step it runs: load the shared
 * parameters, forward and backward on its shard, write the gradients into its shared slot. Kept
 * apart from the worker entry so it runs (and is tested) in any thread.
 */
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { decodeTsr } from '../../importers/tsr/index.js';
import { Module } from '../../nn/module.js';
import { fillInPlace } from '../../nn/parameter.js';
import { noGrad } from '../../runtime/autograd.js';
import { type DataArray, type DType, fromNumbers, isFloat, storageClass } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { manualSeed } from '../../runtime/random.js';
import { Tensor } from '../../runtime/tensor.js';
import { type Dataset, subset } from '../data.js';
import { type LossSpec, resolveLoss } from '../loss.js';
import { addSums, type MetricName, type MetricSum, metricSum } from '../metrics.js';
import { ModuleTarget, SessionTarget, type TrainTarget } from '../target.js';
import { TrainingSession } from '../training-session.js';

/** How a worker builds a Module: `import(module)[export](...args)` (a class is constructed with new). */
export interface ModuleFactory {
  /** A file path, file URL or package specifier the worker can import. */
  module: string;
  /** The export to call (default 'default'). */
  export?: string;
  /** Arguments (structured-cloneable). */
  args?: unknown[];
}

export type ReplicaSpec =
  | {
      kind: 'session';
      model: Uint8Array;
      trainable: string[];
      loss: LossSpec;
      output: string;
      targetName: string;
    }
  | { kind: 'module'; factory: ModuleFactory; loss: LossSpec };

/** Where each named tensor sits in a shared Float64Array. */
export interface SlotLayout {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

export interface SharedTensor {
  dtype: DType;
  shape: number[];
  buffer: SharedArrayBuffer;
}

export interface ReplicaInit {
  rank: number;
  /** Seeds the replica's default generator (Dropout masks), distinct per rank. */
  seed: number;
  spec: ReplicaSpec;
  params: SlotLayout[];
  buffers: SlotLayout[];
  paramBuffer: SharedArrayBuffer;
  gradBuffer: SharedArrayBuffer;
  stateBuffer: SharedArrayBuffer;
  data: { names: string[] | null; inputs: SharedTensor[]; target: SharedTensor };
  metrics: MetricName[];
}

export interface StepReply {
  lossSum: number;
  metrics: Record<string, MetricSum>;
  /** Per parameter: whether the replica produced a gradient for it. */
  hasGrad: boolean[];
}

function specifierOf(m: string): string {
  return isAbsolute(m) ? pathToFileURL(m).href : m;
}

export async function buildReplicaTarget(spec: ReplicaSpec): Promise<TrainTarget> {
  if (spec.kind === 'session') {
    const session = TrainingSession.fromModel(decodeTsr(spec.model, 'replica model'), {
      trainable: spec.trainable,
      loss: spec.loss,
      output: spec.output,
      targetName: spec.targetName,
      optimizer: null,
    });
    return new SessionTarget(session);
  }
  const f = spec.factory;
  const mod = (await import(specifierOf(f.module))) as Record<string, unknown>;
  const make = mod[f.export ?? 'default'];
  if (typeof make !== 'function') {
    throw new TesseraError(
      'NOT_FOUND',
      `workerModule: '${f.module}' has no function export '${f.export ?? 'default'}'`,
    );
  }
  const args = f.args ?? [];
  let m: unknown;
  try {
    m = await (make as (...a: unknown[]) => unknown)(...args);
  } catch (e) {
    // Classes throw when called without new.
    if (e instanceof TypeError && /class constructor/i.test(e.message))
      m = new (make as new (...a: unknown[]) => unknown)(...args);
    else throw e;
  }
  if (!(m instanceof Module)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `workerModule: '${f.module}' export '${f.export ?? 'default'}' did not return an nn.Module`,
    );
  }
  if (typeof spec.loss === 'object' && spec.loss !== null && 'output' in spec.loss) {
    throw new TesseraError('INVALID_ARGUMENT', 'workerModule: a Module loss cannot be { output }');
  }
  return new ModuleTarget(m, resolveLoss(spec.loss as Exclude<LossSpec, { output: string }>), null);
}

export function sharedToTensor(s: SharedTensor): Tensor {
  const C = storageClass(s.dtype);
  if (!C)
    throw new TesseraError('UNSUPPORTED', `data parallelism: ${s.dtype} data cannot be shared with workers`);
  return Tensor.fromData(new C(s.buffer), s.shape, s.dtype);
}

/** Copies a tensor into shared memory (for the dataset every worker reads). */
export function tensorToShared(t: Tensor): SharedTensor {
  if (t.dtype === 'string')
    throw new TesseraError('UNSUPPORTED', 'data parallelism: string data cannot be shared with workers');
  const src = t.dataSync() as Exclude<DataArray, string[]>;
  const buffer = new SharedArrayBuffer(src.byteLength);
  new Uint8Array(buffer).set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
  return { dtype: t.dtype, shape: [...t.shape], buffer };
}

/** Writes float64 values into a tensor's own storage, in place. */
export function writeValues(t: Tensor, src: Float64Array, offset: number, who: string): void {
  if (t.dtype === 'float64' && t.isContiguous() && t.storage.data instanceof Float64Array) {
    t.storage.data.set(src.subarray(offset, offset + t.numel()), t.offset);
    return;
  }
  fillInPlace(t, (i) => src[offset + i]!, who);
}

/** Reads a tensor's values into a Float64Array at `offset`. */
export function readValues(t: Tensor, dst: Float64Array, offset: number): void {
  dst.set(t.numbers(), offset);
}

/** A replica ready to run steps on the shared dataset. */
export class Replica {
  private readonly data: Dataset;
  private readonly params: [SlotLayout, Tensor][];
  private readonly buffers: [SlotLayout, Tensor][];
  private readonly paramValues: Float64Array;
  private readonly grads: Float64Array;
  private readonly state: Float64Array;

  private constructor(
    private readonly init: ReplicaInit,
    private readonly target: TrainTarget,
  ) {
    this.data = {
      names: init.data.names,
      inputs: init.data.inputs.map(sharedToTensor),
      target: sharedToTensor(init.data.target),
      size: init.data.target.shape[0]!,
    };
    const mine = new Map(target.namedParameters());
    this.params = init.params.map((l) => {
      const t = mine.get(l.name);
      if (!t)
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `replica ${init.rank}: the model has no parameter '${l.name}' (the workers' model must match the trainer's)`,
        );
      if (t.numel() !== l.size)
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `replica ${init.rank}: parameter '${l.name}' has ${t.numel()} elements, the trainer's has ${l.size}`,
        );
      return [l, t];
    });
    const bufs = new Map(target.namedBuffers());
    this.buffers = init.buffers.filter((l) => bufs.has(l.name)).map((l) => [l, bufs.get(l.name)!]);
    this.paramValues = new Float64Array(init.paramBuffer);
    this.grads = new Float64Array(init.gradBuffer);
    this.state = new Float64Array(init.stateBuffer);
    // Start from the trainer's state (running statistics, frozen weights).
    noGrad(() => {
      for (const [l, t] of this.buffers) writeValues(t, this.state, l.offset, `replica buffer '${l.name}'`);
    });
  }

  static async create(init: ReplicaInit): Promise<Replica> {
    const target = await buildReplicaTarget(init.spec);
    // After building (a factory may seed its initializers): replicas must not draw the same masks.
    manualSeed(init.seed);
    return new Replica(init, target);
  }

  /** Trains on samples `indices` of the shared data with the loss scaled by `scale`; gradients go to this rank's slot. */
  step(indices: Int32Array, scale: number): StepReply {
    const total = this.init.params.reduce((n, l) => n + l.size, 0);
    const slot = this.init.rank * total;
    noGrad(() => {
      for (const [l, t] of this.params)
        writeValues(t, this.paramValues, l.offset, `replica parameter '${l.name}'`);
    });
    this.target.zeroGrad();
    const batch = subset(this.data, indices);
    const r = this.target.trainBatch(batch, scale);
    const hasGrad = this.params.map(([l, t]) => {
      const g = t.grad;
      if (!g) {
        this.grads.fill(0, slot + l.offset, slot + l.offset + l.size);
        return false;
      }
      readValues(g, this.grads, slot + l.offset);
      return true;
    });
    if (this.init.rank === 0) for (const [l, t] of this.buffers) readValues(t, this.state, l.offset);
    const metrics: Record<string, MetricSum> = {};
    for (const m of this.init.metrics) addSums(metrics, { [m]: metricSum(m, r.output, batch.target) });
    return { lossSum: r.loss * batch.size, metrics, hasGrad };
  }
}

/** Sums the replicas' gradient slots into float64 values per parameter, in slot order (rank 0 first). */
export function reduceGradients(
  grads: Float64Array,
  ranks: number,
  total: number,
  l: SlotLayout,
): Float64Array {
  const out = new Float64Array(l.size);
  for (let r = 0; r < ranks; r++) {
    const base = r * total + l.offset;
    for (let i = 0; i < l.size; i++) out[i]! += grads[base + i]!;
  }
  return out;
}

export function toDTypeTensor(values: Float64Array, shape: number[], dtype: DType): Tensor {
  if (!isFloat(dtype))
    throw new TesseraError('DTYPE_MISMATCH', `data parallelism: gradients must be float, got ${dtype}`);
  return Tensor.fromData(fromNumbers(dtype, values), shape, dtype);
}
