/**
 * Mod: remainder, broadcasting. fmod=0 (integers only) takes the sign of the divisor, as Python's %;
 * fmod=1 takes the sign of the dividend, as C's fmod. Division by zero gives 0 for integers.
 */
import { isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { attrInt, input, sumToShape } from '../helpers.js';
import { registerOp } from '../registry.js';
import { binaryKernel, checkSame, checkTypes, numericTypes, op } from './kernels.js';

/** Python's %: the remainder has the divisor's sign. */
function floorMod(x: number, y: number): number {
  if (y === 0) return 0;
  const r = x % y;
  return r !== 0 && r < 0 !== y < 0 ? r + y : r;
}
function floorModBig(x: bigint, y: bigint): bigint {
  if (y === 0n) return 0n;
  const r = x % y;
  return r !== 0n && r < 0n !== y < 0n ? r + y : r;
}
const truncModInt = (x: number, y: number) => (y === 0 ? 0 : x % y);
const truncModBig = (x: bigint, y: bigint) => (y === 0n ? 0n : x % y);

registerOp({
  name: 'Mod',
  since: 10,
  minInputs: 2,
  maxInputs: 2,
  defaults: { fmod: 0 },
  validate(inputs, attrs) {
    checkTypes('Mod', inputs, numericTypes, 'a numeric tensor');
    checkSame('Mod', inputs);
    const fmod = attrInt(attrs, 'fmod', 0);
    if (fmod !== 0 && fmod !== 1) {
      throw new TesseraError('INVALID_ARGUMENT', `Mod: attribute fmod must be 0 or 1, got ${fmod}`);
    }
    if (isFloat(inputs[0]!.dtype) && fmod === 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Mod: fmod must be 1 for floating-point inputs, got fmod=0 with ${inputs[0]!.dtype}`,
      );
    }
  },
  kernels: {
    cpu: (inputs, attrs) => {
      const a = input(inputs, 0, 'Mod');
      const b = input(inputs, 1, 'Mod');
      const fmod = attrInt(attrs, 'fmod', 0) === 1;
      // JS's % on doubles is C's fmod.
      if (isFloat(a.dtype)) return [binaryKernel(a, b, (x, y) => x % y, undefined, a.dtype, 'Mod')];
      return [
        fmod
          ? binaryKernel(a, b, truncModInt, truncModBig, a.dtype, 'Mod')
          : binaryKernel(a, b, floorMod, floorModBig, a.dtype, 'Mod'),
      ];
    },
  },
  // fmod(a, b) = a - trunc(a / b) * b: da = dy, db = -dy * trunc(a / b) = -dy * (a - y) / b.
  grad: ({ inputs, outputs }, [dy]) => {
    const [a, b] = [inputs[0]!, inputs[1]!];
    return [
      a.requiresGrad ? sumToShape(dy!, a.shape) : null,
      b.requiresGrad
        ? sumToShape(op('Neg', op('Mul', dy!, op('Div', op('Sub', a, outputs[0]!), b))), b.shape)
        : null,
    ];
  },
});
