/**
 * tessera::Indicator: 1 where `a <cmp> b` holds (broadcasting), else 0, in a's dtype. Not an ONNX op
 * (it lives in the 'tessera' domain): the gradients of ReduceMax/Min, ReduceL1 and ReduceL2 need
 * masks that are piecewise constant in their inputs, and an op keeps those gradients in the
 * registry, so they run on every backend and can be differentiated again (the mask is a constant).
 */
import { mapBinary } from '../../backends/cpu/elementwise.js';
import { full } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrString, expectSameDType, input } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';

const COMPARE: Record<string, (x: number, y: number) => number> = {
  eq: (x, y) => (x === y ? 1 : 0),
  gt: (x, y) => (x > y ? 1 : 0),
  lt: (x, y) => (x < y ? 1 : 0),
};

registerOp({
  name: 'Indicator',
  domain: 'tessera',
  minInputs: 2,
  maxInputs: 2,
  defaults: { cmp: 'eq' },
  kernels: {
    cpu: (inputs, attrs) => {
      const a = input(inputs, 0, 'Indicator');
      const b = input(inputs, 1, 'Indicator');
      expectSameDType('Indicator', [a, b]);
      const cmp = attrString(attrs, 'cmp');
      const f = COMPARE[cmp];
      if (!f) {
        throw new TesseraError('INVALID_ARGUMENT', `Indicator: cmp must be eq, gt or lt, got '${cmp}'`);
      }
      return [mapBinary(a, b, f, a.dtype, 'Indicator')];
    },
  },
  // No gradient: the mask is constant almost everywhere.
});

/** 1 where a <cmp> b, else 0, in a's dtype. */
export function indicator(a: Tensor, b: Tensor, cmp: 'eq' | 'gt' | 'lt'): Tensor {
  return dispatch1('Indicator', [a, b], { cmp }, { domain: 'tessera' });
}

/** A 0-d tensor of `like`'s dtype and device. */
export function scalarLike(like: Tensor, v: number): Tensor {
  return full([], v, { dtype: like.dtype, device: like.device });
}

/** sign(x) as a constant mask (-1, 0, 1). */
export function signMask(x: Tensor): Tensor {
  const zero = scalarLike(x, 0);
  return dispatch1('Sub', [indicator(x, zero, 'gt'), indicator(x, zero, 'lt')]);
}
