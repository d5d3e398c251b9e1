/**
 * TrainingSession: fine-tuning of an imported graph, with ONNX Runtime's training API
 * (trainStep / evalStep / optimizerStep / lazyResetGrad / getContiguousParameters /
 * loadParametersBuffer) so its users can move over.
 *
 *   const session = await TrainingSession.create('model.onnx', { loss: 'crossEntropy', optimizer: { name: 'adam', lr: 1e-3 } });
 *   const { loss } = await session.trainStep({ input: x, target: y });
 *   await session.optimizerStep();
 *   await session.lazyResetGrad();
 *
 * create() turns the chosen float initializers into Parameters (copies: the model passed in is
 * not changed), builds an inference graph and a training graph over them (training-graph.ts), and
 * an optimizer. A train step runs the training graph through the same executor InferenceSession
 * uses with the autograd tape on, adds the loss, runs backward (gradients accumulate until
 * lazyResetGrad, as ONNX Runtime's do) and writes BatchNorm's updated running statistics back.
 * No graph passes run: fusions would fold trainable weights away.
 */
import { dirname } from 'node:path';
import { importModelBytes, readModelFile } from '../importers/load-model.js';
import { copyInPlace, Parameter } from '../nn/parameter.js';
import { optimKernels } from '../optim/device-optim.js';
import type { Optimizer } from '../optim/index.js';
import { enableGrad, noGrad } from '../runtime/autograd.js';
import { type DataArray, type DType, isDType, isFloat, storageMatches } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { GraphExecutor, RunState } from '../runtime/executor.js';
import {
  fmtType,
  type Graph,
  isTensorValue,
  type Model,
  type Value,
  type ValueInfo,
} from '../runtime/graph.js';
import { checkModelOps } from '../runtime/passes/check-ops.js';
import { fmtShape, sameShape } from '../runtime/shape.js';
import { type Device, Tensor } from '../runtime/tensor.js';
import { asScalarLoss, type LossFn, type LossSpec, resolveLoss } from './loss.js';
import { buildOptimizer, type OptimizerSpec } from './optimizer-spec.js';
import { buildTrainingGraphs, liftConstants, type RunningStat } from './training-graph.js';
import './graph-ops.js';

/** Which initializers to train: 'all' float ones (0-d scalars excepted), a list of names, or a pattern. */
export type ParameterSelector = 'all' | readonly string[] | RegExp;

export interface TrainingSessionOptions {
  /** Initializers to train (default 'all': every float initializer of rank >= 1). */
  trainable?: ParameterSelector;
  /** Initializers to keep fixed, applied after `trainable`. */
  frozen?: readonly string[] | RegExp;
  /** The loss (default 'mse'); `{ output: name }` uses a graph value that already is the loss. */
  loss?: LossSpec;
  /** The graph value the loss reads (default: the first graph output). May name an intermediate value (logits before a Softmax). */
  output?: string;
  /** Feed name of the target (default 'target'). */
  targetName?: string;
  /** Optimizer (default SGD with lr 0.01); null: none (a replica that only computes gradients). */
  optimizer?: OptimizerSpec | null;
  /**
   * Where the weights live and the steps run: 'cpu' (default) or 'webgpu' (after initWebGPU()):
   * weights, feeds and optimizer state stay on the GPU; exports and getContiguousParameters read back.
   */
  device?: Device;
  /** Turn float Constant nodes into trainable initializers (all, or the named ones). Default false. */
  liftConstants?: boolean | readonly string[];
  /** Directory for external data when the model is given as bytes. */
  baseDir?: string;
}

/** A feed: a Tessera tensor or an ONNX Runtime-like `{ type, data, dims }`. */
export type TrainingFeed =
  | Tensor
  | { type: string; data: ArrayLike<unknown> | DataArray; dims: readonly number[] };

export interface StepOptions {
  /** Multiplies the loss before backward (data parallelism: the shard's share of the global batch). */
  lossScale?: number;
}

