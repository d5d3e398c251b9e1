/** Trilu: keeps the upper (j - i >= k) or lower (j - i <= k) triangle of the last two dims, zeroing the rest. */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, input, readInts } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';
import { gatherFlat } from './layout.js';

export function triluKernel(x: Tensor, k: number, upper: boolean): Tensor {
  if (x.ndim < 2) {
    throw new TesseraError('INVALID_ARGUMENT', `Trilu: input must have rank >= 2, got ${fmtShape(x.shape)}`);
  }
  const rows = x.shape[x.ndim - 2]!;
  const cols = x.shape[x.ndim - 1]!;
  const n = numel(x.shape);
  const map = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const j = p % cols;
    const i = Math.floor(p / cols) % rows;
    const keep = upper ? j - i >= k : j - i <= k;
    map[p] = keep ? p : -1;
  }
  return gatherFlat(x, map, x.shape, 0);
}

function kOf(t: Tensor | undefined): number {
  if (!t) return 0;
  const v = readInts(t);
  if (v.length !== 1)
    throw new TesseraError('INVALID_ARGUMENT', `Trilu: k must hold one value, got ${v.length}`);
  return v[0]!;
}

registerOp({
  name: 'Trilu',
  since: 14,
  minInputs: 1,
  maxInputs: 2,
  defaults: { upper: 1 },
  kernels: {
    cpu: (inputs, attrs) => [
      triluKernel(input(inputs, 0, 'Trilu'), kOf(inputs[1]), attrInt(attrs, 'upper', 1) !== 0),
    ],
  },
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1('Trilu', inputs[1] ? [dy!, inputs[1]] : [dy!], { upper: attrs.upper }),
    null,
  ],
});
