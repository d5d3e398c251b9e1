/** Adam (torch.optim.Adam), with AMSGrad and maximize; AdamW reuses it with decoupled weight decay. */
import { TesseraError } from '../runtime/errors.js';
import type { Tensor } from '../runtime/tensor.js';
import type { DeviceOptimKernels } from './device-optim.js';
import {
  buffer,
  checkNonNegative,
  checkUnitInterval,
  deviceState,
  dropUndefined,
  Optimizer,
  type ParamGroup,
  type ParamState,
  type Params,
} from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
  maximize: boolean;
}

export class Adam extends Optimizer<AdamOptions> {
  constructor(params: Params<AdamOptions>, opts: Partial<AdamOptions> = {}) {
    super(params, {
      lr: 1e-3,
      betas: [0.9, 0.999],
      eps: 1e-8,
      weightDecay: 0,
      amsgrad: false,
      maximize: false,
      ...dropUndefined(opts),
    });
  }

  /** AdamW decays the weights directly (p <- p - lr * wd * p) instead of adding wd * p to the gradient. */
  protected get decoupledWeightDecay(): boolean {
    return false;
  }

  protected validate(h: AdamOptions): void {
    checkNonNegative(this.name, 'lr', h.lr);
    checkNonNegative(this.name, 'eps', h.eps);
    checkNonNegative(this.name, 'weightDecay', h.weightDecay);
    if (!Array.isArray(h.betas) || h.betas.length !== 2) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${this.name}: betas must be a pair [beta1, beta2], got ${JSON.stringify(h.betas)}`,
      );
    }
    checkUnitInterval(this.name, 'betas[0]', h.betas[0]);
    checkUnitInterval(this.name, 'betas[1]', h.betas[1]);
  }

  /**
   * t <- t + 1; g <- maximize ? -g : g
   * Adam: g <- g + wd * p            AdamW: p <- p - lr * wd * p
   * m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;  amsgrad: vmax <- max(vmax, v), v <- vmax
   * p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
   */
  protected update(p: Float64Array, grad: Float64Array, s: ParamState, h: ParamGroup<AdamOptions>): void {
    const { lr, eps, weightDecay, amsgrad, maximize } = h;
    const [b1, b2] = h.betas;
    const n = p.length;
    const t = ((s.step as number | undefined) ?? 0) + 1;
    s.step = t;
    const m = buffer(s, 'expAvg', n);
    const v = buffer(s, 'expAvgSq', n);
    const vmax = amsgrad ? buffer(s, 'maxExpAvgSq', n) : null;
    const bc1 = 1 - b1 ** t;
    const bc2Sqrt = Math.sqrt(1 - b2 ** t);
    const stepSize = lr / bc1;
    const decoupled = this.decoupledWeightDecay;
    for (let i = 0; i < n; i++) {
      let g = maximize ? -grad[i]! : grad[i]!;
      if (weightDecay !== 0) {
        if (decoupled) p[i] = p[i]! * (1 - lr * weightDecay);
        else g += weightDecay * p[i]!;
      }
      m[i] = b1 * m[i]! + (1 - b1) * g;
      v[i] = b2 * v[i]! + (1 - b2) * g * g;
      let second = v[i]!;
      if (vmax) second = vmax[i] = Math.max(vmax[i]!, second);
      const denom = Math.sqrt(second) / bc2Sqrt + eps;
      p[i] = p[i]! - (stepSize * m[i]!) / denom;
    }
  }

  /** The same rule in one fused kernel on the parameter's device (moments kept there). */
  protected override updateOnDevice(
    p: Tensor,
    g: Tensor,
    s: ParamState,
    h: ParamGroup<AdamOptions>,
    k: DeviceOptimKernels,
  ): boolean {
    const { lr, eps, weightDecay, amsgrad, maximize } = h;
    const [b1, b2] = h.betas;
    const t = ((s.step as number | undefined) ?? 0) + 1;
    s.step = t;
    const m = deviceState(s, 'expAvg', p, k);
    const v = deviceState(s, 'expAvgSq', p, k);
    const vmax = amsgrad ? deviceState(s, 'maxExpAvgSq', p, k) : null;
    k.adam(p, g, m, v, vmax, {
      lr,
      beta1: b1,
      beta2: b2,
      eps,
      weightDecay,
      decoupled: this.decoupledWeightDecay,
      maximize,
      stepSize: lr / (1 - b1 ** t),
      bc2Sqrt: Math.sqrt(1 - b2 ** t),
    });
    return true;
  }
}
