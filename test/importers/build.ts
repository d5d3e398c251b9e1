/** Writes small ONNX models for tests: plain objects in onnx.proto's field names, encoded with protobufjs. */
import { encodeMessage, tensorToProto } from '../../src/importers/onnx/index.js';
import type { Tensor } from '../../src/index.js';

/** TensorProto.DataType numbers. */
export const T = {
  float: 1,
  uint8: 2,
  int8: 3,
  uint16: 4,
  int16: 5,
  int32: 6,
  int64: 7,
  string: 8,
  bool: 9,
  float16: 10,
  double: 11,
  uint32: 12,
  uint64: 13,
  bfloat16: 16,
} as const;

export type Dims = (number | string | null)[];

export function tensorType(elem: number, dims?: Dims): object {
  const shape = dims
    ? {
        dim: dims.map((d) => (d === null ? {} : typeof d === 'number' ? { dim_value: d } : { dim_param: d })),
      }
    : undefined;
  return { tensor_type: { elem_type: elem, ...(shape ? { shape } : {}) } };
}
export const vi = (name: string, elem: number, dims?: Dims) => ({ name, type: tensorType(elem, dims) });
export const seqVi = (name: string, elem: number) => ({
  name,
  type: { sequence_type: { elem_type: tensorType(elem) } },
});

export const attr = {
  int: (name: string, i: number) => ({ name, type: 2, i }),
  float: (name: string, f: number) => ({ name, type: 1, f }),
  str: (name: string, s: string) => ({ name, type: 3, s: new TextEncoder().encode(s) }),
  ints: (name: string, ints: number[]) => ({ name, type: 7, ints }),
  floats: (name: string, floats: number[]) => ({ name, type: 6, floats }),
  strs: (name: string, ss: string[]) => ({
    name,
    type: 8,
    strings: ss.map((s) => new TextEncoder().encode(s)),
  }),
  tensor: (name: string, t: Tensor) => ({ name, type: 4, t: tensorToProto(t) }),
  graph: (name: string, g: object) => ({ name, type: 5, g }),
  ref: (name: string, ref: string, type: number) => ({ name, ref_attr_name: ref, type }),
};

export interface NodeSpec {
  op: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  domain?: string;
  attrs?: object[];
}
export const node = (
  op: string,
  inputs: string[],
  outputs: string[],
  attrs: object[] = [],
  extra: Partial<NodeSpec> = {},
) => ({
  op_type: op,
  input: inputs,
  output: outputs,
  attribute: attrs,
  name: extra.name ?? '',
  domain: extra.domain ?? '',
});

export interface GraphSpec {
  nodes: object[];
  inputs: object[];
  outputs: object[];
  initializers?: Record<string, Tensor>;
  name?: string;
  valueInfo?: object[];
}
export function graph(g: GraphSpec): object {
  return {
    name: g.name ?? 'g',
    node: g.nodes,
    input: g.inputs,
    output: g.outputs,
    initializer: Object.entries(g.initializers ?? {}).map(([k, t]) => tensorToProto(t, k)),
    value_info: g.valueInfo ?? [],
  };
}

export interface ModelSpec extends GraphSpec {
  opset?: number;
  opsets?: { domain: string; version: number }[];
  irVersion?: number;
  functions?: object[];
}
export function modelObject(m: ModelSpec): object {
  return {
    ir_version: m.irVersion ?? 8,
    producer_name: 'tessera-test',
    opset_import: m.opsets ?? [{ domain: '', version: m.opset ?? 17 }],
    graph: graph(m),
    functions: m.functions ?? [],
  };
}
export function model(m: ModelSpec): Uint8Array {
  return encodeMessage('ModelProto', modelObject(m));
}
