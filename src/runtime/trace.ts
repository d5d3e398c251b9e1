/**
 * Tracing: runs an eager function or nn.Module once on example inputs while recording every
 * `dispatch` call (through the registry's dispatch observer), and turns the record into a Graph IR
 * Model, as torch.jit.trace / torch.onnx.export do. Values are followed by object identity: the
 * example inputs become graph inputs, the module's parameters and buffers become initializers
 * under their dotted names, tensors made outside any op (shape constants, scalars) become
 * constant initializers, and the returned tensors become graph outputs. Nodes no output depends
 * on (ops a kernel ran internally, discarded results) are dropped.
 *
 * Like any tracer it records one path: Python-style control flow on values and shapes computed
 * in JS (a Reshape to [batch, -1] written with the example's batch size) are baked in. Modules
 * trace in eval mode unless `training` is set, so Dropout is the identity and BatchNorm uses its
 * running statistics.
 */
import { type Attrs, type DispatchRecord, findOp, setDispatchObserver } from '../ops/registry.js';
import { noGrad } from './autograd.js';
import { TesseraError } from './errors.js';
import type { Graph, Model, Node, ValueInfo } from './graph.js';
import { type Storage, Tensor } from './tensor.js';

/** What trace() needs of a module: forward, and optionally its named state and mode switch. */
export interface Traceable {
  forward(...args: any[]): unknown;
  namedParameters?(): [string, Tensor][];
  namedBuffers?(): [string, Tensor][];
  training?: boolean;
  train?(mode?: boolean): unknown;
}

export interface TraceOptions {
  /** Graph input names, one per example input (default 'input', or 'input_0', 'input_1', ...). */
  inputNames?: string[];
  /** Graph output names (default 'output', 'output_0', ..., or the keys of a returned record). */
  outputNames?: string[];
  /** Trace in training mode (default false: eval mode, as torch.onnx.export). */
  training?: boolean;
  /** Named tensors of a plain function to keep as initializers under these names. */
  params?: Record<string, Tensor> | Map<string, Tensor>;
  /**
   * Make dim 0 of every graph input and output symbolic with this name (true: 'N'). Reshapes of
   * batched values to JS-computed shapes that start with the batch size keep dim 0 from their
   * input instead; other shapes computed from the batch size stay baked in.
   */
  dynamicBatch?: boolean | string;
  /** ai.onnx opset to declare; default the newest opset any recorded op's definition needs (at least 13). */
  opset?: number;
  graphName?: string;
}

/** The lowest ai.onnx opset a traced model declares: the first with today's Reduce/Squeeze signatures. */
export const MIN_TRACE_OPSET = 13;

const normDomain = (d: string | undefined) => (!d || d === 'ai.onnx' ? '' : d);

class Recorder {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Tensor>();
  /** The opset each node's op definition needs (its `since`). */
  readonly since = new Map<Node, number>();
  private readonly names = new Map<Tensor, string>();
  private readonly views = new Map<Storage, { t: Tensor; name: string }[]>();
  private readonly taken = new Set<string>();
  private constants = 0;

  constructor(private readonly state: Map<Tensor, string>) {
    for (const name of state.values()) this.taken.add(name);
  }

  fresh(base: string): string {
    let name = base;
    for (let i = 1; this.taken.has(name); i++) name = `${base}_${i}`;
    this.taken.add(name);
    return name;
  }

  bind(t: Tensor, name: string): void {
    this.names.set(t, name);
    const list = this.views.get(t.storage) ?? [];
    list.push({ t, name });
    this.views.set(t.storage, list);
  }

  /** The graph value holding `t`: a recorded value, a parameter or buffer, a view of one, or a new constant. */
  resolve(t: Tensor): string {
    const known = this.names.get(t);
    if (known !== undefined) return known;
    const param = this.state.get(t);
    if (param !== undefined) {
      this.initializers.set(param, t);
      this.bind(t, param);
      return param;
    }
    // Same storage, shape, strides and offset (a detach() or re-wrap): the same value.
    for (const v of this.views.get(t.storage) ?? []) {
      if (sameView(v.t, t)) {
        this.names.set(t, v.name);
        return v.name;
      }
    }
    for (const [p, name] of this.state) {
      if (p.storage === t.storage && sameView(p, t)) {
        this.initializers.set(name, p);
        this.bind(p, name);
        this.names.set(t, name);
        return name;
      }
    }
    const name = this.constant(snapshot(t));
    this.bind(t, name);
    return name;
  }

  /** A new constant initializer holding `t`. */
  constant(t: Tensor): string {
    const name = this.fresh(`const_${this.constants++}`);
    this.initializers.set(name, t);
    return name;
  }

