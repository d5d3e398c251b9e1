/**
 * CumSum (opset 11; 14 only widened the types): running sum along the axis given as a 0-d int32 or
 * int64 input, with `exclusive` (each output leaves out its own element) and `reverse` (sums from the
 * end). int64/uint64 sum exactly in BigInt and wrap like C; other ints wrap when stored.
 */
import { allocate, fromNumbers, isBigInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { normAxis } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectDType, input, readInts } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';
import { expectNumeric, isHalf, splitAtAxis } from './layout.js';

export function cumsumKernel(x: Tensor, axisArg: number, exclusive: boolean, reverse: boolean): Tensor {
  const axis = normAxis(axisArg, x.ndim, 'CumSum');
  const { outer, len, inner } = splitAtAxis(x.shape, axis);
  const big = isBigInt(x.dtype);
  const half = isHalf(x.dtype);
  const src = (half ? x.numbers() : x.dataSync()) as any;
  const out = (half ? new Float64Array(src.length) : allocate(x.dtype, src.length)) as any;
  const zero = big ? 0n : 0;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let acc: any = zero;
      for (let k = 0; k < len; k++) {
        const a = reverse ? len - 1 - k : k;
        const p = (o * len + a) * inner + i;
        if (exclusive) {
          out[p] = acc;
          acc += src[p];
        } else {
          acc += src[p];
          out[p] = acc;
        }
      }
    }
  }
  return Tensor.fromData(half ? fromNumbers(x.dtype, out) : out, x.shape, x.dtype);
}

function readAxis(t: Tensor): number {
  expectDType('CumSum', 'axis', t, (d) => d === 'int32' || d === 'int64', 'an int32 or int64 tensor');
  const v = readInts(t);
  if (v.length !== 1 || t.ndim > 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `CumSum: axis must be a 0-d tensor holding one axis, got shape [${t.shape.join(', ')}]`,
    );
  }
  return v[0]!;
}

registerOp({
  name: 'CumSum',
  since: 11,
  minInputs: 2,
  maxInputs: 2,
  defaults: { exclusive: 0, reverse: 0 },
  validate: (inputs) => expectNumeric('CumSum', input(inputs, 0, 'CumSum')),
  kernels: {
    cpu: (inputs, attrs) => [
      cumsumKernel(
        input(inputs, 0, 'CumSum'),
        readAxis(input(inputs, 1, 'CumSum')),
        attrInt(attrs, 'exclusive') !== 0,
        attrInt(attrs, 'reverse') !== 0,
      ),
    ],
  },
  // The adjoint of a running sum is the running sum in the other direction.
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1('CumSum', [dy!, inputs[1]!], {
      exclusive: attrInt(attrs, 'exclusive'),
      reverse: attrInt(attrs, 'reverse') ? 0 : 1,
    }),
    null,
  ],
});
