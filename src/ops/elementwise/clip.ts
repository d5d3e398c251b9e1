/**
 * Clip: min(max(x, lo), hi), so where lo > hi every element becomes hi (as numpy.clip). NaN passes
 * through. Opsets 1-10 take `min`/`max` attributes (defaults -FLT_MAX/FLT_MAX, floats only); from
 * opset 11 they are optional scalar inputs, an absent one meaning no bound; opset 12 adds ints.
 */
import { floatClip } from '../../backends/cpu/fast-float.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, input } from '../helpers.js';
import { registerOp } from '../registry.js';
import {
  checkSame,
  checkTypes,
  floatTypes,
  maskGrad,
  needsRaw,
  numericTypes,
  op,
  rawUnary,
  scalarLike,
  unaryKernel,
} from './kernels.js';

const FLT_MAX = 3.4028234663852886e38;

function clipNumbers(x: Tensor, lo: number, hi: number): Tensor {
  return floatClip(x, lo, hi) ?? unaryKernel(x, (v) => Math.min(Math.max(v, lo), hi), undefined);
}

/** The single value of a bound input, raw (bigint for 64-bit ints). */
function boundValue(t: Tensor | undefined, which: string): number | bigint | undefined {
  if (!t) return undefined;
  if (t.numel() !== 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Clip: input '${which}' must be a scalar, got shape ${fmtShape(t.shape)}`,
    );
  }
  return needsRaw(t.dtype) ? (t.dataSync() as BigInt64Array)[0]! : t.numbers()[0]!;
}

/** dy where lo <= x <= hi (torch's clamp gradient). */
function clipGrad(x: Tensor, dy: Tensor, lo: Tensor | undefined, hi: Tensor | undefined): Tensor {
  let keep: Tensor | undefined;
  if (lo) keep = op('GreaterOrEqual', x, lo);
  if (hi) {
    const h = op('LessOrEqual', x, hi);
    keep = keep ? op('And', keep, h) : h;
  }
  return keep ? maskGrad(keep, dy) : dy;
}

registerOp({
  name: 'Clip',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  defaults: { min: -FLT_MAX, max: FLT_MAX },
  validate: (inputs) => checkTypes('Clip', inputs, floatTypes, 'a float tensor'),
  kernels: {
    cpu: (inputs, attrs) => [
      clipNumbers(input(inputs, 0, 'Clip'), attrFloat(attrs, 'min'), attrFloat(attrs, 'max')),
    ],
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const x = inputs[0]!;
    return [clipGrad(x, dy!, scalarLike(attrFloat(attrs, 'min'), x), scalarLike(attrFloat(attrs, 'max'), x))];
  },
});

registerOp({
  name: 'Clip',
  since: 11,
  minInputs: 1,
  maxInputs: 3,
  validate(inputs) {
    checkTypes('Clip', inputs, numericTypes, 'a numeric tensor');
    checkSame('Clip', inputs);
  },
  kernels: {
    cpu: (inputs) => {
      const x = input(inputs, 0, 'Clip');
      const lo = boundValue(inputs[1], 'min');
      const hi = boundValue(inputs[2], 'max');
      if (needsRaw(x.dtype)) {
        return [
          rawUnary(
            x,
            (v: bigint) => {
              if (lo !== undefined && v < lo) v = lo as bigint;
              if (hi !== undefined && v > hi) v = hi as bigint;
              return v;
            },
            x.dtype,
          ),
        ];
      }
      const l = (lo as number | undefined) ?? Number.NEGATIVE_INFINITY;
      const h = (hi as number | undefined) ?? Number.POSITIVE_INFINITY;
      return [clipNumbers(x, l, h)];
    },
  },
  grad: ({ inputs }, [dy]) => [clipGrad(inputs[0]!, dy!, inputs[1], inputs[2]), null, null],
});
