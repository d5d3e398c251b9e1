/**
 * Element types. Names follow PyTorch (float32, int64, bool, ...); every ONNX
 * TensorProto type that the conformance data uses has an entry, so imported graphs
 * and eager code share one vocabulary.
 */
import { TesseraError } from './errors.js';
import {
  decodeE8M0,
  decodeMiniFloat,
  encodeE8M0,
  encodeMiniFloat,
  isMiniFloatDType,
  type MiniFloatDType,
  miniFloatTable,
} from './minifloat.js';

export type DType =
  | 'float32'
  | 'float64'
  | 'float16'
  | 'bfloat16'
  | 'int8'
  | 'uint8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'uint64'
  | 'bool'
  | 'string'
  // Low-precision types (ONNX quantization and float8 tensors), one element per byte of storage:
  // float8/float4 as bit patterns (src/runtime/minifloat.ts), 4-/2-bit integers as their values.
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'float8e8m0'
  | 'float4e2m1'
  | 'int4'
  | 'uint4'
  | 'int2'
  | 'uint2';

export type TypedArray =
  | Float32Array
  | Float64Array
  | Int8Array
  | Uint8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array;

/** What a tensor's storage holds: a TypedArray, or plain strings for `string` tensors. */
export type DataArray = TypedArray | string[];

/** A TypedArray class: constructible from a length or from a buffer view (offset and length in elements). */
export type ArrayCtor = {
  new (n: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset?: number, length?: number): TypedArray;
  BYTES_PER_ELEMENT: number;
};

/** Storage class per dtype. float16/bfloat16 keep their 16-bit patterns in a Uint16Array; bool is 0/1 in a Uint8Array. */
const STORAGE: Record<Exclude<DType, 'string'>, ArrayCtor> = {
  float32: Float32Array,
  float64: Float64Array,
  float16: Uint16Array,
  bfloat16: Uint16Array,
  int8: Int8Array,
  uint8: Uint8Array,
  int16: Int16Array,
  uint16: Uint16Array,
  int32: Int32Array,
  uint32: Uint32Array,
  int64: BigInt64Array,
  uint64: BigUint64Array,
  bool: Uint8Array,
  float8e4m3fn: Uint8Array,
  float8e4m3fnuz: Uint8Array,
  float8e5m2: Uint8Array,
  float8e5m2fnuz: Uint8Array,
  float8e8m0: Uint8Array,
  float4e2m1: Uint8Array,
  int4: Int8Array,
  uint4: Uint8Array,
  int2: Int8Array,
  uint2: Uint8Array,
};

export const DTYPES: readonly DType[] = [...(Object.keys(STORAGE) as DType[]), 'string'];

/** The TypedArray class that stores `dtype` (undefined for strings): one table for every view over raw bytes. */
export function storageClass(dtype: DType): ArrayCtor | undefined {
  return dtype === 'string' ? undefined : STORAGE[dtype];
}

export function isDType(x: unknown): x is DType {
  return typeof x === 'string' && (DTYPES as readonly string[]).includes(x);
}

/** Where allocate() may take an array of a dead intermediate from (the graph executor's run). */
export interface ArrayPool {
  /** Zeroed unless `zero` is false (allocateUnset: the caller writes every element). */
  take(ctor: ArrayCtor, n: number, zero?: boolean): TypedArray | undefined;
}
let arrayPool: ArrayPool | null = null;
/** Installs (or, with null, removes) the pool allocate() draws from; returns the previous one. */
export function setArrayPool(pool: ArrayPool | null): ArrayPool | null {
  const prev = arrayPool;
  arrayPool = pool;
  return prev;
}

export function allocate(dtype: DType, n: number): DataArray {
  if (dtype === 'string') return new Array<string>(n).fill('');
  const C = STORAGE[dtype];
  return (n > 0 && arrayPool?.take(C, n)) || new C(n);
}

/** Arrays of this many bytes and more that allocateUnset() takes uninitialized from malloc. */
const UNSET_MIN_BYTES = 1 << 16;

