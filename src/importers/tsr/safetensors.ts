/**
 * The safetensors layout (huggingface/safetensors): an 8-byte little-endian header length N, N
 * bytes of JSON header `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str:
 * str}}` padded with spaces to a multiple of 8, then the tensor bytes (little-endian, row-major),
 * offsets relative to the end of the header. Tessera's .tsr files and training checkpoints are
 * safetensors files, so any safetensors reader can load their weights.
 *
 * Decoding checks what the format promises before allocating: the header fits the file, offsets
 * are in order, cover the data without holes or overlaps, and match each tensor's shape and dtype.
 */
import { endianness } from 'node:os';
import { allocate, bytesPerElement, type DType, type TypedArray } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';

/** safetensors dtype names per Tessera dtype (strings have no safetensors form). */
const ST_DTYPE: Record<Exclude<DType, 'string'>, string> = {
  float64: 'F64',
  float32: 'F32',
  float16: 'F16',
  bfloat16: 'BF16',
  int64: 'I64',
  int32: 'I32',
  int16: 'I16',
  int8: 'I8',
  uint64: 'U64',
  uint32: 'U32',
  uint16: 'U16',
  uint8: 'U8',
  bool: 'BOOL',
  // safetensors names for the float8 types it has; the others (which it lacks, or packs two to a
  // byte) get Tessera's own names, one element per byte as Tessera stores them.
  float8e4m3fn: 'F8_E4M3',
  float8e5m2: 'F8_E5M2',
  float8e8m0: 'F8_E8M0',
  float8e4m3fnuz: 'TESSERA_F8_E4M3FNUZ',
  float8e5m2fnuz: 'TESSERA_F8_E5M2FNUZ',
  float4e2m1: 'TESSERA_F4_E2M1',
  int4: 'TESSERA_I4',
  uint4: 'TESSERA_U4',
  int2: 'TESSERA_I2',
  uint2: 'TESSERA_U2',
};
const FROM_ST: Record<string, DType> = Object.fromEntries(
  Object.entries(ST_DTYPE).map(([k, v]) => [v, k as DType]),
);

/** Largest header the decoder accepts (the reference implementation's limit is 100 MB). */
export const MAX_HEADER_BYTES = 100 * 1024 * 1024;

const LITTLE_ENDIAN = endianness() === 'LE';

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

/** Whether a tensor of this dtype can be stored in the safetensors payload. */
export function isSafetensorsDType(d: DType): boolean {
  return d !== 'string';
}

function leBytes(t: Tensor): Uint8Array {
  const data = t.dataSync() as TypedArray;
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const w = data.BYTES_PER_ELEMENT;
  if (LITTLE_ENDIAN || w === 1) return bytes;
  const copy = bytes.slice();
  for (let i = 0; i < copy.length; i += w) copy.subarray(i, i + w).reverse();
  return copy;
}

/** Encodes tensors (CPU, any dtype but string) and string metadata as one safetensors buffer. */
export function encodeSafetensors(
  tensors: Iterable<[string, Tensor]>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  const parts: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === '__metadata__' || name in header) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `safetensors: tensor name '${name}' is reserved or used twice`,
      );
    }
    if (t.dtype === 'string') {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `safetensors: tensor '${name}' is a string tensor; the format holds numbers only`,
      );
    }
    if (t.device !== 'cpu') {
      throw new TesseraError(
        'UNSUPPORTED',
        `safetensors: tensor '${name}' is on ${t.device}; move it to cpu first`,
      );
    }
    const bytes = leBytes(t);
    header[name] = {
      dtype: ST_DTYPE[t.dtype as Exclude<DType, 'string'>],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes.length],
    };
    parts.push(bytes);
    offset += bytes.length;
  }
  let json = JSON.stringify(header);
  const enc = new TextEncoder();
  let headerBytes = enc.encode(json);
  // Pad with spaces so the data starts 8-byte aligned (as the reference writer does).
  const pad = (8 - (headerBytes.length % 8)) % 8;
  if (pad) {
    json += ' '.repeat(pad);
    headerBytes = enc.encode(json);
  }
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let p = 8 + headerBytes.length;
  for (const b of parts) {
    out.set(b, p);
    p += b.length;
  }
  return out;
}

