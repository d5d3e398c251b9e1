/**
 * Optional values: Optional (wrap a value, or make an empty optional of a type), OptionalHasElement
 * and OptionalGetElement (which since opset 18 also accept a plain tensor or sequence), and Identity
 * over sequences and optionals (opset 14 / 16), delegating tensors to the tensor Identity.
 */
import { scalar } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { isTensorValue, OptionalValue, TensorSequence, typeFromString } from '../../runtime/graph.js';
import { findOp, registerOp } from '../registry.js';
import { own } from './loop.js';
import { asOutputs, values } from './values.js';

registerOp({
  name: 'Optional',
  since: 15,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const v = values(inputs)[0];
      const type = typeof attrs.type === 'string' ? typeFromString(attrs.type) : undefined;
      if (v === undefined && !type) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          "Optional: without an input, attribute 'type' is required",
        );
      }
      if (v instanceof OptionalValue)
        throw new TesseraError('INVALID_ARGUMENT', 'Optional: the input is already an optional');
      return asOutputs([new OptionalValue(own(v) as never, type)]);
    },
  },
});

registerOp({
  name: 'OptionalHasElement',
  since: 15,
  maxInputs: 1,
  kernels: {
    cpu: (inputs) => {
      const v = values(inputs)[0];
      const has = v instanceof OptionalValue ? v.hasValue : v !== undefined;
      return [scalar(has, 'bool')];
    },
  },
});

registerOp({
  name: 'OptionalGetElement',
  since: 15,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs) => {
      const v = values(inputs)[0];
      const inner = v instanceof OptionalValue ? v.value : v;
      if (inner === undefined)
        throw new TesseraError('INVALID_ARGUMENT', 'OptionalGetElement: the optional is empty');
      return asOutputs([own(inner)]);
    },
  },
});

// Identity over sequences and optionals, registered only while the tensor Identity does not cover
// these opsets itself; tensors still go to the tensor Identity's kernel.
const tensorIdentity = findOp('Identity', 13);
if (tensorIdentity && (findOp('Identity')?.since ?? 1) < 14) {
  registerOp({
    name: 'Identity',
    since: 14,
    minInputs: 1,
    maxInputs: 1,
    kernels: {
      cpu: (inputs, attrs, ctx) => {
        const v = values(inputs)[0];
        if (v instanceof TensorSequence || v instanceof OptionalValue) return asOutputs([own(v)]);
        if (!isTensorValue(v)) throw new TesseraError('INVALID_ARGUMENT', 'Identity: input 0 is required');
        return tensorIdentity.kernels.cpu(inputs, attrs, ctx);
      },
    },
    grad: tensorIdentity.grad,
  });
}
