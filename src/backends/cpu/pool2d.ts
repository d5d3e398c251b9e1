/**
 * Direct 2-D pooling for float tensors in NCHW, the shape nearly every CNN pools in. The generic
 * N-d kernels (src/ops/nn/pool-taps.ts) build an offset list per output position and make a BigInt
 * per argmax; they stay the reference for everything else (and test/backends/ checks these against
 * them). float32 runs in WASM SIMD (wasm/assembly/pool.ts): MaxPool and AveragePool separably
 * (window rows into a scratch row, then its columns), MaxPool with Indices window by window, and
 * the global pools plane by plane; with one copy in and one out per call they still measured
 * several times faster than the TypeScript loops at every pool shape of the benchmark models, the
 * smallest (16x28x28) included. float64, and float32 without the WASM build, take the TypeScript
 * loop below, which walks each window directly and writes int64 indices through a 32-bit view.
 */
import { allocate, allocateUnset } from '../../runtime/dtype.js';
import { Tensor } from '../../runtime/tensor.js';
import { maxPoolNative } from './wasm/conv.js';
import { arena, native, nativeGemmOn, wasm } from './wasm/runtime.js';

export interface Pool2d {
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  /** Padding before each axis (padding after only shapes the output size). */
  pH: number;
  pW: number;
  /** Padding after each axis (AveragePool's count_include_pad divisor); 0 when absent. */
  pHEnd?: number;
  pWEnd?: number;
  oH: number;
  oW: number;
}

/** The 2-D pool of a resolved window (see src/ops/nn/window.ts), pads after each axis included. */
export function pool2dOf(win: {
  kernel: readonly number[];
  strides: readonly number[];
  dilations: readonly number[];
  padsBegin: readonly number[];
  padsEnd: readonly number[];
  outSize: readonly number[];
}): Pool2d {
  const [kH, kW] = win.kernel as [number, number];
  const [sH, sW] = win.strides as [number, number];
  const [dH, dW] = win.dilations as [number, number];
  const [pH, pW] = win.padsBegin as [number, number];
  const [pHEnd, pWEnd] = win.padsEnd as [number, number];
  const [oH, oW] = win.outSize as [number, number];
  return { kH, kW, sH, sW, dH, dW, pH, pW, pHEnd, pWEnd, oH, oW };
}

const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * MaxPool of x [N, C, H, W] (float32/float64, contiguous): [Y, Indices], Indices being flat
 * row-major positions in X (storage_order 0). NaN is skipped and a window holding only NaN or -inf
 * reports its first in-bounds tap, as the generic kernel (and ONNX Runtime) do. Without
 * `wantIndices` only [Y] comes back (no index array is made). Returns null for inputs it does not
 * cover.
 */
