/**
 * CenterCropPad (opset 18): crops or zero-pads each listed axis to a target length, centred; an odd
 * difference puts the extra element at the end (as the reference does).
 */
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInts, input, readInts } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { movementGrad } from './layout.js';
import { padKernel } from './pad.js';
import { uniqueAxes } from './squeeze.js';

/** Full-rank Pad pads (negative = crop) that centre `x` in the target lengths. */
export function centerCropPadPads(
  x: Tensor,
  shape: readonly number[],
  axesAttr: readonly number[] | undefined,
): number[] {
  const axes = uniqueAxes('CenterCropPad', axesAttr ?? x.shape.map((_, i) => i), x.ndim);
  if (shape.length !== axes.length || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `CenterCropPad: shape [${shape.join(', ')}] must hold one non-negative length per axis (${axes.length} axes)`,
    );
  }
  const r = x.ndim;
  const pads = new Array<number>(2 * r).fill(0);
  axes.forEach((a, i) => {
    const diff = shape[i]! - x.shape[a]!;
    const begin = Math.trunc(diff / 2);
    pads[a] = begin;
    pads[a + r] = diff - begin;
  });
  return pads;
}

function run(x: Tensor, shapeT: Tensor, attrs: Attrs): Tensor {
  return padKernel(x, centerCropPadPads(x, readInts(shapeT), attrInts(attrs, 'axes')), 'constant', 0);
}

registerOp({
  name: 'CenterCropPad',
  since: 18,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, attrs) => [
      run(input(inputs, 0, 'CenterCropPad'), input(inputs, 1, 'CenterCropPad'), attrs),
    ],
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const pads = centerCropPadPads(inputs[0]!, readInts(inputs[1]!), attrInts(attrs, 'axes'));
    return [movementGrad(inputs[0]!, dy!, (ids) => padKernel(ids, pads, 'constant', -1)), null];
  },
});
