/**
 * Unary elementwise math ops, one table row each: dtype constraint, kernel function (and a BigInt
 * form where int64 must stay exact), gradient. Activations with attributes live in activations.ts.
 */
import { floatUnary } from '../../backends/cpu/fast-float.js';
import type { DType } from '../../runtime/dtype.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import {
  boolTypes,
  checkTypes,
  floatTypes,
  numericTypes,
  op,
  scalarLike,
  unaryKernel,
  zerosOf,
} from './kernels.js';
import { erf, roundHalfEven } from './special.js';

export interface UnarySpec {
  name: string;
  /** First opset this definition serves (default 1). */
  since?: number;
  /** Allowed input dtypes (default: floats) and how an error names them. */
  types?: (d: DType) => boolean;
  typeDesc?: string;
  /** Attribute defaults. */
  defaults?: Attrs;
  /** The function on JS numbers; `make` builds it from the attributes instead. */
  f?: (x: number) => number;
  make?: (attrs: Attrs) => (x: number) => number;
  /** The function on raw int64/uint64 values (exact past 2^53). */
  big?: (x: bigint) => bigint;
  /** Output dtype when not the input's (bool for IsNaN...). */
  outDtype?: DType;
  validate?: (attrs: Attrs) => void;
  /** A fast kernel for the dtypes it covers (null for the rest, which `f`/`make` serve). */
  fast?: (x: Tensor, attrs: Attrs) => Tensor | null;
  /** dx given x, y = f(x), dy and the attributes. */
  grad?: (x: Tensor, y: Tensor, dy: Tensor, attrs: Attrs) => Tensor;
}

export function registerUnary(spec: UnarySpec): void {
  const g = spec.grad;
  const types = spec.types ?? floatTypes;
  const desc = spec.typeDesc ?? 'a float tensor';
  registerOp({
    name: spec.name,
    since: spec.since ?? 1,
    minInputs: 1,
    maxInputs: 1,
    defaults: spec.defaults,
    validate(inputs, attrs) {
      checkTypes(spec.name, inputs, types, desc);
      spec.validate?.(attrs);
    },
    kernels: {
      cpu: (inputs, attrs) => {
        const x = input(inputs, 0, spec.name);
        const fast = spec.fast ? spec.fast(x, attrs) : spec.make ? null : floatUnary(spec.name, x);
        if (fast) return [fast];
        const f = spec.make ? spec.make(attrs) : spec.f!;
        return [unaryKernel(x, f, spec.big, spec.outDtype ?? x.dtype)];
      },
    },
    grad: g ? ({ inputs, outputs, attrs }, [dy]) => [g(inputs[0]!, outputs[0]!, dy!, attrs)] : undefined,
  });
}

const c = scalarLike;
const NUMERIC = { types: numericTypes, typeDesc: 'a numeric tensor' };

// ---- sign and magnitude --------------------------------------------------------------------------
registerUnary({
  name: 'Abs',
  ...NUMERIC,
  f: Math.abs,
  big: (x) => (x < 0n ? -x : x),
  grad: (x, _y, dy) => op('Mul', dy, op('Sign', x)),
});
registerUnary({ name: 'Neg', ...NUMERIC, f: (x) => -x, big: (x) => -x, grad: (_x, _y, dy) => op('Neg', dy) });
registerUnary({
  name: 'Sign',
  since: 9,
  ...NUMERIC,
  f: Math.sign,
  big: (x) => (x > 0n ? 1n : x < 0n ? -1n : 0n),
  grad: (x) => zerosOf(x),
});

// ---- powers, exponentials, logarithms -----------------------------------------------------------
registerUnary({ name: 'Sqrt', f: Math.sqrt, grad: (_x, y, dy) => op('Div', dy, op('Mul', y, c(2, y))) });
registerUnary({
  name: 'Reciprocal',
  f: (x) => 1 / x,
  grad: (_x, y, dy) => op('Neg', op('Mul', dy, op('Mul', y, y))),
});
registerUnary({ name: 'Exp', f: Math.exp, grad: (_x, y, dy) => op('Mul', dy, y) });
registerUnary({ name: 'Log', f: Math.log, grad: (x, _y, dy) => op('Div', dy, x) });

