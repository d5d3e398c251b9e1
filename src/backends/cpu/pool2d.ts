/**
 * Direct 2-D pooling loops for float tensors in NCHW, the shape nearly every CNN pools in. The
 * generic N-d kernels (src/ops/nn/pool-taps.ts) build an offset list per output position and make
 * a BigInt per argmax; these walk the window directly and write int64 indices through a 32-bit view.
 */
import { Tensor } from '../../runtime/tensor.js';
import { arena, wasm } from './wasm/runtime.js';

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
  oH: number;
  oW: number;
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
  if (!wantIndices && xs instanceof Float32Array && wasm && arena && planes * L > 0) {
    // Values only, float32: the WASM loop (same taps, same NaN / -inf rule).
    const ex = wasm.exports as unknown as { maxPool2dF32(...a: number[]): void };
    arena.reset();
    const px = arena.alloc(xs.length * 4);
    arena.f32(px, xs.length).set(xs);
    const py = arena.alloc(planes * L * 4);
    ex.maxPool2dF32(px, planes, H, W, p.kH, p.kW, p.sH, p.sW, p.dH, p.dW, p.pH, p.pW, p.oH, p.oW, py);
    const y = new Float32Array(planes * L);
    y.set(arena.f32(py, y.length));
    return [Tensor.fromData(y, [N, C, p.oH, p.oW], 'float32')];
  }
  const y = x.dtype === 'float32' ? new Float32Array(planes * L) : new Float64Array(planes * L);
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
