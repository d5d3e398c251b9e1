/** RMSprop (torch.optim.RMSprop), with momentum, the centered variant, weight decay and maximize. */
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

export interface RMSpropOptions {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  centered: boolean;
  maximize: boolean;
}

export class RMSprop extends Optimizer<RMSpropOptions> {
  constructor(params: Params<RMSpropOptions>, opts: Partial<RMSpropOptions> = {}) {
    super(params, {
      lr: 1e-2,
      alpha: 0.99,
      eps: 1e-8,
      weightDecay: 0,
      momentum: 0,
      centered: false,
      maximize: false,
      ...dropUndefined(opts),
    });
  }

  protected validate(h: RMSpropOptions): void {
    checkNonNegative('RMSprop', 'lr', h.lr);
    checkNonNegative('RMSprop', 'alpha', h.alpha);
    checkNonNegative('RMSprop', 'eps', h.eps);
    checkNonNegative('RMSprop', 'momentum', h.momentum);
    checkNonNegative('RMSprop', 'weightDecay', h.weightDecay);
  }

  /**
   * g <- (maximize ? -g : g) + wd * p
   * v <- alpha v + (1 - alpha) g^2;   centered: gAvg <- alpha gAvg + (1 - alpha) g, vt <- v - gAvg^2
   * momentum > 0: b <- momentum b + g / (sqrt(vt) + eps), p <- p - lr b
   * else:         p <- p - lr g / (sqrt(vt) + eps)
   */
  protected update(p: Float64Array, grad: Float64Array, s: ParamState, h: ParamGroup<RMSpropOptions>): void {
    const { lr, alpha, eps, weightDecay, momentum, centered, maximize } = h;
    const n = p.length;
    s.step = ((s.step as number | undefined) ?? 0) + 1;
    const sq = buffer(s, 'squareAvg', n);
    const gAvg = centered ? buffer(s, 'gradAvg', n) : null;
    const buf = momentum > 0 ? buffer(s, 'momentumBuffer', n) : null;
    for (let i = 0; i < n; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (weightDecay !== 0) g += weightDecay * p[i]!;
      sq[i] = alpha * sq[i]! + (1 - alpha) * g * g;
      let vt = sq[i]!;
      if (gAvg) {
        gAvg[i] = alpha * gAvg[i]! + (1 - alpha) * g;
        vt -= gAvg[i]! * gAvg[i]!;
      }
      const avg = Math.sqrt(vt) + eps;
      if (buf) {
        buf[i] = momentum * buf[i]! + g / avg;
        p[i] = p[i]! - lr * buf[i]!;
      } else p[i] = p[i]! - (lr * g) / avg;
    }
  }

  /** The same rule in one fused kernel on the parameter's device (averages and momentum kept there). */
  protected override updateOnDevice(
    p: Tensor,
    g: Tensor,
    s: ParamState,
    h: ParamGroup<RMSpropOptions>,
    k: DeviceOptimKernels,
  ): boolean {
    s.step = ((s.step as number | undefined) ?? 0) + 1;
    const sq = deviceState(s, 'squareAvg', p, k);
    const gAvg = h.centered ? deviceState(s, 'gradAvg', p, k) : null;
    const buf = h.momentum > 0 ? deviceState(s, 'momentumBuffer', p, k) : null;
    k.rmsprop(p, g, sq, gAvg, buf, h);
    return true;
  }
}
