/**
 * Tensor: a strided view over a storage array, with PyTorch's vocabulary. Math methods are not
 * defined here: each op group adds its chained methods from src/runtime/methods/ (as tfjs-core's
 * chained_ops do), and every one of them goes through `dispatch` in src/ops/registry.ts.
 */
import type { GradNode } from './autograd.js';
import {
  allocate,
  type DataArray,
  type DType,
  getNumber,
  isBigInt,
  storageMatches,
  type TypedArray,
  toNumbers,
} from './dtype.js';
import { TesseraError } from './errors.js';
import { contiguousStrides, fmtShape, normAxis, numel, type Shape } from './shape.js';

export type Device = 'cpu' | 'webgpu';
export const DEVICES: readonly Device[] = ['cpu', 'webgpu'];

/** Where a tensor's elements live. CPU storage is a TypedArray (or string[]); other backends attach their own handle. */
export interface Storage {
  device: Device;
  /** CPU data. For non-CPU storages this is undefined and `handle` holds the backend's buffer. */
  data?: DataArray;
  handle?: unknown;
  /** Element count of the storage (not of any one view). */
  length: number;
}

export type NestedArray = number | boolean | bigint | string | NestedArray[];

/** Tensor, number or boolean: what binary methods accept for their operand. */
export type TensorLike = Tensor | number | boolean;

/** Returning a tensor replaces the gradient; returning nothing keeps it. */
export type Hook = (grad: Tensor) => unknown;

export class Tensor {
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly strides: readonly number[];
  readonly offset: number;
  readonly storage: Storage;

  requiresGrad = false;
  grad: Tensor | null = null;
  /** The autograd node that produced this tensor, null for leaves. */
  gradFn: GradNode | null = null;
  /** Which output of `gradFn` this tensor is. */
  outputIndex = 0;
  retainsGrad = false;
  hooks: Hook[] = [];
  /** Optional name (graph value or parameter name), used in messages. */
  name?: string;

