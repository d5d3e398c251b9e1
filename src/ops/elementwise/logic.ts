/**
 * Boolean logic (And, Or, Xor; Not is in unary.ts) and bitwise integer ops (BitwiseAnd/Or/Xor/Not,
 * BitShift). Narrow ints compute on JS's 32-bit bit operations and wrap on write; int64/uint64
 * use BigInt.
 */
import { type DType, isBigInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { attrString, input } from '../helpers.js';
import { type OpDef, registerOp } from '../registry.js';
import {
  binaryKernel,
  boolTypes,
  checkSame,
  checkTypes,
  intTypes,
  registerLegacyBinary,
  uintTypes,
  unaryKernel,
} from './kernels.js';

type NumF = (x: number, y: number) => number;
type BigF = (x: bigint, y: bigint) => bigint;

function binaryDef(
  name: string,
  since: number,
  types: (d: DType) => boolean,
  desc: string,
  f: NumF,
  big: BigF | undefined,
): OpDef {
  return {
    name,
    since,
    minInputs: 2,
    maxInputs: 2,
    validate(inputs) {
      checkTypes(name, inputs, types, desc);
      checkSame(name, inputs);
    },
    kernels: {
      cpu: (inputs) => {
        const a = input(inputs, 0, name);
        return [binaryKernel(a, input(inputs, 1, name), f, big, a.dtype, name)];
      },
    },
  };
}

// ---- bool logic (numpy broadcasting since opset 7; `broadcast`/`axis` attributes before) ----------
for (const [name, f] of [
  ['And', (x: number, y: number) => (x && y ? 1 : 0)],
  ['Or', (x: number, y: number) => (x || y ? 1 : 0)],
  ['Xor', (x: number, y: number) => (!x !== !y ? 1 : 0)],
] as const) {
  const def = binaryDef(name, 7, boolTypes, 'a bool tensor', f, undefined);
  registerOp(def);
  registerLegacyBinary(def);
}

// ---- bitwise ------------------------------------------------------------------------------------
const INT_DESC = 'an integer tensor';
registerOp(
  binaryDef(
    'BitwiseAnd',
    18,
    intTypes,
    INT_DESC,
    (x, y) => x & y,
    (x, y) => x & y,
  ),
);
registerOp(
  binaryDef(
    'BitwiseOr',
    18,
    intTypes,
    INT_DESC,
    (x, y) => x | y,
    (x, y) => x | y,
  ),
);
registerOp(
  binaryDef(
    'BitwiseXor',
    18,
    intTypes,
    INT_DESC,
    (x, y) => x ^ y,
    (x, y) => x ^ y,
  ),
);
registerOp({
  name: 'BitwiseNot',
  since: 18,
  minInputs: 1,
  maxInputs: 1,
  validate: (inputs) => checkTypes('BitwiseNot', inputs, intTypes, INT_DESC),
  kernels: {
    cpu: (inputs) => [
      unaryKernel(
        input(inputs, 0, 'BitwiseNot'),
        (x) => ~x,
        (x: bigint) => ~x,
      ),
    ],
  },
});

// ---- BitShift: unsigned ints; a shift by the type's width or more gives 0 (as numpy) --------------
const WIDTH: Partial<Record<DType, number>> = { uint8: 8, uint16: 16, uint32: 32, uint64: 64 };

registerOp({
  name: 'BitShift',
  since: 11,
  minInputs: 2,
  maxInputs: 2,
  validate(inputs, attrs) {
    checkTypes('BitShift', inputs, uintTypes, 'an unsigned integer tensor');
    checkSame('BitShift', inputs);
    const dir = attrString(attrs, 'direction');
    if (dir !== 'LEFT' && dir !== 'RIGHT') {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `BitShift: direction must be 'LEFT' or 'RIGHT', got '${dir}'`,
      );
    }
  },
  kernels: {
    cpu: (inputs, attrs) => {
      const a = input(inputs, 0, 'BitShift');
      const b = input(inputs, 1, 'BitShift');
      const left = attrString(attrs, 'direction') === 'LEFT';
      const w = WIDTH[a.dtype]!;
      if (isBigInt(a.dtype)) {
        const f: BigF = left
          ? (x, y) => (y >= 64n ? 0n : BigInt.asUintN(64, x << y))
          : (x, y) => (y >= 64n ? 0n : x >> y);
        return [binaryKernel(a, b, () => 0, f, a.dtype, 'BitShift')];
      }
      // JS shifts take the count mod 32, so wide shifts are handled first.
      const f: NumF = left ? (x, y) => (y >= w ? 0 : (x << y) >>> 0) : (x, y) => (y >= w ? 0 : x >>> y);
      return [binaryKernel(a, b, f, undefined, a.dtype, 'BitShift')];
    },
  },
});
