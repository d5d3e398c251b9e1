/** Shape arithmetic shared by tensors, kernels and shape inference. */
import { TesseraError } from './errors.js';

export type Shape = readonly number[];

export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides for a contiguous tensor of `shape`. */
export function contiguousStrides(shape: Shape): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** NumPy broadcasting of any number of shapes; `who` names the op in the error. */
export function broadcastShapes(shapes: Shape[], who = 'broadcast'): number[] {
  const rank = Math.max(0, ...shapes.map((s) => s.length));
  const out = new Array<number>(rank).fill(1);
  for (const s of shapes) {
    for (let i = 0; i < s.length; i++) {
      const o = rank - s.length + i;
      const d = s[i]!;
      if (out[o] === 1) out[o] = d;
      else if (d !== 1 && d !== out[o]) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${who}: shapes ${shapes.map(fmtShape).join(', ')} are not broadcastable (dim ${o}: ${out[o]} vs ${d})`,
        );
      }
    }
  }
  return out;
}

/**
 * Strides that read a tensor of `shape`/`strides` as if it had `outShape` (broadcast): size-1 and
 * missing leading dims get stride 0.
 */
export function broadcastStrides(shape: Shape, strides: readonly number[], outShape: Shape): number[] {
  const r = outShape.length;
  const out = new Array<number>(r).fill(0);
  for (let i = 0; i < shape.length; i++) {
    const o = r - shape.length + i;
    out[o] = shape[i] === 1 && outShape[o] !== 1 ? 0 : strides[i]!;
  }
  return out;
}

/** Normalizes a possibly negative axis against `rank`, with a clear error. */
export function normAxis(axis: number, rank: number, who = 'axis'): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1)) {
    throw new TesseraError('INVALID_ARGUMENT', `${who}: axis ${axis} is out of range for rank ${rank}`);
  }
  return axis < 0 ? axis + rank : axis;
}

export function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function fmtShape(s: Shape): string {
  return `[${s.join(', ')}]`;
}
