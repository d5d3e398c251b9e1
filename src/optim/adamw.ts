/** AdamW (torch.optim.AdamW): Adam with weight decay decoupled from the gradient (Loshchilov & Hutter). */
import { Adam, type AdamOptions } from './adam.js';
import { dropUndefined, type Params } from './optimizer.js';

export type AdamWOptions = AdamOptions;

export class AdamW extends Adam {
  constructor(params: Params<AdamWOptions>, opts: Partial<AdamWOptions> = {}) {
    // torch's AdamW default weight decay is 1e-2 (Adam's is 0).
    super(params, { weightDecay: 1e-2, ...dropUndefined(opts) });
  }

  protected override get decoupledWeightDecay(): boolean {
    return true;
  }
}
