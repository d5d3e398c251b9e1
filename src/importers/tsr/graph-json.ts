/**
 * Graph IR <-> JSON for the .tsr format. The JSON holds the structure (nodes, value types,
 * attributes, opsets, metadata); tensors (initializers, tensor attributes, subgraph initializers)
 * go to the safetensors payload under a key the JSON names, except string tensors, which the
 * payload cannot hold and which are written inline. Attribute values are tagged so every IR value
 * comes back as it was (numbers, including NaN and infinities, booleans, strings, lists, tensors,
 * subgraphs).
 */
import type { Attrs, AttrValue } from '../../ops/registry.js';
import { isDType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import {
  type Graph,
  isSubgraphAttr,
  isTensorValue,
  type Model,
  type Node,
  type SubgraphAttr,
  type ValueInfo,
} from '../../runtime/graph.js';
import { Tensor } from '../../runtime/tensor.js';

export const TSR_FORMAT = 'tessera.tsr';
export const TSR_VERSION = 1;

/** A tensor in the JSON: a key into the safetensors payload, or inline data for string tensors. */
export type TensorRef = { ref: string } | { dtype: 'string'; shape: number[]; strings: string[] };

type JsonNumber = number | 'NaN' | 'Infinity' | '-Infinity';
export type AttrJson =
  | { t: 'number'; v: JsonNumber }
  | { t: 'bool'; v: boolean }
  | { t: 'string'; v: string }
  | { t: 'numbers'; v: JsonNumber[] }
  | { t: 'strings'; v: string[] }
  | { t: 'tensor'; v: TensorRef }
  | { t: 'tensors'; v: TensorRef[] }
  | { t: 'graph'; v: GraphJson }
  | { t: 'graphs'; v: GraphJson[] };

export interface NodeJson {
  name: string;
  opType: string;
  domain: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrJson>;
}

export interface GraphJson {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  valueInfo: ValueInfo[];
  /** Initializers in the graph's order. */
  initializers: { name: string; tensor: TensorRef }[];
  nodes: NodeJson[];
}

export interface ModelJson {
  format: typeof TSR_FORMAT;
  version: number;
  irVersion: number;
  opsets: Record<string, number>;
  producerName: string;
  producerVersion: string;
  modelVersion: number;
  docString: string;
  metadata: Record<string, string>;
  graph: GraphJson;
}

function numToJson(v: number): JsonNumber {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  return v;
}
function numFromJson(v: JsonNumber, what: string): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return Number.NaN;
  if (v === 'Infinity') return Number.POSITIVE_INFINITY;
  if (v === '-Infinity') return Number.NEGATIVE_INFINITY;
  throw new TesseraError('INVALID_MODEL', `${what}: expected a number, got ${JSON.stringify(v)}`);
}

/** Collects the tensors of a model into payload entries while writing its JSON. */
export class TensorWriter {
  readonly entries: [string, Tensor][] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  /** Stores `t` under `preferred` when free (top-level initializer names), else a generated key. */
  put(t: Tensor, preferred?: string): TensorRef {
    if (t.dtype === 'string') {
      return { dtype: 'string', shape: [...t.shape], strings: [...(t.dataSync() as string[])] };
    }
    if (t.device !== 'cpu') {
      throw new TesseraError(
        'UNSUPPORTED',
        `tsr: tensor '${preferred ?? t.name ?? '?'}' is on ${t.device}; move the model to cpu first`,
      );
    }
    let key = preferred;
    if (key === undefined || key === '__metadata__' || this.used.has(key) || key.startsWith('__tsr__/')) {
      do key = `__tsr__/${this.counter++}`;
      while (this.used.has(key));
    }
    this.used.add(key);
    this.entries.push([key, t]);
    return { ref: key };
  }
}

function attrToJson(v: AttrValue, w: TensorWriter, what: string): AttrJson | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'number') return { t: 'number', v: numToJson(v) };
  if (typeof v === 'boolean') return { t: 'bool', v };
  if (typeof v === 'string') return { t: 'string', v };
  if (isTensorValue(v)) return { t: 'tensor', v: w.put(v) };
  if (isSubgraphAttr(v)) return { t: 'graph', v: graphToJson(v.graph, w, false) };
  if (Array.isArray(v)) {
    const list = v as unknown[];
    if (list.every((x) => typeof x === 'number'))
      return { t: 'numbers', v: (list as number[]).map(numToJson) };
    if (list.every((x) => typeof x === 'string')) return { t: 'strings', v: [...(list as string[])] };
    if (list.every((x) => isTensorValue(x)))
      return { t: 'tensors', v: (list as Tensor[]).map((t) => w.put(t)) };
    if (list.every((x) => isSubgraphAttr(x))) {
      return { t: 'graphs', v: (list as SubgraphAttr[]).map((g) => graphToJson(g.graph, w, false)) };
    }
  }
  throw new TesseraError('UNSUPPORTED', `tsr: ${what} has a value the format cannot hold`);
}

