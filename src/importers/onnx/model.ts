/**
 * ModelProto -> Model (the Graph IR of src/runtime/graph.ts): opset imports, graph inputs/outputs
 * with their types, initializers (sparse ones made dense), nodes with attributes as plain JS values,
 * subgraphs for If/Loop/Scan bodies, and model-local functions inlined.
 */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Attrs, AttrValue } from '../../ops/registry.js';
import { TesseraError } from '../../runtime/errors.js';
import {
  type Graph,
  type Model,
  type Node,
  type SubgraphAttr,
  typeToString,
  type ValueInfo,
} from '../../runtime/graph.js';
import type { Tensor } from '../../runtime/tensor.js';
import { FunctionInliner } from './functions.js';
import {
  type AttributeProto,
  bytesToString,
  decodeMessage,
  type GraphProto,
  has,
  type ModelProto,
  type NodeProto,
  toNumber,
  type ValueInfoProto,
} from './proto.js';
import { type TensorReadOptions, tensorFromProto, tensorFromSparseProto } from './tensor-proto.js';
import { valueTypeFromProto } from './types.js';

export interface OnnxLoadOptions {
  /** Directory that external data locations are relative to (defaults to the model file's). */
  baseDir?: string;
  /** Largest element count any one tensor may declare (default 2^31 - 1). */
  maxElements?: number;
}

/** Newest ONNX IR version this importer reads (onnx.proto's IR_VERSION). */
export const MAX_IR_VERSION = 14;

const normDomain = (d: string | undefined) => (!d || d === 'ai.onnx' ? '' : d);

enum AttrType {
  UNDEFINED = 0,
  FLOAT = 1,
  INT = 2,
  STRING = 3,
  TENSOR = 4,
  GRAPH = 5,
  FLOATS = 6,
  INTS = 7,
  STRINGS = 8,
  TENSORS = 9,
  GRAPHS = 10,
  SPARSE_TENSOR = 11,
  SPARSE_TENSORS = 12,
  TYPE_PROTO = 13,
  TYPE_PROTOS = 14,
}

/** IR < 0.0.2 attributes have no type: infer it from the field that is set. */
function attrType(a: AttributeProto): AttrType {
  if (a.type) return a.type;
  if (has(a, 'f')) return AttrType.FLOAT;
  if (has(a, 'i')) return AttrType.INT;
  if (has(a, 's')) return AttrType.STRING;
  if (has(a, 't')) return AttrType.TENSOR;
  if (has(a, 'g')) return AttrType.GRAPH;
  if (a.floats.length) return AttrType.FLOATS;
  if (a.ints.length) return AttrType.INTS;
  if (a.strings.length) return AttrType.STRINGS;
  if (a.tensors.length) return AttrType.TENSORS;
  if (a.graphs.length) return AttrType.GRAPHS;
  return AttrType.UNDEFINED;
}

class Importer {
  constructor(private readonly tensorOpts: TensorReadOptions) {}

  attr(a: AttributeProto, where: string): AttrValue {
    const what = `${where} attribute '${a.name}'`;
    const topts = { ...this.tensorOpts, what };
    switch (attrType(a)) {
      case AttrType.FLOAT:
        return a.f ?? 0;
      case AttrType.INT:
        return toNumber(a.i);
      case AttrType.STRING:
        return bytesToString(a.s);
      case AttrType.TENSOR:
        if (!a.t) throw new TesseraError('INVALID_MODEL', `${what}: tensor attribute without a tensor`);
        return tensorFromProto(a.t, topts);
      case AttrType.GRAPH:
        if (!a.g) throw new TesseraError('INVALID_MODEL', `${what}: graph attribute without a graph`);
        return this.subgraph(a.g, what);
      case AttrType.FLOATS:
        return [...a.floats];
      case AttrType.INTS:
        return a.ints.map(toNumber);
      case AttrType.STRINGS:
        return a.strings.map((s) => bytesToString(s));
      case AttrType.TENSORS:
        return a.tensors.map((t) => tensorFromProto(t, topts));
      case AttrType.GRAPHS:
        return a.graphs.map((g) => this.subgraph(g, what));
      case AttrType.SPARSE_TENSOR:
        if (!a.sparse_tensor)
          throw new TesseraError('INVALID_MODEL', `${what}: sparse tensor attribute without a value`);
        return tensorFromSparseProto(a.sparse_tensor, topts);
      case AttrType.SPARSE_TENSORS:
        return a.sparse_tensors.map((s) => tensorFromSparseProto(s, topts));
      // Type attributes become ONNX type strings ('seq(tensor(float))'): attributes are plain values.
      case AttrType.TYPE_PROTO:
        return typeToString(valueTypeFromProto(a.tp));
      case AttrType.TYPE_PROTOS:
        return a.type_protos.map((t) => typeToString(valueTypeFromProto(t)));
      default:
        throw new TesseraError('UNSUPPORTED', `${what}: attribute type ${a.type} is not supported`);
    }
  }

