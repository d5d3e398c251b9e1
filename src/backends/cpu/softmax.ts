/**
 * Float32 softmax and log-softmax over contiguous rows in the native addon (native/elementwise.cc),
 * on the tensors' own arrays: the same steps as the TypeScript kernel in src/ops/reduce/softmax.ts
 * (float64 exps summed in order, one rounding to float32), without V8's Math.exp per element
 * (squeezenet's 1000-class Softmax took 60-77 us a run).
 */
import { allocateUnset } from '../../runtime/dtype.js';
import { Tensor } from '../../runtime/tensor.js';
import { native, nativeGemmOn } from './wasm/runtime.js';

/** Softmax (log-softmax) of each run of `len` elements of x, or null where the addon does not serve it. */
export function softmaxRows(x: Tensor, len: number, log: boolean): Tensor | null {
  if (x.dtype !== 'float32' || !x.isContiguous() || len <= 0 || !nativeGemmOn()) return null;
  const n = x.numel();
  if (n === 0 || n % len !== 0) return null;
  const y = allocateUnset('float32', n) as Float32Array;
  native!.addon.softmaxRows(x.dataSync() as Float32Array, y, len, log);
  return Tensor.fromData(y, x.shape, 'float32');
}
