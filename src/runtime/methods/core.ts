/** Chained methods for conversion, copying, shape views and autograd entry points. */

import { copyContiguous } from '../../backends/cpu/elementwise.js';
import { dispatch1 } from '../../ops/registry.js';
import { type BackwardOptions, backward } from '../autograd.js';
import { int64s } from '../creation.js';
import { moveToDevice } from '../device.js';
import { type DType, isDType } from '../dtype.js';
import { TesseraError } from '../errors.js';
import { DEVICES, type Device, Tensor } from '../tensor.js';
import { castTo } from './operands.js';

declare module '../tensor.js' {
  interface Tensor {
    /** Converts to a dtype and/or moves to a device; returns `this` when nothing changes. */
    to(target: DType | Device | { dtype?: DType; device?: Device }): Tensor;
    /** The dtype name (`type()`), or a cast (`type('float64')`). */
    type(): DType;
    type(dtype: DType): Tensor;
    float(): Tensor;
    double(): Tensor;
    int(): Tensor;
    long(): Tensor;
    bool(): Tensor;
    half(): Tensor;
    cpu(): Tensor;
    /** A copy with its own storage that stays in the graph (torch.clone). */
    clone(): Tensor;
    /** `this` when contiguous, else a contiguous copy. */
    contiguous(): Tensor;
    /** Reshape; a view when the layout allows, -1 infers one dim. */
    reshape(...shape: number[] | [readonly number[]]): Tensor;
    /** Like reshape, but throws where a view is impossible (as torch.view). */
    view(...shape: number[] | [readonly number[]]): Tensor;
    /** Broadcasts to `shape` without copying (-1 keeps a dim). */
    expand(...shape: number[] | [readonly number[]]): Tensor;
    expandAs(other: Tensor): Tensor;
    viewAs(other: Tensor): Tensor;
    reshapeAs(other: Tensor): Tensor;
    backward(grad?: Tensor, opts?: BackwardOptions): void;
  }
}

export function shapeArgs(args: number[] | [readonly number[]]): number[] {
  return Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

Tensor.prototype.to = function (this: Tensor, target) {
  let dtype: DType | undefined;
  let device: Device | undefined;
  if (typeof target === 'string') {
    if ((DEVICES as readonly string[]).includes(target)) device = target as Device;
    else if (isDType(target)) dtype = target;
    else throw new TesseraError('INVALID_ARGUMENT', `to(): '${target}' is neither a dtype nor a device`);
  } else {
    dtype = target.dtype;
    device = target.device;
  }
  let t: Tensor = this;
  if (dtype && dtype !== t.dtype) t = castTo(t, dtype);
  if (device && device !== t.device) t = moveToDevice(t, device);
  return t;
};

Tensor.prototype.type = function (this: Tensor, dtype?: DType): any {
  return dtype === undefined ? this.dtype : this.to(dtype);
};
Tensor.prototype.float = function (this: Tensor) {
  return this.to('float32');
};
Tensor.prototype.double = function (this: Tensor) {
  return this.to('float64');
};
Tensor.prototype.int = function (this: Tensor) {
  return this.to('int32');
};
Tensor.prototype.long = function (this: Tensor) {
  return this.to('int64');
};
Tensor.prototype.bool = function (this: Tensor) {
  return this.to('bool');
};
Tensor.prototype.half = function (this: Tensor) {
  return this.to('float16');
};
Tensor.prototype.cpu = function (this: Tensor) {
  return this.to('cpu');
};

Tensor.prototype.clone = function (this: Tensor) {
  return dispatch1('Identity', [this], { copy: 1 });
};
Tensor.prototype.contiguous = function (this: Tensor) {
  return this.isContiguous() ? this : this.clone();
};

Tensor.prototype.reshape = function (this: Tensor, ...shape) {
  return dispatch1('Reshape', [this, int64s(shapeArgs(shape))]);
};
Tensor.prototype.view = function (this: Tensor, ...shape) {
  if (!this.isContiguous()) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      'view(): the tensor is not contiguous, so no view of that shape exists; use reshape() or contiguous() first',
    );
  }
  return this.reshape(...shape);
};
Tensor.prototype.expand = function (this: Tensor, ...shape) {
  const s = shapeArgs(shape);
  const lead = s.length - this.ndim;
  const resolved = s.map((d, i) => (d === -1 ? this.shape[i - lead]! : d));
  return dispatch1('Expand', [this, int64s(resolved)]);
};
Tensor.prototype.expandAs = function (this: Tensor, other: Tensor) {
  return this.expand(other.shape);
};
Tensor.prototype.viewAs = function (this: Tensor, other: Tensor) {
  return this.view(other.shape);
};
Tensor.prototype.reshapeAs = function (this: Tensor, other: Tensor) {
  return this.reshape(other.shape);
};

Tensor.prototype.backward = function (this: Tensor, grad?: Tensor, opts?: BackwardOptions) {
  backward(this, grad, opts);
};

export { copyContiguous };
