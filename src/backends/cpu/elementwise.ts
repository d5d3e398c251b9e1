/**
 * Plain TypeScript elementwise loops with NumPy broadcasting over strided inputs. Kernels compute
 * on JS numbers and write the output dtype's storage (16-bit floats and 64-bit ints converted).
 */
import {
  allocate,
  allocateUnset,
  type DType,
  encodeNumber,
  getNumber,
  needsConversion,
  type TypedArray,
} from '../../runtime/dtype.js';
import { broadcastShapes, broadcastStrides, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { native, nativeGemmOn } from './wasm/runtime.js';

type Reader = (i: number) => number;

/** Random-access reader of a storage array as numbers. */
function reader(t: Tensor): Reader {
  const data = t.storage.data!;
  if (!needsConversion(t.dtype) && t.dtype !== 'string') {
    const a = data as Float64Array;
    return (i) => a[i]!;
  }
  return (i) => getNumber(t.dtype, data, i);
}

function writer(dtype: DType, out: TypedArray): (i: number, v: number) => void {
  if (!needsConversion(dtype) && dtype !== 'bool') {
    const o = out as Float64Array;
    return (i, v) => {
      o[i] = v;
    };
  }
  return (i, v) => {
    (out as any)[i] = encodeNumber(dtype, v);
  };
}

/**
 * Calls `visit(outIndex, offsets)` for every element of the broadcast output shape, where
 * offsets[k] is the storage offset of input k. Innermost dimension first, like NumPy's nditer.
 */
export function forEachBroadcast(
  inputs: readonly Tensor[],
  outShape: readonly number[],
  visit: (outIndex: number, offsets: Int32Array | number[]) => void,
): void {
  const n = numel(outShape);
  if (n === 0) return;
  const k = inputs.length;
  const rank = outShape.length;
  const strides = inputs.map((t) => broadcastStrides(t.shape, t.strides, outShape));
  const offs = inputs.map((t) => t.offset);
  const idx = new Array<number>(rank).fill(0);
  for (let i = 0; i < n; i++) {
    visit(i, offs);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < outShape[d]!) {
        for (let j = 0; j < k; j++) offs[j]! += strides[j]![d]!;
        break;
      }
      for (let j = 0; j < k; j++) offs[j]! -= strides[j]![d]! * (outShape[d]! - 1);
      idx[d] = 0;
    }
  }
}

/** out[i] = f(x[i]) with dtype `outDtype` (defaults to x's). */
export function mapUnary(x: Tensor, f: (v: number) => number, outDtype: DType = x.dtype): Tensor {
  const n = x.numel();
  const out = allocate(outDtype, n) as TypedArray;
  const w = writer(outDtype, out);
  if (x.isContiguous() && !needsConversion(x.dtype) && x.dtype !== 'string') {
    const a = x.storage.data as Float64Array;
    const o = x.offset;
    for (let i = 0; i < n; i++) w(i, f(a[o + i]!));
  } else {
    const r = reader(x);
    forEachBroadcast([x], x.shape, (i, offs) => w(i, f(r(offs[0]!))));
  }
  return Tensor.fromData(out, x.shape, outDtype);
}

/** out = f(a, b) broadcast; `who` names the op in shape errors. */
export function mapBinary(
  a: Tensor,
  b: Tensor,
  f: (x: number, y: number) => number,
  outDtype: DType = a.dtype,
  who = 'binary op',
): Tensor {
  const shape = broadcastShapes([a.shape, b.shape], who);
  const n = numel(shape);
  const out = allocate(outDtype, n) as TypedArray;
  const w = writer(outDtype, out);
  const ra = reader(a);
  const rb = reader(b);
  const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
  if (same && a.isContiguous() && b.isContiguous()) {
    const oa = a.offset;
    const ob = b.offset;
    for (let i = 0; i < n; i++) w(i, f(ra(oa + i), rb(ob + i)));
  } else {
    forEachBroadcast([a, b], shape, (i, offs) => w(i, f(ra(offs[0]!), rb(offs[1]!))));
  }
  return Tensor.fromData(out, shape, outDtype);
}

