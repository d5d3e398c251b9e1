/**
 * Loss specifications for TrainingSession and Trainer: a name ('mse', 'l1', 'crossEntropy',
 * 'bceWithLogits', ...), a name with options, a graph value that already is the loss (a loss node
 * inside an imported graph), or a function. Names and options are plain data, so a training job
 * can be described in JSON and rebuilt in a worker thread.
 */

import {
  binaryCrossEntropy,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  huberLoss,
  l1Loss,
  mseLoss,
  nllLoss,
  smoothL1Loss,
} from '../nn/losses/index.js';
import { dispatch1 } from '../ops/registry.js';
import { isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { fmtShape } from '../runtime/shape.js';
import type { Tensor } from '../runtime/tensor.js';

export type LossName = 'mse' | 'l1' | 'crossEntropy' | 'nll' | 'bce' | 'bceWithLogits' | 'huber' | 'smoothL1';
export const LOSS_NAMES: readonly LossName[] = [
  'mse',
  'l1',
  'crossEntropy',
  'nll',
  'bce',
  'bceWithLogits',
  'huber',
  'smoothL1',
];

export type LossFn = (output: Tensor, target: Tensor) => Tensor;

export interface NamedLoss {
  name: LossName;
  reduction?: 'mean' | 'sum';
  /** crossEntropy / nll: class index to ignore. */
  ignoreIndex?: number;
  /** crossEntropy: label smoothing in [0, 1]. */
  labelSmoothing?: number;
  /** huber / smoothL1: the threshold. */
  delta?: number;
  beta?: number;
}

/** A loss: a name, a name with options, `{ output }` for a graph value that is the loss, or a function. */
export type LossSpec = LossName | NamedLoss | { output: string } | LossFn;

/** Accepts 'MSE', 'mse_loss', 'CrossEntropyLoss', 'cross_entropy', 'BCEWithLogits'... */
export function lossName(s: string): LossName {
  const key = s
    .toLowerCase()
    .replace(/[_\s-]/g, '')
    .replace(/loss$/, '');
  const found = LOSS_NAMES.find((n) => n.toLowerCase() === key);
  if (!found) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `loss: unknown loss '${s}', expected one of ${LOSS_NAMES.join(', ')}`,
    );
  }
  return found;
}

/** Whether the spec can be sent to a worker thread (everything but a function). */
export function isSerializableLoss(spec: LossSpec): boolean {
  return typeof spec !== 'function';
}

/** Class targets may arrive as floats or int32 (JSON bodies): cross-entropy wants int64 indices. */
function classTarget(who: string, output: Tensor, target: Tensor): Tensor {
  if (target.dtype === 'int64') return target;
  if (isFloat(target.dtype) && target.ndim === output.ndim)
    return target.dtype === output.dtype ? target : cast(target, output.dtype);
  if (target.dtype === 'bool' || target.dtype === 'string') {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${who}: target must hold class indices (int64) or probabilities, got ${target.dtype}`,
    );
  }
  return cast(target, 'int64');
}

function cast(t: Tensor, to: string): Tensor {
  return dispatch1('Cast', [t], { to });
}

function floatTarget(output: Tensor, target: Tensor): Tensor {
  return target.dtype === output.dtype ? target : cast(target, output.dtype);
}

/** A graph value that is the loss: reduced to a scalar mean when it is not one already. */
export function asScalarLoss(v: Tensor, name: string): Tensor {
  if (!isFloat(v.dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `loss: graph value '${name}' must be a float tensor, got ${v.dtype}`,
    );
  }
  return v.numel() === 1 ? v.reshape([]) : v.mean();
}

/** The loss function a spec names (not for `{ output }` specs, which read the graph). */
export function resolveLoss(spec: Exclude<LossSpec, { output: string }>): LossFn {
  if (typeof spec === 'function') return spec;
  const opts: NamedLoss =
    typeof spec === 'string' ? { name: lossName(spec) } : { ...spec, name: lossName(spec.name) };
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'sum') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `loss: reduction must be 'mean' or 'sum', got '${String(reduction)}'`,
    );
  }
  const check = (who: string, output: Tensor) => {
    if (!isFloat(output.dtype)) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `${who}: the model output must be a float tensor, got ${output.dtype} of shape ${fmtShape(output.shape)}`,
      );
    }
  };
  const guarded =
    (who: string, f: LossFn): LossFn =>
    (o, t) => {
      check(who, o);
      return f(o, t);
    };
  switch (opts.name) {
    case 'mse':
      return guarded('mse', (o, t) => mseLoss(o, floatTarget(o, t), { reduction }));
    case 'l1':
      return guarded('l1', (o, t) => l1Loss(o, floatTarget(o, t), { reduction }));
    case 'huber':
      return guarded('huber', (o, t) => huberLoss(o, floatTarget(o, t), { reduction, delta: opts.delta }));
    case 'smoothL1':
      return guarded('smoothL1', (o, t) =>
        smoothL1Loss(o, floatTarget(o, t), { reduction, beta: opts.beta }),
      );
    case 'crossEntropy':
      return guarded('crossEntropy', (o, t) =>
        crossEntropy(o, classTarget('crossEntropy', o, t), {
          reduction,
          ignoreIndex: opts.ignoreIndex,
          labelSmoothing: opts.labelSmoothing,
        }),
      );
    case 'nll':
      return guarded('nll', (o, t) =>
        nllLoss(o, classTarget('nll', o, t), { reduction, ignoreIndex: opts.ignoreIndex }),
      );
    case 'bce':
      return guarded('bce', (o, t) => binaryCrossEntropy(o, floatTarget(o, t), { reduction }));
    case 'bceWithLogits':
      return guarded('bceWithLogits', (o, t) =>
        binaryCrossEntropyWithLogits(o, floatTarget(o, t), { reduction }),
      );
  }
}
