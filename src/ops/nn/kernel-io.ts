/** Reading float inputs and writing outputs for the nn kernels, which compute in float64. */
import { forEachBroadcast } from '../../backends/cpu/elementwise.js';
import { type DType, fromNumbers, getNumber } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { broadcastShapes, fmtShape, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import type { FloatArray } from './gemm.js';

/** The elements as a float array (the storage itself for float32/float64 contiguous tensors; read-only). */
export function floats(t: Tensor): FloatArray {
  const v = t.numbers();
  return v instanceof Float64Array || v instanceof Float32Array ? v : Float64Array.from(v);
}

/** A tensor of `dtype` holding `vals` (float64 computations written back to the op's dtype). */
export function output(vals: FloatArray, shape: readonly number[], dtype: DType): Tensor {
  const own =
    (dtype === 'float64' && vals instanceof Float64Array) ||
    (dtype === 'float32' && vals instanceof Float32Array);
  return Tensor.fromData(own ? vals : fromNumbers(dtype, vals), shape, dtype);
}

/**
 * A zeroed buffer for a GEMM-based kernel (conv, conv transpose, their gradients) to compute in:
 * float32 for float32 tensors, so the product runs in the WASM SIMD GEMM; float64 otherwise.
 */
export function computeBuffer(dtype: DType, n: number): FloatArray {
  return dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
}

/** Every axis but 1 (the channel axis): what a per-channel bias gradient sums over. */
export function nonChannelAxes(rank: number): number[] {
  return Array.from({ length: rank }, (_, i) => i).filter((i) => i !== 1);
}

/** The values of `t` broadcast (NumPy rules) to `shape`, as a dense float64 array. */
export function broadcastFloats(t: Tensor, shape: readonly number[], who: string): Float64Array {
  const b = broadcastShapes([t.shape, shape], who);
  if (b.length !== shape.length || b.some((d, i) => d !== shape[i])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: a tensor of shape ${fmtShape(t.shape)} does not broadcast to ${fmtShape(shape)}`,
    );
  }
  const src = t.storage.data!;
  const out = new Float64Array(numel(shape));
  forEachBroadcast([t], shape, (i, offs) => {
    out[i] = getNumber(t.dtype, src, offs[0]!);
  });
  return out;
}
