/**
 * OneHot: indices -> one-hot along a new axis (default last). Non-integer indices and depth are
 * truncated to int64 as the spec says; negative indices count from depth (opset 11); indices
 * outside [-depth, depth-1] give an all-off row.
 */
import { allocate } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { registerOp } from '../registry.js';

export function oneHotKernel(indices: Tensor, depthT: Tensor, values: Tensor, axisAttr: number): Tensor {
  if (depthT.numel() !== 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `OneHot: depth must hold one value, got shape ${fmtShape(depthT.shape)}`,
    );
  }
  const depth = Math.trunc(depthT.numbers()[0]!);
  if (!(depth >= 1))
    throw new TesseraError('INVALID_ARGUMENT', `OneHot: depth must be positive, got ${depth}`);
  if (values.numel() !== 2) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `OneHot: values must hold [off_value, on_value], got shape ${fmtShape(values.shape)}`,
    );
  }
  const r = indices.ndim;
  if (!Number.isInteger(axisAttr) || axisAttr < -r - 1 || axisAttr > r) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `OneHot: axis ${axisAttr} is out of range, expected [${-r - 1}, ${r}]`,
    );
  }
  const axis = axisAttr < 0 ? axisAttr + r + 1 : axisAttr;
  const outShape = [...indices.shape.slice(0, axis), depth, ...indices.shape.slice(axis)];
  const [off, on] = values.dataSync() as any;
  const out = allocate(values.dtype, numel(outShape)) as any;
  out.fill(off);
  const idx = indices.numbers();
  const inner = numel(indices.shape.slice(axis));
  for (let i = 0; i < idx.length; i++) {
    let v = Math.trunc(idx[i]!);
    if (v < 0) v += depth;
    if (!(v >= 0 && v < depth)) continue;
    const o = Math.floor(i / inner);
    const inIdx = i % inner;
    out[(o * depth + v) * inner + inIdx] = on;
  }
  return Tensor.fromData(out, outShape, values.dtype);
}

registerOp({
  name: 'OneHot',
  since: 9,
  minInputs: 3,
  maxInputs: 3,
  defaults: { axis: -1 },
  kernels: {
    cpu: (inputs, attrs) => [
      oneHotKernel(
        input(inputs, 0, 'OneHot'),
        input(inputs, 1, 'OneHot'),
        input(inputs, 2, 'OneHot'),
        attrInt(attrs, 'axis', -1),
      ),
    ],
  },
});
