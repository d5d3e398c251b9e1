/**
 * InferenceSession: ONNX Runtime's API over Tessera's graph executor, so code written for
 * onnxruntime-node switches with few changes.
 *
 *   const session = await InferenceSession.create('model.onnx', { graphOptimizationLevel: 'all' });
 *   const { y } = await session.run({ x: tensor([[1, 2]]) });
 *
 * create() imports the model, checks every op against the registry, runs the graph passes, and plans
 * memory; run() checks feeds against the declared inputs (dtype, rank, dims, symbolic dims bound
 * consistently), runs the graph, and returns Tessera tensors keyed by output name.
 */
import { dirname } from 'node:path';
import { markConstant } from '../backends/cpu/wasm/sgemm.js';
import { importModelBytes, readModelFile } from '../importers/load-model.js';
import { moveToDevice } from './device.js';
import { type DataArray, type DType, isDType, storageMatches } from './dtype.js';
import { TesseraError } from './errors.js';
import {
  ArrayRecycler,
  GraphExecutor,
  type GraphPlan,
  type RunExclusions,
  RunState,
  runExclusions,
  storageBytes,
} from './executor.js';
import {
  allNodes,
  cloneModel,
  type Dim,
  fmtType,
  type Graph,
  isTensorValue,
  type Model,
  OptionalValue,
  TensorSequence,
  type Value,
  type ValueInfo,
  type ValueType,
} from './graph.js';
import { checkModelOps, checkScopes } from './passes/check-ops.js';
import {
  estimateOutputBytes,
  type GraphOptimizationLevel,
  inferGraph,
  type MemoryPlan,
  optimizeModel,
  type PassName,
  type PassResult,
  planMemory,
} from './passes/index.js';
import { fmtShape } from './shape.js';
import { type Device, Tensor } from './tensor.js';

export type { GraphOptimizationLevel, PassName };

export interface SessionOptions {
  /** Where weights live and kernels run (default 'cpu'). */
  device?: Device;
  /** Which graph passes run at load, as ONNX Runtime's levels (default 'all'). */
  graphOptimizationLevel?: GraphOptimizationLevel;
  /** Switch single passes on or off regardless of the level. */
  passes?: Partial<Record<PassName, boolean>>;
  /**
   * Bytes weights plus live intermediate values may take. A run whose shapes would need more is
   * refused before the node that would cross the limit allocates.
   */
  memoryLimitBytes?: number;
  /** Largest element count of any one tensor in the model file (default 2^31 - 1). */
  maxTensorElements?: number;
  /** Directory for external data when the model is given as bytes. */
  baseDir?: string;
  /** Default time limit of each run, in milliseconds. */
  runTimeoutMs?: number;
}

export interface RunOptions {
  /** Time limit for this run in milliseconds (checked between nodes and loop iterations). */
  timeoutMs?: number;
}

/** An ONNX Runtime tensor, or any object of that shape: `{ type, data, dims }`. */
export interface OrtLikeTensor {
  type: string;
  data: ArrayLike<unknown> | DataArray;
  dims: readonly number[];
}

export type FeedValue = Tensor | OrtLikeTensor | TensorSequence | OptionalValue;

/** As onnxruntime's InferenceSession.ValueMetadata. */
export type ValueMetadata =
  | {
      readonly name: string;
      readonly isTensor: true;
      readonly type: DType;
      readonly shape: readonly (number | string)[];
    }
  | { readonly name: string; readonly isTensor: false; readonly valueType: string };

const ORT_TYPES: Record<string, DType> = {
  float32: 'float32',
  float64: 'float64',
  float16: 'float16',
  bfloat16: 'bfloat16',
  int8: 'int8',
  uint8: 'uint8',
  int16: 'int16',
  uint16: 'uint16',
  int32: 'int32',
  uint32: 'uint32',
  int64: 'int64',
  uint64: 'uint64',
  bool: 'bool',
  string: 'string',
};

function metadataOf(vi: ValueInfo): ValueMetadata {
  const t = vi.type;
  if (t?.kind === 'tensor') {
    return {
      name: vi.name,
      isTensor: true,
      type: t.dtype,
      // Unknown dims read -1, as onnxruntime reports them.
      shape: (t.shape ?? []).map((d) => (d === null ? -1 : d)),
    };
  }
  return { name: vi.name, isTensor: false, valueType: fmtType(t) };
}

