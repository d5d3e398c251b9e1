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

/** Per-run bookkeeping shared by a graph and all its subgraph runs. */
export class RunState implements ArrayPool {
  liveBytes = 0;
  peakBytes = 0;
  /** How many allocations were served from dead intermediates (buffer reuse by liveness). */
  reusedArrays = 0;
  readonly recycle: boolean;
  private readonly bufferCounts = new Map<ArrayBufferLike, number>();
  private readonly excludedBuffers = new Set<ArrayBufferLike>();
  private readonly pool = new Map<ArrayCtor, Map<number, TypedArray[]>>();
  private pooledBytes = 0;
  readonly limit: number;
  readonly base: number;
  readonly deadline: number;
  private readonly counts = new Map<Storage, number>();
  constructor(
    limits: RunLimits,
    /** Storages that are not counted (weights, user feeds). */
    private readonly excluded: Set<object>,
  ) {
    this.limit = limits.memoryLimitBytes ?? Number.POSITIVE_INFINITY;
    this.base = limits.baseBytes ?? 0;
    this.deadline = limits.timeoutMs !== undefined ? Date.now() + limits.timeoutMs : Number.POSITIVE_INFINITY;
    this.recycle = limits.recycle ?? false;
    // Weights and feeds are never reused, nor anything else over the same memory.
    for (const s of excluded) {
      const buf = bufferOf(s as Storage);
      if (buf) this.excludedBuffers.add(buf);
    }
  }

  /** ArrayPool: a zeroed dead array of exactly this class and length, if one is pooled. */
  take(ctor: ArrayCtor, n: number): TypedArray | undefined {
    const a = this.pool.get(ctor)?.get(n)?.pop();
    if (!a) return undefined;
    this.pooledBytes -= a.byteLength;
    this.reusedArrays++;
    if (a instanceof BigInt64Array || a instanceof BigUint64Array) a.fill(0n);
    else a.fill(0);
    return a;
  }

