/**
 * The ONNX protobuf schema, parsed once with protobufjs from the vendored onnx.proto and
 * onnx-data.proto (embedded in onnx-schema.ts), and the decoded message shapes the importer reads.
 * Field names keep the .proto's snake_case (`keepCase`).
 */
import protobuf from 'protobufjs';
import { TesseraError } from '../../runtime/errors.js';
import { ONNX_DATA_PROTO, ONNX_PROTO } from './onnx-schema.js';

/** protobufjs decodes int64 fields to Long objects (or numbers when they fit). */
export interface LongLike {
  low: number;
  high: number;
  unsigned?: boolean;
}
export type Int64 = number | LongLike | string;

export interface StringStringEntryProto {
  key?: string;
  value?: string;
}
export interface TensorProto {
  dims: Int64[];
  data_type?: number;
  segment?: { begin?: Int64; end?: Int64 };
  float_data: number[];
  int32_data: number[];
  string_data: Uint8Array[];
  int64_data: Int64[];
  name?: string;
  doc_string?: string;
  raw_data?: Uint8Array;
  external_data: StringStringEntryProto[];
  data_location?: number;
  double_data: number[];
  uint64_data: Int64[];
}
export interface SparseTensorProto {
  values?: TensorProto;
  indices?: TensorProto;
  dims: Int64[];
}
export interface DimensionProto {
  dim_value?: Int64;
  dim_param?: string;
  value?: 'dim_value' | 'dim_param';
}
export interface TypeProto {
  tensor_type?: { elem_type?: number; shape?: { dim: DimensionProto[] } };
  sequence_type?: { elem_type?: TypeProto };
  map_type?: { key_type?: number; value_type?: TypeProto };
  optional_type?: { elem_type?: TypeProto };
  sparse_tensor_type?: { elem_type?: number; shape?: { dim: DimensionProto[] } };
  opaque_type?: { domain?: string; name?: string };
  value?: string;
}
export interface ValueInfoProto {
  name?: string;
  type?: TypeProto;
}
export interface AttributeProto {
  name?: string;
  ref_attr_name?: string;
  type?: number;
  f?: number;
  i?: Int64;
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  sparse_tensor?: SparseTensorProto;
  tp?: TypeProto;
  floats: number[];
  ints: Int64[];
  strings: Uint8Array[];
  tensors: TensorProto[];
  graphs: GraphProto[];
  sparse_tensors: SparseTensorProto[];
  type_protos: TypeProto[];
}
export interface NodeProto {
  input: string[];
  output: string[];
  name?: string;
  op_type?: string;
  domain?: string;
  overload?: string;
  attribute: AttributeProto[];
}
export interface GraphProto {
  node: NodeProto[];
  name?: string;
  initializer: TensorProto[];
  sparse_initializer: SparseTensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info: ValueInfoProto[];
}
export interface OperatorSetIdProto {
  domain?: string;
  version?: Int64;
}
export interface FunctionProto {
  name?: string;
  input: string[];
  output: string[];
  attribute: string[];
  attribute_proto: AttributeProto[];
  node: NodeProto[];
  opset_import: OperatorSetIdProto[];
  domain?: string;
  overload?: string;
}
export interface ModelProto {
  ir_version?: Int64;
  opset_import: OperatorSetIdProto[];
  producer_name?: string;
  producer_version?: string;
  domain?: string;
  model_version?: Int64;
  doc_string?: string;
  graph?: GraphProto;
  metadata_props: StringStringEntryProto[];
  functions: FunctionProto[];
}
export interface SequenceProto {
  name?: string;
  elem_type?: number;
  tensor_values: TensorProto[];
  sequence_values: SequenceProto[];
  optional_values: OptionalProto[];
  sparse_tensor_values: SparseTensorProto[];
  map_values: unknown[];
}
export interface OptionalProto {
  name?: string;
  elem_type?: number;
  tensor_value?: TensorProto;
  sequence_value?: SequenceProto;
  optional_value?: OptionalProto;
  sparse_tensor_value?: SparseTensorProto;
  map_value?: unknown;
}

type MessageName = 'ModelProto' | 'TensorProto' | 'SequenceProto' | 'OptionalProto' | 'GraphProto';

let root: protobuf.Root | undefined;
function schema(): protobuf.Root {
  if (!root) {
    root = new protobuf.Root();
    protobuf.parse(ONNX_PROTO, root, { keepCase: true });
    protobuf.parse(ONNX_DATA_PROTO, root, { keepCase: true });
    root.resolveAll();
  }
  return root;
}

export function messageType(name: MessageName): protobuf.Type {
  return schema().lookupType(`onnx.${name}`);
}

/** Decodes `bytes` as an onnx.<name>; corrupt or truncated input is an INVALID_MODEL TesseraError. */
export function decodeMessage<T>(name: MessageName, bytes: Uint8Array, what: string = name): T {
  try {
    return messageType(name).decode(bytes) as unknown as T;
  } catch (e) {
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: not a valid ONNX ${name} (${bytes.length} bytes): ${(e as Error).message}`,
      { cause: e },
    );
  }
}

/** Encodes a plain object as an onnx.<name> (used to write models and test data). */
export function encodeMessage(name: MessageName, obj: object): Uint8Array {
  const type = messageType(name);
  return type.encode(type.fromObject(obj)).finish();
}

/** Whether a proto2 optional field was present on the wire (decoded messages keep defaults on the prototype). */
export function has(msg: object, field: string): boolean {
  return Object.hasOwn(msg, field);
}

// ---- int64 ------------------------------------------------------------------------------------

function isLong(v: unknown): v is LongLike {
  return typeof v === 'object' && v !== null && 'low' in v && 'high' in v;
}

/** An int64 field as a BigInt (exact). */
export function toBigInt(v: Int64 | undefined, unsigned = false): bigint {
  if (v === undefined) return 0n;
  let b: bigint;
  if (typeof v === 'number') b = BigInt(Math.trunc(v));
  else if (typeof v === 'string') b = BigInt(v);
  else if (isLong(v)) b = (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
  else b = 0n;
  return unsigned ? BigInt.asUintN(64, b) : BigInt.asIntN(64, b);
}

/** An int64 field as a JS number (values past 2^53 lose precision, as ONNX's INT64_MAX sentinels may). */
export function toNumber(v: Int64 | undefined): number {
  if (v === undefined) return 0;
  if (typeof v === 'number') return v;
  return Number(toBigInt(v));
}

const utf8 = new TextDecoder('utf-8');
export function bytesToString(b: Uint8Array | string | undefined): string {
  if (b === undefined) return '';
  if (typeof b === 'string') return b;
  return utf8.decode(b);
}
