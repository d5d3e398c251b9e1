/**
 * The activation functions RNN, GRU and LSTM accept by name (`activations` attribute), with their
 * alpha/beta taken in order from activation_alpha/activation_beta by the functions that use them
 * (ONNX defaults otherwise, as the corresponding ONNX operators).
 */
import { TesseraError } from '../../runtime/errors.js';

export type Activation = (x: number) => number;

interface Spec {
  alpha?: number;
  beta?: number;
  make(alpha: number, beta: number): Activation;
}

const SPECS: Record<string, Spec> = {
  relu: { make: () => (x) => Math.max(0, x) },
  tanh: { make: () => Math.tanh },
  sigmoid: { make: () => (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))) },
  affine: { alpha: 1, beta: 0, make: (a, b) => (x) => a * x + b },
  leakyrelu: { alpha: 0.01, make: (a) => (x) => (x >= 0 ? x : a * x) },
  thresholdedrelu: { alpha: 1, make: (a) => (x) => (x > a ? x : 0) },
  scaledtanh: { alpha: 1, beta: 1, make: (a, b) => (x) => a * Math.tanh(b * x) },
  hardsigmoid: { alpha: 0.2, beta: 0.5, make: (a, b) => (x) => Math.max(0, Math.min(1, a * x + b)) },
  elu: { alpha: 1, make: (a) => (x) => (x >= 0 ? x : a * (Math.exp(x) - 1)) },
  softsign: { make: () => (x) => x / (1 + Math.abs(x)) },
  softplus: { make: () => (x) => (x > 20 ? x : Math.log1p(Math.exp(x))) },
};

/** A named activation with its resolved alpha and beta. */
export interface ActivationSpec {
  name: string;
  alpha: number;
  beta: number;
  fn: Activation;
}

/**
 * The activations of every direction: `names` (or the op's defaults), repeated for the second
 * direction when only one direction's worth is given.
 */
export function activationsOf(
  op: string,
  names: string[] | undefined,
  alphas: number[] | undefined,
  betas: number[] | undefined,
  defaults: string[],
  directions: number,
): ActivationSpec[] {
  let list = names?.length ? names : defaults;
  if (list.length === defaults.length && directions === 2) list = [...list, ...list];
  if (list.length !== defaults.length * directions) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: activations must name ${defaults.length * directions} functions (${defaults.length} per direction), got ${list.length}`,
    );
  }
  let ai = 0;
  let bi = 0;
  return list.map((given) => {
    const name = given.toLowerCase();
    const spec = SPECS[name];
    if (!spec) {
      throw new TesseraError(
        'UNSUPPORTED',
        `${op}: unknown activation '${given}', expected one of Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus`,
      );
    }
    const alpha = spec.alpha === undefined ? 0 : (alphas?.[ai++] ?? spec.alpha);
    const beta = spec.beta === undefined ? 0 : (betas?.[bi++] ?? spec.beta);
    return { name, alpha, beta, fn: spec.make(alpha, beta) };
  });
}
