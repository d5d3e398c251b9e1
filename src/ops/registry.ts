/**
 * The op registry: every op is defined once (name, opset range, attribute defaults, validation,
 * kernels per backend, gradient) and every caller goes through `dispatch`: eager tensor methods,
 * the ONNX graph executor and gradients themselves. Ops are keyed like ONNX Runtime's kernels:
 * domain + op type + the opset version they are valid from.
 */
import { GradNode, isGradEnabled } from '../runtime/autograd.js';
import { isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import type { Device, Tensor } from '../runtime/tensor.js';

/** A subgraph attribute (If/Loop/Scan bodies); the graph executor defines its shape. */
export interface GraphAttr {
  readonly kind: 'graph';
  [k: string]: unknown;
}

export type AttrValue =
  | number
  | string
  | boolean
  | Tensor
  | GraphAttr
  | number[]
  | string[]
  | Tensor[]
  | GraphAttr[]
  | undefined;
export type Attrs = Record<string, AttrValue>;

/** Optional ONNX inputs that are absent are `undefined`. */
export type OpInputs = readonly (Tensor | undefined)[];

export interface KernelContext {
  op: string;
  opset: number;
  device: Device;
  /** Graph node name, when run from a graph: used in error messages. */
  node?: string;
  /** Opaque per-run state the graph executor passes through (e.g. subgraph runner). */
  runtime?: unknown;
  /** How many outputs the graph node declares (Split without `split` divides into this many). */
  numOutputs?: number;
}

export type Kernel = (inputs: OpInputs, attrs: Attrs, ctx: KernelContext) => Tensor[];

export interface GradContext {
  inputs: OpInputs;
  outputs: readonly Tensor[];
  attrs: Attrs;
  opset: number;
}

export interface OpDef {
  /** ONNX op_type where one exists. */
  name: string;
  /** ONNX domain; '' is ai.onnx. */
  domain?: string;
  /** First opset version this definition applies to (default 1). */
  since?: number;
  /** Attribute defaults, merged under the caller's attrs. */
  defaults?: Attrs;
  /** Input count bounds, checked by dispatch with a clear message. */
  minInputs?: number;
  maxInputs?: number;
  /** Throws a TesseraError naming the op, the expectation and what it got. Runs before the kernel. */
  validate?(inputs: OpInputs, attrs: Attrs, ctx: KernelContext): void;
  kernels: { cpu: Kernel } & Partial<Record<Device, Kernel>>;
  /** Gradient w.r.t. each input, written with other ops. Missing means not differentiable. */
  grad?(ctx: GradContext, dys: (Tensor | null)[]): (Tensor | null | undefined)[];
}

const registry = new Map<string, OpDef[]>();

const key = (domain: string, name: string) => (domain ? `${domain}::${name}` : name);
const normDomain = (d: string | undefined) => (d === 'ai.onnx' || d === undefined ? '' : d);

export function registerOp(def: OpDef): void {
  const k = key(normDomain(def.domain), def.name);
  const list = registry.get(k) ?? [];
  const since = def.since ?? 1;
  if (list.some((d) => (d.since ?? 1) === since)) {
    throw new TesseraError('INTERNAL', `op ${k} (since opset ${since}) is registered twice`);
  }
  list.push(def);
  list.sort((a, b) => (a.since ?? 1) - (b.since ?? 1));
  registry.set(k, list);
}

/** The definition valid at `opset` (the newest when omitted), or undefined. */
export function findOp(name: string, opset?: number, domain?: string): OpDef | undefined {
  const list = registry.get(key(normDomain(domain), name));
  if (!list) return undefined;
  if (opset === undefined) return list[list.length - 1];
  for (let i = list.length - 1; i >= 0; i--) if ((list[i]!.since ?? 1) <= opset) return list[i];
  return undefined;
}

export function getOp(name: string, opset?: number, domain?: string): OpDef {
  const def = findOp(name, opset, domain);
  if (!def) {
    const d = normDomain(domain);
    const known = registry.has(key(d, name));
    throw new TesseraError(
      'UNSUPPORTED',
      known
        ? `op ${key(d, name)} has no implementation for opset ${opset}`
        : `unknown op ${d ? `${d}::` : ''}${name}: it is not in the op registry`,
    );
  }
  return def;
}

/**
 * Adds a kernel for `device` to every registered definition of an op (optionally only the one
 * registered `since` a given opset, or those from `minSince` on), so a backend can register its
 * kernels from its own files. Returns how many definitions got it.
 */
export function registerKernel(
  name: string,
  device: Device,
  kernel: Kernel,
  opts: { since?: number; minSince?: number; domain?: string } = {},
): number {
  const list = registry.get(key(normDomain(opts.domain), name)) ?? [];
  let n = 0;
  for (const def of list) {
    const since = def.since ?? 1;
    if (opts.since !== undefined && since !== opts.since) continue;
    if (opts.minSince !== undefined && since < opts.minSince) continue;
    def.kernels[device] = kernel;
    n++;
  }
  return n;
}

/** Every registered op, newest definition of each. */
export function listOps(): OpDef[] {
  return [...registry.values()].map((l) => l[l.length - 1]!);
}

/** Per-op counts of CPU fallbacks (an op with no kernel for its inputs' device). */
export const fallbackCounts = new Map<string, number>();

export interface DispatchOptions {
  opset?: number;
  domain?: string;
  node?: string;
  runtime?: unknown;
  /** The caller's output count, passed to the kernel as ctx.numOutputs. */
  numOutputs?: number;
}

// The device layer (copies between devices) is late-bound so ops need not import backends.
type DeviceMover = (t: Tensor, device: Device) => Tensor;
let moveTo: DeviceMover = (t, device) => {
  if (t.device !== device)
    throw new TesseraError('UNSUPPORTED', `no backend registered for device ${device}`);
  return t;
};
export function setDeviceMover(m: DeviceMover): void {
  moveTo = m;
}

/** Runs op `name` on `inputs`, recording it on the autograd tape when needed. Always returns a list. */
export function dispatch(
  name: string,
  inputs: OpInputs,
  attrs: Attrs = {},
  opts: DispatchOptions = {},
): Tensor[] {
  const def = getOp(name, opts.opset, opts.domain);
  return dispatchResolved(def, name, inputs, mergeDefaults(def, attrs), attrs, opts);
}

/** The attributes a kernel of `def` sees: its defaults under the caller's (undefined dropped). */
export function mergeDefaults(def: OpDef, attrs: Attrs): Attrs {
  if (!def.defaults) return attrs;
  // No attribute given (most eager calls): the defaults object itself, as kernels never write attrs.
  for (const k in attrs) if (attrs[k] !== undefined) return { ...def.defaults, ...dropUndefined(attrs) };
  return def.defaults;
}

/**
 * `dispatch` with the definition already looked up (getOp) and the attributes already merged
 * (mergeDefaults): the graph executor resolves both once per node. `attrs` is what the caller gave
 * (for the dispatch observer). Same checks, kernels, fallback and tape as `dispatch`.
 */
export function dispatchResolved(
  def: OpDef,
  name: string,
  inputs: OpInputs,
  merged: Attrs,
  attrs: Attrs,
  opts: DispatchOptions,
): Tensor[] {
  const opset = opts.opset ?? Number.POSITIVE_INFINITY;
  if (def.minInputs !== undefined && inputs.length < def.minInputs) {
    const where = opts.node ? `${name} (node ${opts.node})` : name;
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${where}: expects at least ${def.minInputs} inputs, got ${inputs.length}`,
    );
  }
  if (def.maxInputs !== undefined && inputs.length > def.maxInputs) {
    const where = opts.node ? `${name} (node ${opts.node})` : name;
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${where}: expects at most ${def.maxInputs} inputs, got ${inputs.length}`,
    );
  }
  // A non-CPU input decides the device, so a CPU constant beside a GPU tensor (in any position) is
  // uploaded by the GPU kernel rather than handing a GPU tensor to a CPU kernel.
  let device: Device = 'cpu';
  let seen = false;
  for (const t of inputs) {
    if (t === undefined) continue;
    if (t.device !== 'cpu') {
      device = t.device;
      break;
    }
    if (!seen) {
      seen = true;
      device = t.device;
    }
  }
  const ctx: KernelContext = {
    op: name,
    opset,
    device,
    node: opts.node,
    runtime: opts.runtime,
    numOutputs: opts.numOutputs,
  };
  def.validate?.(inputs, merged, ctx);

  let outputs: Tensor[];
  const kernel = def.kernels[device];
  if (kernel) {
    outputs = kernel(inputs, merged, ctx);
  } else {
    fallbackCounts.set(name, (fallbackCounts.get(name) ?? 0) + 1);
    if (fallbackCounts.get(name) === 1) {
      process.emitWarning(
        `op ${name} has no ${device} kernel: running on cpu with copies`,
        'TesseraFallback',
      );
    }
    const cpuInputs = inputs.map((t) => (t ? moveTo(t, 'cpu') : t));
    outputs = def.kernels.cpu(cpuInputs, merged, { ...ctx, device: 'cpu' }).map((t) => moveTo(t, device));
  }

  if (def.grad && isGradEnabled() && inputs.some((t) => t?.requiresGrad)) {
    const gradFn = def.grad;
    const gctx: GradContext = { inputs, outputs, attrs: merged, opset };
    const node = new GradNode(name, [...inputs], outputs, (dys) => gradFn(gctx, dys));
    outputs.forEach((t, i) => {
      if (!isFloat(t.dtype)) return;
      t.requiresGrad = true;
      t.gradFn = node;
      t.outputIndex = i;
    });
  }
  if (dispatchObserver) dispatchObserver({ name, inputs, attrs, opts, outputs });
  return outputs;
}

/** One completed dispatch, as an observer sees it: the caller's attrs (defaults not merged). */
export interface DispatchRecord {
  name: string;
  inputs: OpInputs;
  attrs: Attrs;
  opts: DispatchOptions;
  outputs: readonly Tensor[];
}
export type DispatchObserver = (call: DispatchRecord) => void;
let dispatchObserver: DispatchObserver | null = null;
/** Installs (null removes) the function every dispatch reports to (tracing, src/runtime/trace.ts); returns the previous one. */
export function setDispatchObserver(o: DispatchObserver | null): DispatchObserver | null {
  const prev = dispatchObserver;
  dispatchObserver = o;
  return prev;
}

/** `dispatch` for single-output ops. */
export function dispatch1(
  name: string,
  inputs: OpInputs,
  attrs: Attrs = {},
  opts: DispatchOptions = {},
): Tensor {
  return dispatch(name, inputs, attrs, opts)[0]!;
}

function dropUndefined(a: Attrs): Attrs {
  const out: Attrs = {};
  for (const k in a) if (a[k] !== undefined) out[k] = a[k];
  return out;
}