function isOrtLike(v: unknown): v is OrtLikeTensor {
  return (
    typeof v === 'object' && v !== null && 'type' in v && 'data' in v && 'dims' in v && !(v instanceof Tensor)
  );
}

function toTensor(name: string, v: OrtLikeTensor): Tensor {
  const dtype = ORT_TYPES[v.type] ?? (isDType(v.type) ? v.type : undefined);
  if (!dtype)
    throw new TesseraError('DTYPE_MISMATCH', `input '${name}': unsupported tensor type '${v.type}'`);
  const dims = [...v.dims];
  if (dims.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new TesseraError('SHAPE_MISMATCH', `input '${name}': invalid dims ${fmtShape(dims)}`);
  }
  let data = v.data as DataArray;
  if (dtype === 'bool' && !(data instanceof Uint8Array))
    data = Uint8Array.from(v.data as ArrayLike<number>, (x) => (x ? 1 : 0));
  else if (dtype === 'string' && !Array.isArray(data))
    data = Array.from(v.data as ArrayLike<unknown>, String);
  else if (!storageMatches(dtype, data)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `input '${name}': data of type ${(v.data as object).constructor?.name} does not hold ${v.type}`,
    );
  }
  const n = dims.reduce((a, b) => a * b, 1);
  if (data.length !== n) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `input '${name}': dims ${fmtShape(dims)} need ${n} elements, data has ${data.length}`,
    );
  }
  return Tensor.fromData(data, dims, dtype);
}

/** Bytes of dead intermediate arrays a session keeps from one run for the next. */
const KEEP_BETWEEN_RUNS_BYTES = 64 * 1024 * 1024;

export class InferenceSession {
  /** The model after passes. */
  readonly model: Model;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata: readonly ValueMetadata[];
  readonly outputMetadata: readonly ValueMetadata[];
  /** Passes that ran at load and how many changes each made. */
  readonly optimizations: readonly PassResult[];
  /** Bytes the weights (initializers, subgraphs included) take. */
  readonly weightBytes: number;
  /** Planned peak bytes of live intermediate values, from declared shapes (a lower bound when `complete` is false). */
  readonly memoryPlan: MemoryPlan;
  /** Peak bytes of live intermediate values measured during the last run. */
  lastRunPeakBytes = 0;
  /** How many arrays the last run took from intermediates that had died (buffer reuse by liveness). */
  lastRunReusedArrays = 0;

  private readonly executor: GraphExecutor;
  private readonly plan: GraphPlan;
  private readonly options: SessionOptions;
  /** The weights' storages and buffers, which runs neither count nor recycle. */
  private readonly exclusions: RunExclusions;
  /**
   * Dead intermediate arrays kept from one run for the next (same shapes come back every run). Only
   * arrays no output or feed uses get here, so what a run returns is never written by a later one.
   */
  private readonly recycler = new ArrayRecycler();
  /** Every value name a run may fetch (checked only when fetch names are given). */
  private fetchable: Set<string> | null = null;
  private readonly inputsByName: Map<string, ValueInfo>;
  /** Inputs backed by an initializer (IR < 4): feeding them is optional. */
  private readonly overridable: Set<string>;

  /**
   * When the graph's inputs include initializers (IR < 4), they are folded as constants here, and a
   * run that feeds one of them goes to this session over an unfolded copy of the model instead.
   */
  private unfolded: InferenceSession | null = null;
  private unfoldedSource: Model | null = null;

