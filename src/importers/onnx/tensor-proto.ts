/**
 * TensorProto <-> Tensor. Reads every storage form ONNX writes: raw_data (little-endian), the typed
 * fields (float_data, int32_data with its packing of 8/16-bit types and 16-bit float bit patterns,
 * int64_data, uint64_data, double_data, string_data) and external data files beside the model
 * (location/offset/length). Sizes are checked against the declared dims before anything is
 * allocated, so a corrupt model cannot ask for gigabytes.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { endianness } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { DTYPE_ONNX, ONNX_DTYPE } from '../../ops/cast.js';
import { allocate, bitWidth, bytesPerElement, type DType, type TypedArray } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { OptionalValue, TensorSequence, type Value } from '../../runtime/graph.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import {
  bytesToString,
  has,
  type Int64,
  type OptionalProto,
  type SequenceProto,
  type SparseTensorProto,
  type TensorProto,
  toBigInt,
  toNumber,
} from './proto.js';

/** Names of TensorProto.DataType values, for messages about the ones Tessera does not hold. */
const ONNX_TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  14: 'COMPLEX64',
  15: 'COMPLEX128',
  17: 'FLOAT8E4M3FN',
  18: 'FLOAT8E4M3FNUZ',
  19: 'FLOAT8E5M2',
  20: 'FLOAT8E5M2FNUZ',
  21: 'UINT4',
  22: 'INT4',
  23: 'FLOAT4E2M1',
  24: 'FLOAT8E8M0',
  25: 'UINT2',
  26: 'INT2',
};

export function onnxTypeName(t: number): string {
  return ONNX_DTYPE[t] ?? ONNX_TYPE_NAMES[t] ?? `type ${t}`;
}