  /**
   * A Reshape of a batched value to a shape computed in JS that starts with the example's batch
   * size (Flatten, view(batch, -1)): with a dynamic batch, dim 0 becomes 0, ONNX's "copy this dim
   * from the input", so the graph follows the batch instead of baking it in.
   */
  private isBatchReshape(rec: DispatchRecord): boolean {
    const [x, shape] = rec.inputs;
    if (this.batchSize === undefined || rec.name !== 'Reshape' || normDomain(rec.opts.domain) !== '')
      return false;
    if (!x || !shape || rec.attrs.allowzero === 1 || this.names.has(shape) || this.state.has(shape))
      return false;
    const xName = this.names.get(x);
    if (xName === undefined || !this.batched.has(xName)) return false;
    return (
      shape.dtype === 'int64' &&
      shape.ndim === 1 &&
      shape.numel() > 0 &&
      Number(shape.numbers()[0]) === this.batchSize
    );
  }

  /** With a dynamic batch: the example's batch size, and the values whose dim 0 is the batch. */
  batchSize?: number;
  readonly batched = new Set<string>();

  record(rec: DispatchRecord): void {
    const domain = normDomain(rec.opts.domain);
    const inputs = rec.inputs.map((t, i) => {
      if (t === undefined) return '';
      if (i === 1 && this.isBatchReshape(rec)) return this.constant(keepBatch(t));
      return this.resolve(t);
    });
    const base = `${rec.name}_${this.nodes.length}`;
    const outputs = rec.outputs.map((t, i) => {
      const name = this.fresh(rec.outputs.length === 1 ? base : `${base}_${i}`);
      this.bind(t, name);
      return name;
    });
    const attrs: Attrs = {};
    for (const [k, v] of Object.entries(rec.attrs))
      if (v !== undefined) attrs[k] = Array.isArray(v) ? ([...(v as unknown[])] as never) : v;
    if (this.batchSize !== undefined && inputs.some((n) => this.batched.has(n))) {
      rec.outputs.forEach((t, i) => {
        if (t.ndim > 0 && t.shape[0] === this.batchSize) this.batched.add(outputs[i]!);
      });
    }
    const node: Node = { name: base, opType: rec.name, domain, inputs, outputs, attrs };
    this.nodes.push(node);
    this.since.set(node, findOp(rec.name, rec.opts.opset, rec.opts.domain)?.since ?? 1);
  }

  known(t: Tensor): string | undefined {
    return this.names.get(t);
  }
}

function sameView(a: Tensor, b: Tensor): boolean {
  return (
    a.offset === b.offset &&
    a.dtype === b.dtype &&
    a.shape.length === b.shape.length &&
    a.shape.every((d, i) => d === b.shape[i]) &&
    a.strides.every((s, i) => s === b.strides[i] || a.shape[i] === 1)
  );
}

/** A detached, contiguous copy (the constant's value at trace time). */
function snapshot(t: Tensor): Tensor {
  const data = t.dataSync();
  return Tensor.fromData(data.slice() as typeof data, t.shape, t.dtype);
}

/** A copy of an int64 shape with dim 0 set to 0 (copy from the input). */
function keepBatch(shape: Tensor): Tensor {
  const d = (shape.dataSync() as BigInt64Array).slice();
  d[0] = 0n;
  return Tensor.fromData(d, shape.shape, 'int64');
}

function flattenOutputs(r: unknown, names: string[] | undefined): [string, Tensor][] {
  const check = (v: unknown, where: string): Tensor => {
    if (!(v instanceof Tensor)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `trace: the traced function must return tensors; ${where} is ${typeof v}`,
      );
    }
    return v;
  };
  let list: [string | undefined, Tensor][];
  if (r instanceof Tensor) list = [[undefined, r]];
  else if (Array.isArray(r)) list = r.map((v, i) => [undefined, check(v, `output ${i}`)]);
  else if (r && typeof r === 'object')
    list = Object.entries(r).map(([k, v]) => [k, check(v, `output '${k}'`)]);
  else
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `trace: the traced function returned ${typeof r}, expected a tensor, a list or a record of tensors`,
    );
  if (names && names.length !== list.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `trace: ${names.length} output names for ${list.length} outputs`,
    );
  }
  return list.map(([k, t], i) => [names?.[i] ?? k ?? (list.length === 1 ? 'output' : `output_${i}`), t]);
}

/** Keeps the nodes the outputs depend on, and the initializers those nodes read. */
function prune(g: Graph): void {
  const needed = new Set(g.outputs.map((o) => o.name));
  const keep: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (!n.outputs.some((o) => needed.has(o))) continue;
    keep.push(n);
    for (const x of n.inputs) if (x) needed.add(x);
  }
  g.nodes = keep.reverse();
  for (const k of [...g.initializers.keys()]) if (!needed.has(k)) g.initializers.delete(k);
}

/**
 * Traces `target` (a module or a function of tensors) on `inputs` and returns the recorded Model.
 * The example inputs are only used to run the trace; the model reads new values at run time.
 */