/** out = f(a, b, c) broadcast (Where, Clip with tensor bounds, ...). */
export function mapTernary(
  a: Tensor,
  b: Tensor,
  c: Tensor,
  f: (x: number, y: number, z: number) => number,
  outDtype: DType,
  who = 'ternary op',
): Tensor {
  const shape = broadcastShapes([a.shape, b.shape, c.shape], who);
  const out = allocate(outDtype, numel(shape)) as TypedArray;
  const w = writer(outDtype, out);
  const [ra, rb, rc] = [reader(a), reader(b), reader(c)];
  forEachBroadcast([a, b, c], shape, (i, o) => w(i, f(ra(o[0]!), rb(o[1]!), rc(o[2]!))));
  return Tensor.fromData(out, shape, outDtype);
}

/** A contiguous copy (the element order of `t`, fresh storage). */
export function copyContiguous(t: Tensor): Tensor {
  if (!t.isContiguous()) {
    const fast = gatherStrided(t);
    if (fast) return Tensor.fromData(fast, t.shape, t.dtype);
  }
  // dataSync() may return the storage itself or a subarray of it: slice() makes it our own.
  const src = t.dataSync();
  const data = t.isContiguous() ? (Array.isArray(src) ? src.slice() : (src as TypedArray).slice()) : src;
  return Tensor.fromData(data, t.shape, t.dtype);
}

type Typed = TypedArray;

/** The native gather's highest rank (MAX_GATHER_RANK in native/strided.h), after merging dims. */
const MAX_NATIVE_RANK = 16;

/**
 * A strided CPU tensor's elements in row-major order, copied run by run: dims of size 1 dropped,
 * dims that are contiguous with the next merged, and the innermost run copied as a block when its
 * stride is 1 (a transposed image's rows, a channel shuffle's planes); with the native kernels
 * loaded, the whole gather runs there (strided.cc: DepthToSpace's 3-element runs were 3 ms of JS on
 * super_resolution). Null for other storages.
 */
function gatherStrided(t: Tensor): Typed | null {
  const src = t.storage.data as unknown;
  if (!ArrayBuffer.isView(src) || t.dtype === 'string') return null;
  const n = t.numel();
  // Every element is written below.
  const out = allocateUnset(t.dtype, n) as Typed;
  if (out.constructor !== src.constructor) return null;
  if (n === 0) return out;
  // Collapse: outermost first.
  const shape: number[] = [];
  const strides: number[] = [];
  for (let d = 0; d < t.ndim; d++) {
    const size = t.shape[d]!;
    if (size === 1) continue;
    const st = t.strides[d]!;
    const last = shape.length - 1;
    if (last >= 0 && strides[last] === st * size) {
      shape[last] = shape[last]! * size;
      strides[last] = st;
    } else {
      shape.push(size);
      strides.push(st);
    }
  }
  const s = src as unknown as Typed;
  const rank = shape.length;
  if (rank === 0) {
    (out as Float64Array)[0] = (s as Float64Array)[t.offset]!;
    return out;
  }
  const k = nativeGemmOn() ? native!.addon : null;
  if (k && rank <= MAX_NATIVE_RANK) {
    k.gather(s, t.offset, out, Float64Array.from([...shape, ...strides]));
    return out;
  }
  const run = shape[rank - 1]!;
  const step = strides[rank - 1]!;
  const outer = n / run;
  const idx = new Array<number>(rank - 1).fill(0);
  let p = t.offset;
  const block = step === 1 && run >= 8;
  for (let o = 0, at = 0; o < outer; o++, at += run) {
    if (block) (out as Float64Array).set((s as Float64Array).subarray(p, p + run), at);
    else copyRun(out, at, s, p, run, step);
    for (let d = rank - 2; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        p += strides[d]!;
        break;
      }
      p -= strides[d]! * (shape[d]! - 1);
      idx[d] = 0;
    }
  }
  return out;
}

function copyRun(out: Typed, at: number, src: Typed, p: number, run: number, step: number): void {
  const o = out as Float64Array;
  const s = src as Float64Array;
  for (let j = 0; j < run; j++, p += step) o[at + j] = s[p]!;
}
