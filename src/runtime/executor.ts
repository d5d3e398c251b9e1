/**
 * The graph executor: runs a Graph's nodes in topological order, each through the op registry's
 * `dispatch` (the one kernel path eager code uses too). Subgraphs (If/Loop/Scan bodies) run through
 * the `SubgraphRuntime` handed to control-flow kernels and see the enclosing scopes' values.
 *
 * Memory: a plan computed once per graph frees every intermediate value right after its last use
 * (liveness), and each run tracks the bytes its live values hold (one count per storage, so views
 * are free) against an optional limit, refusing a node whose outputs would cross it before its
 * kernel allocates them.
 */
import type { SubgraphRuntime } from '../ops/control/runtime.js';
import {
  type Attrs,
  dispatchResolved,
  type GraphAttr,
  getOp,
  mergeDefaults,
  type OpDef,
  type OpInputs,
} from '../ops/registry.js';
import { setGradEnabled } from './autograd.js';
import {
  type ConcatSite,
  findPlacements,
  learnLayout,
  type Placement,
  partOf,
  sameLayout,
} from './concat-in-place.js';
import { type ArrayCtor, type ArrayPool, setArrayPool, type TypedArray } from './dtype.js';
import { TesseraError } from './errors.js';
import {
  freeVariables,
  type Graph,
  isSubgraphAttr,
  type Node,
  subgraphsOf,
  type Value,
  valueStorages,
} from './graph.js';
import { type Storage, Tensor } from './tensor.js';

/** Estimates the bytes a node's outputs will take, given its concrete inputs; undefined when unknown. */
export type OutputEstimator = (
  node: Node,
  inputs: readonly (Value | undefined)[],
  opset: number,
) => number | undefined;

export interface ExecutorOptions {
  /** Opset version per domain ('' is ai.onnx). */
  opsets: ReadonlyMap<string, number>;
  /** Pre-allocation check of each node's outputs (shape inference on concrete inputs). */
  estimate?: OutputEstimator;
  /** Record the autograd tape while running (TrainingSession); off for inference. */
  grad?: boolean;
}

export interface RunLimits {
  /** Bytes the run's live values (plus `baseBytes`) may hold. */
  memoryLimitBytes?: number;
  /** Bytes already taken before the run starts (weights), counted against the limit. */
  baseBytes?: number;
  /** Wall-clock limit for the run in milliseconds. */
  timeoutMs?: number;
  /**
   * Reuse the arrays of intermediates that died (last use passed, no live value shares their
   * buffer) for later allocations in the same run. Only for runs without autograd, whose tape
   * would keep intermediates alive.
   */
  recycle?: boolean;
}

/** Dead arrays kept for reuse are bounded, so a run never holds more than this beyond its live values. */
const MAX_POOLED_BYTES = 256 * 1024 * 1024;

/**
 * Dead intermediate arrays kept for reuse, by class and length. A RunState makes its own for one
 * run; a session may keep one across its runs (intermediates of the same shapes come back every
 * run, so the next run allocates nothing for them). Only arrays no live value uses are put here.
 */
export class ArrayRecycler {
  private readonly pool = new Map<ArrayCtor, Map<number, TypedArray[]>>();
  /** Arrays put since the last `endRun` (the others were left over from the run before). */
  private fresh = new Set<TypedArray>();
  pooledBytes = 0;
  constructor(readonly maxBytes = MAX_POOLED_BYTES) {}

  /** A dead array of exactly this class and length (contents as left), if one is pooled. */
  take(ctor: ArrayCtor, n: number): TypedArray | undefined {
    const a = this.pool.get(ctor)?.get(n)?.pop();
    if (a) this.pooledBytes -= a.byteLength;
    return a;
  }

  /** Keeps `a` for reuse when under the byte bound; the caller guarantees nothing else uses it. */
  put(a: TypedArray): void {
    if (this.pooledBytes + a.byteLength > this.maxBytes) return;
    const ctor = a.constructor as ArrayCtor;
    let bySize = this.pool.get(ctor);
    if (!bySize) this.pool.set(ctor, (bySize = new Map()));
    let list = bySize.get(a.length);
    if (!list) bySize.set(a.length, (list = []));
    list.push(a);
    this.fresh.add(a);
    this.pooledBytes += a.byteLength;
  }