  constructor(storage: Storage, shape: Shape, dtype: DType, strides?: readonly number[], offset = 0) {
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0)
        throw new TesseraError('INVALID_ARGUMENT', `invalid shape ${fmtShape(shape)}`);
    }
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.strides = Object.freeze(strides ? [...strides] : contiguousStrides(shape));
    this.offset = offset;
  }

  /** A contiguous CPU tensor over `data` (shared, not copied). */
  static fromData(data: DataArray, shape: Shape, dtype: DType): Tensor {
    if (!storageMatches(dtype, data)) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `storage ${(data as object).constructor.name} does not hold ${dtype}`,
      );
    }
    if (numel(shape) > data.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `shape ${fmtShape(shape)} needs ${numel(shape)} elements, the array has ${data.length}`,
      );
    }
    return new Tensor({ device: 'cpu', data, length: data.length }, shape, dtype);
  }

  /** A new uninitialized (zero-filled) contiguous CPU tensor. */
  static empty(shape: Shape, dtype: DType): Tensor {
    return Tensor.fromData(allocate(dtype, numel(shape)), shape, dtype);
  }

  get ndim(): number {
    return this.shape.length;
  }
  dim(): number {
    return this.shape.length;
  }
  get device(): Device {
    return this.storage.device;
  }
  /** True when the data lives on the WebGPU device (PyTorch's `is_cuda`). */
  get isWebGPU(): boolean {
    return this.storage.device === 'webgpu';
  }
  /** A leaf is a tensor no recorded op produced: user-created tensors and parameters. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  size(): number[];
  size(dim: number): number;
  size(dim?: number): number[] | number {
    if (dim === undefined) return [...this.shape];
    return this.shape[normAxis(dim, this.ndim, 'size')]!;
  }
  numel(): number {
    return numel(this.shape);
  }

  isContiguous(): boolean {
    let expected = 1;
    for (let i = this.shape.length - 1; i >= 0; i--) {
      if (this.shape[i] !== 1 && this.strides[i] !== expected) return false;
      expected *= this.shape[i]!;
    }
    return true;
  }

  /** A view of the same storage with other shape/strides/offset (kernels build views with this). */
  asStrided(shape: Shape, strides: readonly number[], offset = this.offset): Tensor {
    return new Tensor(this.storage, shape, this.dtype, strides, offset);
  }

  private cpuData(): DataArray {
    if (this.storage.data === undefined) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `tensor is on ${this.device}: read it with 'await t.data()' or move it with t.to('cpu')`,
      );
    }
    return this.storage.data;
  }

  /**
   * The elements in row-major order. Shares the storage when the tensor is contiguous and spans
   * it exactly (so writes are seen by both, as numpy and torch share); otherwise a packed copy.
   * Kernels must treat the result as read-only.
   */
  dataSync(): DataArray {
    const src = this.cpuData();
    const n = this.numel();
    if (this.isContiguous()) {
      if (this.offset === 0 && src.length === n) return src;
      return Array.isArray(src)
        ? src.slice(this.offset, this.offset + n)
        : src.subarray(this.offset, this.offset + n);
    }
    const out = allocate(this.dtype, n) as any;
    const shape = this.shape;
    const strides = this.strides;
    const rank = shape.length;
    const idx = new Array<number>(rank).fill(0);
    let p = this.offset;
    for (let i = 0; i < n; i++) {
      out[i] = (src as any)[p];
      for (let d = rank - 1; d >= 0; d--) {
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

  /** The elements in row-major order; async because GPU tensors read back asynchronously. */
  async data(): Promise<DataArray> {
    if (this.storage.data === undefined) {
      const { readToCpu } = await import('./device.js');
      return (await readToCpu(this)).dataSync();
    }
    return this.dataSync();
  }

  /** Elements as JS numbers (16-bit floats decoded, 64-bit ints narrowed, bools 0/1). */
  numbers(): Exclude<TypedArray, BigInt64Array | BigUint64Array> {
    return toNumbers(this.dtype, this.dataSync());
  }

  /** Elements as nested JS arrays (numbers; booleans for bool; bigint for int64/uint64 past 2^53). */
  toArray(): NestedArray {
    const flat = this.dataSync();
    const conv = (i: number): NestedArray => {
      if (this.dtype === 'bool') return (flat as Uint8Array)[i] !== 0;
      if (this.dtype === 'string') return (flat as string[])[i]!;
      if (isBigInt(this.dtype)) {
        const b = (flat as BigInt64Array)[i]!;
        return Number.isSafeInteger(Number(b)) ? Number(b) : b;
      }
      return getNumber(this.dtype, flat, i);
    };
    if (this.ndim === 0) return conv(0);
    let pos = 0;
    const build = (d: number): NestedArray[] => {
      const out: NestedArray[] = [];
      for (let i = 0; i < this.shape[d]!; i++) out.push(d === this.ndim - 1 ? conv(pos++) : build(d + 1));
      return out;
    };
    return build(0);
  }

  /** The single element of a one-element tensor as a JS number (or boolean for bool). */
  item(): number | boolean {
    if (this.numel() !== 1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `item(): a tensor with ${this.numel()} elements cannot be converted to a scalar`,
      );
    }
    const src = this.cpuData();
    if (this.dtype === 'bool') return (src as Uint8Array)[this.offset] !== 0;
    return getNumber(this.dtype, src, this.offset);
  }

  /** A tensor sharing this one's data, cut off from the graph. */
  detach(): Tensor {
    return new Tensor(this.storage, this.shape, this.dtype, this.strides, this.offset);
  }

  requiresGrad_(flag = true): this {
    if (
      flag &&
      this.dtype !== 'float32' &&
      this.dtype !== 'float64' &&
      this.dtype !== 'float16' &&
      this.dtype !== 'bfloat16'
    ) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `only floating-point tensors can require gradients, got ${this.dtype}`,
      );
    }
    if (!flag && !this.isLeaf) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        'requiresGrad_(false) is only allowed on leaf tensors; use detach()',
      );
    }
    this.requiresGrad = flag;
    return this;
  }

  /** Keep `.grad` for this non-leaf tensor during backward. */
  retainGrad(): this {
    this.retainsGrad = true;
    return this;
  }

  /** Calls `hook(grad)` when the gradient for this tensor is computed; a returned tensor replaces it. */
  registerHook(hook: Hook): { remove(): void } {
    this.hooks.push(hook);
    return { remove: () => (this.hooks = this.hooks.filter((h) => h !== hook)) };
  }

  toString(): string {
    return formatTensor(this);
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return formatTensor(this);
  }
}

// Late-bound to keep this file free of import cycles at module-evaluation time.
let formatTensor: (t: Tensor) => string = (t) => `Tensor(${fmtShape(t.shape)}, ${t.dtype})`;
export function setTensorFormatter(f: (t: Tensor) => string): void {
  formatTensor = f;
}