export interface StepResult {
  /** The (unscaled) loss as a 0-d tensor. */
  loss: Tensor;
  /** The values the loss read and the graph outputs, detached. */
  outputs: Record<string, Tensor>;
}

function selectorMatches(sel: ParameterSelector | readonly string[] | RegExp, name: string): boolean {
  if (sel === 'all') return true;
  if (sel instanceof RegExp) {
    sel.lastIndex = 0;
    return sel.test(name);
  }
  return sel.includes(name);
}

function toTensor(name: string, v: TrainingFeed): Tensor {
  if (v instanceof Tensor) return v;
  if (typeof v !== 'object' || v === null || !('type' in v) || !('dims' in v)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `feed '${name}': expected a Tensor or { type, data, dims }, got ${typeof v}`,
    );
  }
  const dtype = v.type === 'float' ? 'float32' : v.type;
  if (!isDType(dtype))
    throw new TesseraError('DTYPE_MISMATCH', `feed '${name}': unsupported tensor type '${v.type}'`);
  let data = v.data as DataArray;
  if (dtype === 'bool' && !(data instanceof Uint8Array))
    data = Uint8Array.from(v.data as ArrayLike<number>, (x) => (x ? 1 : 0));
  if (!storageMatches(dtype as DType, data)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `feed '${name}': data of type ${(v.data as object).constructor?.name} does not hold ${dtype}`,
    );
  }
  return Tensor.fromData(data, [...v.dims], dtype as DType);
}

/** A contiguous copy in fresh storage (the session's own weights). */
function ownCopy(t: Tensor): Tensor {
  if (t.device !== 'cpu') return t.to('cpu');
  const d = t.dataSync();
  return Tensor.fromData(d.slice() as typeof d, t.shape, t.dtype);
}

