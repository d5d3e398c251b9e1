/**
 * Graph IR -> ONNX ModelProto bytes: the inverse of model.ts. Initializers and tensor attributes
 * are written as raw_data, attribute types come from the operator schema (export-attrs.ts) since
 * the IR keeps plain numbers, subgraphs (If/Loop/Scan bodies) recurse, and value types become
 * TypeProtos again. The result loads in ONNX Runtime (test/importers/export-*.test.ts checks it
 * against onnxruntime-node) and back into Tessera with importOnnxBytes.
 */
import { writeFileSync } from 'node:fs';
import type { AttrValue } from '../../ops/registry.js';
import { isDType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import {
  type Graph,
  isSubgraphAttr,
  isTensorValue,
  type Model,
  type Node,
  typeFromString,
  type ValueInfo,
  type ValueType,
} from '../../runtime/graph.js';
import { Tensor } from '../../runtime/tensor.js';
import { type Traceable, type TraceOptions, trace } from '../../runtime/trace.js';
import { DTYPE_ATTRS, isFloatAttr } from './export-attrs.js';
import { encodeMessage } from './proto.js';
import { onnxFromDtype, tensorToProto } from './tensor-proto.js';

export interface OnnxExportOptions {
  /**
   * Make dim 0 of every graph input and output symbolic (true names it 'N'), so the exported
   * model accepts any batch size. Only valid when no node bakes the batch size into a constant.
   */
  dynamicBatch?: boolean | string;
  /** IR version to write; default: the model's, raised to what its opsets need. */
  irVersion?: number;
  /** Producer written into the model (default: the model's, or 'tessera'). */
  producerName?: string;
  producerVersion?: string;
}

/** Domains of Tessera's internal ops (gradient helpers, fused kernels): no other runtime has them. */
const TESSERA_DOMAINS = new Set(['com.tessera', 'tessera']);

// AttributeProto.AttributeType
const AT = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  TYPE_PROTO: 13,
} as const;

/** The lowest IR version each ai.onnx opset needs (onnx/docs/Versioning.md). */
export function minIrVersion(opset: number): number {
  if (opset <= 8) return 3;
  if (opset === 9) return 4;
  if (opset === 10) return 5;
  if (opset === 11) return 6;
  if (opset <= 14) return 7;
  if (opset <= 18) return 8;
  if (opset <= 20) return 9;
  if (opset <= 22) return 10;
  return 11;
}

const utf8 = new TextEncoder();

export function typeToProto(t: ValueType | undefined): Record<string, unknown> | undefined {
  if (!t) return undefined;
  switch (t.kind) {
    case 'tensor': {
      const out: Record<string, unknown> = { elem_type: onnxFromDtype(t.dtype) };
      if (t.shape) {
        out.shape = {
          dim: t.shape.map((d) =>
            typeof d === 'number' ? { dim_value: d } : typeof d === 'string' ? { dim_param: d } : {},
          ),
        };
      }
      return { tensor_type: out };
    }
    case 'sequence':
      return { sequence_type: { elem_type: typeToProto(t.elem) } };
    case 'optional':
      return { optional_type: { elem_type: typeToProto(t.elem) } };
    default:
      return undefined;
  }
}

function valueInfoToProto(v: ValueInfo, batchDim?: string): Record<string, unknown> {
  let type = v.type;
  if (batchDim && type?.kind === 'tensor' && type.shape && type.shape.length > 0) {
    type = { ...type, shape: [batchDim, ...type.shape.slice(1)] };
  }
  const tp = typeToProto(type);
  return tp ? { name: v.name, type: tp } : { name: v.name };
}

class Exporter {
  private readonly where: string[] = [];

  attr(node: Node, name: string, v: AttrValue): Record<string, unknown> | undefined {
    const what = `node '${node.name}' (${node.opType}) attribute '${name}'`;
    if (v === undefined) return undefined;
    if (typeof v === 'boolean') return { name, type: AT.INT, i: v ? 1 : 0 };
    if (typeof v === 'number') {
      if (isFloatAttr(node.opType, name, false) || !Number.isInteger(v))
        return { name, type: AT.FLOAT, f: v };
      return { name, type: AT.INT, i: v };
    }
    if (typeof v === 'string') {
      if (DTYPE_ATTRS.has(name) && isDType(v)) return { name, type: AT.INT, i: onnxFromDtype(v) };
      if (name === 'type' && node.opType === 'Optional') {
        const tp = typeToProto(typeFromString(v));
        if (tp) return { name, type: AT.TYPE_PROTO, tp };
      }
      return { name, type: AT.STRING, s: utf8.encode(v) };
    }
    if (v instanceof Tensor || isTensorValue(v))
      return { name, type: AT.TENSOR, t: tensorToProto(v as Tensor) };
    if (isSubgraphAttr(v)) return { name, type: AT.GRAPH, g: this.graph(v.graph, `${what}`) };
    if (Array.isArray(v)) {
      const list = v as unknown[];
      if (list.every((x) => typeof x === 'number')) {
        const nums = list as number[];
        const float = isFloatAttr(node.opType, name, true) || nums.some((x) => !Number.isInteger(x));
        return float ? { name, type: AT.FLOATS, floats: nums } : { name, type: AT.INTS, ints: nums };
      }
      if (list.every((x) => typeof x === 'string')) {
        return { name, type: AT.STRINGS, strings: (list as string[]).map((s) => utf8.encode(s)) };
      }
      if (list.every((x) => isTensorValue(x))) {
        return { name, type: AT.TENSORS, tensors: (list as Tensor[]).map((t) => tensorToProto(t)) };
      }
      if (list.every((x) => isSubgraphAttr(x))) {
        return {
          name,
          type: AT.GRAPHS,
          graphs: list.map((g) => this.graph((g as { graph: Graph }).graph, what)),
        };
      }
    }
    throw new TesseraError('UNSUPPORTED', `export: ${what} has a value ONNX cannot hold (${describe(v)})`);
  }

