/** klDiv: Kullback-Leibler divergence with log-probability `input` (torch.nn.functional.kl_div). */
import { dispatch1 } from '../../ops/registry.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { expectFloatInput, floatTarget, mul, reduce, scalarLike, sub } from './reduction.js';

export interface KLDivOptions {
  /** 'batchmean' divides the sum by the batch size (input.shape[0]), the true KL divergence. */
  reduction?: 'none' | 'mean' | 'sum' | 'batchmean';
  /** The target holds log-probabilities. */
  logTarget?: boolean;
}

/** Pointwise target * (log(target) - input), with 0 * log(0) = 0 (or exp(t) * (t - input) with logTarget). */
export function klDiv(input: Tensor, target: Tensor, opts: KLDivOptions = {}): Tensor {
  const who = 'klDiv';
  const reduction = opts.reduction ?? 'mean';
  if (!['none', 'mean', 'sum', 'batchmean'].includes(reduction)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: reduction must be 'none', 'mean', 'sum' or 'batchmean', got '${String(reduction)}'`,
    );
  }
  expectFloatInput(who, 'input', input);
  const t = floatTarget(who, input, target);
  let loss: Tensor;
  if (opts.logTarget) {
    loss = mul(dispatch1('Exp', [t]), sub(t, input));
  } else {
    // xlogy(t, t): log is taken of 1 where t == 0 so neither value nor gradient becomes NaN there.
    const isZero = dispatch1('Equal', [t, scalarLike(t, 0)]);
    const safe = dispatch1('Where', [isZero, scalarLike(t, 1), t]);
    loss = sub(mul(t, dispatch1('Log', [safe])), mul(t, input));
  }
  if (reduction === 'batchmean') {
    const s = reduce(loss, 'sum');
    return input.ndim === 0 ? s : dispatch1('Div', [s, scalarLike(s, input.shape[0]!)]);
  }
  return reduce(loss, reduction);
}