// ---- trigonometric and hyperbolic ---------------------------------------------------------------
/** 1 - x^2, the term under the roots of asin/acos and in atanh's derivative. */
const oneMinusSq = (x: Tensor) => op('Sub', c(1, x), op('Mul', x, x));
registerUnary({ name: 'Sin', since: 7, f: Math.sin, grad: (x, _y, dy) => op('Mul', dy, op('Cos', x)) });
registerUnary({
  name: 'Cos',
  since: 7,
  f: Math.cos,
  grad: (x, _y, dy) => op('Neg', op('Mul', dy, op('Sin', x))),
});
registerUnary({
  name: 'Tan',
  since: 7,
  f: Math.tan,
  grad: (_x, y, dy) => op('Mul', dy, op('Add', c(1, y), op('Mul', y, y))),
});
registerUnary({
  name: 'Asin',
  since: 7,
  f: Math.asin,
  grad: (x, _y, dy) => op('Div', dy, op('Sqrt', oneMinusSq(x))),
});
registerUnary({
  name: 'Acos',
  since: 7,
  f: Math.acos,
  grad: (x, _y, dy) => op('Neg', op('Div', dy, op('Sqrt', oneMinusSq(x)))),
});
registerUnary({
  name: 'Atan',
  since: 7,
  f: Math.atan,
  grad: (x, _y, dy) => op('Div', dy, op('Add', c(1, x), op('Mul', x, x))),
});
registerUnary({ name: 'Sinh', since: 9, f: Math.sinh, grad: (x, _y, dy) => op('Mul', dy, op('Cosh', x)) });
registerUnary({ name: 'Cosh', since: 9, f: Math.cosh, grad: (x, _y, dy) => op('Mul', dy, op('Sinh', x)) });
registerUnary({
  name: 'Asinh',
  since: 9,
  f: Math.asinh,
  grad: (x, _y, dy) => op('Div', dy, op('Sqrt', op('Add', op('Mul', x, x), c(1, x)))),
});
registerUnary({
  name: 'Acosh',
  since: 9,
  f: Math.acosh,
  // sqrt(x-1)*sqrt(x+1) rather than sqrt(x^2-1): no cancellation near 1.
  grad: (x, _y, dy) =>
    op('Div', dy, op('Mul', op('Sqrt', op('Sub', x, c(1, x))), op('Sqrt', op('Add', x, c(1, x))))),
});
registerUnary({
  name: 'Atanh',
  since: 9,
  f: Math.atanh,
  grad: (x, _y, dy) => op('Div', dy, oneMinusSq(x)),
});
// Erf takes every numeric type (an int input gives -1, 0 or 1).
registerUnary({
  name: 'Erf',
  since: 9,
  ...NUMERIC,
  f: erf,
  grad: (x, _y, dy) =>
    op('Mul', dy, op('Mul', c(2 / Math.sqrt(Math.PI), x), op('Exp', op('Neg', op('Mul', x, x))))),
});

// ---- rounding (piecewise constant: zero gradient, as torch) -------------------------------------
registerUnary({ name: 'Floor', f: Math.floor, grad: (x) => zerosOf(x) });
registerUnary({ name: 'Ceil', f: Math.ceil, grad: (x) => zerosOf(x) });
registerUnary({ name: 'Round', since: 11, f: roundHalfEven, grad: (x) => zerosOf(x) });

// ---- predicates ---------------------------------------------------------------------------------
registerUnary({ name: 'IsNaN', since: 9, f: (x) => (Number.isNaN(x) ? 1 : 0), outDtype: 'bool' });
registerUnary({
  name: 'IsInf',
  since: 10,
  defaults: { detect_negative: 1, detect_positive: 1 },
  make: (attrs) => {
    const neg = attrInt(attrs, 'detect_negative', 1) !== 0;
    const pos = attrInt(attrs, 'detect_positive', 1) !== 0;
    return (x) =>
      (pos && x === Number.POSITIVE_INFINITY) || (neg && x === Number.NEGATIVE_INFINITY) ? 1 : 0;
  },
  outDtype: 'bool',
});
registerUnary({ name: 'Not', types: boolTypes, typeDesc: 'a bool tensor', f: (x) => (x ? 0 : 1) });
