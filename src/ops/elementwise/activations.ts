/**
 * Activation functions (ONNX semantics and attribute defaults). NaN passes through every one of
 * them except ThresholdedRelu (NaN > alpha is false, so 0, as ONNX Runtime gives).
 */
import { floatLeakyRelu } from '../../backends/cpu/fast-float.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrString, input, sumToShape } from '../helpers.js';
import { type OpDef, registerOp } from '../registry.js';
import {
  binaryKernel,
  checkSame,
  checkTypes,
  legacyAlign,
  maskGrad,
  numericTypes,
  op,
  registerLegacyBinary,
  scalarLike,
} from './kernels.js';
import { erf } from './special.js';
import { registerUnary } from './unary.js';

const c = scalarLike;
const NUMERIC = { types: numericTypes, typeDesc: 'a numeric tensor' };
const gt = (x: Tensor, v: number) => op('Greater', x, c(v, x));
const lt = (x: Tensor, v: number) => op('Less', x, c(v, x));

/** Numerically stable logistic function. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}
/** log(1 + exp(x)) without overflow for large x. */
export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

registerUnary({
  name: 'Relu',
  ...NUMERIC,
  f: (x) => Math.max(0, x), // NaN stays NaN
  big: (x) => (x > 0n ? x : 0n),
  grad: (x, _y, dy) => maskGrad(gt(x, 0), dy),
});

registerUnary({
  name: 'LeakyRelu',
  defaults: { alpha: 0.01 },
  fast: (x, attrs) => floatLeakyRelu(x, attrFloat(attrs, 'alpha')),
  make: (attrs) => {
    const a = attrFloat(attrs, 'alpha');
    return (x) => (x < 0 ? a * x : x);
  },
  grad: (x, _y, dy, attrs) => op('Where', gt(x, 0), dy, op('Mul', dy, c(attrFloat(attrs, 'alpha'), dy))),
});

registerUnary({
  name: 'Elu',
  defaults: { alpha: 1.0 },
  make: (attrs) => {
    const a = attrFloat(attrs, 'alpha');
    return (x) => (x < 0 ? a * Math.expm1(x) : x);
  },
  // For x <= 0, d/dx alpha*(e^x - 1) = y + alpha.
  grad: (x, y, dy, attrs) =>
    op('Where', gt(x, 0), dy, op('Mul', dy, op('Add', y, c(attrFloat(attrs, 'alpha'), y)))),
});

registerUnary({
  name: 'Selu',
  // ONNX's defaults: the float32 values 1.67326319217681884765625 and 1.05070102214813232421875.
  defaults: { alpha: 1.6732631921768188, gamma: 1.0507010221481323 },
  make: (attrs) => {
    const a = attrFloat(attrs, 'alpha');
    const g = attrFloat(attrs, 'gamma');
    return (x) => (x <= 0 ? g * a * Math.expm1(x) : g * x);
  },
  grad: (x, y, dy, attrs) => {
    const a = attrFloat(attrs, 'alpha');
    const g = attrFloat(attrs, 'gamma');
    return op('Where', gt(x, 0), op('Mul', dy, c(g, dy)), op('Mul', dy, op('Add', y, c(g * a, y))));
  },
});

registerUnary({
  name: 'Celu',
  since: 12,
  defaults: { alpha: 1.0 },
  make: (attrs) => {
    const a = attrFloat(attrs, 'alpha');
    return (x) => (x > 0 ? x : a * Math.expm1(x / a));
  },
  grad: (x, _y, dy, attrs) => {
    const a = attrFloat(attrs, 'alpha');
    return op('Where', gt(x, 0), dy, op('Mul', dy, op('Exp', op('Div', x, c(a, x)))));
  },
});

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_K = 0.044715;
registerUnary({
  name: 'Gelu',
  since: 20,
  defaults: { approximate: 'none' },
  validate: (attrs) => {
    const a = attrString(attrs, 'approximate');
    if (a !== 'none' && a !== 'tanh') {
      throw new TesseraError('INVALID_ARGUMENT', `Gelu: approximate must be 'none' or 'tanh', got '${a}'`);
    }
  },
  make: (attrs) =>
    attrString(attrs, 'approximate') === 'tanh'
      ? (x) => 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_K * x * x * x)))
      : (x) => 0.5 * x * (1 + erf(x / Math.SQRT2)),
  grad: (x, _y, dy, attrs) => {
    const half = c(0.5, x);
    const one = c(1, x);
    let d: Tensor;
    if (attrString(attrs, 'approximate') === 'tanh') {
      // 0.5(1+t) + 0.5 x (1-t^2) sqrt(2/pi) (1 + 3k x^2), t = tanh(sqrt(2/pi)(x + k x^3))
      const x2 = op('Mul', x, x);
      const inner = op('Mul', c(SQRT_2_OVER_PI, x), op('Add', x, op('Mul', c(GELU_K, x), op('Mul', x2, x))));
      const t = op('Tanh', inner);
      const dInner = op('Mul', c(SQRT_2_OVER_PI, x), op('Add', one, op('Mul', c(3 * GELU_K, x), x2)));
      d = op(
        'Add',
        op('Mul', half, op('Add', one, t)),
        op('Mul', op('Mul', half, x), op('Mul', op('Sub', one, op('Mul', t, t)), dInner)),
      );
    } else {
      // Phi(x) + x phi(x)
      const cdf = op('Mul', half, op('Add', one, op('Erf', op('Mul', x, c(Math.SQRT1_2, x)))));
      const pdf = op(
        'Mul',
        c(1 / Math.sqrt(2 * Math.PI), x),
        op('Exp', op('Mul', c(-0.5, x), op('Mul', x, x))),
      );
      d = op('Add', cdf, op('Mul', x, pdf));
    }
    return op('Mul', dy, d);
  },
});

