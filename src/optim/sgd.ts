/** SGD with momentum, dampening, Nesterov momentum, weight decay and maximize (torch.optim.SGD). */
import { TesseraError } from '../runtime/errors.js';
import type { Tensor } from '../runtime/tensor.js';
import type { DeviceOptimKernels } from './device-optim.js';
import {
  checkNonNegative,
  deviceState,
  dropUndefined,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type Params,
} from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Params<SGDOptions>, opts: Partial<SGDOptions> = {}) {
    super(params, {
      lr: 1e-3,
      momentum: 0,
      dampening: 0,
      weightDecay: 0,
      nesterov: false,
      maximize: false,
      ...dropUndefined(opts),
    });
  }

  protected validate(h: SGDOptions): void {
    checkNonNegative('SGD', 'lr', h.lr);
    checkNonNegative('SGD', 'momentum', h.momentum);
    checkNonNegative('SGD', 'weightDecay', h.weightDecay);
    if (typeof h.dampening !== 'number' || Number.isNaN(h.dampening)) {
      throw new TesseraError('INVALID_ARGUMENT', `SGD: dampening must be a number, got ${h.dampening}`);
    }
    if (h.nesterov && (h.momentum <= 0 || h.dampening !== 0)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `SGD: nesterov momentum requires momentum > 0 and dampening = 0, got momentum ${h.momentum} and dampening ${h.dampening}`,
      );
    }
  }

  /**
   * g <- (maximize ? -g : g) + weightDecay * p
   * b <- g on the first step, else momentum * b + (1 - dampening) * g
   * g <- nesterov ? g + momentum * b : b        (when momentum != 0)
   * p <- p - lr * g
   */
  protected update(p: Float64Array, grad: Float64Array, s: ParamState, h: ParamGroup<SGDOptions>): void {
    const { lr, momentum, dampening, weightDecay, nesterov, maximize } = h;
    const first = !(s.momentumBuffer instanceof Float64Array);
    const buf =
      momentum !== 0 ? (first ? new Float64Array(p.length) : (s.momentumBuffer as Float64Array)) : null;
    for (let i = 0; i < p.length; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (weightDecay !== 0) g += weightDecay * p[i]!;
      if (buf) {
        buf[i] = first ? g : momentum * buf[i]! + (1 - dampening) * g;
        g = nesterov ? g + momentum * buf[i]! : buf[i]!;
      }
      p[i] = p[i]! - lr * g;
    }
    if (buf) s.momentumBuffer = buf;
  }

  /** The same rule in one fused kernel on the parameter's device (momentum buffer kept there). */
  protected override updateOnDevice(
    p: Tensor,
    g: Tensor,
    s: ParamState,
    h: ParamGroup<SGDOptions>,
    k: DeviceOptimKernels,
  ): boolean {
    k.sgd(p, g, h.momentum !== 0 ? deviceState(s, 'momentumBuffer', p, k) : null, h);
    return true;
  }
}