  /**
   * Between two runs: drops what the run that ended did not take of the arrays the run before left
   * (a shape that stopped coming back, or an allocation that does not go through the pool), then
   * keeps at most `bytes` of the rest.
   */
  endRun(bytes: number): void {
    for (const [ctor, bySize] of this.pool) {
      for (const [n, list] of bySize) {
        const kept = list.filter((a) => this.fresh.has(a));
        for (const a of list) if (!this.fresh.has(a)) this.pooledBytes -= a.byteLength;
        if (kept.length > 0) bySize.set(n, kept);
        else bySize.delete(n);
      }
      if (bySize.size === 0) this.pool.delete(ctor);
    }
    this.fresh = new Set();
    this.trim(bytes);
  }

  /** Drops pooled arrays until at most `bytes` are kept. */
  trim(bytes: number): void {
    if (this.pooledBytes <= bytes) return;
    for (const [ctor, bySize] of this.pool) {
      for (const [n, list] of bySize) {
        while (list.length > 0 && this.pooledBytes > bytes) this.pooledBytes -= list.pop()!.byteLength;
        if (list.length === 0) bySize.delete(n);
      }
      if (bySize.size === 0) this.pool.delete(ctor);
      if (this.pooledBytes <= bytes) return;
    }
  }
}

/**
 * Storages a run neither counts nor recycles (weights), with the buffers under them: computed once
 * per session instead of once per run.
 */
export interface RunExclusions {
  readonly storages: ReadonlySet<object>;
  readonly buffers: ReadonlySet<ArrayBufferLike>;
}

export function runExclusions(storages: Iterable<object>): RunExclusions {
  const set = new Set<object>(storages);
  const buffers = new Set<ArrayBufferLike>();
  for (const s of set) {
    const buf = bufferOf(s as Storage);
    if (buf) buffers.add(buf);
  }
  return { storages: set, buffers };
}

const NO_EXCLUSIONS: RunExclusions = { storages: new Set(), buffers: new Set() };

/** Per-run bookkeeping shared by a graph and all its subgraph runs. */
export class RunState implements ArrayPool {
  liveBytes = 0;
  peakBytes = 0;
  /** How many allocations were served from dead intermediates (buffer reuse by liveness). */
  reusedArrays = 0;
  readonly recycle: boolean;
  private readonly bufferCounts = new Map<ArrayBufferLike, number>();
  private readonly excludedBuffers = new Set<ArrayBufferLike>();
  private readonly recycler: ArrayRecycler;
  private readonly shared: RunExclusions;
  readonly limit: number;
  readonly base: number;
  readonly deadline: number;
  /** Live storages: how many values hold each, and its bytes and buffer (looked up once). */
  private readonly held = new Map<Storage, { n: number; bytes: number; buf: ArrayBufferLike | undefined }>();
  /**
   * Buffers of values a subgraph run was handed (loop-carried values, scan slices): the run does not
   * own them, and the kernel may count on them after, so they are never recycled while it runs, even
   * when a view of them made inside the body dies.
   */
  private readonly pinned = new Map<ArrayBufferLike, number>();
  constructor(
    limits: RunLimits,
    /** Storages that are not counted (weights, user feeds). */
    private readonly excluded: Set<object>,
    /**
     * What a session keeps across runs: `exclusions` (its weights, counted as if in `excluded`) and
     * `recycler` (dead arrays carried from run to run; used only when `limits.recycle`).
     */
    shared: { exclusions?: RunExclusions; recycler?: ArrayRecycler } = {},
  ) {
    this.limit = limits.memoryLimitBytes ?? Number.POSITIVE_INFINITY;
    this.base = limits.baseBytes ?? 0;
    this.deadline = limits.timeoutMs !== undefined ? Date.now() + limits.timeoutMs : Number.POSITIVE_INFINITY;
    this.recycle = limits.recycle ?? false;
    this.shared = shared.exclusions ?? NO_EXCLUSIONS;
    this.recycler = shared.recycler ?? new ArrayRecycler();
    // Weights and feeds are never reused, nor anything else over the same memory.
    for (const s of excluded) {
      const buf = bufferOf(s as Storage);
      if (buf) this.excludedBuffers.add(buf);
    }
  }

