/** Activation modules (torch.nn.ReLU, ...): each is one registry op, or a composition of ops. */
import { dispatch1 } from '../../ops/registry.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { Module } from '../module.js';
import { pyFloat, pyStr } from './repr.js';

export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return dispatch1('Relu', [x]);
  }
}

/** max(0, x) + negativeSlope * min(0, x). */
export class LeakyReLU extends Module {
  readonly negativeSlope: number;
  constructor(negativeSlope = 0.01) {
    super();
    this.negativeSlope = negativeSlope;
  }
  override forward(x: Tensor): Tensor {
    return dispatch1('LeakyRelu', [x], { alpha: this.negativeSlope });
  }
  override extraRepr(): string {
    return `negative_slope=${pyFloat(this.negativeSlope)}`;
  }
}

/** x for x > 0, alpha * (exp(x) - 1) otherwise. */
export class ELU extends Module {
  readonly alpha: number;
  constructor(alpha = 1) {
    super();
    this.alpha = alpha;
  }
  override forward(x: Tensor): Tensor {
    return dispatch1('Elu', [x], { alpha: this.alpha });
  }
  override extraRepr(): string {
    return `alpha=${pyFloat(this.alpha)}`;
  }
}

/** x * Phi(x), or its tanh approximation with approximate = 'tanh'. */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';
  constructor(approximate: 'none' | 'tanh' = 'none') {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `GELU: approximate must be 'none' or 'tanh', got '${approximate}'`,
      );
    }
    this.approximate = approximate;
  }
  override forward(x: Tensor): Tensor {
    return dispatch1('Gelu', [x], { approximate: this.approximate });
  }
  override extraRepr(): string {
    return `approximate=${pyStr(this.approximate)}`;
  }
}

/** x * sigmoid(x) (ONNX has no SiLU op: Mul of Sigmoid). */
export class SiLU extends Module {
  override forward(x: Tensor): Tensor {
    return dispatch1('Mul', [x, dispatch1('Sigmoid', [x])]);
  }
}

export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return dispatch1('Sigmoid', [x]);
  }
}

export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return dispatch1('Tanh', [x]);
  }
}

let warnedImplicitDim = false;
/** torch's _get_softmax_dim: without a dim, 0 for 0-, 1- and 3-d inputs, else 1 (deprecated). */
function softmaxDim(who: string, dim: number | null, ndim: number): number {
  if (dim !== null) return dim;
  if (!warnedImplicitDim) {
    warnedImplicitDim = true;
    process.emitWarning(`${who}: implicit dimension choice is deprecated; pass dim`, 'TesseraWarning');
  }
  return ndim === 0 || ndim === 1 || ndim === 3 ? 0 : 1;
}

/** exp(x) / sum(exp(x)) along `dim`. */
export class Softmax extends Module {
  readonly dim: number | null;
  constructor(dim: number | null = null) {
    super();
    this.dim = dim;
  }
  override forward(x: Tensor): Tensor {
    return dispatch1('Softmax', [x], { axis: softmaxDim('Softmax', this.dim, x.ndim) });
  }
  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}

/** log(softmax(x)) along `dim`, computed stably by the LogSoftmax op. */
export class LogSoftmax extends Module {
  readonly dim: number | null;
  constructor(dim: number | null = null) {
    super();
    this.dim = dim;
  }
  override forward(x: Tensor): Tensor {
    return dispatch1('LogSoftmax', [x], { axis: softmaxDim('LogSoftmax', this.dim, x.ndim) });
  }
  override extraRepr(): string {
    return `dim=${this.dim === null ? 'None' : this.dim}`;
  }
}