  private recycleBuffer(data: unknown): void {
    if (!ArrayBuffer.isView(data) || data instanceof DataView) return;
    const a = data as TypedArray;
    // Only arrays that own their whole (ordinary) buffer: a subarray or WASM memory view is not ours to hand out.
    if (!(a.buffer instanceof ArrayBuffer) || a.byteOffset !== 0 || a.byteLength !== a.buffer.byteLength)
      return;
    if (this.excludedBuffers.has(a.buffer) || this.pooledBytes + a.byteLength > MAX_POOLED_BYTES) return;
    const ctor = a.constructor as ArrayCtor;
    let bySize = this.pool.get(ctor);
    if (!bySize) this.pool.set(ctor, (bySize = new Map()));
    let list = bySize.get(a.length);
    if (!list) bySize.set(a.length, (list = []));
    list.push(a);
    this.pooledBytes += a.byteLength;
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
    if (this.excluded.has(s)) return;
    const c = this.counts.get(s) ?? 0;
    this.counts.set(s, c + 1);
    if (c === 0) {
      this.liveBytes += storageBytes(s);
      if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
      const buf = bufferOf(s);
      if (buf) this.bufferCounts.set(buf, (this.bufferCounts.get(buf) ?? 0) + 1);
    }
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
    const c = this.counts.get(s);
    if (c === undefined) return;
    if (c <= 1) {
      this.counts.delete(s);
      this.liveBytes -= storageBytes(s);
      const buf = bufferOf(s);
      if (!buf) return;
      const left = (this.bufferCounts.get(buf) ?? 1) - 1;
      if (left > 0) {
        this.bufferCounts.set(buf, left);
        return;
      }
      this.bufferCounts.delete(buf);
      if (recycle && this.recycle) this.recycleBuffer(s.data);
    } else this.counts.set(s, c - 1);
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

/** Name lookup through nested graph scopes. */
class Scope {
  constructor(
    private readonly env: Map<string, Value | undefined>,
    private readonly graph: Graph,
    private readonly parent?: Scope,
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

/** Runs graphs of one model: caches each (sub)graph's plan. */
export class GraphExecutor {
  private readonly plans = new WeakMap<Graph, GraphPlan>();
  constructor(readonly options: ExecutorOptions) {}

  plan(g: Graph, what?: string): GraphPlan {
    let p = this.plans.get(g);
    if (!p) {
      p = planGraph(g, what);
      this.plans.set(g, p);
    }
    return p;
  }

  /**
   * Runs `g` with `feeds` bound to its inputs (and `outer` for values of enclosing graphs) and
   * returns the values named `fetch` (default: the graph outputs).
   */
  run(
    g: Graph,
    feeds: ReadonlyMap<string, Value | undefined>,
    state: RunState,
    fetch: readonly string[] = g.outputs.map((o) => o.name),
    outer?: Scope,
  ): Value[] {
    const prevGrad = setGradEnabled(this.options.grad ?? false);
    // A recycling run lends its dead intermediates to allocate() (never when gradients are recorded).
    const prevPool = state.recycle && !this.options.grad ? setArrayPool(state) : undefined;
    try {
      return this.runInScope(g, feeds, state, fetch, outer);
    } finally {
      setGradEnabled(prevGrad);
      if (prevPool !== undefined) setArrayPool(prevPool);
    }
  }

  private runInScope(
    g: Graph,
    feeds: ReadonlyMap<string, Value | undefined>,
    state: RunState,
    fetch: readonly string[],
    outer: Scope | undefined,
  ): Value[] {
    const plan = this.plan(g);
    const env = new Map<string, Value | undefined>(feeds);
    const scope = new Scope(env, g, outer);
    const owned = new Set<string>();
    const keep = new Set(fetch);
    const runtime: SubgraphRuntime = {
      runSubgraph: (body: GraphAttr, inputs, what) => {
        if (!isSubgraphAttr(body)) throw new TesseraError('INVALID_ARGUMENT', `${what}: not a subgraph`);
        const sub = body.graph;
        const subFeeds = new Map<string, Value | undefined>();
        for (const [i, vi] of sub.inputs.entries()) subFeeds.set(vi.name, inputs[i]);
        return this.runInScope(
          sub,
          subFeeds,
          state,
          sub.outputs.map((o) => o.name),
          scope,
        );
      },
      checkDeadline: (what) => state.checkDeadline(what),
      checkFits: (bytes, what) => state.checkFits(bytes, () => what),
    };
    try {
      const order = plan.order;
      const timed = state.deadline !== Number.POSITIVE_INFINITY;
      const limited = state.limit !== Number.POSITIVE_INFINITY;
      for (let pos = 0; pos < order.length; pos++) {
        const node = order[pos]!;
        if (timed) state.checkDeadline(`node '${node.name}' (${node.opType})`);
        const inputs: (Value | undefined)[] = new Array(node.inputs.length);
        for (let i = 0; i < node.inputs.length; i++) {
          const name = node.inputs[i];
          if (!name) {
            inputs[i] = undefined;
            continue;
          }
          // Fast path: a value of this graph's run (the common case); else initializers and outer scopes.
          if (env.has(name)) {
            inputs[i] = env.get(name);
            continue;
          }
          if (!scope.has(name)) {
            throw new TesseraError(
              'INVALID_MODEL',
              `node '${node.name}' (${node.opType}): input '${name}' is not produced by any node, nor a graph input or initializer`,
            );
          }
          inputs[i] = scope.get(name);
        }
        const outputs = this.runNode(node, inputs, runtime, state);
        for (let i = 0; i < node.outputs.length; i++) {
          const name = node.outputs[i];
          if (!name) continue;
          if (i >= outputs.length) {
            throw new TesseraError(
              'INVALID_MODEL',
              `node '${node.name}' (${node.opType}): the graph reads output ${i} ('${name}'), the op produced ${outputs.length}`,
            );
          }
          const v = outputs[i];
          env.set(name, v);
          owned.add(name);
          state.account(v);
        }
        if (limited) state.checkFits(0, () => `node '${node.name}' (${node.opType})`);
        for (const name of plan.freeAfter[pos]!) {
          if (keep.has(name) || !env.has(name)) continue;
          if (owned.has(name)) {
            state.release(env.get(name), true);
            owned.delete(name);
          }
          env.delete(name);
        }
      }
      return fetch.map((name) => {
        if (!scope.has(name))
          throw new TesseraError('INVALID_MODEL', `graph '${g.name}': output '${name}' is never produced`);
        return scope.get(name)!;
      });
    } finally {
      // What is left (outputs) now belongs to the caller, which counts what it keeps.
      for (const name of owned) state.release(env.get(name));
    }
  }

  /** Each node's op definition and merged attributes, looked up on its first run. */
  private readonly resolved = new WeakMap<Node, { def: OpDef; merged: Attrs; opset: number }>();

  private runNode(
    node: Node,
    inputs: (Value | undefined)[],
    runtime: SubgraphRuntime,
    state: RunState,
  ): (Value | undefined)[] {
    const opset = this.options.opsets.get(node.domain) ?? 1;
    if (this.options.estimate && state.limit !== Number.POSITIVE_INFINITY) {
      const bytes = this.options.estimate(node, inputs, opset);
      if (bytes !== undefined) state.checkFits(bytes, () => `node '${node.name}' (${node.opType}) outputs`);
    }
    try {
      let r = this.resolved.get(node);
      if (!r || r.opset !== opset) {
        const def = getOp(node.opType, opset, node.domain);
        r = { def, merged: mergeDefaults(def, node.attrs), opset };
        this.resolved.set(node, r);
      }
      return dispatchResolved(r.def, node.opType, inputs as unknown as OpInputs, r.merged, node.attrs, {
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