  subgraph(g: GraphProto, what: string): SubgraphAttr {
    return { kind: 'graph', graph: this.graph(g, what) };
  }

  valueInfo(v: ValueInfoProto): ValueInfo {
    return { name: v.name ?? '', type: valueTypeFromProto(v.type) };
  }

  node(n: NodeProto, index: number, graphName: string): Node {
    const opType = n.op_type ?? '';
    const name = n.name || `${graphName ? `${graphName}/` : ''}${opType}_${index}`;
    if (!opType) throw new TesseraError('INVALID_MODEL', `node '${name}': no op_type`);
    const attrs: Attrs = {};
    for (const a of n.attribute) {
      if (!a.name)
        throw new TesseraError('INVALID_MODEL', `node '${name}' (${opType}): attribute without a name`);
      if (a.ref_attr_name) {
        throw new TesseraError(
          'INVALID_MODEL',
          `node '${name}' (${opType}): attribute '${a.name}' refers to '${a.ref_attr_name}' outside a function`,
        );
      }
      attrs[a.name] = this.attr(a, `node '${name}' (${opType})`);
    }
    return {
      name,
      opType,
      domain: normDomain(n.domain),
      inputs: [...n.input],
      outputs: [...n.output],
      attrs,
    };
  }

  graph(g: GraphProto, what = 'graph'): Graph {
    const name = g.name ?? '';
    const initializers = new Map<string, Tensor>();
    for (const t of g.initializer) {
      if (!t.name) throw new TesseraError('INVALID_MODEL', `${what}: initializer without a name`);
      initializers.set(t.name, tensorFromProto(t, this.tensorOpts));
    }
    for (const s of g.sparse_initializer) {
      const nm = s.values?.name ?? '';
      if (!nm) throw new TesseraError('INVALID_MODEL', `${what}: sparse initializer without a name`);
      initializers.set(nm, tensorFromSparseProto(s, { ...this.tensorOpts, what: `initializer '${nm}'` }));
    }
    const valueInfo = new Map<string, ValueInfo>();
    for (const v of g.value_info) if (v.name) valueInfo.set(v.name, this.valueInfo(v));
    return {
      name,
      nodes: g.node.map((n, i) => this.node(n, i, what === 'graph' ? '' : name)),
      inputs: g.input.map((v) => this.valueInfo(v)),
      outputs: g.output.map((v) => this.valueInfo(v)),
      initializers,
      valueInfo,
    };
  }
}

/** Decodes and converts model bytes. `baseDir` is needed for external data. */
export function importOnnxBytes(bytes: Uint8Array, opts: OnnxLoadOptions = {}): Model {
  const m = decodeMessage<ModelProto>('ModelProto', bytes, 'model');
  const irVersion = toNumber(m.ir_version);
  if (!m.graph || !has(m, 'graph')) {
    throw new TesseraError(
      'INVALID_MODEL',
      `model: no graph (${bytes.length} bytes; is this an ONNX model?)`,
    );
  }
  if (irVersion > MAX_IR_VERSION) {
    throw new TesseraError(
      'UNSUPPORTED',
      `model: IR version ${irVersion} is newer than the newest Tessera reads (${MAX_IR_VERSION})`,
    );
  }
  const inliner = new FunctionInliner(m.functions);
  const opsets = new Map<string, number>();
  for (const o of inliner.functionOpsets()) opsets.set(normDomain(o.domain), o.version);
  for (const o of m.opset_import) opsets.set(normDomain(o.domain), toNumber(o.version));
  // IR version 1/2 models predate opset_import: they are opset 1.
  if (m.opset_import.length === 0 && irVersion < 3) opsets.set('', 1);

  const importer = new Importer({ baseDir: opts.baseDir, maxElements: opts.maxElements });
  const graph = importer.graph(inliner.inlineGraph(m.graph));
  const metadata: Record<string, string> = {};
  for (const kv of m.metadata_props) metadata[kv.key ?? ''] = kv.value ?? '';
  return {
    graph,
    opsets,
    irVersion,
    producerName: m.producer_name ?? '',
    producerVersion: m.producer_version ?? '',
    modelVersion: toNumber(m.model_version),
    docString: m.doc_string ?? '',
    metadata,
  };
}

/** Reads and converts an ONNX model file (external data resolved beside it). */
export function importOnnxFile(path: string, opts: OnnxLoadOptions = {}): Model {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read model '${path}': ${(e as Error).message}`, { cause: e });
  }
  return importOnnxBytes(bytes, { baseDir: dirname(path), ...opts });
}
