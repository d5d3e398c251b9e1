/** The closed-form learning-rate schedulers of torch.optim.lr_scheduler (see lr-scheduler.ts). */
import { TesseraError } from '../runtime/errors.js';
import { LRScheduler } from './lr-scheduler.js';
import type { Optimizer } from './optimizer.js';

function fail(msg: string): never {
  throw new TesseraError('INVALID_ARGUMENT', msg);
}
function checkPositiveInt(who: string, what: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) fail(`${who}: ${what} must be a positive integer, got ${v}`);
}
function checkNumber(who: string, what: string, v: number): void {
  if (typeof v !== 'number' || Number.isNaN(v)) fail(`${who}: ${what} must be a number, got ${String(v)}`);
}

/** Number of sorted `xs` that are <= x (Python's bisect_right). */
function bisectRight(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (x < xs[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/** lr = baseLr * lambda(epoch), one lambda for all groups or one per group. */
export class LambdaLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    lrLambda: ((epoch: number) => number) | ((epoch: number) => number)[],
    lastEpoch = -1,
  ) {
    const n = optimizer?.paramGroups?.length ?? 0;
    const fns = Array.isArray(lrLambda) ? lrLambda : new Array(n).fill(lrLambda);
    if (fns.length !== n)
      fail(`LambdaLR: expected ${n} lrLambda functions (one per group), got ${fns.length}`);
    if (fns.some((f) => typeof f !== 'function'))
      fail('LambdaLR: lrLambda must be a function or a list of functions');
    super(optimizer, (e, base, i) => base * fns[i]!(e), lastEpoch);
  }
}

/** lr = baseLr * gamma^floor(epoch / stepSize). */
export class StepLR extends LRScheduler {
  constructor(optimizer: Optimizer<any>, stepSize: number, gamma = 0.1, lastEpoch = -1) {
    checkPositiveInt('StepLR', 'stepSize', stepSize);
    checkNumber('StepLR', 'gamma', gamma);
    super(optimizer, (e, base) => base * gamma ** Math.floor(e / stepSize), lastEpoch);
  }
}

/** lr = baseLr * gamma^(number of milestones <= epoch). */
export class MultiStepLR extends LRScheduler {
  constructor(optimizer: Optimizer<any>, milestones: number[], gamma = 0.1, lastEpoch = -1) {
    if (!Array.isArray(milestones) || milestones.some((m) => !Number.isInteger(m))) {
      fail(`MultiStepLR: milestones must be a list of integers, got ${JSON.stringify(milestones)}`);
    }
    checkNumber('MultiStepLR', 'gamma', gamma);
    const sorted = [...milestones].sort((a, b) => a - b);
    super(optimizer, (e, base) => base * gamma ** bisectRight(sorted, e), lastEpoch);
  }
}

/** lr = baseLr * gamma^epoch. */
export class ExponentialLR extends LRScheduler {
  constructor(optimizer: Optimizer<any>, gamma: number, lastEpoch = -1) {
    checkNumber('ExponentialLR', 'gamma', gamma);
    super(optimizer, (e, base) => base * gamma ** e, lastEpoch);
  }
}

/** lr = etaMin + (baseLr - etaMin) * (1 + cos(pi * epoch / tMax)) / 2 (SGDR without restarts). */
export class CosineAnnealingLR extends LRScheduler {
  constructor(optimizer: Optimizer<any>, tMax: number, etaMin = 0, lastEpoch = -1) {
    if (typeof tMax !== 'number' || !(tMax > 0)) fail(`CosineAnnealingLR: tMax must be > 0, got ${tMax}`);
    checkNumber('CosineAnnealingLR', 'etaMin', etaMin);
    super(
      optimizer,
      (e, base) => etaMin + ((base - etaMin) * (1 + Math.cos((Math.PI * e) / tMax))) / 2,
      lastEpoch,
    );
  }
}

/**
 * Linear warm-up (or decay) of the lr factor from startFactor to endFactor over totalIters epochs:
 * lr = baseLr * (start + (end - start) * min(epoch, totalIters) / totalIters).
 */
export class LinearLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    {
      startFactor = 1 / 3,
      endFactor = 1,
      totalIters = 5,
    }: { startFactor?: number; endFactor?: number; totalIters?: number } = {},
    lastEpoch = -1,
  ) {
    if (!(startFactor > 0 && startFactor <= 1))
      fail(`LinearLR: startFactor must be in (0, 1], got ${startFactor}`);
    if (!(endFactor >= 0 && endFactor <= 1)) fail(`LinearLR: endFactor must be in [0, 1], got ${endFactor}`);
    checkPositiveInt('LinearLR', 'totalIters', totalIters);
    super(
      optimizer,
      (e, base) => base * (startFactor + ((endFactor - startFactor) * Math.min(totalIters, e)) / totalIters),
      lastEpoch,
    );
  }
}

/** lr = baseLr * factor until totalIters epochs have passed, then baseLr. */
export class ConstantLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    { factor = 1 / 3, totalIters = 5 }: { factor?: number; totalIters?: number } = {},
    lastEpoch = -1,
  ) {
    if (!(factor >= 0 && factor <= 1)) fail(`ConstantLR: factor must be in [0, 1], got ${factor}`);
    if (!Number.isInteger(totalIters) || totalIters < 0) {
      fail(`ConstantLR: totalIters must be an integer >= 0, got ${totalIters}`);
    }
    super(optimizer, (e, base) => base * (e >= totalIters ? 1 : factor), lastEpoch);
  }
}

/** lr = baseLr * (1 - min(epoch, totalIters) / totalIters)^power. */
export class PolynomialLR extends LRScheduler {
  constructor(
    optimizer: Optimizer<any>,
    { totalIters = 5, power = 1 }: { totalIters?: number; power?: number } = {},
    lastEpoch = -1,
  ) {
    checkPositiveInt('PolynomialLR', 'totalIters', totalIters);
    checkNumber('PolynomialLR', 'power', power);
    super(optimizer, (e, base) => base * (1 - Math.min(totalIters, e) / totalIters) ** power, lastEpoch);
  }
}
