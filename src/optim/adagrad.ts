/** Adagrad (torch.optim.Adagrad), with learning-rate decay, weight decay and maximize. */
import type { Tensor } from '../runtime/tensor.js';
import type { DeviceOptimKernels } from './device-optim.js';
import {
  buffer,
  checkNonNegative,
  deviceState,
  dropUndefined,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type Params,
} from './optimizer.js';

export interface AdagradOptions {
  lr: number;
  lrDecay: number;
  weightDecay: number;
  initialAccumulatorValue: number;
  eps: number;
  maximize: boolean;
}

export class Adagrad extends Optimizer<AdagradOptions> {
  constructor(params: Params<AdagradOptions>, opts: Partial<AdagradOptions> = {}) {
    super(params, {
      lr: 1e-2,
      lrDecay: 0,
      weightDecay: 0,
      initialAccumulatorValue: 0,
      eps: 1e-10,
      maximize: false,
      ...dropUndefined(opts),
    });
  }

  protected validate(h: AdagradOptions): void {
    checkNonNegative('Adagrad', 'lr', h.lr);
    checkNonNegative('Adagrad', 'lrDecay', h.lrDecay);
    checkNonNegative('Adagrad', 'weightDecay', h.weightDecay);
    checkNonNegative('Adagrad', 'initialAccumulatorValue', h.initialAccumulatorValue);
    checkNonNegative('Adagrad', 'eps', h.eps);
  }

  /**
   * t <- t + 1; g <- (maximize ? -g : g) + wd * p
   * clr <- lr / (1 + (t - 1) lrDecay);  sum <- sum + g^2  (sum starts at initialAccumulatorValue)
   * p <- p - clr g / (sqrt(sum) + eps)
   */
  protected update(p: Float64Array, grad: Float64Array, s: ParamState, h: ParamGroup<AdagradOptions>): void {
    const { lr, lrDecay, weightDecay, initialAccumulatorValue, eps, maximize } = h;
    const n = p.length;
    const t = ((s.step as number | undefined) ?? 0) + 1;
    s.step = t;
    const sum = buffer(s, 'sum', n, initialAccumulatorValue);
    const clr = lr / (1 + (t - 1) * lrDecay);
    for (let i = 0; i < n; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (weightDecay !== 0) g += weightDecay * p[i]!;
      sum[i] = sum[i]! + g * g;
      p[i] = p[i]! - (clr * g) / (Math.sqrt(sum[i]!) + eps);
    }
  }

  /** The same rule in one fused kernel on the parameter's device (the sum kept there). */
  protected override updateOnDevice(
    p: Tensor,
    g: Tensor,
    s: ParamState,
    h: ParamGroup<AdagradOptions>,
    k: DeviceOptimKernels,
  ): boolean {
    const t = ((s.step as number | undefined) ?? 0) + 1;
    s.step = t;
    const sum = deviceState(s, 'sum', p, k);
    k.adagrad(p, g, sum, { ...h, clr: h.lr / (1 + (t - 1) * h.lrDecay) });
    return true;
  }
}
