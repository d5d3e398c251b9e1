/**
 * The Graph IR: what importers produce and InferenceSession runs. Values carry a ValueType (tensor
 * dtype + shape with symbolic dims as strings, or sequence/optional of those); nodes name a registry
 * op with plain-JS attributes; subgraph attributes (If/Loop/Scan bodies) are `SubgraphAttr` objects
 * holding a nested Graph. Model-local functions are already inlined by the importer.
 *
 * Runtime values that are not tensors (ONNX sequences and optionals) are the small classes at the
 * end. They look like a CPU tensor that does not require grad as far as `dispatch` is concerned
 * (it reads only `.device` and `.requiresGrad` of its inputs), so control-flow and sequence ops
 * go through the one op registry like every other op.
 */
import type { Attrs, GraphAttr } from '../ops/registry.js';
import { bytesPerElement, type DType } from './dtype.js';
import { numel } from './shape.js';
import type { Device, Tensor } from './tensor.js';

/** A dimension: a number, a symbolic name (ONNX dim_param), or null when unknown. */
export type Dim = number | string | null;

/** dtype and shape of a tensor value; `shape` undefined means the rank is unknown too. */
export interface TensorMeta {
  dtype: DType;
  shape?: Dim[];
}

export type ValueType =
  | ({ kind: 'tensor' } & TensorMeta)
  | { kind: 'sequence'; elem?: ValueType }
  | { kind: 'optional'; elem?: ValueType }
  /** Types Tessera does not run (maps, sparse tensors, opaque): kept so errors can name them. */
  | { kind: 'unsupported'; what: string };

export interface ValueInfo {
  name: string;
  /** Undefined when the model does not declare it (allowed for subgraph and intermediate values). */
  type?: ValueType;
}

export interface Node {
  name: string;
  opType: string;
  /** '' for ai.onnx. */
  domain: string;
  /** Value names; '' marks an absent optional input/output. */
  inputs: string[];
  outputs: string[];
  attrs: Attrs;
}

export interface Graph {
  name: string;
  nodes: Node[];
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  initializers: Map<string, Tensor>;
  /** Declared or inferred types of other values (graph.value_info, shape inference). */
  valueInfo: Map<string, ValueInfo>;
}

export interface Model {
  graph: Graph;
  /** Opset version per domain ('' is ai.onnx). */
  opsets: Map<string, number>;
  irVersion: number;
  producerName: string;
  producerVersion: string;
  modelVersion: number;
  docString: string;
  metadata: Record<string, string>;
}

/** The attribute form of a subgraph (If then/else branches, Loop and Scan bodies). */
export interface SubgraphAttr extends GraphAttr {
  readonly kind: 'graph';
  readonly graph: Graph;
}

export function isSubgraphAttr(v: unknown): v is SubgraphAttr {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'graph' && 'graph' in v;
}

/** The subgraphs among a node's attributes (single graphs and graph lists). */
export function subgraphsOf(node: Node): Graph[] {
  const out: Graph[] = [];
  for (const v of Object.values(node.attrs)) {
    if (isSubgraphAttr(v)) out.push(v.graph);
    else if (Array.isArray(v)) for (const g of v) if (isSubgraphAttr(g)) out.push(g.graph);
  }
  return out;
}

/**
 * Names a graph reads but does not define: values a subgraph takes from its enclosing scopes.
 * Computed recursively, so a body nested two deep reports what it needs from outside both.
 */
