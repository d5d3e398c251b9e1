/** Chained reductions with torch's `dim` (int or list) and `keepdim`. */
import { dispatch1 } from '../../ops/registry.js';
import { int64s } from '../creation.js';
import { normAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { castTo } from './operands.js';

declare module '../tensor.js' {
  interface Tensor {
    /** Sum over `dim` (all dims when omitted); ints and bools sum as int64, like torch. */
    sum(dim?: number | number[], keepdim?: boolean): Tensor;
  }
}

/** Normalized, de-duplicated axes for a torch-style `dim` argument (undefined: all). */
export function dimsArg(t: Tensor, dim: number | number[] | undefined, who: string): number[] {
  if (dim === undefined) return t.shape.map((_, i) => i);
  const list = Array.isArray(dim) ? dim : [dim];
  return [...new Set(list.map((d) => normAxis(d, t.ndim, who)))];
}

Tensor.prototype.sum = function (this: Tensor, dim, keepdim = false) {
  const x =
    this.dtype === 'bool' || !['float32', 'float64', 'float16', 'bfloat16'].includes(this.dtype)
      ? castTo(this, 'int64')
      : this;
  const axes = dimsArg(x, dim, 'sum');
  if (axes.length === 0) return dispatch1('Identity', [x], { copy: 1 });
  return dispatch1('ReduceSum', [x, int64s(axes)], { keepdims: keepdim ? 1 : 0 });
};
