/** Regression losses: mseLoss, l1Loss, smoothL1Loss, huberLoss (torch.nn.functional semantics). */
import { dispatch1 } from '../../ops/registry.js';
import { TesseraError } from '../../runtime/errors.js';
import { broadcastShapes, fmtShape, sameShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import {
  abs,
  add,
  checkReduction,
  div,
  expectFloatInput,
  floatTarget,
  mul,
  type Reduction,
  reduce,
  scalarLike,
  sub,
} from './reduction.js';

export interface ReductionOptions {
  reduction?: Reduction;
}

const warned = new Set<string>();
/** input - target, broadcasting with a warning when the shapes differ (as torch). */
function difference(who: string, input: Tensor, target: Tensor): Tensor {
  expectFloatInput(who, 'input', input);
  const t = floatTarget(who, input, target);
  if (!sameShape(input.shape, t.shape)) {
    broadcastShapes([input.shape, t.shape], who);
    if (!warned.has(who)) {
      warned.add(who);
      process.emitWarning(
        `${who}: target shape ${fmtShape(t.shape)} differs from input shape ${fmtShape(input.shape)}; they are broadcast, which is likely not intended`,
        'TesseraWarning',
      );
    }
  }
  return sub(input, t);
}

/** Mean squared error: (input - target)^2. */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const reduction = checkReduction('mseLoss', opts.reduction ?? 'mean');
  const d = difference('mseLoss', input, target);
  return reduce(mul(d, d), reduction);
}

/** Mean absolute error: |input - target|. */
export function l1Loss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const reduction = checkReduction('l1Loss', opts.reduction ?? 'mean');
  return reduce(abs(difference('l1Loss', input, target)), reduction);
}

/**
 * Written as 0.5 m^2 + delta (|d| - m) with m = min(|d|, delta): equal to 0.5 d^2 inside
 * [-delta, delta] and delta (|d| - 0.5 delta) outside, with no branch to differentiate.
 */
function huberTerms(d: Tensor, delta: number): Tensor {
  const a = abs(d);
  const m = dispatch1('Min', [a, scalarLike(a, delta)]);
  const quad = mul(mul(m, m), scalarLike(m, 0.5));
  return add(quad, mul(sub(a, m), scalarLike(a, delta)));
}

function checkPositive(who: string, what: string, v: number, allowZero: boolean): void {
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0 || (!allowZero && v === 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: ${what} must be ${allowZero ? 'non-negative' : 'positive'}, got ${v}`,
    );
  }
}

/** 0.5 d^2 / beta where |d| < beta, |d| - 0.5 beta elsewhere; beta = 0 is the L1 loss. */
export function smoothL1Loss(
  input: Tensor,
  target: Tensor,
  opts: ReductionOptions & { beta?: number } = {},
): Tensor {
  const reduction = checkReduction('smoothL1Loss', opts.reduction ?? 'mean');
  const beta = opts.beta ?? 1;
  checkPositive('smoothL1Loss', 'beta', beta, true);
  const d = difference('smoothL1Loss', input, target);
  if (beta === 0) return reduce(abs(d), reduction);
  return reduce(div(huberTerms(d, beta), scalarLike(d, beta)), reduction);
}

/** 0.5 d^2 where |d| < delta, delta (|d| - 0.5 delta) elsewhere. */
export function huberLoss(
  input: Tensor,
  target: Tensor,
  opts: ReductionOptions & { delta?: number } = {},
): Tensor {
  const reduction = checkReduction('huberLoss', opts.reduction ?? 'mean');
  const delta = opts.delta ?? 1;
  checkPositive('huberLoss', 'delta', delta, false);
  return reduce(huberTerms(difference('huberLoss', input, target), delta), reduction);
}