  private constructor(model: Model, options: SessionOptions, owned = false, foldOverridable = true) {
    this.options = options;
    // Passes rewrite the graph: work on a copy unless the session imported the model itself.
    if (!owned) model = cloneModel(model);
    checkScopes(model.graph);
    checkModelOps(model);
    const g0 = model.graph;
    const overridable = new Set(g0.inputs.filter((i) => g0.initializers.has(i.name)).map((i) => i.name));
    const foldInputs = foldOverridable && overridable.size > 0;
    const callerStorages = new Set<object>(owned ? [] : [...g0.initializers.values()].map((t) => t.storage));
    if (foldInputs) this.unfoldedSource = cloneModel(model);
    this.optimizations = optimizeModel(model, options.graphOptimizationLevel ?? 'all', options.passes, {
      memoryLimitBytes: options.memoryLimitBytes,
      foldOverridableInputs: foldInputs,
      device: options.device,
    });
    if (options.device && options.device !== 'cpu') moveWeights(model.graph, options.device);
    this.model = model;
    const g = model.graph;
    this.overridable = overridable;
    const required = g.inputs.filter((i) => !this.overridable.has(i.name));
    for (const vi of g.inputs) {
      if (vi.type?.kind === 'unsupported') {
        throw new TesseraError(
          'UNSUPPORTED',
          `input '${vi.name}': values of type ${vi.type.what} are not supported`,
        );
      }
    }
    this.inputsByName = new Map(g.inputs.map((i) => [i.name, i]));
    this.inputNames = required.map((i) => i.name);
    this.outputNames = g.outputs.map((o) => o.name);
    this.executor = new GraphExecutor({ opsets: model.opsets, estimate: estimateOutputBytes });
    this.plan = this.executor.plan(g, 'model graph');

    const weights = new Set<object>();
    let wb = 0;
    const graphs = new Set<Graph>([g]);
    for (const { graph } of allNodes(g)) graphs.add(graph);
    for (const graph of graphs) {
      for (const t of graph.initializers.values()) {
        if (!weights.has(t.storage)) {
          weights.add(t.storage);
          wb += storageBytes(t.storage);
        }
      }
    }
    this.exclusions = runExclusions(weights);
    // Weights of a model the session imported itself are never written again: let products keep
    // them resident in WASM memory instead of copying them in on every run. (A Model handed in by
    // the caller shares its tensors, which the caller may still change: only folded values.)
    for (const graph of graphs) {
      for (const [name, t] of graph.initializers) {
        // Of a caller's model, only what the passes made (folded values) is the session's own.
        if (!owned && (graph !== g || callerStorages.has(t.storage))) continue;
        if (t.dtype === 'float32' && t.device === 'cpu' && !this.overridable.has(name)) {
          const d = t.storage.data;
          if (d instanceof Float32Array) markConstant(d);
        }
      }
    }
    this.weightBytes = wb;
    const limit = options.memoryLimitBytes;
    if (limit !== undefined && wb > limit) {
      throw new TesseraError(
        'RESOURCE_EXHAUSTED',
        `model: its weights take ${wb} bytes, more than memoryLimitBytes (${limit})`,
      );
    }
    const inferred = inferGraph(g, model.opsets);
    for (const o of g.outputs)
      if (!o.type || (o.type.kind === 'tensor' && !o.type.shape))
        o.type = inferred.types.get(o.name) ?? o.type;
    this.inputMetadata = required.map(metadataOf);
    this.outputMetadata = g.outputs.map(metadataOf);
    this.memoryPlan = planMemory(this.plan, inferred.types, limit, wb);
  }

  /** Loads a model from a path, bytes, or an already imported Model (left unchanged: passes run on a copy). */
  static async create(
    source: string | Uint8Array | ArrayBuffer | Model,
    options: SessionOptions = {},
  ): Promise<InferenceSession> {
    if (typeof source === 'string') {
      return InferenceSession.fromBytes(await readModelFile(source), {
        baseDir: dirname(source),
        ...options,
      });
    }
    if (source instanceof Uint8Array || source instanceof ArrayBuffer)
      return InferenceSession.fromBytes(source, options);
    return new InferenceSession(source, options);
  }

  /** Synchronous create() from ONNX or .tsr bytes. */
  static fromBytes(bytes: Uint8Array | ArrayBuffer, options: SessionOptions = {}): InferenceSession {
    const model = importModelBytes(bytes, {
      baseDir: options.baseDir,
      maxElements: options.maxTensorElements,
    });
    return new InferenceSession(model, options, true);
  }

  /** Synchronous create() from an imported model. */
  static fromModel(model: Model, options: SessionOptions = {}): InferenceSession {
    return new InferenceSession(model, options);
  }

