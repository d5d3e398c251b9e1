/** Argument handling shared by the functional API: torch's int-or-tuple arguments and unbatched inputs. */

import { dispatch1 } from '../../ops/registry.js';
import { int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';

/** An int for every spatial axis, or one per axis. */
export type IntOrTuple = number | number[];

/** Expands an int-or-tuple argument to `n` values, checking each is an integer >= `min`. */
export function tuple(who: string, name: string, v: IntOrTuple, n: number, min = 0): number[] {
  const out = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (out.length !== n) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: ${name} must be an int or ${n} ints, got [${out.join(', ')}]`,
    );
  }
  for (const x of out) {
    if (!Number.isInteger(x) || x < min) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: ${name} must hold integers >= ${min}, got [${out.join(', ')}]`,
      );
    }
  }
  return out;
}

export const reshape = (t: Tensor, shape: readonly number[]) => dispatch1('Reshape', [t, int64s(shape)]);

/**
 * Runs `fn` on a batched input: [C, ...spatial] inputs (rank spatial + 1) get a batch of one and
 * lose it again, as torch's unbatched forms. Other ranks than spatial + 1 or + 2 are an error.
 */
export function batched(who: string, x: Tensor, spatial: number, fn: (xb: Tensor) => Tensor): Tensor {
  if (x.ndim === spatial + 2) return fn(x);
  if (x.ndim === spatial + 1) {
    const y = fn(reshape(x, [1, ...x.shape]));
    return reshape(y, y.shape.slice(1));
  }
  throw new TesseraError(
    'SHAPE_MISMATCH',
    `${who}: expected a ${spatial + 1}-D (unbatched) or ${spatial + 2}-D (batched) input, got shape ${fmtShape(x.shape)}`,
  );
}

/** ONNX pads ([begin..., end...]) for symmetric torch padding. */
export function symmetricPads(p: number[]): number[] {
  return [...p, ...p];
}