  /**
   * The array the running node's first allocation of its class and length gets: its part of a
   * Concat's output, or that output (concat-in-place.ts). Set by the executor around one node.
   */
  placed: TypedArray | undefined = undefined;

  /** ArrayPool: a dead array of exactly this class and length, if one is pooled; zeroed unless `zero` is false. */
  take(ctor: ArrayCtor, n: number, zero = true): TypedArray | undefined {
    let a: TypedArray | undefined = this.placed;
    if (a !== undefined && a.length === n && a.constructor === ctor) this.placed = undefined;
    else {
      a = this.recycler.take(ctor, n);
      if (!a) return undefined;
      this.reusedArrays++;
    }
    if (!zero) return a;
    if (a instanceof BigInt64Array || a instanceof BigUint64Array) a.fill(0n);
    else a.fill(0);
    return a;
  }

  /** A whole array for a Concat laid out in place: a dead one of that class and length, else a new one. */
  takeWhole(ctor: ArrayCtor, n: number): TypedArray {
    return this.recycler.take(ctor, n) ?? new ctor(n);
  }

  private recycleBuffer(data: unknown, buf: ArrayBufferLike): void {
    if (!ArrayBuffer.isView(data) || data instanceof DataView) return;
    const a = data as TypedArray;
    // Only arrays that own their whole (ordinary) buffer: a subarray or WASM memory view is not ours to hand out.
    if (!(buf instanceof ArrayBuffer) || a.byteOffset !== 0 || a.byteLength !== buf.byteLength) return;
    if (this.excludedBuffers.has(buf) || this.shared.buffers.has(buf) || this.pinned.has(buf)) return;
    this.recycler.put(a);
  }

  /** Protects the arrays of `v` from recycling until `unpin(v)`. */
  pin(v: Value | undefined): void {
    if (v === undefined) return;
    for (const s of valueStorages(v) as Set<Storage>) {
      const buf = bufferOf(s);
      if (buf) this.pinned.set(buf, (this.pinned.get(buf) ?? 0) + 1);
    }
  }

  unpin(v: Value | undefined): void {
    if (v === undefined) return;
    for (const s of valueStorages(v) as Set<Storage>) {
      const buf = bufferOf(s);
      if (!buf) continue;
      const c = this.pinned.get(buf) ?? 0;
      if (c <= 1) this.pinned.delete(buf);
      else this.pinned.set(buf, c - 1);
    }
  }

  checkDeadline(what: string): void {
    if (Date.now() > this.deadline) {
      throw new TesseraError('RESOURCE_EXHAUSTED', `${what}: the run exceeded its time limit`);
    }
  }

  account(v: Value | undefined): void {
    if (v instanceof Tensor) {
      this.accountStorage(v.storage);
      return;
    }
    for (const s of valueStorages(v) as Set<Storage>) this.accountStorage(s);
  }

  private accountStorage(s: Storage): void {
    if (this.excluded.has(s) || this.shared.storages.has(s)) return;
    const h = this.held.get(s);
    if (h) {
      h.n++;
      return;
    }
    const bytes = storageBytes(s);
    const buf = bufferOf(s);
    this.held.set(s, { n: 1, bytes, buf });
    this.liveBytes += bytes;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    if (buf) this.bufferCounts.set(buf, (this.bufferCounts.get(buf) ?? 0) + 1);
  }

  /** A value is no longer needed; with `recycle`, its arrays may serve later allocations once nothing else uses them. */
  release(v: Value | undefined, recycle = false): void {
    if (v instanceof Tensor) {
      this.releaseStorage(v.storage, recycle);
      return;
    }
    for (const s of valueStorages(v) as Set<Storage>) this.releaseStorage(s, recycle);
  }