/** The Tessera dtype of an ONNX element type, or an UNSUPPORTED error naming `what`. */
export function dtypeFromOnnx(t: number, what: string): DType {
  const d = ONNX_DTYPE[t];
  if (!d) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${what}: element type ${onnxTypeName(t)} (${t}) is not supported by Tessera`,
    );
  }
  return d;
}

export function onnxFromDtype(d: DType): number {
  return DTYPE_ONNX[d];
}

export interface TensorReadOptions {
  /** Directory external data locations are relative to; without it external data is refused. */
  baseDir?: string;
  /** Largest element count a single tensor may declare (default 2^31 - 1). */
  maxElements?: number;
  /** Name used in messages when the proto has none. */
  what?: string;
}

export const DEFAULT_MAX_ELEMENTS = 2 ** 31 - 1;

/** Dims of a TensorProto, checked to be non-negative and to fit `maxElements` in total. */
export function protoDims(dims: Int64[], what: string, maxElements = DEFAULT_MAX_ELEMENTS): number[] {
  const out: number[] = [];
  let n = 1;
  for (const d of dims) {
    const v = toNumber(d);
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new TesseraError(
        'INVALID_MODEL',
        `${what}: invalid dimension ${v} in ${fmtShape(dims.map(toNumber))}`,
      );
    }
    out.push(v);
    n *= v;
  }
  if (n > maxElements) {
    throw new TesseraError(
      'RESOURCE_EXHAUSTED',
      `${what}: shape ${fmtShape(out)} has ${n} elements, more than the limit of ${maxElements}`,
    );
  }
  return out;
}

const LITTLE_ENDIAN = endianness() === 'LE';

/** Copies little-endian bytes into a fresh, aligned typed array of `dtype`. */
function fromLittleEndian(bytes: Uint8Array, dtype: DType, n: number): TypedArray {
  const out = allocate(dtype, n) as TypedArray;
  const dst = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  dst.set(bytes.subarray(0, out.byteLength));
  const w = bytesPerElement(dtype);
  if (!LITTLE_ENDIAN && w > 1) {
    for (let i = 0; i < dst.length; i += w) dst.subarray(i, i + w).reverse();
  }
  if (dtype === 'bool') for (let i = 0; i < n; i++) (out as Uint8Array)[i] = out[i] ? 1 : 0;
  return out;
}

/**
 * ONNX packs 4-bit types two to a byte and 2-bit types four to a byte, first element in the low bits;
 * Tessera keeps one element per byte. Signed types are sign-extended on the way in.
 */
function unpackBits(bytes: ArrayLike<number>, dtype: DType, n: number): TypedArray {
  const bits = bitWidth(dtype);
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const signed = dtype === 'int4' || dtype === 'int2';
  const out = allocate(dtype, n) as Int8Array | Uint8Array;
  for (let i = 0; i < n; i++) {
    const v = ((bytes[(i / per) | 0]! & 0xff) >> ((i % per) * bits)) & mask;
    out[i] = signed && v > mask >> 1 ? v - mask - 1 : v;
  }
  return out;
}

function packBits(data: ArrayLike<number>, dtype: DType): Uint8Array {
  const bits = bitWidth(dtype);
  const per = 8 / bits;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(Math.ceil(data.length / per));
  for (let i = 0; i < data.length; i++) out[(i / per) | 0]! |= (data[i]! & mask) << ((i % per) * bits);
  return out;
}

/** Bytes n elements of `dtype` take in a TensorProto's raw_data (packed for 4-/2-bit types). */
function protoBytes(dtype: DType, n: number): number {
  return Math.ceil((n * bitWidth(dtype)) / 8);
}

function toLittleEndian(data: TypedArray): Uint8Array {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
  const w = data.BYTES_PER_ELEMENT;
  if (!LITTLE_ENDIAN && w > 1) for (let i = 0; i < bytes.length; i += w) bytes.subarray(i, i + w).reverse();
  return bytes;
}

function readExternal(p: TensorProto, what: string, nbytes: number, opts: TensorReadOptions): Uint8Array {
  const kv = new Map(p.external_data.map((e) => [e.key ?? '', e.value ?? '']));
  const location = kv.get('location');
  if (!location) throw new TesseraError('INVALID_MODEL', `${what}: external data without a 'location'`);
  if (!opts.baseDir) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${what}: its data is in the external file '${location}', but the model was given as bytes: pass the model's path or { baseDir }`,
    );
  }
  const file = resolve(opts.baseDir, location);
  const rel = relative(resolve(opts.baseDir), file);
  if (isAbsolute(location) || rel.startsWith('..') || isAbsolute(rel)) {
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: external data location '${location}' points outside the model's directory`,
    );
  }
  const offset = kv.has('offset') ? Number(kv.get('offset')) : 0;
  const length = kv.has('length') ? Number(kv.get('length')) : nbytes;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: invalid external data offset/length ${offset}/${length}`,
    );
  }
  if (length !== nbytes) {
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: external data length ${length} does not match the ${nbytes} bytes its shape needs`,
    );
  }
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (e) {
    throw new TesseraError(
      'NOT_FOUND',
      `${what}: cannot open external data file '${location}': ${(e as Error).message}`,
      {
        cause: e,
      },
    );
  }
  try {
    const size = fstatSync(fd).size;
    if (offset + length > size) {
      throw new TesseraError(
        'INVALID_MODEL',
        `${what}: external data '${location}' has ${size} bytes, the tensor needs bytes ${offset}..${offset + length}`,
      );
    }
    const buf = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const r = readSync(fd, buf, got, length - got, offset + got);
      if (r <= 0) break;
      got += r;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

function countMismatch(what: string, field: string, got: number, n: number, shape: number[]): TesseraError {
  return new TesseraError(
    'INVALID_MODEL',
    `${what}: ${field} has ${got} values, shape ${fmtShape(shape)} needs ${n}`,
  );
}

/** Decodes a TensorProto into a CPU tensor. */
export function tensorFromProto(p: TensorProto, opts: TensorReadOptions = {}): Tensor {
  const what = p.name ? `tensor '${p.name}'` : (opts.what ?? 'tensor');
  const onnxType = p.data_type ?? 0;
  const dtype = dtypeFromOnnx(onnxType, what);
  const shape = protoDims(p.dims, what, opts.maxElements);
  const n = shape.reduce((a, b) => a * b, 1);
  if (p.segment && has(p, 'segment')) {
    throw new TesseraError('UNSUPPORTED', `${what}: segmented tensors are not supported`);
  }
  const packed = bitWidth(dtype) < 8;
  const nbytes = protoBytes(dtype, n);
  const external = p.data_location === 1 || (p.external_data.length > 0 && !has(p, 'raw_data'));

  if (dtype === 'string') {
    if (external || (p.raw_data && p.raw_data.length > 0)) {
      throw new TesseraError('INVALID_MODEL', `${what}: string tensors must use string_data`);
    }
    if (p.string_data.length !== n) throw countMismatch(what, 'string_data', p.string_data.length, n, shape);
    return Tensor.fromData(
      p.string_data.map((s) => bytesToString(s)),
      shape,
      'string',
    );
  }

  if (external || has(p, 'raw_data')) {
    const raw = external ? readExternal(p, what, nbytes, opts) : p.raw_data!;
    if (raw.length !== nbytes) {
      throw new TesseraError(
        'INVALID_MODEL',
        `${what}: raw_data has ${raw.length} bytes, shape ${fmtShape(shape)} of ${dtype} needs ${nbytes}`,
      );
    }
    const data = packed ? unpackBits(raw, dtype, n) : fromLittleEndian(raw, dtype, n);
    return Tensor.fromData(data, shape, dtype);
  }

  if (packed) {
    // int32_data holds one packed byte per value: two 4-bit or four 2-bit elements.
    if (p.int32_data.length !== nbytes)
      throw countMismatch(what, 'int32_data', p.int32_data.length, nbytes, shape);
    return Tensor.fromData(unpackBits(p.int32_data, dtype, n), shape, dtype);
  }

  const out = allocateChecked(dtype, n, what);
  switch (dtype) {
    case 'float32': {
      if (p.float_data.length !== n) throw countMismatch(what, 'float_data', p.float_data.length, n, shape);
      (out as Float32Array).set(p.float_data);
      break;
    }
    case 'float64': {
      if (p.double_data.length !== n)
        throw countMismatch(what, 'double_data', p.double_data.length, n, shape);
      (out as Float64Array).set(p.double_data);
      break;
    }
    case 'int64': {
      if (p.int64_data.length !== n) throw countMismatch(what, 'int64_data', p.int64_data.length, n, shape);
      const o = out as BigInt64Array;
      for (let i = 0; i < n; i++) o[i] = toBigInt(p.int64_data[i]);
      break;
    }
    case 'uint64':
    case 'uint32': {
      if (p.uint64_data.length !== n)
        throw countMismatch(what, 'uint64_data', p.uint64_data.length, n, shape);
      for (let i = 0; i < n; i++) {
        const v = toBigInt(p.uint64_data[i], true);
        (out as any)[i] = dtype === 'uint64' ? v : Number(BigInt.asUintN(32, v));
      }
      break;
    }
    default: {
      // int32_data carries int32, int16, int8, uint16, uint8 and bool values, and the bit
      // patterns of float16/bfloat16 (one value per int32 element).
      if (p.int32_data.length !== n) throw countMismatch(what, 'int32_data', p.int32_data.length, n, shape);
      const o = out as Int32Array;
      for (let i = 0; i < n; i++) {
        const v = p.int32_data[i]!;
        o[i] = dtype === 'bool' ? (v ? 1 : 0) : dtype === 'float16' || dtype === 'bfloat16' ? v & 0xffff : v;
      }
    }
  }
  return Tensor.fromData(out, shape, dtype);
}

function allocateChecked(dtype: DType, n: number, what: string): TypedArray {
  try {
    return allocate(dtype, n) as TypedArray;
  } catch (e) {
    throw new TesseraError('RESOURCE_EXHAUSTED', `${what}: cannot allocate ${n} elements of ${dtype}`, {
      cause: e,
    });
  }
}

/** A sparse tensor (values + indices, COO) as a dense tensor. */
export function tensorFromSparseProto(p: SparseTensorProto, opts: TensorReadOptions = {}): Tensor {
  const what = opts.what ?? 'sparse tensor';
  if (!p.values || !p.indices)
    throw new TesseraError('INVALID_MODEL', `${what}: sparse tensor without values or indices`);
  const values = tensorFromProto(p.values, opts);
  const indices = tensorFromProto(p.indices, opts);
  const shape = protoDims(p.dims, what, opts.maxElements);
  const n = shape.reduce((a, b) => a * b, 1);
  const out = allocate(values.dtype, n) as any;
  const vals = values.dataSync() as any;
  const idx = indices.numbers();
  const nnz = values.numel();
  const rank = shape.length;
  // Indices are either [nnz] linear positions or [nnz, rank] coordinates.
  const linear = indices.ndim === 1;
  if ((linear && idx.length !== nnz) || (!linear && idx.length !== nnz * rank)) {
    throw new TesseraError('INVALID_MODEL', `${what}: ${idx.length} indices do not match ${nnz} values`);
  }
  for (let k = 0; k < nnz; k++) {
    let pos = 0;
    if (linear) pos = idx[k]!;
    else for (let d = 0; d < rank; d++) pos = pos * shape[d]! + idx[k * rank + d]!;
    if (!(pos >= 0 && pos < n)) throw new TesseraError('INVALID_MODEL', `${what}: index ${pos} out of range`);
    out[pos] = vals[k];
  }
  return Tensor.fromData(out, shape, values.dtype);
}

/** A TensorProto (as a plain object protobufjs can encode) holding `t`: raw_data, or string_data. */
export function tensorToProto(t: Tensor, name?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    dims: [...t.shape],
    data_type: onnxFromDtype(t.dtype),
  };
  if (name !== undefined) out.name = name;
  const data = t.dataSync();
  if (t.dtype === 'string') out.string_data = (data as string[]).map((s) => new TextEncoder().encode(s));
  else if (bitWidth(t.dtype) < 8) out.raw_data = packBits(data as Uint8Array, t.dtype);
  else out.raw_data = toLittleEndian(data as TypedArray);
  return out;
}

