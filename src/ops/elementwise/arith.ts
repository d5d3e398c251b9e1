/** Add, Sub, Mul, Div: broadcasting binary arithmetic (ONNX semantics: both inputs share one dtype). */
import { mapBinary } from '../../backends/cpu/elementwise.js';
import { isFloat } from '../../runtime/dtype.js';
import type { Tensor } from '../../runtime/tensor.js';
import { expectSameDType, input, sumToShape } from '../helpers.js';
import { dispatch1, type OpInputs, registerOp } from '../registry.js';

const add = (a: Tensor, b: Tensor) => dispatch1('Add', [a, b]);
const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const div = (a: Tensor, b: Tensor) => dispatch1('Div', [a, b]);
const neg = (a: Tensor) => dispatch1('Neg', [a]);

function binary(name: string, f: (x: number, y: number) => number, intF?: (x: number, y: number) => number) {
  return (inputs: OpInputs) => {
    const a = input(inputs, 0, name);
    const b = input(inputs, 1, name);
    expectSameDType(name, [a, b]);
    const fn = intF && !isFloat(a.dtype) ? intF : f;
    return [mapBinary(a, b, fn, a.dtype, name)];
  };
}

registerOp({
  name: 'Add',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  kernels: { cpu: binary('Add', (x, y) => x + y) },
  grad: ({ inputs }, [dy]) => [sumToShape(dy!, inputs[0]!.shape), sumToShape(dy!, inputs[1]!.shape)],
});

registerOp({
  name: 'Sub',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  kernels: { cpu: binary('Sub', (x, y) => x - y) },
  grad: ({ inputs }, [dy]) => [sumToShape(dy!, inputs[0]!.shape), sumToShape(neg(dy!), inputs[1]!.shape)],
});

registerOp({
  name: 'Mul',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: binary(
      'Mul',
      (x, y) => x * y,
      (x, y) => Number(BigInt.asIntN(64, BigInt(x) * BigInt(y))),
    ),
  },
  grad: ({ inputs }, [dy]) => {
    const [a, b] = [inputs[0]!, inputs[1]!];
    return [
      a.requiresGrad ? sumToShape(mul(dy!, b), a.shape) : null,
      b.requiresGrad ? sumToShape(mul(dy!, a), b.shape) : null,
    ];
  },
});

registerOp({
  name: 'Div',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  // Integer division truncates toward zero, as ONNX Runtime does.
  kernels: {
    cpu: binary(
      'Div',
      (x, y) => x / y,
      (x, y) => Math.trunc(x / y),
    ),
  },
  grad: ({ inputs, outputs }, [dy]) => {
    const [a, b] = [inputs[0]!, inputs[1]!];
    return [
      a.requiresGrad ? sumToShape(div(dy!, b), a.shape) : null,
      // d(a/b)/db = -(a/b)/b
      b.requiresGrad ? sumToShape(neg(div(mul(dy!, outputs[0]!), b)), b.shape) : null,
    ];
  },
});

export { add, div, mul, neg };
