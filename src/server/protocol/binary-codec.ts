/**
 * The binary tensor data extension: tensors travel after the JSON header as little-endian,
 * row-major bytes in their native size (BOOL one byte, FP16/BF16 two bytes), and BYTES elements as
 * a 4-byte little-endian length followed by the bytes.
 */
import { type DataArray, type DType, storageClass } from '../../runtime/dtype.js';
import { binaryElementSize } from '../datatypes.js';
import { badRequest } from '../errors.js';
import type { TensorPayload } from './types.js';

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** The bytes of a tensor in the wire format (a fresh copy for numeric types). */
export function encodeBinaryData(dtype: DType, data: DataArray): Uint8Array {
  if (dtype === 'string') {
    const parts = (data as string[]).map((s) => Buffer.from(s, 'utf8'));
    const total = parts.reduce((a, p) => a + 4 + p.length, 0);
    const out = Buffer.allocUnsafe(total);
    let o = 0;
    for (const p of parts) {
      out.writeUInt32LE(p.length, o);
      p.copy(out, o + 4);
      o += 4 + p.length;
    }
    return out;
  }
  const arr = data as Exclude<DataArray, string[]>;
  const bytes = new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);
  if (dtype === 'bool') {
    // Storage is 0/1 already, but normalise anything else a kernel may have left.
    const out = new Uint8Array(bytes.length);
    for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] ? 1 : 0;
    return out;
  }
  if (LITTLE_ENDIAN) return bytes;
  const copy = bytes.slice();
  swapBytes(copy, binaryElementSize(dtype));
  return copy;
}

/** Decodes one input's bytes; every mismatch is a 400 naming the input. */
export function decodeBinaryData(
  name: string,
  datatype: string,
  dtype: DType,
  shape: number[],
  bytes: Uint8Array,
): TensorPayload {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'string') {
    // Every element takes at least its 4-byte length: check before allocating for the shape.
    if (n * 4 > bytes.length) {
      throw badRequest(
        `input '${name}': shape [${shape.join(',')}] needs ${n} BYTES elements, but ${bytes.length} bytes hold at most ${Math.floor(bytes.length / 4)}`,
      );
    }
    const out = new Array<string>(n);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let o = 0;
    for (let i = 0; i < n; i++) {
      if (o + 4 > bytes.length) {
        throw badRequest(
          `input '${name}': BYTES data holds ${i} elements, shape [${shape.join(',')}] needs ${n}`,
        );
      }
      const len = view.getUint32(o, true);
      if (o + 4 + len > bytes.length) {
        throw badRequest(
          `input '${name}': BYTES element ${i} claims ${len} bytes but only ${bytes.length - o - 4} remain`,
        );
      }
      out[i] = Buffer.from(bytes.buffer, bytes.byteOffset + o + 4, len).toString('utf8');
      o += 4 + len;
    }
    if (o !== bytes.length) {
      throw badRequest(
        `input '${name}': ${bytes.length - o} bytes left over after the ${n} BYTES elements of shape [${shape.join(',')}]`,
      );
    }
    return { name, dtype, shape, data: out };
  }
  const size = binaryElementSize(dtype);
  if (bytes.length !== n * size) {
    throw badRequest(
      `input '${name}': shape [${shape.join(',')}] of ${datatype} needs ${n * size} bytes of binary data, got ${bytes.length}`,
    );
  }
  // Copy into a fresh, aligned buffer: the slice of the HTTP body may start at any offset.
  const buf = new ArrayBuffer(n * size);
  const copy = new Uint8Array(buf);
  copy.set(bytes);
  if (!LITTLE_ENDIAN && size > 1) swapBytes(copy, size);
  if (dtype === 'bool') {
    for (let i = 0; i < n; i++) copy[i] = copy[i] ? 1 : 0;
  }
  return { name, dtype, shape, data: new (storageClass(dtype)!)(buf) };
}
