/**
 * How each dtype lives in a GPU buffer. WGSL computes on 32-bit words, so:
 * - float32 is itself; float16 is stored natively as f16 (half the memory and bandwidth) when the
 *   device has 'shader-f16' (`setNativeF16`), else, like bfloat16 always, as f32 values that
 *   kernels round to the 16-bit type on every write. Either way kernels compute in f32 and round
 *   once per write, so results match a 16-bit CPU tensor, and reading back is exact;
 * - int8/int16/int32 are i32, uint8/uint16/uint32 and bool (0/1) are u32, wrapped on every write;
 * - int64, uint64 and float64 keep their 8 raw bytes (two u32 words, low word first), so moving them
 *   is exact; kernels index with the low word and arithmetic on them falls back to the CPU.
 */
import { type DataArray, type DType, f32ToBf16, f32ToF16, toNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';

export type WordKind = 'f32' | 'i32' | 'u32' | 'x64';

export interface Repr {
  /** The domain kernels compute in (float16 stored as f16 still computes in f32). */
  kind: WordKind;
  /** The WGSL element type of the storage array. */
  wgsl: 'f16' | 'f32' | 'i32' | 'u32' | 'vec2<u32>';
  /** Bytes per element on the GPU. */
  bytes: 2 | 4 | 8;
}

const F32: Repr = { kind: 'f32', wgsl: 'f32', bytes: 4 };
const F16: Repr = { kind: 'f32', wgsl: 'f16', bytes: 2 };
const I32: Repr = { kind: 'i32', wgsl: 'i32', bytes: 4 };
const U32: Repr = { kind: 'u32', wgsl: 'u32', bytes: 4 };
const X64: Repr = { kind: 'x64', wgsl: 'vec2<u32>', bytes: 8 };

let f16Native = false;

/**
 * Stores float16 as WGSL f16 from now on (the device has 'shader-f16' and the caller wants it), or
 * as rounded f32. Set when a GPU client starts, before any float16 tensor is on it.
 */
export function setNativeF16(on: boolean): void {
  f16Native = on;
}

/** Whether float16 tensors are stored as f16 on the GPU (see `setNativeF16`). */
export function nativeF16(): boolean {
  return f16Native;
}

export function reprOf(dtype: DType): Repr {
  switch (dtype) {
    case 'float16':
      return f16Native ? F16 : F32;
    case 'float32':
    case 'bfloat16':
      return F32;
    case 'int8':
    case 'int16':
    case 'int32':
      return I32;
    case 'uint8':
    case 'uint16':
    case 'uint32':
    case 'bool':
      return U32;
    case 'int64':
    case 'uint64':
    case 'float64':
      return X64;
    default:
      throw new TesseraError(
        'UNSUPPORTED',
        `webgpu: ${dtype} tensors cannot live on the GPU; keep them on the cpu`,
      );
  }
}

const HELD = new Set<DType>([
  'float32',
  'float16',
  'bfloat16',
  'float64',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'uint64',
  'bool',
]);

/**
 * Whether tensors of `dtype` can live on the GPU. Strings and the low-precision storage types
 * (float8, float4, int4, int2) stay in CPU memory; ops on them run on the CPU.
 */
export function gpuHolds(dtype: DType): boolean {
  return HELD.has(dtype);
}

/** GPU bytes for `n` elements (at least 4: WebGPU bindings cannot be empty). */
export function gpuBytes(dtype: DType, n: number): number {
  return Math.max(4, n * reprOf(dtype).bytes);
}

/**
 * A contiguous CPU storage array as the bytes its GPU buffer holds (a fresh buffer, safe to
 * transfer), padded to whole 32-bit words.
 */
export function encodeForGpu(dtype: DType, data: DataArray): ArrayBuffer {
  const r = reprOf(dtype);
  // The same bytes as on the CPU: float16 bits when stored as f16, 32- and 64-bit types as they are.
  if (
    r.wgsl === 'f16' ||
    r.kind === 'x64' ||
    dtype === 'float32' ||
    dtype === 'int32' ||
    dtype === 'uint32'
  ) {
    const src = data as Float32Array;
    const out = new Uint8Array(Math.ceil((src.length * r.bytes) / 4) * 4);
    out.set(new Uint8Array(src.buffer, src.byteOffset, src.byteLength));
    return out.buffer;
  }
  const nums = toNumbers(dtype, data);
  const out =
    r.kind === 'f32'
      ? new Float32Array(nums.length)
      : r.kind === 'i32'
        ? new Int32Array(nums.length)
        : new Uint32Array(nums.length);
  out.set(nums);
  return out.buffer;
}

/** The GPU bytes of `n` elements back to CPU storage of `dtype`. */
export function decodeFromGpu(dtype: DType, bytes: ArrayBuffer, n: number): DataArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(bytes, 0, n);
    case 'int32':
      return new Int32Array(bytes, 0, n);
    case 'uint32':
      return new Uint32Array(bytes, 0, n);
    case 'int64':
      return new BigInt64Array(bytes, 0, n);
    case 'uint64':
      return new BigUint64Array(bytes, 0, n);
    case 'float64':
      return new Float64Array(bytes, 0, n);
    case 'float16':
    case 'bfloat16': {
      if (reprOf(dtype).wgsl === 'f16') return new Uint16Array(bytes, 0, n);
      const src = new Float32Array(bytes, 0, n);
      const out = new Uint16Array(n);
      const enc = dtype === 'float16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < n; i++) out[i] = enc(src[i]!);
      return out;
    }
    case 'int8':
      return Int8Array.from(new Int32Array(bytes, 0, n));
    case 'int16':
      return Int16Array.from(new Int32Array(bytes, 0, n));
    case 'uint8':
    case 'bool':
      return Uint8Array.from(new Uint32Array(bytes, 0, n));
    case 'uint16':
      return Uint16Array.from(new Uint32Array(bytes, 0, n));
    default:
      throw new TesseraError('UNSUPPORTED', `webgpu: cannot read ${dtype} back from the GPU`);
  }
}
