/**
 * DepthToSpace (DCR, and CRD from opset 11) and SpaceToDepth: block rearrangements of NCHW tensors,
 * written as reshape -> permute -> reshape over views (one copy at the end).
 */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrString, input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { movementGrad, permuteView } from './layout.js';
import { reshapeView } from './reshape.js';

function blocksizeOf(op: string, x: Tensor, attrs: Attrs): number {
  if (x.ndim !== 4)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: input must be 4-D (NCHW), got ${fmtShape(x.shape)}`);
  const bs = attrInt(attrs, 'blocksize');
  if (!Number.isInteger(bs) || bs < 1) {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: blocksize must be a positive integer, got ${bs}`);
  }
  return bs;
}

export function depthToSpace(x: Tensor, bs: number, mode: string): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (c % (bs * bs) !== 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `DepthToSpace: channels (${c}) must be divisible by blocksize^2 (${bs * bs})`,
    );
  }
  const cc = c / (bs * bs);
  let v: Tensor;
  if (mode === 'DCR') v = permuteView(reshapeView(x, [n, bs, bs, cc, h, w]), [0, 3, 4, 1, 5, 2]);
  else if (mode === 'CRD') v = permuteView(reshapeView(x, [n, cc, bs, bs, h, w]), [0, 1, 4, 2, 5, 3]);
  else throw new TesseraError('INVALID_ARGUMENT', `DepthToSpace: mode must be DCR or CRD, got '${mode}'`);
  return reshapeView(v, [n, cc, h * bs, w * bs]);
}

export function spaceToDepth(x: Tensor, bs: number): Tensor {
  const [n, c, h, w] = x.shape as [number, number, number, number];
  if (h % bs !== 0 || w % bs !== 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `SpaceToDepth: height (${h}) and width (${w}) must be divisible by blocksize (${bs})`,
    );
  }
  const v = permuteView(reshapeView(x, [n, c, h / bs, bs, w / bs, bs]), [0, 3, 5, 1, 2, 4]);
  return reshapeView(v, [n, c * bs * bs, h / bs, w / bs]);
}

function run(name: string, x: Tensor, attrs: Attrs): Tensor {
  const bs = blocksizeOf(name, x, attrs);
  return name === 'DepthToSpace'
    ? depthToSpace(x, bs, attrString(attrs, 'mode', 'DCR'))
    : spaceToDepth(x, bs);
}

for (const name of ['DepthToSpace', 'SpaceToDepth']) {
  registerOp({
    name,
    since: 1,
    minInputs: 1,
    maxInputs: 1,
    defaults: name === 'DepthToSpace' ? { mode: 'DCR' } : {},
    kernels: { cpu: (inputs, attrs) => [run(name, input(inputs, 0, name), attrs)] },
    grad: ({ inputs, attrs }, [dy]) => [movementGrad(inputs[0]!, dy!, (ids) => run(name, ids, attrs))],
  });
}
