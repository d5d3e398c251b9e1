/** Deterministic test data that needs no generator state shared between files. */
import { type Tensor, tensor } from '../../src/index.js';

/** n values in [-1, 1) from a linear congruential sequence started at `seed`. */
export function lcg(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 31 - 1;
  }
  return out;
}

/** A float32 tensor of `data` with shape `dims`. */
export const f32 = (data: Float32Array, dims: number[]): Tensor => tensor(Array.from(data)).reshape(dims);