/** max(0, min(1, v)) with NaN passed through (numpy's clip). */
const clip01 = (v: number) => Math.min(1, Math.max(0, v));

registerUnary({
  name: 'HardSigmoid',
  defaults: { alpha: 0.2, beta: 0.5 },
  make: (attrs) => {
    const a = attrFloat(attrs, 'alpha');
    const b = attrFloat(attrs, 'beta');
    return (x) => clip01(a * x + b);
  },
  grad: (x, _y, dy, attrs) => {
    const a = attrFloat(attrs, 'alpha');
    const b = attrFloat(attrs, 'beta');
    const v = op('Add', op('Mul', x, c(a, x)), c(b, x));
    const inside = op('And', gt(v, 0), lt(v, 1));
    return maskGrad(inside, op('Mul', dy, c(a, dy)));
  },
});

registerUnary({
  name: 'HardSwish',
  since: 14,
  f: (x) => x * clip01(x / 6 + 0.5),
  // 0 below -3, 1 above 3, x/3 + 1/2 between (torch's hardswish_backward).
  grad: (x, _y, dy) =>
    maskGrad(
      op('Not', lt(x, -3)),
      op('Where', gt(x, 3), dy, op('Mul', dy, op('Add', op('Div', x, c(3, x)), c(0.5, x)))),
    ),
});

registerUnary({
  name: 'Sigmoid',
  f: sigmoid,
  grad: (_x, y, dy) => op('Mul', dy, op('Mul', y, op('Sub', c(1, y), y))),
});
registerUnary({
  name: 'Tanh',
  f: Math.tanh,
  grad: (_x, y, dy) => op('Mul', dy, op('Sub', c(1, y), op('Mul', y, y))),
});
registerUnary({ name: 'Softplus', f: softplus, grad: (x, _y, dy) => op('Mul', dy, op('Sigmoid', x)) });
registerUnary({
  name: 'Softsign',
  f: (x) => x / (1 + Math.abs(x)),
  grad: (x, _y, dy) => {
    const d = op('Add', c(1, x), op('Abs', x));
    return op('Div', dy, op('Mul', d, d));
  },
});

registerUnary({
  name: 'ThresholdedRelu',
  since: 10,
  defaults: { alpha: 1.0 },
  make: (attrs) => {
    const a = attrFloat(attrs, 'alpha');
    return (x) => (x > a ? x : 0);
  },
  grad: (x, _y, dy, attrs) => maskGrad(gt(x, attrFloat(attrs, 'alpha')), dy),
});

registerUnary({
  name: 'Mish',
  since: 18,
  f: (x) => x * Math.tanh(softplus(x)),
  // tanh(sp(x)) + x sigmoid(x) (1 - tanh^2(sp(x)))
  grad: (x, _y, dy) => {
    const t = op('Tanh', op('Softplus', x));
    const d = op('Add', t, op('Mul', op('Mul', x, op('Sigmoid', x)), op('Sub', c(1, t), op('Mul', t, t))));
    return op('Mul', dy, d);
  },
});

registerUnary({
  name: 'Shrink',
  since: 9,
  ...NUMERIC,
  defaults: { bias: 0.0, lambd: 0.5 },
  make: (attrs) => {
    const bias = attrFloat(attrs, 'bias');
    const l = attrFloat(attrs, 'lambd');
    return (x) => (x < -l ? x + bias : x > l ? x - bias : 0);
  },
  grad: (x, _y, dy, attrs) => {
    const l = attrFloat(attrs, 'lambd');
    return maskGrad(op('Or', lt(x, -l), gt(x, l)), dy);
  },
});

// PRelu: slope broadcasts to X (unidirectionally since opset 7; ONNX 16 adds int types).
function preluKernel(x: Tensor, slope: Tensor): Tensor {
  return binaryKernel(x, slope, (v, s) => (v < 0 ? s * v : v), undefined, x.dtype, 'PRelu');
}

const preluDef: OpDef = {
  name: 'PRelu',
  since: 7,
  minInputs: 2,
  maxInputs: 2,
  validate(inputs) {
    checkTypes('PRelu', inputs, numericTypes, 'a numeric tensor');
    checkSame('PRelu', inputs);
  },
  kernels: { cpu: (inputs) => [preluKernel(input(inputs, 0, 'PRelu'), input(inputs, 1, 'PRelu'))] },
  grad: ({ inputs }, [dy]) => {
    const [x, s] = [inputs[0]!, inputs[1]!];
    const neg = lt(x, 0);
    return [
      x.requiresGrad ? sumToShape(op('Where', neg, op('Mul', dy!, s), dy!), x.shape) : null,
      s.requiresGrad ? sumToShape(maskGrad(neg, op('Mul', dy!, x)), s.shape) : null,
    ];
  },
};
registerOp(preluDef);
// Before opset 7 a 1-d slope of length C applies along the channel axis 1 (Caffe's PReLU).
registerLegacyBinary(preluDef, (opName, x, slope) =>
  slope.ndim === 1 && slope.shape[0] !== 1 && x.ndim >= 2
    ? legacyAlign(opName, x, slope, { broadcast: 1, axis: 1 })
    : slope,
);