export function maxPool2d(x: Tensor, p: Pool2d, wantIndices = true): Tensor[] | null {
  if (
    x.ndim !== 4 ||
    (x.dtype !== 'float32' && x.dtype !== 'float64') ||
    !x.isContiguous() ||
    !littleEndian
  ) {
    return null;
  }
  const xs = x.dataSync() as Float32Array | Float64Array;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const planes = N * C;
  const L = p.oH * p.oW;
  if (xs instanceof Float32Array && wasm && arena && planes * L > 0 && planes * H * W < 2 ** 31) {
    // float32: the WASM loops (same taps, same NaN / -inf rule, same first-maximum indices).
    const shape = [N, C, p.oH, p.oW];
    if (!wantIndices) {
      // Natively in place on the arrays when loaded (no copies through WASM memory, planes on the pool).
      const y = allocateUnset('float32', planes * L) as Float32Array;
      if (maxPoolNative(planes, H, W, p, xs.subarray(0, planes * H * W), y))
        return [Tensor.fromData(y, shape, 'float32')];
      return [Tensor.fromData(poolWasm('max', xs, planes, H, W, p, false), shape, 'float32')];
    }
    const [y, ind] = maxPoolArgWasm(xs, planes, H, W, p);
    return [Tensor.fromData(y, shape, 'float32'), Tensor.fromData(ind, shape, 'int64')];
  }
  const y = allocate(x.dtype, planes * L) as Float32Array | Float64Array;
  const ind = wantIndices ? new BigInt64Array(planes * L) : null;
  const ind32 = ind ? new Int32Array(ind.buffer) : null;
  // Output rows/columns whose windows lie wholly inside the image take the unchecked loop.
  const interior = (o: number, s: number, pad: number, k: number, d: number, n: number) =>
    o * s - pad >= 0 && o * s - pad + (k - 1) * d < n;
  const rowIn = new Uint8Array(p.oH);
  for (let oh = 0; oh < p.oH; oh++) rowIn[oh] = interior(oh, p.sH, p.pH, p.kH, p.dH, H) ? 1 : 0;
  let ow0 = 0;
  while (ow0 < p.oW && !interior(ow0, p.sW, p.pW, p.kW, p.dW, W)) ow0++;
  let ow1 = ow0;
  while (ow1 < p.oW && interior(ow1, p.sW, p.pW, p.kW, p.dW, W)) ow1++;
  const pair = p.kH === 2 && p.kW === 2 && p.dH === 1 && p.dW === 1;
  for (let q = 0; q < planes; q++) {
    const base = q * H * W;
    for (let oh = 0; oh < p.oH; oh++) {
      const h0 = oh * p.sH - p.pH;
      const oRow = q * L + oh * p.oW;
      const fast = rowIn[oh] === 1;
      for (let ow = 0; ow < p.oW; ow++) {
        const w0 = ow * p.sW - p.pW;
        let best = Number.NEGATIVE_INFINITY;
        let arg = -1;
        let first = -1;
        if (fast && ow >= ow0 && ow < ow1) {
          const r0 = base + h0 * W + w0;
          first = r0;
          if (pair) {
            const r1 = r0 + W;
            const a = xs[r0]!;
            const b = xs[r0 + 1]!;
            const c = xs[r1]!;
            const e = xs[r1 + 1]!;
            if (a > best) {
              best = a;
              arg = r0;
            }
            if (b > best) {
              best = b;
              arg = r0 + 1;
            }
            if (c > best) {
              best = c;
              arg = r1;
            }
            if (e > best) {
              best = e;
              arg = r1 + 1;
            }
          } else {
            for (let i = 0; i < p.kH; i++) {
              const row = r0 + i * p.dH * W;
              for (let j = 0; j < p.kW; j++) {
                const at = row + j * p.dW;
                const v = xs[at]!;
                if (v > best) {
                  best = v;
                  arg = at;
                }
              }
            }
          }
        } else {
          for (let i = 0; i < p.kH; i++) {
            const h = h0 + i * p.dH;
            if (h < 0 || h >= H) continue;
            const row = base + h * W;
            for (let j = 0; j < p.kW; j++) {
              const w = w0 + j * p.dW;
              if (w < 0 || w >= W) continue;
              const v = xs[row + w]!;
              if (first < 0) first = row + w;
              if (v > best) {
                best = v;
                arg = row + w;
              }
            }
          }
        }
        if (arg < 0 && first >= 0) {
          arg = first;
          best = xs[first]!;
        }
        const o = oRow + ow;
        y[o] = best;
        // Indices are < 2^31 here (a float array that large does not fit in memory): low word only.
        if (ind32) ind32[2 * o] = arg < 0 ? base : arg;
      }
    }
  }
  const shape = [N, C, p.oH, p.oW];
  const yT = Tensor.fromData(y, shape, x.dtype);
  return ind ? [yT, Tensor.fromData(ind, shape, 'int64')] : [yT];
}

/**
 * A fresh float32 array holding `view` (a view of WASM memory), from allocate(): a graph run lends
 * it a dead intermediate's array, which skips the page faults of a new large buffer.
 */
export function copyOut(view: Float32Array): Float32Array {
  const y = allocateUnset('float32', view.length) as Float32Array;
  y.set(view);
  return y;
}

export type PoolKind = 'max' | 'avg';

/** Runs the WASM 2-D pool over float32 planes: copy in, one call, copy out. */
function poolWasm(
  kind: PoolKind,
  xs: Float32Array,
  planes: number,
  H: number,
  W: number,
  p: Pool2d,
  includePad: boolean,
): Float32Array {
  const ex = wasm!.exports as unknown as Record<
    'maxPool2dF32' | 'avgPool2dF32' | 'pool2dScratchBytes',
    (...a: number[]) => number
  >;
  const a = arena!;
  a.reset();
  const n = planes * H * W;
  // The vertical pass reads whole vectors past a row's end: 16 spare bytes after the input.
  const px = a.alloc(n * 4 + 16);
  a.f32(px, n).set(xs.subarray(0, n));
  const L = p.oH * p.oW;
  const py = a.alloc(planes * L * 4 + 16);
  const scratch = ex.pool2dScratchBytes(W, p.oH, p.oW);
  const geom = [p.kH, p.kW, p.sH, p.sW, p.dH, p.dW, p.pH, p.pW];
  if (kind === 'max') {
    ex.maxPool2dF32(px, planes, H, W, ...geom, p.oH, p.oW, py, a.alloc(scratch));
  } else {
    const pEnd = [p.pHEnd ?? 0, p.pWEnd ?? 0];
    ex.avgPool2dF32(px, planes, H, W, ...geom, ...pEnd, p.oH, p.oW, includePad ? 1 : 0, py, a.alloc(scratch));
  }
  return copyOut(a.f32(py, planes * L));
}

