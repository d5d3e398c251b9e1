/** Shape (with start/end from opset 15) and Size: int64 metadata of a tensor, never differentiated. */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { registerOp } from '../registry.js';

/** Clamps a Shape start/end into [0, rank] after adding rank to negatives. */
function clampDim(v: number, rank: number): number {
  if (!Number.isInteger(v))
    throw new TesseraError('INVALID_ARGUMENT', `Shape: start/end must be integers, got ${v}`);
  return Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
}

registerOp({
  name: 'Shape',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  defaults: { start: 0 },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'Shape');
      const r = x.ndim;
      const start = clampDim(attrInt(attrs, 'start', 0), r);
      const end = attrs.end === undefined ? r : clampDim(attrInt(attrs, 'end'), r);
      const dims = x.shape.slice(start, Math.max(start, end));
      return [
        Tensor.fromData(
          BigInt64Array.from(dims, (d) => BigInt(d)),
          [dims.length],
          'int64',
        ),
      ];
    },
  },
});

registerOp({
  name: 'Size',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs) => [
      Tensor.fromData(BigInt64Array.of(BigInt(input(inputs, 0, 'Size').numel())), [], 'int64'),
    ],
  },
});