export function trace(
  target: Traceable | ((...xs: Tensor[]) => unknown),
  inputs: Tensor | Tensor[],
  opts: TraceOptions = {},
): Model {
  const xs = Array.isArray(inputs) ? inputs : [inputs];
  xs.forEach((x, i) => {
    if (!(x instanceof Tensor))
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `trace: example input ${i} must be a Tensor, got ${typeof x}`,
      );
  });
  if (opts.inputNames && opts.inputNames.length !== xs.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `trace: ${opts.inputNames.length} input names for ${xs.length} inputs`,
    );
  }
  const isModule = typeof target === 'object' && target !== null && typeof target.forward === 'function';
  const mod = isModule ? (target as Traceable) : undefined;
  const state = new Map<Tensor, string>();
  for (const [n, t] of mod?.namedParameters?.() ?? []) if (!state.has(t)) state.set(t, n);
  for (const [n, t] of mod?.namedBuffers?.() ?? []) if (!state.has(t)) state.set(t, n);
  const extra = opts.params instanceof Map ? [...opts.params] : Object.entries(opts.params ?? {});
  for (const [n, t] of extra) state.set(t, n);

  const rec = new Recorder(state);
  const batch =
    opts.dynamicBatch === true ? 'N' : typeof opts.dynamicBatch === 'string' ? opts.dynamicBatch : undefined;
  if (batch && xs.length > 0 && xs[0]!.ndim > 0) rec.batchSize = xs[0]!.shape[0];
  const inputNames = xs.map((_, i) => opts.inputNames?.[i] ?? (xs.length === 1 ? 'input' : `input_${i}`));
  const inputInfos: ValueInfo[] = xs.map((x, i) => {
    const name = rec.fresh(inputNames[i]!);
    if (name !== inputNames[i])
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `trace: input name '${inputNames[i]}' is used twice or by a parameter`,
      );
    rec.bind(x, name);
    if (rec.batchSize !== undefined && x.ndim > 0 && x.shape[0] === rec.batchSize) rec.batched.add(name);
    return { name, type: { kind: 'tensor', dtype: x.dtype, shape: [...x.shape] } };
  });

  const wasTraining = mod?.training;
  if (mod?.train) mod.train(opts.training ?? false);
  const prev = setDispatchObserver((r) => rec.record(r));
  let result: unknown;
  try {
    result = noGrad(() => (mod ? mod.forward(...xs) : (target as (...a: Tensor[]) => unknown)(...xs)));
  } finally {
    setDispatchObserver(prev);
    if (mod?.train && wasTraining !== undefined) mod.train(wasTraining);
  }

  const outs = flattenOutputs(result, opts.outputNames);
  const inputSet = new Set(inputInfos.map((i) => i.name));
  const outputInfos: ValueInfo[] = [];
  const usedAsOutput = new Set<string>();
  for (const [wanted, t] of outs) {
    let src = rec.known(t) ?? rec.resolve(t);
    // A graph output must be a node's own output, named as asked: add an Identity where it is not.
    const producer = rec.nodes.find((n) => n.outputs.includes(src));
    const renameable = producer && !usedAsOutput.has(src) && !inputSet.has(src) && !rec.initializers.has(src);
    if (renameable && !rec.nodes.some((n) => n !== producer && n.inputs.includes(src)) && wanted !== src) {
      const name = rec.fresh(wanted);
      producer.outputs = producer.outputs.map((o) => (o === src ? name : o));
      src = name;
    } else if (!renameable || wanted !== src) {
      const name = rec.fresh(wanted);
      rec.nodes.push({
        name: `Identity_${rec.nodes.length}`,
        opType: 'Identity',
        domain: '',
        inputs: [src],
        outputs: [name],
        attrs: {},
      });
      src = name;
    }
    usedAsOutput.add(src);
    outputInfos.push({ name: src, type: { kind: 'tensor', dtype: t.dtype, shape: [...t.shape] } });
  }

  if (batch) {
    for (const vi of [...inputInfos, ...outputInfos]) {
      if (vi.type?.kind === 'tensor' && vi.type.shape?.length) vi.type.shape[0] = batch;
    }
  }
  const graph: Graph = {
    name: opts.graphName ?? (mod ? (mod.constructor?.name ?? 'traced') : 'traced'),
    nodes: rec.nodes,
    inputs: inputInfos,
    outputs: outputInfos,
    initializers: rec.initializers,
    valueInfo: new Map(),
  };
  prune(graph);
  // Initializers hold the module's tensors themselves: detach them so the model does not share autograd state.
  for (const [k, t] of graph.initializers) graph.initializers.set(k, snapshot(t));
  const opsets = new Map<string, number>([['', opts.opset ?? MIN_TRACE_OPSET]]);
  for (const n of graph.nodes) {
    const need = rec.since.get(n) ?? 1;
    if (n.domain === '' && opts.opset === undefined) opsets.set('', Math.max(opsets.get('')!, need));
    else if (n.domain !== '') opsets.set(n.domain, Math.max(opsets.get(n.domain) ?? 1, need));
  }
  return {
    graph,
    opsets,
    irVersion: 0,
    producerName: 'tessera',
    producerVersion: '',
    modelVersion: 0,
    docString: '',
    metadata: {},
  };
}