/** MaxPool values and int64 flat indices of float32 planes in WASM. */
function maxPoolArgWasm(
  xs: Float32Array,
  planes: number,
  H: number,
  W: number,
  p: Pool2d,
): [Float32Array, BigInt64Array] {
  const ex = wasm!.exports as unknown as Record<
    'maxPool2dArgF32' | 'pool2dScratchBytes',
    (...a: number[]) => number
  >;
  const a = arena!;
  a.reset();
  const n = planes * H * W;
  const px = a.alloc(n * 4 + 16);
  a.f32(px, n).set(xs.subarray(0, n));
  const L = planes * p.oH * p.oW;
  const py = a.alloc(L * 4 + 16);
  const pi = a.alloc(L * 8 + 32);
  const geom = [p.kH, p.kW, p.sH, p.sW, p.dH, p.dW, p.pH, p.pW];
  const pt = a.alloc(ex.pool2dScratchBytes(W, p.oH, p.oW));
  ex.maxPool2dArgF32(px, planes, H, W, ...geom, p.oH, p.oW, py, pi, pt);
  const ind = allocate('int64', L) as BigInt64Array;
  ind.set(new BigInt64Array(wasm!.memory.buffer, pi, L));
  return [copyOut(a.f32(py, L)), ind];
}

/**
 * AveragePool of x [N, C, H, W] (float32, contiguous) in WASM: the sum of each window's in-bounds
 * taps over their count, or with `includePad` over the taps inside the padded extent (pads after
 * each axis from `pHEnd`/`pWEnd`). Returns null when it does not apply (other dtypes, no WASM).
 */
export function avgPool2d(x: Tensor, p: Pool2d, includePad: boolean): Tensor | null {
  if (x.ndim !== 4 || x.dtype !== 'float32' || !x.isContiguous() || !wasm || !arena) return null;
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const shape = [N, C, p.oH, p.oW];
  if (N * C * p.oH * p.oW === 0 || H * W === 0) return null;
  const y = poolWasm('avg', x.dataSync() as Float32Array, N * C, H, W, p, includePad);
  return Tensor.fromData(y, shape, 'float32');
}

/**
 * GlobalAveragePool / GlobalMaxPool of x [N, C, ...spatial] (float32, contiguous, any rank) in
 * WASM: one value per (n, c) plane, [N, C, 1, ...]. The mean sums in float64; the max skips NaN and
 * gives the plane's first element when it is -inf. Null when it does not apply.
 */
export function globalPool(x: Tensor, kind: PoolKind): Tensor | null {
  if (x.ndim < 3 || x.dtype !== 'float32' || !x.isContiguous() || !wasm || !arena) return null;
  const planes = x.shape[0]! * x.shape[1]!;
  const P = x.shape.slice(2).reduce((a, b) => a * b, 1);
  if (planes === 0 || P === 0) return null;
  const shape = [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)];
  if (nativeGemmOn()) {
    // In place on the arrays (the same sums as the WASM loop): no copy of the input into WASM memory.
    const y = allocateUnset('float32', planes) as Float32Array;
    native!.addon.globalPool((x.dataSync() as Float32Array).subarray(0, planes * P), y, P, kind === 'max');
    return Tensor.fromData(y, shape, 'float32');
  }
  const ex = wasm.exports as unknown as { globalPoolF32(...a: number[]): void };
  arena.reset();
  const n = planes * P;
  const px = arena.alloc(n * 4);
  arena.f32(px, n).set((x.dataSync() as Float32Array).subarray(0, n));
  const py = arena.alloc(planes * 4);
  ex.globalPoolF32(px, planes, P, kind === 'max' ? 1 : 0, py);
  return Tensor.fromData(copyOut(arena.f32(py, planes)), shape, 'float32');
}