  node(n: Node): Record<string, unknown> {
    if (TESSERA_DOMAINS.has(n.domain)) {
      throw new TesseraError(
        'UNSUPPORTED',
        `export: node '${n.name}' is Tessera's internal op ${n.domain}::${n.opType}, which has no ONNX form`,
      );
    }
    const attribute: Record<string, unknown>[] = [];
    for (const [k, v] of Object.entries(n.attrs)) {
      const a = this.attr(n, k, v);
      if (a) attribute.push(a);
    }
    const out: Record<string, unknown> = {
      input: [...n.inputs],
      output: [...n.outputs],
      name: n.name,
      op_type: n.opType,
      attribute,
    };
    if (n.domain) out.domain = n.domain;
    return out;
  }

  graph(g: Graph, what = 'graph', batchDim?: string): Record<string, unknown> {
    this.where.push(what);
    try {
      const initializer: Record<string, unknown>[] = [];
      for (const [name, t] of g.initializers) {
        if (t.device !== 'cpu') {
          throw new TesseraError(
            'UNSUPPORTED',
            `export: initializer '${name}' is on ${t.device}; move the model to cpu first`,
          );
        }
        initializer.push(tensorToProto(t, name));
      }
      const declared = new Set([...g.inputs.map((i) => i.name), ...g.outputs.map((o) => o.name)]);
      const fed = new Set(g.initializers.keys());
      return {
        name: g.name,
        node: g.nodes.map((n) => this.node(n)),
        initializer,
        input: g.inputs.map((v) => valueInfoToProto(v, fed.has(v.name) ? undefined : batchDim)),
        output: g.outputs.map((v) => valueInfoToProto(v, batchDim)),
        value_info: [...g.valueInfo.values()]
          .filter((v) => !declared.has(v.name) && v.type)
          .map((v) => valueInfoToProto(v)),
      };
    } finally {
      this.where.pop();
    }
  }
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return `a mixed list of ${v.length}`;
  return typeof v === 'object' && v !== null ? ((v as object).constructor?.name ?? 'object') : typeof v;
}

/** The ModelProto of `model` as a plain object protobufjs can encode. */
export function modelToProto(model: Model, opts: OnnxExportOptions = {}): Record<string, unknown> {
  const batchDim =
    opts.dynamicBatch === true ? 'N' : typeof opts.dynamicBatch === 'string' ? opts.dynamicBatch : undefined;
  const opsets = new Map(model.opsets);
  // Domains nodes use but the model does not import (a traced graph's) get version 1.
  const used = new Set<string>();
  const visit = (g: Graph) => {
    for (const n of g.nodes) {
      used.add(n.domain);
      for (const v of Object.values(n.attrs)) {
        if (isSubgraphAttr(v)) visit(v.graph);
        else if (Array.isArray(v)) for (const x of v) if (isSubgraphAttr(x)) visit(x.graph);
      }
    }
  };
  visit(model.graph);
  for (const d of used) if (!opsets.has(d)) opsets.set(d, 1);
  const onnxOpset = opsets.get('') ?? 1;
  const ir = opts.irVersion ?? Math.max(model.irVersion || 0, minIrVersion(onnxOpset));
  const out: Record<string, unknown> = {
    ir_version: ir,
    opset_import: [...opsets].map(([domain, version]) =>
      domain ? { domain, version } : { domain: '', version },
    ),
    producer_name: opts.producerName ?? (model.producerName || 'tessera'),
    producer_version: opts.producerVersion ?? model.producerVersion ?? '',
    model_version: model.modelVersion ?? 0,
    doc_string: model.docString ?? '',
    graph: new Exporter().graph(model.graph, 'graph', batchDim),
    metadata_props: Object.entries(model.metadata ?? {}).map(([key, value]) => ({ key, value })),
  };
  return out;
}

/** Serializes a model as ONNX ModelProto bytes. */
export function exportOnnx(model: Model, opts: OnnxExportOptions = {}): Uint8Array {
  return encodeMessage('ModelProto', modelToProto(model, opts));
}

/** Writes a model as an .onnx file. */
export function saveOnnx(model: Model, path: string, opts: OnnxExportOptions = {}): void {
  writeFileSync(path, exportOnnx(model, opts));
}

/**
 * Traces an eager module (or function) on example inputs and serializes the result as ONNX, as
 * torch.onnx.export does: `exportModule(model, x, { dynamicBatch: true })`.
 */
export function exportModule(
  target: Traceable | ((...xs: Tensor[]) => unknown),
  inputs: Tensor | Tensor[],
  opts: TraceOptions & Omit<OnnxExportOptions, 'dynamicBatch'> = {},
): Uint8Array {
  return exportOnnx(trace(target, inputs, opts), opts);
}
