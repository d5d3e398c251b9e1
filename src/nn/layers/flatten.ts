/** Flatten and Unflatten: reshapes of a range of dims (torch.nn.Flatten, torch.nn.Unflatten). */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { Module } from '../module.js';
import { pyTuple } from './repr.js';

/** Merges dims startDim..endDim into one (default: all but the batch dim). */
export class Flatten extends Module {
  readonly startDim: number;
  readonly endDim: number;

  constructor(startDim = 1, endDim = -1) {
    super();
    this.startDim = startDim;
    this.endDim = endDim;
  }

  override forward(x: Tensor): Tensor {
    // A 0-d tensor flattens to 1-d, as torch.flatten.
    const rank = Math.max(x.ndim, 1);
    const shape = x.ndim === 0 ? [1] : [...x.shape];
    const s = normAxis(this.startDim, rank, 'Flatten: start_dim');
    const e = normAxis(this.endDim, rank, 'Flatten: end_dim');
    if (s > e) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Flatten: start_dim (${this.startDim}) cannot come after end_dim (${this.endDim}) for an input of rank ${x.ndim}`,
      );
    }
    const merged = shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
    return x.reshape([...shape.slice(0, s), merged, ...shape.slice(e + 1)]);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}

/** Splits dim `dim` into `unflattenedSize` (one entry may be -1). */
export class Unflatten extends Module {
  readonly dim: number;
  readonly unflattenedSize: number[];

  constructor(dim: number, unflattenedSize: number[]) {
    super();
    if (
      !Array.isArray(unflattenedSize) ||
      unflattenedSize.some((d) => !Number.isInteger(d) || d < -1) ||
      unflattenedSize.filter((d) => d === -1).length > 1
    ) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Unflatten: unflattened_size must be a list of non-negative integers with at most one -1, got ${JSON.stringify(unflattenedSize)}`,
      );
    }
    this.dim = dim;
    this.unflattenedSize = [...unflattenedSize];
  }

  override forward(x: Tensor): Tensor {
    const d = normAxis(this.dim, x.ndim, 'Unflatten: dim');
    const size = x.shape[d]!;
    const sizes = [...this.unflattenedSize];
    const known = sizes.filter((s) => s !== -1).reduce((a, b) => a * b, 1);
    const free = sizes.indexOf(-1);
    if (free >= 0 && known > 0 && size % known === 0) sizes[free] = size / known;
    if (sizes.reduce((a, b) => a * b, 1) !== size || sizes.includes(-1)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Unflatten: unflattened_size ${pyTuple(this.unflattenedSize)} does not match dim ${this.dim} of size ${size} (input shape ${fmtShape(x.shape)})`,
      );
    }
    return x.reshape([...x.shape.slice(0, d), ...sizes, ...x.shape.slice(d + 1)]);
  }

  override extraRepr(): string {
    return `dim=${this.dim}, unflattened_size=${pyTuple(this.unflattenedSize)}`;
  }
}
