/**
 * Layout helpers shared by the reduction kernels: a view that puts the reduced axes innermost (so
 * every reduction group is one contiguous run after packing), the (outer, axis, inner) split that
 * softmax/cumsum/argmax iterate over, and the identity values of max/min per dtype.
 */
import type { DataArray, DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';

/** `x` viewed with kept axes first and reduced axes last; packing it makes each group contiguous. */
export function groupedView(
  x: Tensor,
  axes: readonly number[],
): { view: Tensor; groups: number; size: number } {
  const kept: number[] = [];
  const red: number[] = [];
  for (let i = 0; i < x.ndim; i++) (axes.includes(i) ? red : kept).push(i);
  const perm = [...kept, ...red];
  const view = x.asStrided(
    perm.map((p) => x.shape[p]!),
    perm.map((p) => x.strides[p]!),
  );
  return { view, groups: numel(kept.map((p) => x.shape[p]!)), size: numel(red.map((p) => x.shape[p]!)) };
}

/** Sizes before, at and after `axis` (or after-and-including `axis` when `flattenFrom` is set). */
export function splitAtAxis(shape: readonly number[], axis: number, flattenFrom = false) {
  const outer = numel(shape.slice(0, axis));
  if (flattenFrom) return { outer, len: numel(shape.slice(axis)), inner: 1 };
  return { outer, len: shape[axis] ?? 1, inner: numel(shape.slice(axis + 1)) };
}

/** True for 16-bit float dtypes, whose storage holds bit patterns that must be decoded to compare. */
export function isHalf(d: DType): boolean {
  return d === 'float16' || d === 'bfloat16';
}

/** The elements of `t` in row-major order as raw storage, except 16-bit floats which are decoded. */
export function comparableData(t: Tensor): DataArray | Float32Array {
  return isHalf(t.dtype) ? t.numbers() : t.dataSync();
}

const INT_RANGE: Partial<Record<DType, [number | bigint, number | bigint]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  bool: [0, 1],
};

/**
 * What max (lowest) or min (highest) of an empty set is, as ONNX defines it: -inf/+inf for floats,
 * the dtype's extreme value otherwise (bool: false/true). In the dtype's storage representation,
 * except for 16-bit floats, which are given as numbers.
 */
export function extremeValue(dtype: DType, lowest: boolean): number | bigint {
  const r = INT_RANGE[dtype];
  if (r) return lowest ? r[0] : r[1];
  if (dtype === 'string') throw new TesseraError('DTYPE_MISMATCH', 'string tensors have no ordering here');
  return lowest ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
}

/** Throws unless `t` holds numbers (any numeric dtype; bool only when `allowBool`). */
export function expectNumeric(op: string, t: Tensor, allowBool = false): void {
  if (t.dtype === 'string' || (t.dtype === 'bool' && !allowBool)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${op}: input must be a numeric tensor${allowBool ? ' or bool' : ''}, got ${t.dtype}`,
    );
  }
}