function nodeToJson(n: Node, w: TensorWriter): NodeJson {
  const attrs: Record<string, AttrJson> = {};
  for (const [k, v] of Object.entries(n.attrs)) {
    const a = attrToJson(v, w, `node '${n.name}' (${n.opType}) attribute '${k}'`);
    if (a) attrs[k] = a;
  }
  return {
    name: n.name,
    opType: n.opType,
    domain: n.domain,
    inputs: [...n.inputs],
    outputs: [...n.outputs],
    attrs,
  };
}

export function graphToJson(g: Graph, w: TensorWriter, topLevel = true): GraphJson {
  return {
    name: g.name,
    inputs: g.inputs.map(cloneInfo),
    outputs: g.outputs.map(cloneInfo),
    valueInfo: [...g.valueInfo.values()].map(cloneInfo),
    // Top-level initializers keep their names as payload keys: other safetensors readers see the weights by name.
    initializers: [...g.initializers].map(([name, t]) => ({
      name,
      tensor: w.put(t, topLevel ? name : undefined),
    })),
    nodes: g.nodes.map((n) => nodeToJson(n, w)),
  };
}

function cloneInfo(v: ValueInfo): ValueInfo {
  return v.type ? { name: v.name, type: structuredClone(v.type) } : { name: v.name };
}

export function modelToJson(m: Model, w: TensorWriter): ModelJson {
  return {
    format: TSR_FORMAT,
    version: TSR_VERSION,
    irVersion: m.irVersion,
    opsets: Object.fromEntries(m.opsets),
    producerName: m.producerName,
    producerVersion: m.producerVersion,
    modelVersion: m.modelVersion,
    docString: m.docString,
    metadata: { ...m.metadata },
    graph: graphToJson(m.graph, w),
  };
}

// ---- reading ----------------------------------------------------------------------------------

/** Resolves tensor references against the decoded payload, each key used by one place only. */
export class TensorReader {
  private readonly taken = new Set<string>();
  constructor(
    private readonly payload: Map<string, Tensor>,
    private readonly what: string,
  ) {}

  get(r: TensorRef, where: string): Tensor {
    if (r && typeof r === 'object' && 'ref' in r) {
      const t = this.payload.get(r.ref);
      if (!t)
        throw new TesseraError(
          'INVALID_MODEL',
          `${this.what}: ${where} refers to tensor '${r.ref}', which the file does not hold`,
        );
      if (this.taken.has(r.ref))
        throw new TesseraError('INVALID_MODEL', `${this.what}: tensor '${r.ref}' is referenced twice`);
      this.taken.add(r.ref);
      return t;
    }
    if (
      r &&
      typeof r === 'object' &&
      r.dtype === 'string' &&
      Array.isArray(r.shape) &&
      Array.isArray(r.strings)
    ) {
      const n = r.shape.reduce((a, b) => a * b, 1);
      if (r.strings.length !== n || r.strings.some((s) => typeof s !== 'string')) {
        throw new TesseraError(
          'INVALID_MODEL',
          `${this.what}: ${where}: string tensor of shape [${r.shape}] has ${r.strings.length} strings`,
        );
      }
      return Tensor.fromData([...r.strings], r.shape, 'string');
    }
    throw new TesseraError(
      'INVALID_MODEL',
      `${this.what}: ${where}: invalid tensor reference ${JSON.stringify(r)?.slice(0, 80)}`,
    );
  }

  /** Keys of the payload no JSON entry used (a sign of a corrupt or hand-edited file). */
  unused(): string[] {
    return [...this.payload.keys()].filter((k) => !this.taken.has(k));
  }
}

function expect(cond: boolean, what: string, msg: string): asserts cond {
  if (!cond) throw new TesseraError('INVALID_MODEL', `${what}: ${msg}`);
}

