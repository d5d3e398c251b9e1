/**
 * Add, Sub, Mul, Div: broadcasting binary arithmetic (ONNX semantics: both inputs share one dtype).
 * Integers wrap like C; int64/uint64 compute in BigInt so values past 2^53 stay exact.
 */
import { floatBinary } from '../../backends/cpu/fast-float.js';
import { type DType, isFloat } from '../../runtime/dtype.js';
import type { Tensor } from '../../runtime/tensor.js';
import { input, sumToShape } from '../helpers.js';
import { dispatch1, type OpDef, type OpInputs, registerOp } from '../registry.js';
import { binaryKernel, checkSame, checkTypes, numericTypes, registerLegacyBinary } from './kernels.js';

const add = (a: Tensor, b: Tensor) => dispatch1('Add', [a, b]);
const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const div = (a: Tensor, b: Tensor) => dispatch1('Div', [a, b]);
const neg = (a: Tensor) => dispatch1('Neg', [a]);

type NumF = (x: number, y: number) => number;
type BigF = (x: bigint, y: bigint) => bigint;

function binary(name: string, f: NumF, intF: NumF, bigF: BigF) {
  return (inputs: OpInputs) => {
    const a = input(inputs, 0, name);
    const b = input(inputs, 1, name);
    return [floatBinary(name, a, b) ?? binaryKernel(a, b, isFloat(a.dtype) ? f : intF, bigF, a.dtype, name)];
  };
}

/** Add and Mul also take bool (as torch's `+`/`*` do: or/and); Sub and Div take numbers only. */
function validator(name: string, allowBool: boolean): OpDef['validate'] {
  const allowed = allowBool ? (d: DType) => numericTypes(d) || d === 'bool' : numericTypes;
  return (inputs) => {
    checkTypes(name, inputs, allowed, allowBool ? 'a numeric or bool tensor' : 'a numeric tensor');
    checkSame(name, inputs);
  };
}

function registerArith(def: OpDef): void {
  registerOp(def);
  registerLegacyBinary(def);
}

registerArith({
  name: 'Add',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  validate: validator('Add', true),
  kernels: {
    cpu: binary(
      'Add',
      (x, y) => x + y,
      (x, y) => x + y,
      (x, y) => x + y,
    ),
  },
  grad: ({ inputs }, [dy]) => [sumToShape(dy!, inputs[0]!.shape), sumToShape(dy!, inputs[1]!.shape)],
});

registerArith({
  name: 'Sub',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  validate: validator('Sub', false),
  kernels: {
    cpu: binary(
      'Sub',
      (x, y) => x - y,
      (x, y) => x - y,
      (x, y) => x - y,
    ),
  },
  grad: ({ inputs }, [dy]) => [sumToShape(dy!, inputs[0]!.shape), sumToShape(neg(dy!), inputs[1]!.shape)],
});

registerArith({
  name: 'Mul',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  validate: validator('Mul', true),
  kernels: {
    cpu: binary(
      'Mul',
      (x, y) => x * y,
      // The low 32 bits of the product, exact where x * y in doubles would round; narrower types wrap on write.
      Math.imul,
      (x, y) => x * y,
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

registerArith({
  name: 'Div',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  validate: validator('Div', false),
  // Integer division truncates toward zero, as ONNX Runtime does; division by zero gives 0 (C leaves it undefined).
  kernels: {
    cpu: binary(
      'Div',
      (x, y) => x / y,
      (x, y) => (y === 0 ? 0 : Math.trunc(x / y)),
      (x, y) => (y === 0n ? 0n : x / y),
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
