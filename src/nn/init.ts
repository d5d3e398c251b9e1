/**
 * Initializers (torch.nn.init): each fills a tensor in place, outside the autograd tape (torch
 * runs them under no_grad), draws from the seedable generator in src/runtime/random.ts (the
 * default one unless a Generator is passed last) and returns the tensor.
 */
import { noGrad } from '../runtime/autograd.js';
import { isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { defaultGenerator, type Generator } from '../runtime/random.js';
import { fmtShape } from '../runtime/shape.js';
import type { Tensor } from '../runtime/tensor.js';
import { fillInPlace } from './parameter.js';

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

export type FanMode = 'fan_in' | 'fan_out';

function write(t: Tensor, who: string, value: (i: number) => number): Tensor {
  return noGrad(() => fillInPlace(t, value, who));
}

function expectFloatTensor(who: string, t: Tensor): void {
  if (!isFloat(t.dtype)) {
    throw new TesseraError('DTYPE_MISMATCH', `${who}: expected a floating-point tensor, got ${t.dtype}`);
  }
}

/** The recommended gain for a nonlinearity (torch.nn.init.calculate_gain). */
export function calculateGain(nonlinearity: Nonlinearity | string, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      if (typeof slope !== 'number' || Number.isNaN(slope)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `calculateGain: negative_slope ${String(slope)} is not a valid number`,
        );
      }
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new TesseraError('INVALID_ARGUMENT', `calculateGain: unsupported nonlinearity '${nonlinearity}'`);
  }
}

/** fan_in = size(1) * receptive field, fan_out = size(0) * receptive field (torch's rule). */
export function calculateFanInAndFanOut(t: Tensor): { fanIn: number; fanOut: number } {
  if (t.ndim < 2) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Fan in and fan out can not be computed for tensor with fewer than 2 dimensions, got shape ${fmtShape(t.shape)}`,
    );
  }
  let receptive = 1;
  for (let i = 2; i < t.ndim; i++) receptive *= t.shape[i]!;
  return { fanIn: t.shape[1]! * receptive, fanOut: t.shape[0]! * receptive };
}

function fanFor(t: Tensor, mode: FanMode, who: string): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: mode must be 'fan_in' or 'fan_out', got '${String(mode)}'`,
    );
  }
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return mode === 'fan_in' ? fanIn : fanOut;
}

/** Uniform on [a, b). */
export function uniform_(t: Tensor, a = 0, b = 1, generator: Generator = defaultGenerator): Tensor {
  expectFloatTensor('uniform_', t);
  if (!(a <= b))
    throw new TesseraError('INVALID_ARGUMENT', `uniform_: expects a <= b, got a=${a} and b=${b}`);
  return write(t, 'uniform_', () => a + (b - a) * generator.uniform());
}

/** Normal with `mean` and standard deviation `std`. */
export function normal_(t: Tensor, mean = 0, std = 1, generator: Generator = defaultGenerator): Tensor {
  expectFloatTensor('normal_', t);
  if (!(std >= 0)) throw new TesseraError('INVALID_ARGUMENT', `normal_: expects std >= 0, got ${std}`);
  return write(t, 'normal_', () => mean + std * generator.normal());
}

export function constant_(t: Tensor, value: number): Tensor {
  return write(t, 'constant_', () => value);
}
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** The identity matrix (2-D tensors only). */
export function eye_(t: Tensor): Tensor {
  if (t.ndim !== 2) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `eye_: only tensors with 2 dimensions are supported, got shape ${fmtShape(t.shape)}`,
    );
  }
  const cols = t.shape[1]!;
  return write(t, 'eye_', (i) => (Math.floor(i / cols) === i % cols ? 1 : 0));
}

/** Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  const a = Math.sqrt(3) * gain * Math.sqrt(2 / (fanIn + fanOut));
  return uniform_(t, -a, a, generator);
}

/** Glorot normal: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, gain = 1, generator: Generator = defaultGenerator): Tensor {
  const { fanIn, fanOut } = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), generator);
}

function hasZeroDim(t: Tensor, who: string): boolean {
  if (t.shape.includes(0)) {
    process.emitWarning(`${who}: initializing a zero-element tensor is a no-op`, 'TesseraWarning');
    return true;
  }
  return false;
}

/**
 * He uniform: U(-bound, bound) with bound = gain * sqrt(3 / fan), gain = calculateGain(nonlinearity, a).
 * With a = sqrt(5) this is the default weight init of Linear and Conv layers.
 */
export function kaimingUniform_(
  t: Tensor,
  a = 0,
  mode: FanMode = 'fan_in',
  nonlinearity: Nonlinearity | string = 'leaky_relu',
  generator: Generator = defaultGenerator,
): Tensor {
  if (hasZeroDim(t, 'kaimingUniform_')) return t;
  const std = calculateGain(nonlinearity, a) / Math.sqrt(fanFor(t, mode, 'kaimingUniform_'));
  const bound = Math.sqrt(3) * std;
  return uniform_(t, -bound, bound, generator);
}

/** He normal: N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal_(
  t: Tensor,
  a = 0,
  mode: FanMode = 'fan_in',
  nonlinearity: Nonlinearity | string = 'leaky_relu',
  generator: Generator = defaultGenerator,
): Tensor {
  if (hasZeroDim(t, 'kaimingNormal_')) return t;
  const std = calculateGain(nonlinearity, a) / Math.sqrt(fanFor(t, mode, 'kaimingNormal_'));
  return normal_(t, 0, std, generator);
}

// Standard normal CDF through erfc (Numerical Recipes' Chebyshev fit, relative error < 1.2e-7).
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 +
                            t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}
function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

// Inverse standard normal CDF (Acklam's rational approximation, relative error < 1.2e-9).
const A = [
  -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716,
  2.506628277459239,
];
const B = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
const C = [
  -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
  2.938163982698783,
];
const D = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
function normPpf(p: number): number {
  if (p <= 0) return Number.NEGATIVE_INFINITY;
  if (p >= 1) return Number.POSITIVE_INFINITY;
  const lo = 0.02425;
  if (p < lo || p > 1 - lo) {
    const q = Math.sqrt(-2 * Math.log(p < lo ? p : 1 - p));
    const x =
      (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) /
      ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
    return p < lo ? x : -x;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) /
    (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1)
  );
}

/**
 * Normal(mean, std^2) truncated to [a, b] (absolute bounds, as torch.nn.init.trunc_normal_), by
 * inverting the CDF on a uniform draw between CDF(a) and CDF(b), then clamping to [a, b].
 */
export function truncNormal_(
  t: Tensor,
  mean = 0,
  std = 1,
  a = -2,
  b = 2,
  generator: Generator = defaultGenerator,
): Tensor {
  expectFloatTensor('truncNormal_', t);
  if (!(a < b))
    throw new TesseraError('INVALID_ARGUMENT', `truncNormal_: expects a < b, got a=${a} and b=${b}`);
  if (!(std > 0)) throw new TesseraError('INVALID_ARGUMENT', `truncNormal_: expects std > 0, got ${std}`);
  const lo = normCdf((a - mean) / std);
  const hi = normCdf((b - mean) / std);
  return write(t, 'truncNormal_', () => {
    const v = mean + std * normPpf(lo + (hi - lo) * generator.uniform());
    return Math.min(b, Math.max(a, v));
  });
}
/** torch's spelling. */
export const trunc_normal_ = truncNormal_;