  private releaseStorage(s: Storage, recycle: boolean): void {
    const h = this.held.get(s);
    if (h === undefined) return;
    if (h.n > 1) {
      h.n--;
      return;
    }
    this.held.delete(s);
    this.liveBytes -= h.bytes;
    const buf = h.buf;
    if (!buf) return;
    const left = (this.bufferCounts.get(buf) ?? 1) - 1;
    if (left > 0) {
      this.bufferCounts.set(buf, left);
      return;
    }
    this.bufferCounts.delete(buf);
    if (recycle && this.recycle) this.recycleBuffer(s.data, buf);
  }

  /** Throws when `extra` more bytes would cross the limit. */
  checkFits(extra: number, what: () => string): void {
    if (this.base + this.liveBytes + extra > this.limit) {
      throw new TesseraError(
        'RESOURCE_EXHAUSTED',
        `${what()}: needs ${fmtBytes(extra)} more, with ${fmtBytes(this.base + this.liveBytes)} in use; memoryLimitBytes is ${fmtBytes(this.limit)}`,
      );
    }
  }
}

function bufferOf(s: Storage): ArrayBufferLike | undefined {
  const d = s.data;
  return d && ArrayBuffer.isView(d) ? d.buffer : undefined;
}

export function storageBytes(s: Storage): number {
  const d = s.data as { byteLength?: number } | undefined;
  if (d && typeof d.byteLength === 'number') return d.byteLength;
  return s.length * 8; // strings and device buffers: an estimate
}

export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** What a subgraph sees of its enclosing graphs: values by name, through nested scopes. */
export interface ScopeLike {
  has(name: string): boolean;
  get(name: string): Value | undefined;
}

/** Name lookup through nested graph scopes: a map of values over a graph's initializers. */
class Scope implements ScopeLike {
  constructor(
    private readonly env: Map<string, Value | undefined>,
    private readonly graph: Graph,
    private readonly parent?: ScopeLike,
  ) {}
  has(name: string): boolean {
    return this.env.has(name) || this.graph.initializers.has(name) || (this.parent?.has(name) ?? false);
  }
  get(name: string): Value | undefined {
    if (this.env.has(name)) return this.env.get(name);
    const init = this.graph.initializers.get(name);
    if (init) return init;
    return this.parent?.get(name);
  }
}

/** The static part of running one graph: node order and when each value dies. */
export interface GraphPlan {
  order: Node[];
  /**
   * Names to free after node i: intermediates and graph inputs whose last use is node i, and values
   * nothing reads, right after the node that makes them.
   */
  freeAfter: string[][];
}

