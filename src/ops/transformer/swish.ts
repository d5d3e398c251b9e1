/**
 * Swish (opset 24): Y = X * Sigmoid(alpha * X); SwiGLU (opset 28): Y = Swish_alpha(A) * B, with A
 * and B of one shape. Computed in float64 and rounded where the function bodies store in the
 * input dtype (alpha * x, the sigmoid, the products), so float16 matches them. Gradients with ops.
 */
import { mapBinary, mapUnary } from '../../backends/cpu/elementwise.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, sameShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, expectFloat, expectSameDType, input } from '../helpers.js';
import { scalarLike } from '../nn/moments.js';
import { dispatch1, registerOp } from '../registry.js';
import { rounderFor } from './precision.js';

const op = (name: string, ...xs: Tensor[]) => dispatch1(name, xs);

/** Swish as a number function for `dtype` (rounding after every step of the function body). */
function swishFn(alpha: number, dtype: Tensor['dtype']): (x: number) => number {
  const r = rounderFor(dtype);
  const a = r(Math.fround(alpha));
  return (x) => r(x * r(1 / (1 + Math.exp(-r(a * x)))));
}

/** d swish / dx = s + alpha x s (1 - s), s = sigmoid(alpha x), as ops. */
function swishDerivative(x: Tensor, alpha: number): Tensor {
  const a = scalarLike(alpha, x);
  const s = op('Sigmoid', op('Mul', a, x));
  const oneMinus = op('Sub', scalarLike(1, x), s);
  return op('Add', s, op('Mul', op('Mul', op('Mul', a, x), s), oneMinus));
}

export function swish(x: Tensor, alpha = 1): Tensor {
  return dispatch1('Swish', [x], { alpha });
}

registerOp({
  name: 'Swish',
  since: 24,
  minInputs: 1,
  maxInputs: 1,
  defaults: { alpha: 1 },
  validate: (inputs) => expectFloat('Swish', 'X', input(inputs, 0, 'Swish')),
  kernels: {
    cpu: (inputs, attrs) => {
      const x = inputs[0]!;
      return [mapUnary(x, swishFn(attrFloat(attrs, 'alpha'), x.dtype))];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [op('Mul', dy!, swishDerivative(inputs[0]!, attrFloat(attrs, 'alpha')))],
});

registerOp({
  name: 'SwiGLU',
  since: 28,
  minInputs: 2,
  maxInputs: 2,
  defaults: { alpha: 1 },
  validate(inputs) {
    const a = input(inputs, 0, 'SwiGLU');
    const b = input(inputs, 1, 'SwiGLU');
    expectFloat('SwiGLU', 'A', a);
    expectSameDType('SwiGLU', [a, b]);
    if (!sameShape(a.shape, b.shape)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `SwiGLU: A and B must have the same shape, got ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`,
      );
    }
  },
  kernels: {
    cpu: (inputs, attrs) => {
      const [a, b] = [inputs[0]!, inputs[1]!];
      const f = swishFn(attrFloat(attrs, 'alpha'), a.dtype);
      const r = rounderFor(a.dtype);
      return [mapBinary(a, b, (x, y) => r(f(x) * y), a.dtype, 'SwiGLU')];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const [a, b] = [inputs[0]!, inputs[1]!];
    const alpha = attrFloat(attrs, 'alpha');
    return [
      a.requiresGrad ? op('Mul', op('Mul', dy!, b), swishDerivative(a, alpha)) : null,
      b.requiresGrad ? op('Mul', dy!, swish(a, alpha)) : null,
    ];
  },
});
