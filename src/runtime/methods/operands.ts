/** PyTorch-style operand handling for eager methods: scalars become tensors, dtypes are promoted. */
import { dispatch1 } from '../../ops/registry.js';
import { full } from '../creation.js';
import { type DType, promoteTypes, promoteWithScalar } from '../dtype.js';
import { Tensor, type TensorLike } from '../tensor.js';

export function castTo(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : dispatch1('Cast', [t], { to: dtype });
}

/** Brings `a` and `b` to one dtype by torch's rules (a scalar never widens a tensor's float type). */
export function promotePair(a: Tensor, b: TensorLike): [Tensor, Tensor] {
  if (b instanceof Tensor) {
    const d = promoteTypes(a.dtype, b.dtype);
    return [castTo(a, d), castTo(b, d)];
  }
  const d = promoteWithScalar(a.dtype, b);
  return [castTo(a, d), full([], Number(b), { dtype: d, device: a.device })];
}

/** Like promotePair, but the result is at least `floor` category (used by true division, sqrt of ints...). */
export function promoteToFloat(t: Tensor): Tensor {
  return t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16' || t.dtype === 'bfloat16'
    ? t
    : castTo(t, 'float32');
}

export function toTensor(x: TensorLike, like?: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  return full([], Number(x), { dtype: like ? promoteWithScalar(like.dtype, x) : undefined });
}