// ---- sequences and optionals (test data) ---------------------------------------------------------

/** Decodes a SequenceProto (elem_type TENSOR, SEQUENCE or OPTIONAL) into a TensorSequence. */
export function sequenceFromProto(p: SequenceProto, opts: TensorReadOptions = {}): TensorSequence {
  const what = p.name ? `sequence '${p.name}'` : 'sequence';
  let items: Value[];
  switch (p.elem_type ?? 1) {
    case 1:
      items = p.tensor_values.map((t) => tensorFromProto(t, opts));
      break;
    case 3:
      items = p.sequence_values.map((s) => sequenceFromProto(s, opts));
      break;
    case 5:
      items = p.optional_values.map((o) => optionalFromProto(o, opts));
      break;
    default:
      throw new TesseraError(
        'UNSUPPORTED',
        `${what}: element type ${p.elem_type} (maps, sparse) is not supported`,
      );
  }
  return new TensorSequence(items);
}

/** Decodes an OptionalProto into an OptionalValue (empty when no element is set). */
export function optionalFromProto(p: OptionalProto, opts: TensorReadOptions = {}): OptionalValue {
  if (p.tensor_value && has(p, 'tensor_value')) {
    const t = tensorFromProto(p.tensor_value, opts);
    return new OptionalValue(t, { kind: 'tensor', dtype: t.dtype });
  }
  if (p.sequence_value && has(p, 'sequence_value')) {
    const s = sequenceFromProto(p.sequence_value, opts);
    return new OptionalValue(s, {
      kind: 'sequence',
      elem: s.dtype ? { kind: 'tensor', dtype: s.dtype } : undefined,
    });
  }
  if (has(p, 'optional_value') || has(p, 'map_value') || has(p, 'sparse_tensor_value')) {
    throw new TesseraError(
      'UNSUPPORTED',
      `optional '${p.name ?? ''}': nested optionals, maps and sparse values are not supported`,
    );
  }
  return new OptionalValue(undefined);
}

/** A SequenceProto object for encoding. */
export function sequenceToProto(s: TensorSequence, name?: string): Record<string, unknown> {
  const first = s.items[0];
  const out: Record<string, unknown> = { name };
  if (first instanceof TensorSequence) {
    out.elem_type = 3;
    out.sequence_values = s.items.map((x) => sequenceToProto(x as TensorSequence));
  } else if (first instanceof OptionalValue) {
    out.elem_type = 5;
    out.optional_values = s.items.map((x) => optionalToProto(x as OptionalValue));
  } else {
    out.elem_type = 1;
    out.tensor_values = s.items.map((x) => tensorToProto(x as Tensor));
  }
  return out;
}

export function optionalToProto(o: OptionalValue, name?: string): Record<string, unknown> {
  const out: Record<string, unknown> = { name };
  if (o.value instanceof TensorSequence) {
    out.elem_type = 3;
    out.sequence_value = sequenceToProto(o.value);
  } else if (o.value) {
    out.elem_type = 1;
    out.tensor_value = tensorToProto(o.value);
  } else out.elem_type = o.elemType?.kind === 'sequence' ? 3 : 1;
  return out;
}
