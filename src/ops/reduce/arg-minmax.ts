/**
 * ArgMax, ArgMin: int64 index of the extremum along `axis` (attributes axis=0, keepdims=1,
 * select_last_index=0; the last appeared at opset 12 with the same signature otherwise). Values are
 * compared in their own storage (int64 exactly). NaN counts as the extremum, as in numpy.
 */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { comparableData, expectNumeric, splitAtAxis } from './layout.js';

export function argExtremum(
  op: string,
  x: Tensor,
  axisArg: number,
  keepdims: boolean,
  selectLast: boolean,
  isMax: boolean,
): Tensor {
  const axis = normAxis(axisArg, x.ndim, op);
  const { outer, len, inner } = splitAtAxis(x.shape, axis);
  if (len === 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: cannot reduce over axis ${axisArg} of size 0 (input shape ${fmtShape(x.shape)}), expected a non-empty axis`,
    );
  }
  const vals = comparableData(x) as any;
  const out = new BigInt64Array(outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      let best = vals[base];
      let at = 0;
      for (let a = 1; a < len; a++) {
        const v = vals[base + a * inner];
        let take: boolean;
        if (Number.isNaN(v)) take = !Number.isNaN(best) || selectLast;
        else if (Number.isNaN(best)) take = false;
        else if (v === best) take = selectLast;
        else take = isMax ? v > best : v < best;
        if (take) {
          best = v;
          at = a;
        }
      }
      out[o * inner + i] = BigInt(at);
    }
  }
  const shape = x.shape.flatMap((d, i) => (i !== axis ? [d] : keepdims ? [1] : []));
  return Tensor.fromData(out, shape, 'int64');
}

for (const [name, isMax] of [
  ['ArgMax', true],
  ['ArgMin', false],
] as const) {
  registerOp({
    name,
    since: 1,
    minInputs: 1,
    maxInputs: 1,
    defaults: { axis: 0, keepdims: 1, select_last_index: 0 },
    validate: (inputs) => expectNumeric(name, input(inputs, 0, name), true),
    kernels: {
      cpu: (inputs, attrs) => [
        argExtremum(
          name,
          input(inputs, 0, name),
          attrInt(attrs, 'axis'),
          attrInt(attrs, 'keepdims') !== 0,
          attrInt(attrs, 'select_last_index') !== 0,
          isMax,
        ),
      ],
    },
  });
}
