/**
 * Pow: base ** exponent, broadcasting. Since opset 12 the exponent may have another numeric dtype
 * than the base; the output has the base's dtype. Integer bases raise exactly with wrap-around
 * (BigInt for int64/uint64), float bases follow C's pow (pow(1, NaN) = 1, pow(-1, ±inf) = 1).
 */
import { mapBinary } from '../../backends/cpu/elementwise.js';
import { isBigInt, isFloat, isInt } from '../../runtime/dtype.js';
import type { Tensor } from '../../runtime/tensor.js';
import { input, sumToShape } from '../helpers.js';
import { type OpDef, registerOp } from '../registry.js';
import {
  checkSame,
  checkTypes,
  numericTypes,
  op,
  rawBinary,
  registerLegacyBinary,
  scalarLike,
} from './kernels.js';

/** C's pow, where JS's Math.pow differs: a base of 1 or an exponent of 0 gives 1 even with NaN, (-1)^±inf = 1. */
export function powC(x: number, y: number): number {
  if (x === 1 || y === 0) return 1;
  if (x === -1 && !Number.isFinite(y) && !Number.isNaN(y)) return 1;
  return x ** y;
}

/** A negative integer exponent: what C gives after truncating pow's double result. */
function negativeIntPow(x: number, y: number): number {
  if (x === 1) return 1;
  if (x === -1) return y % 2 === 0 ? 1 : -1;
  return 0;
}

/** x ** y for 32-bit (and narrower) ints: square-and-multiply keeping the low 32 bits. */
function intPow(x: number, y: number): number {
  if (y < 0) return negativeIntPow(x, y);
  let r = 1;
  let base = x | 0;
  let e = y;
  while (e > 0) {
    if (e % 2 === 1) r = Math.imul(r, base);
    base = Math.imul(base, base);
    e = Math.floor(e / 2);
  }
  return r;
}

/** x ** y for 64-bit ints, wrapping at 64 bits. */
function bigPow(x: bigint, y: bigint): bigint {
  if (y < 0n) return BigInt(negativeIntPow(Number(x), Number(y)));
  let r = 1n;
  let base = x;
  let e = y;
  while (e > 0n) {
    if (e & 1n) r = BigInt.asIntN(64, r * base);
    base = BigInt.asIntN(64, base * base);
    e >>= 1n;
  }
  return r;
}

function powKernel(a: Tensor, b: Tensor): Tensor {
  if (isFloat(a.dtype)) return mapBinary(a, b, powC, a.dtype, 'Pow');
  if (!isInt(b.dtype)) return mapBinary(a, b, (x, y) => Math.trunc(powC(x, y)), a.dtype, 'Pow');
  if (isBigInt(a.dtype)) return rawBinary(a, b, (x: bigint, y) => bigPow(x, BigInt(y)), a.dtype, 'Pow');
  return mapBinary(a, b, intPow, a.dtype, 'Pow');
}

/** `t` in `like`'s dtype (the exponent's gradient math runs in the base's dtype). */
function castLike(t: Tensor, like: Tensor): Tensor {
  return t.dtype === like.dtype ? t : op('CastLike', t, like);
}

const powDef = (since: number, mixed: boolean): OpDef => ({
  name: 'Pow',
  since,
  minInputs: 2,
  maxInputs: 2,
  validate(inputs) {
    checkTypes('Pow', inputs, numericTypes, 'a numeric tensor');
    if (!mixed) checkSame('Pow', inputs);
  },
  kernels: { cpu: (inputs) => [powKernel(input(inputs, 0, 'Pow'), input(inputs, 1, 'Pow'))] },
  grad: ({ inputs, outputs }, [dy]) => {
    const [x, e] = [inputs[0]!, inputs[1]!];
    const zero = scalarLike(0, dy!);
    const ex = castLike(e, x);
    // d/dx = e * x^(e-1), 0 where e == 0 (as torch, so 0^0 has no NaN gradient).
    const dx = x.requiresGrad
      ? sumToShape(
          op(
            'Where',
            op('Equal', ex, scalarLike(0, ex)),
            zero,
            op('Mul', dy!, op('Mul', ex, op('Pow', x, op('Sub', ex, scalarLike(1, ex))))),
          ),
          x.shape,
        )
      : null;
    // d/de = x^e * log(x), 0 where x == 0 and e >= 0 (the limit torch uses).
    let de: Tensor | null = null;
    if (e.requiresGrad && isFloat(e.dtype)) {
      const atZero = op('And', op('Equal', x, scalarLike(0, x)), op('GreaterOrEqual', ex, scalarLike(0, ex)));
      const g = op('Where', atZero, zero, op('Mul', dy!, op('Mul', outputs[0]!, op('Log', x))));
      de = castLike(sumToShape(g, e.shape), e);
    }
    return [dx, de];
  },
});

// Opset 12 lets the exponent's dtype differ; 7 broadcasts like numpy; 1 has the legacy attributes.
registerOp(powDef(12, true));
registerOp(powDef(7, false));
registerLegacyBinary(powDef(7, false));