function bad(what: string, msg: string): TesseraError {
  return new TesseraError('INVALID_MODEL', `${what}: ${msg}`);
}

/** Decodes a safetensors buffer into fresh (aligned, owned) CPU tensors and its metadata. */
export function decodeSafetensors(bytes: Uint8Array, what = 'safetensors'): SafetensorsContents {
  if (bytes.length < 8) throw bad(what, `${bytes.length} bytes is too short for a safetensors header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  if (n > MAX_HEADER_BYTES || 8 + n > bytes.length) {
    throw bad(what, `header length ${n} does not fit the ${bytes.length}-byte file`);
  }
  let header: Record<string, any>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw bad(what, `the header is not valid UTF-8 JSON (${(e as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    throw bad(what, 'the header must be a JSON object');
  }
  const dataStart = 8 + n;
  const dataLen = bytes.length - dataStart;
  const metadata: Record<string, string> = {};
  const raw = header.__metadata__;
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
      throw bad(what, '__metadata__ must be an object');
    for (const [k, v] of Object.entries(raw)) {
      if (typeof v !== 'string')
        throw bad(what, `__metadata__ value '${k}' must be a string, got ${typeof v}`);
      metadata[k] = v;
    }
  }
  const entries: { name: string; dtype: DType; shape: number[]; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const where = `${what}: tensor '${name}'`;
    if (typeof info !== 'object' || info === null)
      throw new TesseraError('INVALID_MODEL', `${where}: entry must be an object`);
    const dtype = FROM_ST[info.dtype as string];
    if (!dtype) throw new TesseraError('UNSUPPORTED', `${where}: dtype '${info.dtype}' is not supported`);
    const shape = info.shape;
    if (!Array.isArray(shape) || shape.some((d: unknown) => !Number.isSafeInteger(d) || (d as number) < 0)) {
      throw new TesseraError(
        'INVALID_MODEL',
        `${where}: shape must be a list of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    const off = info.data_offsets;
    if (
      !Array.isArray(off) ||
      off.length !== 2 ||
      !off.every((x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0)
    ) {
      throw new TesseraError(
        'INVALID_MODEL',
        `${where}: data_offsets must be [begin, end], got ${JSON.stringify(off)}`,
      );
    }
    const [begin, end] = off as [number, number];
    const need = numel(shape) * bytesPerElement(dtype);
    if (end < begin || end - begin !== need) {
      throw new TesseraError(
        'INVALID_MODEL',
        `${where}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, shape ${fmtShape(shape)} of ${dtype} needs ${need}`,
      );
    }
    if (end > dataLen)
      throw new TesseraError(
        'INVALID_MODEL',
        `${where}: data ends at byte ${end}, the payload has ${dataLen}`,
      );
    entries.push({ name, dtype, shape, begin, end });
  }
  // The format requires the tensors to cover the payload exactly, without holes or overlaps.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let pos = 0;
  for (const e of sorted) {
    if (e.begin !== pos)
      throw bad(what, `tensor '${e.name}' starts at byte ${e.begin}, expected ${pos} (a hole or an overlap)`);
    pos = e.end;
  }
  if (pos !== dataLen) throw bad(what, `the tensors cover ${pos} of the ${dataLen} payload bytes`);

  const tensors = new Map<string, Tensor>();
  for (const e of entries) {
    const count = numel(e.shape);
    const out = allocate(e.dtype, count) as TypedArray;
    const dst = new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
    dst.set(bytes.subarray(dataStart + e.begin, dataStart + e.end));
    const w = out.BYTES_PER_ELEMENT;
    if (!LITTLE_ENDIAN && w > 1) for (let i = 0; i < dst.length; i += w) dst.subarray(i, i + w).reverse();
    if (e.dtype === 'bool') for (let i = 0; i < count; i++) (out as Uint8Array)[i] = out[i] ? 1 : 0;
    tensors.set(e.name, Tensor.fromData(out, e.shape, e.dtype));
  }
  return { tensors, metadata };
}