function attrFromJson(a: AttrJson, r: TensorReader, what: string): AttrValue {
  expect(typeof a === 'object' && a !== null && 't' in a, what, 'attribute must be {t, v}');
  switch (a.t) {
    case 'number':
      return numFromJson(a.v, what);
    case 'bool':
      return Boolean(a.v);
    case 'string':
      expect(typeof a.v === 'string', what, 'expected a string');
      return a.v;
    case 'numbers':
      expect(Array.isArray(a.v), what, 'expected a list');
      return a.v.map((x) => numFromJson(x, what));
    case 'strings':
      expect(
        Array.isArray(a.v) && a.v.every((x) => typeof x === 'string'),
        what,
        'expected a list of strings',
      );
      return [...a.v];
    case 'tensor':
      return r.get(a.v, what);
    case 'tensors':
      expect(Array.isArray(a.v), what, 'expected a list');
      return a.v.map((x) => r.get(x, what));
    case 'graph':
      return { kind: 'graph', graph: graphFromJson(a.v, r, what) } as SubgraphAttr;
    case 'graphs':
      expect(Array.isArray(a.v), what, 'expected a list');
      return a.v.map((g) => ({ kind: 'graph', graph: graphFromJson(g, r, what) }) as SubgraphAttr);
    default:
      throw new TesseraError('INVALID_MODEL', `${what}: unknown attribute tag '${(a as { t: unknown }).t}'`);
  }
}

function infoFromJson(v: ValueInfo, what: string): ValueInfo {
  expect(typeof v === 'object' && v !== null && typeof v.name === 'string', what, 'value info needs a name');
  if (v.type?.kind === 'tensor')
    expect(isDType(v.type.dtype), what, `unknown dtype '${v.type.dtype}' of '${v.name}'`);
  return v.type ? { name: v.name, type: v.type } : { name: v.name };
}

export function graphFromJson(j: GraphJson, r: TensorReader, what = 'graph'): Graph {
  expect(typeof j === 'object' && j !== null && Array.isArray(j.nodes), what, 'graph must have a node list');
  const initializers = new Map<string, Tensor>();
  for (const { name, tensor } of j.initializers ?? []) {
    expect(typeof name === 'string', what, 'initializer without a name');
    initializers.set(name, r.get(tensor, `initializer '${name}'`));
  }
  const nodes: Node[] = j.nodes.map((n, i) => {
    const where = `${what} node ${i}`;
    expect(typeof n.opType === 'string' && n.opType !== '', where, 'no opType');
    expect(Array.isArray(n.inputs) && Array.isArray(n.outputs), where, 'inputs and outputs must be lists');
    const attrs: Attrs = {};
    for (const [k, a] of Object.entries(n.attrs ?? {}))
      attrs[k] = attrFromJson(a, r, `node '${n.name}' (${n.opType}) attribute '${k}'`);
    return {
      name: String(n.name ?? ''),
      opType: n.opType,
      domain: String(n.domain ?? ''),
      inputs: [...n.inputs],
      outputs: [...n.outputs],
      attrs,
    };
  });
  const valueInfo = new Map<string, ValueInfo>();
  for (const v of j.valueInfo ?? []) valueInfo.set(v.name, infoFromJson(v, what));
  return {
    name: String(j.name ?? ''),
    nodes,
    inputs: (j.inputs ?? []).map((v) => infoFromJson(v, what)),
    outputs: (j.outputs ?? []).map((v) => infoFromJson(v, what)),
    initializers,
    valueInfo,
  };
}

export function modelFromJson(j: ModelJson, r: TensorReader, what: string): Model {
  expect(typeof j === 'object' && j !== null, what, 'the model JSON must be an object');
  expect(
    j.format === TSR_FORMAT,
    what,
    `not a Tessera model (format '${String(j.format)}', expected '${TSR_FORMAT}')`,
  );
  if (!(typeof j.version === 'number' && j.version <= TSR_VERSION)) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${what}: .tsr version ${j.version} is newer than this Tessera reads (${TSR_VERSION})`,
    );
  }
  const opsets = new Map<string, number>();
  for (const [d, v] of Object.entries(j.opsets ?? {})) {
    expect(Number.isInteger(v), what, `opset of domain '${d}' must be an integer`);
    opsets.set(d, v);
  }
  return {
    graph: graphFromJson(j.graph, r, what),
    opsets,
    irVersion: Number(j.irVersion ?? 0),
    producerName: String(j.producerName ?? ''),
    producerVersion: String(j.producerVersion ?? ''),
    modelVersion: Number(j.modelVersion ?? 0),
    docString: String(j.docString ?? ''),
    metadata: { ...(j.metadata ?? {}) },
  };
}
