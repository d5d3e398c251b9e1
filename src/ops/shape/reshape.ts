/** Reshape, Expand, Identity: views over the input's storage where the layout allows it. */
import { copyContiguous } from '../../backends/cpu/elementwise.js';
import { int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import {
  broadcastShapes,
  broadcastStrides,
  contiguousStrides,
  fmtShape,
  numel,
} from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, input, readInts, sumToShape } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';

/** Resolves a Reshape target: 0 copies the input dim (unless allowzero), one -1 is inferred. */
export function resolveReshape(
  from: readonly number[],
  spec: readonly number[],
  allowzero = false,
  who = 'Reshape',
): number[] {
  const out = spec.map((d, i) => (d === 0 && !allowzero ? from[i]! : d));
  const neg = out.filter((d) => d === -1).length;
  if (neg > 1)
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: at most one dimension may be -1, got ${fmtShape(spec)}`,
    );
  if (out.some((d) => d < -1 || !Number.isInteger(d))) {
    throw new TesseraError('INVALID_ARGUMENT', `${who}: invalid target shape ${fmtShape(spec)}`);
  }
  const total = numel(from);
  if (neg === 1) {
    const known = out.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
    if (known === 0 || total % known !== 0) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${who}: cannot reshape ${fmtShape(from)} (${total} elements) into ${fmtShape(spec)}`,
      );
    }
    out[out.indexOf(-1)] = total / known;
  }
  if (numel(out) !== total) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: cannot reshape ${fmtShape(from)} (${total} elements) into ${fmtShape(spec)} (${numel(out)} elements)`,
    );
  }
  return out;
}

/** A reshaped view when `x` is contiguous, else a reshaped copy. */
export function reshapeView(x: Tensor, shape: number[]): Tensor {
  const src = x.isContiguous() ? x : copyContiguous(x);
  return src.asStrided(shape, contiguousStrides(shape), src.offset);
}

const reshapeGrad = (x: Tensor, dy: Tensor) => dispatch1('Reshape', [dy, int64s(x.shape)]);

registerOp({
  name: 'Reshape',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'Reshape');
      return [reshapeView(x, resolveReshape(x.shape, attrInts(attrs, 'shape', [])))];
    },
  },
  grad: ({ inputs }, [dy]) => [reshapeGrad(inputs[0]!, dy!)],
});

registerOp({
  name: 'Reshape',
  since: 5,
  minInputs: 2,
  maxInputs: 2,
  defaults: { allowzero: 0 },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'Reshape');
      const spec = readInts(input(inputs, 1, 'Reshape'));
      return [reshapeView(x, resolveReshape(x.shape, spec, attrInt(attrs, 'allowzero', 0) !== 0))];
    },
  },
  grad: ({ inputs }, [dy]) => [reshapeGrad(inputs[0]!, dy!), null],
});

registerOp({
  name: 'Expand',
  since: 8,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs) => {
      const x = input(inputs, 0, 'Expand');
      const shape = broadcastShapes([x.shape, readInts(input(inputs, 1, 'Expand'))], 'Expand');
      return [x.asStrided(shape, broadcastStrides(x.shape, x.strides, shape))];
    },
  },
  grad: ({ inputs }, [dy]) => [sumToShape(dy!, inputs[0]!.shape), null],
});

registerOp({
  name: 'Identity',
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    // `copy: 1` (used by clone()) gives fresh storage; graphs get a view.
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'Identity');
      return [attrs.copy ? copyContiguous(x) : x.asStrided(x.shape, x.strides)];
    },
  },
  grad: (_ctx, [dy]) => [dy],
});