/** Topological order (stable: the file's order where it is already valid) and liveness. */
export function planGraph(g: Graph, what = 'graph'): GraphPlan {
  const producer = new Map<string, number>();
  g.nodes.forEach((n, i) => {
    for (const o of n.outputs) {
      if (!o) continue;
      if (producer.has(o)) {
        throw new TesseraError(
          'INVALID_MODEL',
          `${what}: value '${o}' is produced by two nodes ('${g.nodes[producer.get(o)!]!.name}' and '${n.name}')`,
        );
      }
      producer.set(o, i);
    }
  });
  const fvCache = new WeakMap<Graph, Set<string>>();
  const reads = g.nodes.map((n) => {
    const names = new Set(n.inputs.filter((x) => x));
    for (const sub of subgraphsOf(n)) for (const v of freeVariables(sub, fvCache)) names.add(v);
    return [...names];
  });
  const inputNames = new Set(g.inputs.map((i) => i.name));
  // Kahn's algorithm, taking nodes in file order whenever they are ready.
  const done = new Array<boolean>(g.nodes.length).fill(false);
  const ready = (i: number) =>
    reads[i]!.every((x) => {
      const p = producer.get(x);
      return p === undefined || inputNames.has(x) || done[p];
    });
  const order: number[] = [];
  let progress = true;
  while (order.length < g.nodes.length && progress) {
    progress = false;
    for (let i = 0; i < g.nodes.length; i++) {
      if (!done[i] && ready(i)) {
        done[i] = true;
        order.push(i);
        progress = true;
      }
    }
  }
  if (order.length < g.nodes.length) {
    const stuck = g.nodes.find((_, i) => !done[i])!;
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: node '${stuck.name}' (${stuck.opType}) is part of a cycle`,
    );
  }
  const position = new Map<number, number>(order.map((nodeIdx, pos) => [nodeIdx, pos]));
  const lastUse = new Map<string, number>();
  order.forEach((nodeIdx, pos) => {
    for (const x of reads[nodeIdx]!) lastUse.set(x, pos);
  });
  const keep = new Set(g.outputs.map((o) => o.name));
  const freeAfter: string[][] = order.map(() => []);
  const free = (name: string, pos: number) => {
    if (!keep.has(name)) freeAfter[pos]!.push(name);
  };
  for (const [name, p] of producer) {
    const pos = lastUse.get(name) ?? position.get(p)!;
    free(name, Math.max(pos, position.get(p)!));
  }
  for (const name of inputNames) {
    if (!producer.has(name) && lastUse.has(name)) free(name, lastUse.get(name)!);
  }
  return { order: order.map((i) => g.nodes[i]!), freeAfter };
}

/**
 * A graph's plan compiled for running: every value name the graph touches is an integer slot, and
 * each node carries its input, output and free slots, so a run indexes arrays instead of hashing
 * names, and each node's op definition and merged attributes are looked up once.
 */
interface CompiledNode {
  readonly node: Node;
  /** Slot of each input; -1 for an absent optional input. */
  readonly inputs: Int32Array;
  /** Slot of each output; -1 for an unnamed (unused) one. */
  readonly outputs: Int32Array;
  /** Slots whose values die after this node (GraphPlan.freeAfter). */
  readonly free: Int32Array;
  readonly opset: number;
  /** `node 'name' (Op)`, for limit messages. */
  readonly what: string;
  /** Resolved on the node's first run, so an unknown op fails there, as an error of that node. */
  def: OpDef | undefined;
  merged: Attrs | undefined;
  /** This node's one output goes into part of a Concat's output (concat-in-place.ts). */
  readonly place: Placement | undefined;
  /** This node is a Concat whose inputs may be written in place. */
  readonly site: ConcatSite | undefined;
}

interface CompiledGraph {
  readonly nodes: readonly CompiledNode[];
  readonly slotOf: ReadonlyMap<string, number>;
  /** Name of each slot. */
  readonly names: readonly string[];
  /** Slot of each graph input, in order. */
  readonly inputSlots: Int32Array;
  /** The graph's output names (the default fetch). */
  readonly outputNames: readonly string[];
}

/**
 * The values of one run of one graph, in slots. A slot that is not set (never fed or produced, or
 * freed) reads through to the graph's initializers and then to the enclosing scopes, as names did.
 */
class Frame implements ScopeLike {
  readonly vals: (Value | undefined)[];
  readonly set: Uint8Array;
  /** Feeds whose names the graph never reads (a caller may still fetch them). */
  extra: Map<string, Value | undefined> | undefined;
  /** This run's arrays of Concats laid out in place, from their first producer until the Concat runs. */
  wholes: Map<ConcatSite, TypedArray> | undefined;
  constructor(
    readonly cg: CompiledGraph,
    readonly graph: Graph,
    readonly parent: ScopeLike | undefined,
  ) {
    const n = cg.names.length;
    this.vals = new Array<Value | undefined>(n);
    this.set = new Uint8Array(n);
  }
  has(name: string): boolean {
    const s = this.cg.slotOf.get(name);
    if (s !== undefined && this.set[s] === 1) return true;
    if (this.extra?.has(name)) return true;
    return this.graph.initializers.has(name) || (this.parent?.has(name) ?? false);
  }
  get(name: string): Value | undefined {
    const s = this.cg.slotOf.get(name);
    if (s !== undefined && this.set[s] === 1) return this.vals[s];
    if (this.extra?.has(name)) return this.extra.get(name);
    const init = this.graph.initializers.get(name);
    if (init) return init;
    return this.parent?.get(name);
  }
}

/** What control-flow kernels get as `ctx.runtime`: subgraphs run in the frame of the node's graph. */
class FrameRuntime implements SubgraphRuntime {
  constructor(
    private readonly exec: GraphExecutor,
    private readonly state: RunState,
    private readonly frame: Frame,
  ) {}
  runSubgraph(body: GraphAttr, inputs: readonly (Value | undefined)[], what: string): Value[] {
    if (!isSubgraphAttr(body)) throw new TesseraError('INVALID_ARGUMENT', `${what}: not a subgraph`);
    return this.exec.runBody(body.graph, inputs, this.state, this.frame);
  }
  checkDeadline(what: string): void {
    this.state.checkDeadline(what);
  }
  checkFits(bytes: number, what: string): void {
    this.state.checkFits(bytes, () => what);
  }
}

/** Runs graphs of one model: caches each (sub)graph's plan, compiled to slots. */
export class GraphExecutor {
  private readonly plans = new WeakMap<Graph, GraphPlan>();
  private readonly compiledPlans = new WeakMap<Graph, CompiledGraph>();
  constructor(readonly options: ExecutorOptions) {}

  plan(g: Graph, what?: string): GraphPlan {
    let p = this.plans.get(g);
    if (!p) {
      p = planGraph(g, what);
      this.plans.set(g, p);
    }
    return p;
  }

  private compiled(g: Graph): CompiledGraph {
    let cg = this.compiledPlans.get(g);
    if (!cg) {
      cg = this.compile(g);
      this.compiledPlans.set(g, cg);
    }
    return cg;
  }

  private compile(g: Graph): CompiledGraph {
    const plan = this.plan(g);
    const slotOf = new Map<string, number>();
    const names: string[] = [];
    const slot = (name: string) => {
      let s = slotOf.get(name);
      if (s === undefined) {
        s = names.length;
        slotOf.set(name, s);
        names.push(name);
      }
      return s;
    };
    const inputSlots = Int32Array.from(g.inputs, (vi) => slot(vi.name));
    for (const o of g.outputs) slot(o.name);
    const fvCache = new WeakMap<Graph, Set<string>>();
    const { sites, placements } = findPlacements(g, plan.order);
    const nodes = plan.order.map((node, pos): CompiledNode => {
      // Values a subgraph reads from this scope are found by name (Frame.get), so they need slots too.
      for (const sub of subgraphsOf(node)) for (const v of freeVariables(sub, fvCache)) slot(v);
      return {
        node,
        inputs: Int32Array.from(node.inputs, (x) => (x ? slot(x) : -1)),
        outputs: Int32Array.from(node.outputs, (x) => (x ? slot(x) : -1)),
        free: Int32Array.from(plan.freeAfter[pos]!, slot),
        opset: this.options.opsets.get(node.domain) ?? 1,
        what: `node '${node.name}' (${node.opType})`,
        def: undefined,
        merged: undefined,
        place: placements.get(pos),
        site: sites.get(pos),
      };
    });
    return { nodes, slotOf, names, inputSlots, outputNames: g.outputs.map((o) => o.name) };
  }

  /**
   * Runs `g` with `feeds` bound to its inputs (and `outer` for values of enclosing graphs) and
   * returns the values named `fetch` (default: the graph outputs).
   */
  run(
    g: Graph,
    feeds: ReadonlyMap<string, Value | undefined>,
    state: RunState,
    fetch?: readonly string[],
    outer?: ScopeLike,
  ): Value[] {
    const prevGrad = setGradEnabled(this.options.grad ?? false);
    // A recycling run lends its dead intermediates to allocate() (never when gradients are recorded).
    const prevPool = state.recycle && !this.options.grad ? setArrayPool(state) : undefined;
    try {
      const frame = new Frame(this.compiled(g), g, outer);
      const { slotOf } = frame.cg;
      for (const [name, v] of feeds) {
        const s = slotOf.get(name);
        if (s === undefined) (frame.extra ??= new Map()).set(name, v);
        else {
          frame.vals[s] = v;
          frame.set[s] = 1;
        }
      }
      return this.runFrame(frame, state, fetch);
    } finally {
      setGradEnabled(prevGrad);
      if (prevPool !== undefined) setArrayPool(prevPool);
    }
  }

  /** A subgraph run for a control-flow kernel: `inputs` bound in order to the body's inputs. */
  runBody(sub: Graph, inputs: readonly (Value | undefined)[], state: RunState, outer: Frame): Value[] {
    const frame = new Frame(this.compiled(sub), sub, outer);
    const slots = frame.cg.inputSlots;
    for (let i = 0; i < slots.length; i++) {
      frame.vals[slots[i]!] = inputs[i];
      frame.set[slots[i]!] = 1;
      // The body does not own its inputs (a loop-carried value was the last iteration's output).
      state.pin(inputs[i]);
    }
    try {
      return this.runFrame(frame, state, undefined);
    } finally {
      for (let i = 0; i < slots.length; i++) state.unpin(inputs[i]);
    }
  }

  private runFrame(frame: Frame, state: RunState, fetch: readonly string[] | undefined): Value[] {
    const { cg, vals, set } = frame;
    const owned = new Uint8Array(vals.length);
    // Fetched values that are not graph outputs must outlive their last reader.
    let keep: Uint8Array | undefined;
    if (fetch) {
      for (const name of fetch) {
        const s = cg.slotOf.get(name);
        if (s !== undefined) (keep ??= new Uint8Array(vals.length))[s] = 1;
      }
    }
    const runtime = new FrameRuntime(this, state, frame);
    // Concat in place works through the run's array pool (allocations ask RunState.take).
    const placing = state.recycle && !this.options.grad;
    try {
      const nodes = cg.nodes;
      const timed = state.deadline !== Number.POSITIVE_INFINITY;
      const limited = state.limit !== Number.POSITIVE_INFINITY;
      for (let pos = 0; pos < nodes.length; pos++) {
        const cn = nodes[pos]!;
        if (timed) state.checkDeadline(cn.what);
        const ins = cn.inputs;
        const inputs: (Value | undefined)[] = new Array(ins.length);
        for (let i = 0; i < ins.length; i++) {
          const s = ins[i]!;
          if (s < 0) inputs[i] = undefined;
          // Fast path: a value of this graph's run (the common case); else initializers and outer scopes.
          else if (set[s] === 1) inputs[i] = vals[s];
          else inputs[i] = this.lookup(frame, cn, cg.names[s]!);
        }
        let outputs: (Value | undefined)[];
        if (placing && (cn.place !== undefined || cn.site !== undefined)) {
          state.placed = this.placement(frame, cn, state);
          try {
            outputs = this.runNode(cn, inputs, runtime, state);
          } finally {
            state.placed = undefined;
          }
          if (cn.site !== undefined && outputs[0] !== undefined) {
            const layout = learnLayout(inputs, outputs[0], cn.merged ?? {});
            if (!sameLayout(layout, cn.site.layout)) cn.site.layout = layout;
          }
        } else outputs = this.runNode(cn, inputs, runtime, state);
        const outs = cn.outputs;
        for (let i = 0; i < outs.length; i++) {
          const s = outs[i]!;
          if (s < 0) continue;
          if (i >= outputs.length) {
            throw new TesseraError(
              'INVALID_MODEL',
              `${cn.what}: the graph reads output ${i} ('${cg.names[s]}'), the op produced ${outputs.length}`,
            );
          }
          const v = outputs[i];
          vals[s] = v;
          set[s] = 1;
          owned[s] = 1;
          state.account(v);
        }
        if (limited) state.checkFits(0, () => cn.what);
        const free = cn.free;
        for (let j = 0; j < free.length; j++) {
          const s = free[j]!;
          if (set[s] !== 1 || (keep !== undefined && keep[s] === 1)) continue;
          if (owned[s] === 1) {
            state.release(vals[s], true);
            owned[s] = 0;
          }
          vals[s] = undefined;
          set[s] = 0;
        }
      }
      const names = fetch ?? cg.outputNames;
      const out = new Array<Value>(names.length);
      for (let i = 0; i < names.length; i++) {
        const name = names[i]!;
        if (!frame.has(name))
          throw new TesseraError(
            'INVALID_MODEL',
            `graph '${frame.graph.name}': output '${name}' is never produced`,
          );
        out[i] = frame.get(name)!;
      }
      return out;
    } finally {
      // What is left (outputs) now belongs to the caller, which counts what it keeps.
      for (let s = 0; s < owned.length; s++) if (owned[s] === 1) state.release(vals[s]);
    }
  }

  /**
   * The array a node's output should go into (concat-in-place.ts): a producer's part of its Concat's
   * array (taken on the first producer's run), or the Concat's whole array.
   */
  private placement(frame: Frame, cn: CompiledNode, state: RunState): TypedArray | undefined {
    if (cn.site !== undefined) {
      const whole = frame.wholes?.get(cn.site);
      frame.wholes?.delete(cn.site);
      return whole;
    }
    const { site, index } = cn.place!;
    const layout = site.layout;
    if (layout === undefined) return undefined;
    let whole = frame.wholes?.get(site);
    if (whole === undefined) {
      whole = state.takeWhole(layout.ctor, layout.total);
      (frame.wholes ??= new Map()).set(site, whole);
    }
    return partOf(whole, layout, index);
  }

  /**
   * An input not set in this run: an initializer or a value of an enclosing graph. (Feeds without a
   * slot, Frame.extra, are names no node reads.)
   */
  private lookup(frame: Frame, cn: CompiledNode, name: string): Value | undefined {
    const inits = frame.graph.initializers;
    const init = inits.get(name);
    if (init) return init;
    const parent = frame.parent;
    if (inits.has(name)) return parent?.get(name);
    if (parent?.has(name)) return parent.get(name);
    throw new TesseraError(
      'INVALID_MODEL',
      `${cn.what}: input '${name}' is not produced by any node, nor a graph input or initializer`,
    );
  }

  private runNode(
    cn: CompiledNode,
    inputs: (Value | undefined)[],
    runtime: SubgraphRuntime,
    state: RunState,
  ): (Value | undefined)[] {
    const node = cn.node;
    const opset = cn.opset;
    if (this.options.estimate && state.limit !== Number.POSITIVE_INFINITY) {
      const bytes = this.options.estimate(node, inputs, opset);
      if (bytes !== undefined) state.checkFits(bytes, () => `${cn.what} outputs`);
    }
    try {
      let def = cn.def;
      let merged = cn.merged;
      if (def === undefined || merged === undefined) {
        def = getOp(node.opType, opset, node.domain);
        merged = mergeDefaults(def, node.attrs);
        cn.def = def;
        cn.merged = merged;
      }
      return dispatchResolved(def, node.opType, inputs as unknown as OpInputs, merged, node.attrs, {
        opset,
        domain: node.domain,
        node: node.name,
        runtime,
        numOutputs: node.outputs.length,
      }) as unknown as Value[];
    } catch (e) {
      throw nodeError(node, e);
    }
  }
}

/** Puts the node's name and op in front of an error from its kernel, keeping its code. */
export function nodeError(node: Node, e: unknown): TesseraError {
  const where = `node '${node.name}' (${node.opType})`;
  if (e instanceof TesseraError) {
    if (e.message.includes(`node '${node.name}'`) || e.message.includes(`node ${node.name})`)) return e;
    return new TesseraError(e.code, `${where}: ${e.message}`, { cause: e });
  }
  const err = e as Error;
  const alloc = err instanceof RangeError && /allocat|length|size/i.test(err.message);
  return new TesseraError(
    alloc ? 'RESOURCE_EXHAUSTED' : 'INTERNAL',
    `${where}: ${err?.message ?? String(e)}`,
    {
      cause: e,
    },
  );
}

/** Storages of the given tensors (weights), for RunState's exclusion set. */
export function storagesOf(tensors: Iterable<Tensor>): Set<object> {
  const out = new Set<object>();
  for (const t of tensors) out.add(t.storage);
  return out;
}

export { Scope };
