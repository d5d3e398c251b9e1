/** ReverseSequence: reverses the first seq_lens[b] steps along time_axis for each batch entry b. */
import { isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape, numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectDType, input, readInts } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { gatherFlat, movementGrad } from './layout.js';

export function reverseSequenceKernel(x: Tensor, seqLens: Tensor, attrs: Attrs): Tensor {
  const op = 'ReverseSequence';
  const batchAxis = attrInt(attrs, 'batch_axis', 1);
  const timeAxis = attrInt(attrs, 'time_axis', 0);
  if (x.ndim < 2)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: input must have rank >= 2, got ${fmtShape(x.shape)}`);
  if (![0, 1].includes(batchAxis) || ![0, 1].includes(timeAxis) || batchAxis === timeAxis) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: batch_axis (${batchAxis}) and time_axis (${timeAxis}) must be 0 and 1 in some order`,
    );
  }
  expectDType(op, 'sequence_lens', seqLens, isInt, 'an integer tensor');
  const lens = readInts(seqLens);
  const batch = x.shape[batchAxis]!;
  const steps = x.shape[timeAxis]!;
  if (seqLens.ndim !== 1 || lens.length !== batch) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: sequence_lens has shape ${fmtShape(seqLens.shape)}, expected [${batch}] (the batch size)`,
    );
  }
  lens.forEach((l) => {
    if (l < 0 || l > steps) {
      throw new TesseraError('INVALID_ARGUMENT', `${op}: sequence length ${l} is outside [0, ${steps}]`);
    }
  });
  const cs = contiguousStrides(x.shape);
  const n = numel(x.shape);
  const map = new Int32Array(n);
  for (let p = 0; p < n; p++) {
    const t = Math.floor(p / cs[timeAxis]!) % steps;
    const b = Math.floor(p / cs[batchAxis]!) % batch;
    const len = lens[b]!;
    map[p] = t < len ? p + (len - 1 - 2 * t) * cs[timeAxis]! : p;
  }
  return gatherFlat(x, map, x.shape);
}

registerOp({
  name: 'ReverseSequence',
  since: 10,
  minInputs: 2,
  maxInputs: 2,
  defaults: { batch_axis: 1, time_axis: 0 },
  kernels: {
    cpu: (inputs, attrs) => [
      reverseSequenceKernel(input(inputs, 0, 'ReverseSequence'), input(inputs, 1, 'ReverseSequence'), attrs),
    ],
  },
  grad: ({ inputs, attrs }, [dy]) => [
    movementGrad(inputs[0]!, dy!, (ids) => reverseSequenceKernel(ids, inputs[1]!, attrs)),
    null,
  ],
});