/**
 * As allocate(), for a kernel that writes every element of the array: one reused from the run's
 * dead intermediates keeps its old contents instead of being zeroed first (a second pass over a
 * convolution's or a concatenation's whole output), and a large new one is not zeroed either
 * (Buffer.allocUnsafeSlow: its own ArrayBuffer, at offset 0, as `new C(n)` would give). Zeroing a
 * 4 MiB product's output cost 0.3-0.7 ms of a 7-13 ms GEMM, all of it on the calling thread.
 */
export function allocateUnset(dtype: DType, n: number): DataArray {
  if (dtype === 'string') return allocate(dtype, n);
  const C = STORAGE[dtype];
  const pooled = n > 0 && arrayPool?.take(C, n, false);
  if (pooled) return pooled;
  const bytes = n * C.BYTES_PER_ELEMENT;
  if (bytes < UNSET_MIN_BYTES) return new C(n);
  return new C(Buffer.allocUnsafeSlow(bytes).buffer, 0, n);
}

export function bytesPerElement(dtype: DType): number {
  return dtype === 'string' ? 0 : STORAGE[dtype].BYTES_PER_ELEMENT;
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64' || d === 'float16' || d === 'bfloat16';
}
export function isInt(d: DType): boolean {
  return (
    d === 'int8' ||
    d === 'uint8' ||
    d === 'int16' ||
    d === 'uint16' ||
    d === 'int32' ||
    d === 'uint32' ||
    d === 'int64' ||
    d === 'uint64'
  );
}
export function isBigInt(d: DType): boolean {
  return d === 'int64' || d === 'uint64';
}
/** Storage holds something other than the number itself (16-bit float patterns, BigInt, float8 patterns), or writes need more than a TypedArray store (4-/2-bit wrap-around). */
export function needsConversion(d: DType): boolean {
  return d === 'float16' || d === 'bfloat16' || d === 'int64' || d === 'uint64' || isLowPrecision(d);
}

/** float8 and float4 types: bit patterns in a Uint8Array (float8e8m0 included). */
export function isFloat8(d: DType): boolean {
  return isMiniFloatDType(d) || d === 'float8e8m0';
}
/** int4/uint4/int2/uint2: values in an Int8Array/Uint8Array, packed in ONNX files. */
export function isSubByteInt(d: DType): boolean {
  return d === 'int4' || d === 'uint4' || d === 'int2' || d === 'uint2';
}
/** The low-precision storage types: float8, float4 and the sub-byte integers. */
export function isLowPrecision(d: DType): boolean {
  return isFloat8(d) || isSubByteInt(d);
}
/** Bits one element takes in ONNX storage (4 or 2 for the packed types; 0 for strings). */
export function bitWidth(d: DType): number {
  if (d === 'int4' || d === 'uint4' || d === 'float4e2m1') return 4;
  if (d === 'int2' || d === 'uint2') return 2;
  return 8 * bytesPerElement(d);
}
/** [min, max] of an integer dtype (bool is [0, 1]); undefined for floats and strings. */
export function intRange(d: DType): [number, number] | undefined {
  switch (d) {
    case 'bool':
      return [0, 1];
    case 'int2':
      return [-2, 1];
    case 'uint2':
      return [0, 3];
    case 'int4':
      return [-8, 7];
    case 'uint4':
      return [0, 15];
    case 'int8':
      return [-128, 127];
    case 'uint8':
      return [0, 255];
    case 'int16':
      return [-32768, 32767];
    case 'uint16':
      return [0, 65535];
    case 'int32':
      return [-(2 ** 31), 2 ** 31 - 1];
    case 'uint32':
      return [0, 2 ** 32 - 1];
    case 'int64':
      return [-(2 ** 63), 2 ** 63 - 1];
    case 'uint64':
      return [0, 2 ** 64 - 1];
    default:
      return undefined;
  }
}

/** The dtype whose storage class matches a TypedArray (Uint8Array -> uint8, Uint16Array -> uint16). */
export function dtypeOfArray(a: DataArray): DType {
  if (Array.isArray(a)) return 'string';
  if (a instanceof Float32Array) return 'float32';
  if (a instanceof Float64Array) return 'float64';
  if (a instanceof Int8Array) return 'int8';
  if (a instanceof Uint8Array) return 'uint8';
  if (a instanceof Int16Array) return 'int16';
  if (a instanceof Uint16Array) return 'uint16';
  if (a instanceof Int32Array) return 'int32';
  if (a instanceof Uint32Array) return 'uint32';
  if (a instanceof BigInt64Array) return 'int64';
  if (a instanceof BigUint64Array) return 'uint64';
  throw new TesseraError('INVALID_ARGUMENT', `unsupported array type ${(a as object).constructor?.name}`);
}

