/**
 * Direct 2-D pooling loops for float tensors in NCHW, the shape nearly every CNN pools in. The
 * generic N-d kernels (src/ops/nn/pool-taps.ts) build an offset list per output position and make
 * a BigInt per argmax; these walk the window directly and write int64 indices through a 32-bit view.
 */
import { Tensor } from '../../runtime/tensor.js';

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
 * reports its first in-bounds tap, as the generic kernel (and ONNX Runtime) do. Returns null for
 * inputs it does not cover.
 */
export function maxPool2d(x: Tensor, p: Pool2d): [Tensor, Tensor] | null {
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
  const y = x.dtype === 'float32' ? new Float32Array(planes * L) : new Float64Array(planes * L);
  const ind = new BigInt64Array(planes * L);
  const ind32 = new Int32Array(ind.buffer);
  for (let q = 0; q < planes; q++) {
    const base = q * H * W;
    for (let oh = 0; oh < p.oH; oh++) {
      const h0 = oh * p.sH - p.pH;
      for (let ow = 0; ow < p.oW; ow++) {
        const w0 = ow * p.sW - p.pW;
        let best = Number.NEGATIVE_INFINITY;
        let arg = -1;
        let first = -1;
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
        if (arg < 0 && first >= 0) {
          arg = first;
          best = xs[first]!;
        }
        const o = q * L + oh * p.oW + ow;
        y[o] = best;
        // Indices are < 2^31 here (a float array that large does not fit in memory): low word only.
        ind32[2 * o] = arg < 0 ? base : arg;
      }
    }
  }
  const shape = [N, C, p.oH, p.oW];
  return [Tensor.fromData(y, shape, x.dtype), Tensor.fromData(ind, shape, 'int64')];
}