  /** Runs the model; outputs are Tessera tensors keyed by name. Sequence/optional outputs: use runValues. */
  async run(
    feeds: Record<string, FeedValue>,
    fetchesOrOptions?: readonly string[] | RunOptions,
    options?: RunOptions,
  ): Promise<Record<string, Tensor>> {
    // As onnxruntime: run(feeds, options) when no fetch names are given.
    const named = isNameList(fetchesOrOptions);
    const out = this.runValues(
      feeds,
      named ? fetchesOrOptions : undefined,
      named ? options : ((fetchesOrOptions as RunOptions | undefined) ?? options),
    );
    for (const k of Object.keys(out)) {
      const v = out[k];
      if (!(v instanceof Tensor) && !isTensorValue(v)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `output '${k}' is a ${v instanceof TensorSequence ? 'sequence' : 'optional'}, not a tensor: use session.runValues()`,
        );
      }
    }
    return out as Record<string, Tensor>;
  }

  /** Runs the model synchronously, returning every kind of value (tensors, sequences, optionals). */
  runValues(
    feeds: Record<string, FeedValue>,
    fetches?: readonly string[],
    options: RunOptions = {},
  ): Record<string, Value> {
    const g = this.model.graph;
    const bound = this.bindFeeds(feeds);
    if (this.unfoldedSource) {
      for (const name of bound.keys()) {
        if (this.overridable.has(name)) {
          // A fed-over initializer: run the copy where nothing was folded from it.
          this.unfolded ??= new InferenceSession(this.unfoldedSource, this.options, true, false);
          const out = this.unfolded.runValues(feeds, fetches, options);
          this.lastRunPeakBytes = this.unfolded.lastRunPeakBytes;
          return out;
        }
      }
    }
    const names = fetches ?? this.outputNames;
    if (fetches) {
      if (!this.fetchable) {
        const known = new Set<string>(g.outputs.map((o) => o.name));
        for (const x of g.nodes) for (const o of x.outputs) known.add(o);
        for (const k of g.initializers.keys()) known.add(k);
        for (const k of this.inputsByName.keys()) known.add(k);
        this.fetchable = known;
      }
      for (const n of fetches) {
        if (!this.fetchable.has(n)) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `fetch '${n}' is not a value of the model; its outputs are ${this.outputNames.join(', ')}`,
          );
        }
      }
    }
    const limit = this.options.memoryLimitBytes;
    if (limit !== undefined) {
      // Plan with the bound shapes first, so a run that cannot fit is refused before it starts.
      const types = new Map<string, ValueType>();
      for (const [k, v] of bound)
        if (isTensorValue(v)) types.set(k, { kind: 'tensor', dtype: v.dtype, shape: [...v.shape] });
      planMemory(this.plan, inferGraph(g, this.model.opsets, types).types, limit, this.weightBytes);
    }
    const excluded = new Set<object>();
    for (const v of bound.values()) if (isTensorValue(v)) excluded.add(v.storage);
    const state = new RunState(
      {
        memoryLimitBytes: limit,
        baseBytes: this.weightBytes,
        timeoutMs: options.timeoutMs ?? this.options.runTimeoutMs,
        recycle: true,
      },
      excluded,
      // Under a memory limit nothing is held between runs: the limit counts live values only.
      { exclusions: this.exclusions, recycler: limit === undefined ? this.recycler : undefined },
    );
    let values: Value[];
    try {
      values = this.executor.run(g, bound, state, fetches);
    } finally {
      this.recycler.endRun(KEEP_BETWEEN_RUNS_BYTES);
    }
    this.lastRunPeakBytes = state.peakBytes;
    this.lastRunReusedArrays = state.reusedArrays;
    const out: Record<string, Value> = {};
    for (let i = 0; i < names.length; i++) out[names[i]!] = values[i]!;
    return out;
  }

  /** Planned peak of live intermediate bytes for concrete input shapes. */
  planFor(inputShapes: Record<string, readonly number[]>): MemoryPlan {
    const types = new Map<string, ValueType>();
    for (const [k, s] of Object.entries(inputShapes)) {
      const vi = this.inputsByName.get(k);
      if (vi?.type?.kind === 'tensor') types.set(k, { kind: 'tensor', dtype: vi.type.dtype, shape: [...s] });
    }
    return planMemory(this.plan, inferGraph(this.model.graph, this.model.opsets, types).types);
  }

  /** Checks feeds against the declared inputs and returns them as runtime values. */
  private bindFeeds(feeds: Record<string, FeedValue>): Map<string, Value> {
    if (typeof feeds !== 'object' || feeds === null)
      throw new TesseraError('INVALID_ARGUMENT', 'run(): feeds must be an object of input name -> tensor');
    const bound = new Map<string, Value>();
    const symbols = new Map<string, { value: number; input: string }>();
    for (const name of Object.keys(feeds)) {
      const raw = feeds[name]!;
      const vi = this.inputsByName.get(name);
      if (!vi) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `feed '${name}' is not an input of the model; its inputs are ${this.inputNames.join(', ') || '(none)'}`,
        );
      }
      let v: Value;
      if (raw instanceof Tensor || raw instanceof TensorSequence || raw instanceof OptionalValue) v = raw;
      else if (isOrtLike(raw)) v = toTensor(name, raw);
      else {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `input '${name}': expected a Tensor or { type, data, dims }, got ${typeof raw}`,
        );
      }
      this.checkValue(name, vi.type, v, symbols);
      if (this.options.device && this.options.device !== 'cpu' && isTensorValue(v))
        v = moveToDevice(v, this.options.device);
      bound.set(name, v);
    }
    for (const name of this.inputNames) {
      if (!bound.has(name)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `input '${name}' (${fmtType(this.inputsByName.get(name)?.type)}) is missing from the feeds`,
        );
      }
    }
    return bound;
  }

  private checkValue(
    name: string,
    type: ValueType | undefined,
    v: Value,
    symbols: Map<string, { value: number; input: string }>,
  ): void {
    if (!type) return;
    if (type.kind === 'optional') {
      if (v instanceof OptionalValue) return;
      // A bare tensor or sequence is accepted where an optional of it is declared.
      this.checkValue(name, type.elem, v, symbols);
      return;
    }
    if (type.kind === 'sequence') {
      if (!(v instanceof TensorSequence))
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `input '${name}': expected a sequence, got a ${describe(v)}`,
        );
      return;
    }
    if (type.kind !== 'tensor') return;
    if (!isTensorValue(v))
      throw new TesseraError('INVALID_ARGUMENT', `input '${name}': expected a tensor, got a ${describe(v)}`);
    if (v.dtype !== type.dtype) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `input '${name}': expected dtype ${type.dtype}, got ${v.dtype}`,
      );
    }
    if (!type.shape) return;
    if (v.ndim !== type.shape.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `input '${name}': expected rank ${type.shape.length} (${fmtType(type)}), got shape ${fmtShape(v.shape)}`,
      );
    }
    for (let i = 0; i < type.shape.length; i++) {
      const d: Dim = type.shape[i]!;
      const got = v.shape[i]!;
      if (typeof d === 'number' && d !== got) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `input '${name}': dim ${i} must be ${d} (${fmtType(type)}), got shape ${fmtShape(v.shape)}`,
        );
      }
      if (typeof d === 'string') {
        const prev = symbols.get(d);
        if (prev && prev.value !== got) {
          throw new TesseraError(
            'SHAPE_MISMATCH',
            `input '${name}': dim ${i} ('${d}') is ${got}, but input '${prev.input}' bound '${d}' to ${prev.value}`,
          );
        }
        if (!prev) symbols.set(d, { value: got, input: name });
      }
    }
  }

  /** Releases the model (ONNX Runtime API parity; memory is garbage-collected). */
  async release(): Promise<void> {}
}

function isNameList(v: unknown): v is readonly string[] {
  return Array.isArray(v);
}

function describe(v: Value): string {
  return v instanceof TensorSequence ? 'sequence' : v instanceof OptionalValue ? 'optional' : 'tensor';
}

function moveWeights(g: Graph, device: Device): void {
  for (const [k, t] of g.initializers) g.initializers.set(k, moveToDevice(t, device));
}
