/**
 * The Open Inference Protocol's tensor datatypes ("FP32", "INT64", "BYTES", ...) and Triton's model
 * configuration types ("TYPE_FP32", "TYPE_STRING", ...), mapped to Tessera's dtypes.
 */
import type { DType } from '../runtime/dtype.js';

export type V2Datatype =
  | 'BOOL'
  | 'UINT8'
  | 'UINT16'
  | 'UINT32'
  | 'UINT64'
  | 'INT8'
  | 'INT16'
  | 'INT32'
  | 'INT64'
  | 'FP16'
  | 'FP32'
  | 'FP64'
  | 'BF16'
  | 'BYTES';

const TO_DTYPE: Record<V2Datatype, DType> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BF16: 'bfloat16',
  BYTES: 'string',
};

const FROM_DTYPE = Object.fromEntries(Object.entries(TO_DTYPE).map(([k, v]) => [v, k])) as Record<
  DType,
  V2Datatype
>;

export const V2_DATATYPES = Object.keys(TO_DTYPE) as V2Datatype[];

export function isV2Datatype(x: unknown): x is V2Datatype {
  return typeof x === 'string' && x in TO_DTYPE;
}

export function toDType(d: V2Datatype): DType {
  return TO_DTYPE[d];
}

export function toV2Datatype(d: DType): V2Datatype {
  return FROM_DTYPE[d];
}

/** Triton's config.pbtxt names: TYPE_FP32, TYPE_STRING (for BYTES), TYPE_BOOL, ... */
export function toConfigType(d: DType): string {
  const v2 = FROM_DTYPE[d];
  return v2 === 'BYTES' ? 'TYPE_STRING' : `TYPE_${v2}`;
}

/**
 * Reads a datatype written any of the ways a config may spell it: "TYPE_FP32", "FP32", or a
 * Tessera/PyTorch dtype name ("float32"). Returns undefined for anything else.
 */
export function parseAnyDatatype(x: unknown): DType | undefined {
  if (typeof x !== 'string') return undefined;
  if (x === 'TYPE_STRING') return 'string';
  const bare = x.startsWith('TYPE_') ? x.slice(5) : x;
  if (isV2Datatype(bare)) return TO_DTYPE[bare];
  if (Object.hasOwn(FROM_DTYPE, x)) return x as DType;
  return undefined;
}

/** Bytes per element in the binary tensor extension (0 for BYTES, which is length-prefixed). */
export function binaryElementSize(d: DType): number {
  switch (d) {
    case 'bool':
    case 'int8':
    case 'uint8':
      return 1;
    case 'int16':
    case 'uint16':
    case 'float16':
    case 'bfloat16':
      return 2;
    case 'int32':
    case 'uint32':
    case 'float32':
      return 4;
    case 'int64':
    case 'uint64':
    case 'float64':
      return 8;
    case 'string':
      return 0;
    // Low-precision types (no protocol datatype names them) take one byte each in memory.
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float8e8m0':
    case 'float4e2m1':
    case 'int4':
    case 'uint4':
    case 'int2':
    case 'uint2':
      return 1;
  }
}