export function freeVariables(g: Graph, cache = new WeakMap<Graph, Set<string>>()): Set<string> {
  const hit = cache.get(g);
  if (hit) return hit;
  const defined = new Set<string>([...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  const free = new Set<string>();
  const use = (name: string) => {
    if (name && !defined.has(name)) free.add(name);
  };
  for (const n of g.nodes) {
    for (const i of n.inputs) use(i);
    for (const sub of subgraphsOf(n)) for (const v of freeVariables(sub, cache)) use(v);
    for (const o of n.outputs) if (o) defined.add(o);
  }
  for (const o of g.outputs) use(o.name);
  cache.set(g, free);
  return free;
}

/** Every node of a graph and its subgraphs, depth first. */
export function* allNodes(g: Graph): Generator<{ node: Node; graph: Graph }> {
  for (const node of g.nodes) {
    yield { node, graph: g };
    for (const sub of subgraphsOf(node)) yield* allNodes(sub);
  }
}

/** Bytes a tensor of this meta takes, or undefined when a dim is not a known number. */
export function metaBytes(meta: TensorMeta): number | undefined {
  if (!meta.shape || meta.shape.some((d) => typeof d !== 'number')) return undefined;
  return numel(meta.shape as number[]) * Math.max(bytesPerElement(meta.dtype), 1);
}

export function fmtType(t: ValueType | undefined): string {
  if (!t) return 'unknown';
  switch (t.kind) {
    case 'tensor':
      return `${t.dtype}${t.shape ? `[${t.shape.map((d) => (d === null ? '?' : d)).join(', ')}]` : '[...]'}`;
    case 'sequence':
      return `sequence<${fmtType(t.elem)}>`;
    case 'optional':
      return `optional<${fmtType(t.elem)}>`;
    default:
      return t.what;
  }
}

/**
 * ONNX's type-string notation ('tensor(float)', 'seq(tensor(int64))', 'optional(seq(tensor(float)))'):
 * the form TypeProto attributes (Optional's `type`) take as attribute values, since attributes are
 * plain JS values.
 */
export function typeToString(t: ValueType | undefined): string {
  if (!t) return 'undefined';
  switch (t.kind) {
    case 'tensor':
      return `tensor(${ONNX_TYPE_WORD[t.dtype] ?? t.dtype})`;
    case 'sequence':
      return `seq(${typeToString(t.elem)})`;
    case 'optional':
      return `optional(${typeToString(t.elem)})`;
    default:
      return t.what;
  }
}

export function typeFromString(s: string): ValueType | undefined {
  const m = /^(\w+)\((.*)\)$/.exec(s.trim());
  if (!m) return undefined;
  const [, head, inner] = m;
  if (head === 'tensor') {
    const dtype = (Object.keys(ONNX_TYPE_WORD) as DType[]).find((d) => ONNX_TYPE_WORD[d] === inner);
    return dtype ? { kind: 'tensor', dtype } : { kind: 'unsupported', what: s };
  }
  if (head === 'seq') return { kind: 'sequence', elem: typeFromString(inner!) };
  if (head === 'optional') return { kind: 'optional', elem: typeFromString(inner!) };
  return { kind: 'unsupported', what: s };
}

const ONNX_TYPE_WORD: Record<DType, string> = {
  float32: 'float',
  float64: 'double',
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
  float8e4m3fn: 'float8e4m3fn',
  float8e4m3fnuz: 'float8e4m3fnuz',
  float8e5m2: 'float8e5m2',
  float8e5m2fnuz: 'float8e5m2fnuz',
  float8e8m0: 'float8e8m0',
  float4e2m1: 'float4e2m1',
  int4: 'int4',
  uint4: 'uint4',
  int2: 'int2',
  uint2: 'uint2',
};

// ---- non-tensor runtime values ----------------------------------------------------------------

/** An ONNX sequence: an ordered list of tensors (or nested sequences) of one element type. */
export class TensorSequence {
  readonly kind = 'sequence' as const;
  readonly device: Device = 'cpu';
  readonly requiresGrad = false;
  /** Element dtype, known even when the sequence is empty (SequenceEmpty's dtype, declared types). */
  readonly dtype: DType | undefined;
  readonly items: readonly Value[];
  constructor(items: readonly Value[], dtype?: DType) {
    this.items = Object.freeze([...items]);
    this.dtype = dtype ?? items.find((t): t is Tensor => isTensorValue(t))?.dtype;
  }
  get length(): number {
    return this.items.length;
  }
  toString(): string {
    return `TensorSequence(${this.items.length} x ${this.dtype ?? '?'})`;
  }
}

/** An ONNX optional: holds a tensor or sequence, or nothing (`value` undefined). */
export class OptionalValue {
  readonly kind = 'optional' as const;
  readonly device: Device = 'cpu';
  readonly requiresGrad = false;
  readonly value: Tensor | TensorSequence | undefined;
  /** The element type, so an empty optional still knows what it would hold. */
  readonly elemType: ValueType | undefined;
  constructor(value: Tensor | TensorSequence | undefined, elemType?: ValueType) {
    this.value = value;
    this.elemType = elemType;
  }
  get hasValue(): boolean {
    return this.value !== undefined;
  }
  toString(): string {
    return this.value === undefined ? 'Optional(empty)' : `Optional(${String(this.value)})`;
  }
}

/** Anything a graph value can hold at run time. */
export type Value = Tensor | TensorSequence | OptionalValue;

export function isTensorValue(v: unknown): v is Tensor {
  return (
    typeof v === 'object' &&
    v !== null &&
    !(v instanceof TensorSequence) &&
    !(v instanceof OptionalValue) &&
    'shape' in v &&
    'storage' in v
  );
}

/** Bytes held by a runtime value's storages (views count once per storage). */
export function valueStorages(v: Value | undefined, out: Set<object> = new Set()): Set<object> {
  if (!v) return out;
  if (v instanceof TensorSequence) for (const x of v.items) valueStorages(x, out);
  else if (v instanceof OptionalValue) valueStorages(v.value, out);
  else out.add(v.storage);
  return out;
}

/**
 * A structural copy of a model: graphs, nodes, value infos and attribute lists are new objects
 * (subgraphs included); tensors are shared, since passes replace initializers instead of writing
 * into them. Sessions optimize a copy so the caller's Model stays exportable.
 */
export function cloneModel(model: Model): Model {
  return {
    ...model,
    opsets: new Map(model.opsets),
    metadata: { ...model.metadata },
    graph: cloneGraph(model.graph),
  };
}

export function cloneGraph(g: Graph): Graph {
  const cloneAttr = (v: unknown): unknown => {
    if (isSubgraphAttr(v)) return { ...v, graph: cloneGraph(v.graph) };
    if (Array.isArray(v)) return v.map(cloneAttr);
    return v;
  };
  const info = (v: ValueInfo): ValueInfo => structuredCloneInfo(v);
  return {
    name: g.name,
    nodes: g.nodes.map((n) => ({
      ...n,
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs: Object.fromEntries(Object.entries(n.attrs).map(([k, v]) => [k, cloneAttr(v)])) as Node['attrs'],
    })),
    inputs: g.inputs.map(info),
    outputs: g.outputs.map(info),
    initializers: new Map(g.initializers),
    valueInfo: new Map([...g.valueInfo].map(([k, v]) => [k, info(v)])),
  };
}

function structuredCloneInfo(v: ValueInfo): ValueInfo {
  return v.type ? { name: v.name, type: JSON.parse(JSON.stringify(v.type)) as ValueType } : { name: v.name };
}
