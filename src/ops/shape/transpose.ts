/** Transpose: permutes dims (reversed when `perm` is absent) as a view of the input's storage. */
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInts, input } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { permuteView } from './layout.js';

/** The permutation for `x`: `perm` checked to hold each axis once (negative axes allowed), or reversed dims. */
export function resolvePerm(op: string, rank: number, perm: readonly number[] | undefined): number[] {
  if (perm === undefined) return Array.from({ length: rank }, (_, i) => rank - 1 - i);
  if (perm.length !== rank) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: perm [${perm.join(', ')}] has ${perm.length} entries, expected ${rank} (the input rank)`,
    );
  }
  const out = perm.map((p) => (p < 0 ? p + rank : p));
  const seen = new Set(out);
  if (seen.size !== rank || out.some((p) => !Number.isInteger(p) || p < 0 || p >= rank)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: perm [${perm.join(', ')}] is not a permutation of the ${rank} axes`,
    );
  }
  return out;
}

export function inversePerm(perm: readonly number[]): number[] {
  const inv = new Array<number>(perm.length);
  perm.forEach((p, i) => {
    inv[p] = i;
  });
  return inv;
}

function transpose(x: Tensor, attrs: Attrs): Tensor {
  return permuteView(x, resolvePerm('Transpose', x.ndim, attrInts(attrs, 'perm')));
}

registerOp({
  name: 'Transpose',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  kernels: { cpu: (inputs, attrs) => [transpose(input(inputs, 0, 'Transpose'), attrs)] },
  grad: ({ inputs, attrs }, [dy]) => {
    const perm = resolvePerm('Transpose', inputs[0]!.ndim, attrInts(attrs, 'perm'));
    return [dispatch1('Transpose', [dy!], { perm: inversePerm(perm) })];
  },
});