export function storageMatches(dtype: DType, a: DataArray): boolean {
  if (dtype === 'string') return Array.isArray(a);
  return a instanceof STORAGE[dtype];
}

// ---- float16 / bfloat16 bit conversions -------------------------------------------------------
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

export function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Round-to-nearest-even float32 -> float16 bits. */
export function f32ToF16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    if (rem > mid || (rem === mid && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++;
  e = half >>> 10;
  return sign | half;
}

export function bf16ToF32(h: number): number {
  u32[0] = h << 16;
  return f32[0]!;
}
export function f32ToBf16(v: number): number {
  f32[0] = v;
  const x = u32[0]!;
  if (Number.isNaN(v)) return 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/** Reads element i of storage as a JS number (booleans 0/1, BigInt narrowed, 16-bit floats decoded). */
export function getNumber(dtype: DType, a: DataArray, i: number): number {
  switch (dtype) {
    case 'float16':
      return f16ToF32((a as Uint16Array)[i]!);
    case 'bfloat16':
      return bf16ToF32((a as Uint16Array)[i]!);
    case 'int64':
    case 'uint64':
      return Number((a as BigInt64Array)[i]!);
    case 'string':
      return Number((a as string[])[i]);
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float4e2m1':
      return decodeMiniFloat(dtype, (a as Uint8Array)[i]!);
    case 'float8e8m0':
      return decodeE8M0((a as Uint8Array)[i]!);
    default:
      return (a as Float64Array)[i]!;
  }
}

/** Converts a JS number to what the dtype stores, with C-like casts (truncation, wrap-around). */
export function encodeNumber(dtype: DType, v: number): number | bigint {
  switch (dtype) {
    case 'float16':
      return f32ToF16(v);
    case 'bfloat16':
      return f32ToBf16(v);
    case 'int64':
      return Number.isFinite(v)
        ? BigInt.asIntN(64, BigInt(Math.trunc(v)))
        : v > 0
          ? 2n ** 63n - 1n
          : -(2n ** 63n);
    case 'uint64':
      return Number.isFinite(v) ? BigInt.asUintN(64, BigInt(Math.trunc(v))) : 0n;
    case 'bool':
      return v !== 0 ? 1 : 0; // NaN is true, as in C, ONNX Runtime and torch
    // Sub-byte integers wrap like a C cast: truncate, keep the low bits, sign-extend.
    case 'int4':
      return ((v | 0) << 28) >> 28;
    case 'uint4':
      return (v | 0) & 15;
    case 'int2':
      return ((v | 0) << 30) >> 30;
    case 'uint2':
      return (v | 0) & 3;
    // float8/float4: nearest, ties to even, without saturation (as torch's .to(float8)); Cast's
    // `saturate` is applied by the Cast op (src/ops/cast.ts).
    case 'float8e4m3fn':
    case 'float8e4m3fnuz':
    case 'float8e5m2':
    case 'float8e5m2fnuz':
    case 'float4e2m1':
      return encodeMiniFloat(dtype, v, false);
    case 'float8e8m0':
      return encodeE8M0(v, false, 'up');
    default:
      return v;
  }
}

/** Encodes `v` into a float8/float4 pattern with Cast's `saturate` and float8e8m0 `round_mode`. */
export function encodeFloat8(
  dtype: DType,
  v: number,
  saturate: boolean,
  roundMode: 'up' | 'down' | 'nearest' = 'up',
): number {
  if (dtype === 'float8e8m0') return encodeE8M0(v, saturate, roundMode);
  if (isMiniFloatDType(dtype)) return encodeMiniFloat(dtype, v, saturate);
  throw new TesseraError('INTERNAL', `encodeFloat8: ${dtype} is not a float8/float4 type`);
}

/** A storage array of `dtype` filled from plain numbers. */
export function fromNumbers(dtype: DType, values: ArrayLike<number>): DataArray {
  const n = values.length;
  if (dtype === 'string') return Array.from(values, String);
  const out = allocate(dtype, n) as TypedArray;
  if (!needsConversion(dtype) && dtype !== 'bool') {
    (out as Float64Array).set(values);
    return out;
  }
  for (let i = 0; i < n; i++) (out as any)[i] = encodeNumber(dtype, values[i]!);
  return out;
}

/** Storage converted to plain numbers: 16-, 8- and 4-bit floats decode to Float32Array, 64-bit ints to Float64Array. */
export function toNumbers(dtype: DType, a: DataArray): Exclude<TypedArray, BigInt64Array | BigUint64Array> {
  if (isMiniFloatDType(dtype) || dtype === 'float8e8m0') {
    const out = new Float32Array(a.length);
    const bits = a as Uint8Array;
    if (dtype === 'float8e8m0') for (let i = 0; i < a.length; i++) out[i] = decodeE8M0(bits[i]!);
    else {
      const table = miniFloatTable(dtype as MiniFloatDType);
      for (let i = 0; i < a.length; i++) out[i] = table[bits[i]!]!;
    }
    return out;
  }
  if (dtype === 'float16' || dtype === 'bfloat16') {
    const out = new Float32Array(a.length);
    const dec = dtype === 'float16' ? f16ToF32 : bf16ToF32;
    for (let i = 0; i < a.length; i++) out[i] = dec((a as Uint16Array)[i]!);
    return out;
  }
  if (dtype === 'int64' || dtype === 'uint64' || dtype === 'string') {
    const out = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) out[i] = Number(a[i]);
    return out;
  }
  return a as Exclude<TypedArray, BigInt64Array | BigUint64Array>;
}

// ---- type promotion (PyTorch rules) -----------------------------------------------------------
const CATEGORY: Record<DType, number> = {
  bool: 0,
  uint8: 1,
  int8: 1,
  int16: 1,
  uint16: 1,
  int32: 1,
  uint32: 1,
  int64: 1,
  uint64: 1,
  float16: 2,
  bfloat16: 2,
  float32: 2,
  float64: 2,
  string: 3,
  // Low-precision types do not promote (as torch refuses for float8): cast them first.
  float8e4m3fn: 4,
  float8e4m3fnuz: 4,
  float8e5m2: 4,
  float8e5m2fnuz: 4,
  float8e8m0: 4,
  float4e2m1: 4,
  int4: 4,
  uint4: 4,
  int2: 4,
  uint2: 4,
};
const INT_ORDER: DType[] = ['uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64'];
const FLOAT_ORDER: DType[] = ['float16', 'bfloat16', 'float32', 'float64'];

/** torch.promote_types for two tensor dtypes. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === b) return a;
  const ca = CATEGORY[a];
  const cb = CATEGORY[b];
  if (ca === 3 || cb === 3 || ca === 4 || cb === 4)
    throw new TesseraError('DTYPE_MISMATCH', `cannot promote ${a} with ${b}`);
  if (ca !== cb) return ca > cb ? a : b;
  if (ca === 2) {
    if ((a === 'float16' && b === 'bfloat16') || (a === 'bfloat16' && b === 'float16')) return 'float32';
    return FLOAT_ORDER.indexOf(a) > FLOAT_ORDER.indexOf(b) ? a : b;
  }
  // uint8 with a signed type needs the next signed size, as in torch.
  if ((a === 'uint8' && b === 'int8') || (a === 'int8' && b === 'uint8')) return 'int16';
  return INT_ORDER.indexOf(a) > INT_ORDER.indexOf(b) ? a : b;
}

/** The dtype a tensor of `t` combined with a Python-style scalar gets (scalars never widen within a category). */
export function promoteWithScalar(t: DType, scalar: number | boolean): DType {
  if (typeof scalar === 'boolean') return t;
  if (Number.isInteger(scalar)) return t === 'bool' ? 'int64' : t;
  return isFloat(t) ? t : 'float32';
}

/** The default dtype for numbers written by the user: float32 (as torch.get_default_dtype()). */
export const DEFAULT_FLOAT: DType = 'float32';