/** copyInPlace for a weight on any device: a device weight is overwritten there by its backend's kernel. */
function copyWeight(dst: Tensor, src: Tensor, who: string): void {
  if (dst.device === 'cpu') {
    copyInPlace(dst, src, who);
    return;
  }
  if (!sameShape(dst.shape, src.shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: cannot copy a tensor of shape ${fmtShape(src.shape)} into one of shape ${fmtShape(dst.shape)}`,
    );
  }
  optimKernels(dst.device)!.assign(dst, src.device === dst.device ? src : src.to(dst.device));
}

export class TrainingSession {
  /** The model structure (inference graph) the session was made from; weights live in the session. */
  readonly model: Model;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  /** The graph value the loss reads. */
  readonly lossInput: string;
  readonly targetName: string;
  /** The optimizer over the trainable parameters (null for a gradient-only replica). */
  readonly optimizer: Optimizer<any> | null;
  readonly lossSpec: LossSpec;

  /** Every float initializer by name (trainable Parameters, frozen weights, running statistics), in model order. */
  private readonly weights: Map<string, Tensor>;
  private readonly trainable: Map<string, Parameter>;
  private readonly evalGraph: Graph;
  private readonly trainGraph: Graph;
  private readonly runningStats: RunningStat[];
  private readonly trainExec: GraphExecutor;
  private readonly evalExec: GraphExecutor;
  private readonly inputsByName: Map<string, ValueInfo>;
  private readonly lossFn: LossFn | null;
  private resetPending = false;
  /** Where the weights live and steps run. */
  readonly device: Device;

  private constructor(model: Model, opts: TrainingSessionOptions) {
    this.device = opts.device ?? 'cpu';
    if (this.device !== 'cpu' && !optimKernels(this.device)) {
      throw new TesseraError(
        'UNAVAILABLE',
        `TrainingSession: device '${this.device}' is not available: initialize its backend first (initWebGPU())`,
      );
    }
    checkModelOps(model);
    const src = model.graph;
    // A shallow copy: lifting constants must not change the caller's model.
    const graph: Graph = { ...src, nodes: [...src.nodes], initializers: new Map(src.initializers) };
    if (opts.liftConstants)
      liftConstants(graph, Array.isArray(opts.liftConstants) ? new Set(opts.liftConstants) : undefined);
    this.model = { ...model, graph };

    const trainableSel = opts.trainable ?? 'all';
    if (!(trainableSel === 'all' || trainableSel instanceof RegExp || Array.isArray(trainableSel))) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `TrainingSession: trainable must be 'all', a list of names or a RegExp, got ${String(trainableSel)}`,
      );
    }
    if (Array.isArray(trainableSel)) {
      for (const n of trainableSel) {
        const t = graph.initializers.get(n);
        if (!t)
          throw new TesseraError(
            'NOT_FOUND',
            `TrainingSession: trainable '${n}' is not an initializer of the model`,
          );
        if (!isFloat(t.dtype))
          throw new TesseraError(
            'DTYPE_MISMATCH',
            `TrainingSession: trainable '${n}' is ${t.dtype}; only float initializers can be trained`,
          );
      }
    }
    if (Array.isArray(opts.frozen)) {
      for (const n of opts.frozen) {
        if (!graph.initializers.has(n))
          throw new TesseraError(
            'NOT_FOUND',
            `TrainingSession: frozen '${n}' is not an initializer of the model`,
          );
      }
    }
    this.weights = new Map();
    this.trainable = new Map();
    const onDevice = (t: Tensor) => (t.device === this.device ? t : t.to(this.device));
    for (const [name, t] of graph.initializers) {
      if (!isFloat(t.dtype)) {
        this.weights.set(name, this.device === 'cpu' ? t : onDevice(t));
        continue;
      }
      const copy = ownCopy(t.device === 'cpu' ? t : t.to('cpu'));
      const own = this.device === 'cpu' ? copy : onDevice(copy);
      const explicit = Array.isArray(trainableSel);
      const wanted =
        selectorMatches(trainableSel, name) && (explicit || trainableSel instanceof RegExp || t.ndim > 0);
      const frozen = opts.frozen ? selectorMatches(opts.frozen, name) : false;
      if (wanted && !frozen) {
        const p = new Parameter(own);
        p.name = name;
        this.trainable.set(name, p);
        this.weights.set(name, p);
      } else this.weights.set(name, own);
    }

    const built = buildTrainingGraphs(this.model, this.weights);
    this.evalGraph = built.evalGraph;
    this.trainGraph = built.trainGraph;
    this.runningStats = built.runningStats;
    // Running statistics are state, not parameters, even when a pattern matched them.
    for (const s of this.runningStats) {
      const p = this.trainable.get(s.initializer);
      if (p) {
        this.trainable.delete(s.initializer);
        this.weights.set(s.initializer, p.detach());
      }
    }
    this.trainExec = new GraphExecutor({ opsets: built.opsets, grad: true });
    this.evalExec = new GraphExecutor({ opsets: built.opsets, grad: false });
    this.trainExec.plan(this.trainGraph, 'training graph');
    this.evalExec.plan(this.evalGraph, 'model graph');

    // IR < 4 models list initializers as inputs too: they are not feeds here.
    const feeds = graph.inputs.filter((i) => !graph.initializers.has(i.name));
    this.inputsByName = new Map(feeds.map((i) => [i.name, i]));
    this.inputNames = feeds.map((i) => i.name);
    this.outputNames = graph.outputs.map((o) => o.name);
    this.targetName = opts.targetName ?? 'target';
    if (
      this.inputsByName.has(this.targetName) &&
      !(opts.loss && typeof opts.loss === 'object' && 'output' in opts.loss)
    ) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `TrainingSession: targetName '${this.targetName}' is also a model input; choose another name`,
      );
    }

    this.lossSpec = opts.loss ?? 'mse';
    const graphLoss =
      typeof this.lossSpec === 'object' && this.lossSpec !== null && 'output' in this.lossSpec;
    this.lossInput = graphLoss
      ? (this.lossSpec as { output: string }).output
      : (opts.output ?? this.outputNames[0] ?? '');
    if (!this.lossInput || !this.producesValue(this.lossInput)) {
      throw new TesseraError(
        'NOT_FOUND',
        `TrainingSession: the loss reads '${this.lossInput}', which is not a value of the model; its outputs are ${this.outputNames.join(', ')}`,
      );
    }
    this.lossFn = graphLoss ? null : resolveLoss(this.lossSpec as Exclude<LossSpec, { output: string }>);
    const params = [...this.trainable.values()];
    this.optimizer =
      opts.optimizer === null ? null : buildOptimizer(opts.optimizer ?? { name: 'sgd', lr: 0.01 }, params);
  }

  /** Creates a session from an .onnx / .tsr path, model bytes, or an imported Model. */
  static async create(
    source: string | Uint8Array | ArrayBuffer | Model,
    opts: TrainingSessionOptions = {},
  ): Promise<TrainingSession> {
    if (typeof source === 'string') {
      return TrainingSession.fromBytes(await readModelFile(source), { baseDir: dirname(source), ...opts });
    }
    if (source instanceof Uint8Array || source instanceof ArrayBuffer)
      return TrainingSession.fromBytes(source, opts);
    return new TrainingSession(source, opts);
  }

  /** Synchronous create() from ONNX or .tsr bytes. */
  static fromBytes(bytes: Uint8Array | ArrayBuffer, opts: TrainingSessionOptions = {}): TrainingSession {
    return new TrainingSession(importModelBytes(bytes, { baseDir: opts.baseDir }), opts);
  }

  /** Synchronous create() from an imported model (which is not modified). */
  static fromModel(model: Model, opts: TrainingSessionOptions = {}): TrainingSession {
    return new TrainingSession(model, opts);
  }

  private producesValue(name: string): boolean {
    const g = this.model.graph;
    return (
      g.outputs.some((o) => o.name === name) ||
      g.nodes.some((n) => n.outputs.includes(name)) ||
      g.initializers.has(name)
    );
  }

  /** ONNX Runtime's names: what trainStep takes and returns, and what evalStep takes and returns. */
  get trainingInputNames(): string[] {
    return this.lossFn ? [...this.inputNames, this.targetName] : [...this.inputNames];
  }
  get trainingOutputNames(): string[] {
    return ['loss', ...this.fetchList(false)];
  }
  get evalInputNames(): string[] {
    return [...this.inputNames];
  }
  get evalOutputNames(): string[] {
    return this.fetchList(false);
  }

  // ---- parameters ------------------------------------------------------------------------------

  /** Trainable parameters by initializer name, in model order. */
  namedParameters(): [string, Parameter][] {
    return [...this.trainable];
  }
  parameters(): Parameter[] {
    return [...this.trainable.values()];
  }
  /** Names of every float initializer the session holds (trainable or not), in model order. */
  private floatNames(trainableOnly: boolean): string[] {
    return [...this.weights]
      .filter(([k, t]) => isFloat(t.dtype) && (!trainableOnly || this.trainable.has(k)))
      .map(([k]) => k);
  }

  /** Float weights by name (parameters, frozen weights, running statistics), detached views. */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const k of this.floatNames(false)) out.set(k, this.weights.get(k)!.detach());
    return out;
  }

  /** Copies values into the session's weights in place (shapes must match); with `strict`, every weight must be given. */
  loadStateDict(dict: Map<string, Tensor> | Record<string, Tensor>, strict = true): void {
    const entries = dict instanceof Map ? dict : new Map(Object.entries(dict));
    const names = this.floatNames(false);
    if (strict) {
      const missing = names.filter((k) => !entries.has(k));
      const unexpected = [...entries.keys()].filter((k) => !this.weights.has(k));
      if (missing.length || unexpected.length) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `TrainingSession.loadStateDict: missing ${missing.join(', ') || 'none'}; unexpected ${unexpected.join(', ') || 'none'}`,
        );
      }
    }
    noGrad(() => {
      for (const [k, v] of entries) {
        const dst = this.weights.get(k);
        if (dst && isFloat(dst.dtype)) copyWeight(dst, v, `TrainingSession.loadStateDict '${k}'`);
      }
    });
  }

  /** Number of elements in the (trainable) parameters, as ONNX Runtime's getParametersSize. */
  getParametersSize(trainableOnly = true): number {
    return this.floatNames(trainableOnly).reduce((n, k) => n + this.weights.get(k)!.numel(), 0);
  }

  /** The parameters flattened into one 1-D tensor in model order (float32 unless every one is another float type). */
  async getContiguousParameters(trainableOnly = true): Promise<Tensor> {
    return this.contiguousParameters(trainableOnly);
  }
  contiguousParameters(trainableOnly = true): Tensor {
    const names = this.floatNames(trainableOnly);
    const dtypes = new Set(names.map((k) => this.weights.get(k)!.dtype));
    const dtype: DType = dtypes.size === 1 ? [...dtypes][0]! : 'float32';
    const total = names.reduce((n, k) => n + this.weights.get(k)!.numel(), 0);
    const out = Tensor.empty([total], dtype);
    let off = 0;
    noGrad(() => {
      for (const k of names) {
        const t = this.weights.get(k)!;
        copyInPlace(
          out.asStrided([t.numel()], [1], off),
          (t.device === 'cpu' ? t : t.to('cpu')).reshape([t.numel()]).detach(),
          'getContiguousParameters',
        );
        off += t.numel();
      }
    });
    return out;
  }

  /** Loads parameters from a buffer laid out as getContiguousParameters gives it (bytes or a tensor). */
  async loadParametersBuffer(
    buffer: Uint8Array | Float32Array | Float64Array | Tensor,
    trainableOnly = true,
  ): Promise<void> {
    this.loadParameters(buffer, trainableOnly);
  }
  loadParameters(buffer: Uint8Array | Float32Array | Float64Array | Tensor, trainableOnly = true): void {
    const names = this.floatNames(trainableOnly);
    const total = names.reduce((n, k) => n + this.weights.get(k)!.numel(), 0);
    let flat: Tensor;
    if (buffer instanceof Tensor) flat = noGrad(() => buffer.reshape([buffer.numel()]).detach());
    else if (buffer instanceof Float32Array || buffer instanceof Float64Array)
      flat = Tensor.fromData(buffer, [buffer.length], buffer instanceof Float32Array ? 'float32' : 'float64');
    else {
      const dtype = this.contiguousParameters(trainableOnly).dtype;
      const bpe = dtype === 'float64' ? 8 : dtype === 'float32' ? 4 : 2;
      if (buffer.byteLength !== total * bpe) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `loadParametersBuffer: the buffer has ${buffer.byteLength} bytes, the ${trainableOnly ? 'trainable ' : ''}parameters need ${total * bpe} (${total} ${dtype})`,
        );
      }
      const copy = buffer.slice();
      const arr =
        dtype === 'float64'
          ? new Float64Array(copy.buffer)
          : dtype === 'float32'
            ? new Float32Array(copy.buffer)
            : new Uint16Array(copy.buffer);
      flat = Tensor.fromData(arr, [total], dtype);
    }
    if (flat.numel() !== total) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `loadParametersBuffer: got ${flat.numel()} values, the ${trainableOnly ? 'trainable ' : ''}parameters have ${total}`,
      );
    }
    let off = 0;
    noGrad(() => {
      for (const k of names) {
        const t = this.weights.get(k)!;
        const n = t.numel();
        copyWeight(
          t,
          flat.asStrided([n], [1], flat.offset + off).reshape([...t.shape]),
          `loadParametersBuffer '${k}'`,
        );
        off += n;
      }
    });
  }

  // ---- steps -----------------------------------------------------------------------------------

  private bind(
    feeds: Record<string, TrainingFeed>,
    needTarget: boolean,
  ): { bound: Map<string, Value>; target?: Tensor } {
    if (typeof feeds !== 'object' || feeds === null)
      throw new TesseraError(
        'INVALID_ARGUMENT',
        'TrainingSession: feeds must be an object of name -> tensor',
      );
    const bound = new Map<string, Value>();
    let target: Tensor | undefined;
    for (const [name, raw] of Object.entries(feeds)) {
      if (name === this.targetName && !this.inputsByName.has(name)) {
        target = this.place(toTensor(name, raw));
        continue;
      }
      const vi = this.inputsByName.get(name);
      if (!vi) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `feed '${name}' is not an input of the model; its inputs are ${this.inputNames.join(', ')} (and the target '${this.targetName}')`,
        );
      }
      const t = toTensor(name, raw);
      this.checkInput(name, vi, t);
      bound.set(name, this.place(t));
    }
    for (const n of this.inputNames) {
      if (!bound.has(n))
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `input '${n}' (${fmtType(this.inputsByName.get(n)?.type)}) is missing from the feeds`,
        );
    }
    if (needTarget && this.lossFn && !target) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `the target '${this.targetName}' is missing from the feeds (the loss needs it)`,
      );
    }
    return { bound, target };
  }

  /** A feed on the session's device. */
  private place(t: Tensor): Tensor {
    return t.device === this.device ? t : t.to(this.device);
  }

  /** Dtype and rank must match; dims too, except dim 0, which training batches may change. */
  private checkInput(name: string, vi: ValueInfo, t: Tensor): void {
    const type = vi.type;
    if (type?.kind !== 'tensor') return;
    if (t.dtype !== type.dtype)
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `input '${name}': expected dtype ${type.dtype}, got ${t.dtype}`,
      );
    if (!type.shape) return;
    if (t.ndim !== type.shape.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `input '${name}': expected rank ${type.shape.length} (${fmtType(type)}), got shape ${fmtShape(t.shape)}`,
      );
    }
    type.shape.forEach((d, i) => {
      if (i > 0 && typeof d === 'number' && d !== t.shape[i]) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `input '${name}': dim ${i} must be ${d} (${fmtType(type)}), got shape ${fmtShape(t.shape)}`,
        );
      }
    });
  }

  private fetchList(stats: boolean): string[] {
    const names = [this.lossInput, ...this.outputNames.filter((o) => o !== this.lossInput)];
    if (stats) for (const s of this.runningStats) names.push(s.output);
    return names;
  }

  private computeLoss(v: Tensor, target: Tensor | undefined): Tensor {
    return this.lossFn ? this.lossFn(v, target!) : asScalarLoss(v, this.lossInput);
  }

  /**
   * One training step, synchronously: forward in training mode, loss, backward (gradients
   * accumulate into the parameters' .grad), running statistics updated.
   */
  runTrainStepSync(feeds: Record<string, TrainingFeed>, opts: StepOptions = {}): StepResult {
    const { bound, target } = this.bind(feeds, true);
    if (this.resetPending) {
      for (const p of this.trainable.values()) p.grad = null;
      this.resetPending = false;
    }
    const fetch = this.fetchList(true);
    const values = this.trainExec.run(this.trainGraph, bound, new RunState({}, new Set()), fetch) as Tensor[];
    const lossIn = values[0]!;
    const loss = enableGrad(() => this.computeLoss(lossIn, target));
    if (!loss.requiresGrad) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `TrainingSession: the loss does not depend on any trainable parameter (${this.trainable.size} trainable; check 'trainable' and 'frozen')`,
      );
    }
    const scale = opts.lossScale ?? 1;
    enableGrad(() => (scale === 1 ? loss : loss.mul(scale)).backward());
    noGrad(() => {
      this.runningStats.forEach((s, i) => {
        const v = values[fetch.length - this.runningStats.length + i];
        if (v && isTensorValue(v))
          copyWeight(this.weights.get(s.initializer)!, v.detach(), `running statistic '${s.initializer}'`);
      });
    });
    const outputs: Record<string, Tensor> = {};
    fetch.slice(0, fetch.length - this.runningStats.length).forEach((n, i) => {
      outputs[n] = values[i]!.detach();
    });
    return { loss: loss.detach(), outputs };
  }

  /** Runs the inference graph (eval mode, no tape); the loss too when the target is fed. */
  runEvalStepSync(feeds: Record<string, TrainingFeed>): { loss?: Tensor; outputs: Record<string, Tensor> } {
    const { bound, target } = this.bind(feeds, false);
    const fetch = this.fetchList(false);
    const values = noGrad(() =>
      this.evalExec.run(this.evalGraph, bound, new RunState({}, new Set()), fetch),
    ) as Tensor[];
    const outputs: Record<string, Tensor> = {};
    fetch.forEach((n, i) => {
      outputs[n] = values[i]!;
    });
    const loss = target || !this.lossFn ? noGrad(() => this.computeLoss(values[0]!, target)) : undefined;
    return { loss, outputs };
  }

  /** ONNX Runtime's runTrainStep: returns the loss ('loss') and the outputs. */
  async trainStep(feeds: Record<string, TrainingFeed>): Promise<Record<string, Tensor>> {
    const r = this.runTrainStepSync(feeds);
    return { loss: r.loss, ...r.outputs };
  }
  runTrainStep(feeds: Record<string, TrainingFeed>): Promise<Record<string, Tensor>> {
    return this.trainStep(feeds);
  }

  /** ONNX Runtime's runEvalStep: the outputs in eval mode, and 'loss' when the target is fed. */
  async evalStep(feeds: Record<string, TrainingFeed>): Promise<Record<string, Tensor>> {
    const r = this.runEvalStepSync(feeds);
    return r.loss ? { loss: r.loss, ...r.outputs } : { ...r.outputs };
  }
  runEvalStep(feeds: Record<string, TrainingFeed>): Promise<Record<string, Tensor>> {
    return this.evalStep(feeds);
  }

  /** Updates the parameters from their accumulated gradients. */
  optimizerStepSync(): void {
    if (!this.optimizer)
      throw new TesseraError(
        'INVALID_ARGUMENT',
        'TrainingSession: this session has no optimizer (created with optimizer: null)',
      );
    this.optimizer.step();
  }
  async optimizerStep(): Promise<void> {
    this.optimizerStepSync();
  }
  runOptimizerStep(): Promise<void> {
    return this.optimizerStep();
  }

  /** Gradients are cleared before the next train step accumulates (ONNX Runtime's lazyResetGrad). */
  async lazyResetGrad(): Promise<void> {
    this.resetPending = true;
  }
  /** Clears the gradients now. */
  zeroGrad(): void {
    for (const p of this.trainable.values()) p.grad = null;
    this.resetPending = false;
  }

  // ---- export ----------------------------------------------------------------------------------

  /** The inference model with the current weights (copied: later training does not change it). */
  toModel(): Model {
    const g = this.model.graph;
    const initializers = new Map<string, Tensor>();
    for (const [k, t] of this.weights) initializers.set(k, isFloat(t.dtype) ? ownCopy(t) : t);
    return {
      ...this.model,
      graph: { ...g, nodes: [...g.nodes], initializers },
      metadata: { ...this.model.metadata },
    };
  }

  /** ONNX Runtime's exportModelForInferencing: writes the inference model with the trained weights (.onnx or .tsr by extension). */
  async exportModelForInferencing(path: string): Promise<void> {
    const model = this.toModel();
    if (path.endsWith('.tsr')) {
      const { saveTsr } = await import('../importers/tsr/index.js');
      saveTsr(model, path);
    } else {
      const { saveOnnx } = await import('../importers/onnx/export.js');
      saveOnnx(model, path);
    }
  }

  /** ONNX Runtime API parity; memory is garbage-collected. */
  async release(): Promise<void> {}
}
