/**
 * batchNorm, instanceNorm, layerNorm and groupNorm with torch's semantics, over the
 * BatchNormalization, InstanceNormalization, LayerNormalization and GroupNormalization ops. In
 * training, batchNorm and instanceNorm update the given running statistics in place as torch does:
 * running = (1 - momentum) * running + momentum * batch statistic, with the unbiased variance.
 */

import { floats, nonChannelAxes } from '../../ops/nn/kernel-io.js';
import { groupStats, reduceGroups } from '../../ops/nn/moments.js';
import { dispatch, dispatch1 } from '../../ops/registry.js';
import { noGrad } from '../../runtime/autograd.js';
import { ones, zeros } from '../../runtime/creation.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';

export interface BatchNormOptions {
  /** Use batch statistics (and update the running ones) instead of the running statistics. */
  training?: boolean;
  /** Weight of the new batch statistic in the running averages (default 0.1). */
  momentum?: number;
  eps?: number;
}

export interface InstanceNormOptions {
  /** Normalize with each instance's statistics (default true); false uses the running statistics. */
  useInputStats?: boolean;
  momentum?: number;
  eps?: number;
}

function expectChannels(who: string, x: Tensor): number {
  if (x.ndim < 2)
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: expected an input [N, C, ...], got shape ${fmtShape(x.shape)}`,
    );
  return x.shape[1]!;
}

function expectVector(who: string, name: string, t: Tensor | null | undefined, C: number): void {
  if (t && (t.ndim !== 1 || t.shape[0] !== C)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: ${name} must have shape [${C}], got ${fmtShape(t.shape)}`,
    );
  }
}

/** Writes `vals` into the storage of a contiguous CPU tensor (running statistics are buffers). */
function assignInPlace(who: string, t: Tensor, vals: Float64Array): void {
  if (t.storage.data === undefined || !t.isContiguous() || Array.isArray(t.storage.data)) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${who}: running statistics must be contiguous CPU tensors to be updated in place`,
    );
  }
  (t.storage.data as Float64Array).set(fromNumbers(t.dtype, vals) as Float64Array, t.offset);
}

/** running <- (1 - m) running + m * stat, per channel. */
function updateRunning(who: string, running: Tensor, stat: Float64Array, momentum: number): void {
  const cur = floats(running);
  assignInPlace(
    who,
    running,
    Float64Array.from(stat, (s, c) => (1 - momentum) * cur[c]! + momentum * s),
  );
}

export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null | undefined,
  runningVar: Tensor | null | undefined,
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts: BatchNormOptions = {},
): Tensor {
  const who = 'batchNorm';
  const C = expectChannels(who, x);
  const { training = false, momentum = 0.1, eps = 1e-5 } = opts;
  for (const [name, t] of [
    ['running_mean', runningMean],
    ['running_var', runningVar],
    ['weight', weight],
    ['bias', bias],
  ] as const)
    expectVector(who, name, t, C);
  const w = weight ?? ones([C], { dtype: x.dtype, device: x.device });
  const b = bias ?? zeros([C], { dtype: x.dtype, device: x.device });
  if (!training) {
    if (!runningMean || !runningVar) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: running_mean and running_var must be given when not training`,
      );
    }
    return dispatch1('BatchNormalization', [x, w, b, runningMean, runningVar], { epsilon: eps });
  }
  const n = x.numel() / C;
  if (n <= 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: expected more than 1 value per channel when training, got input of shape ${fmtShape(x.shape)}`,
    );
  }
  const rm = runningMean ?? zeros([C], { dtype: x.dtype, device: x.device });
  const rv = runningVar ?? ones([C], { dtype: x.dtype, device: x.device });
  const y = dispatch('BatchNormalization', [x, w, b, rm.detach(), rv.detach()], {
    epsilon: eps,
    momentum: 1 - momentum,
    training_mode: 1,
  })[0]!;
  if (runningMean || runningVar) {
    noGrad(() => {
      const st = groupStats(floats(x), reduceGroups(x.shape, nonChannelAxes(x.ndim)));
      if (runningMean) updateRunning(who, runningMean, st.mean, momentum);
      if (runningVar)
        updateRunning(
          who,
          runningVar,
          st.variance.map((v) => (v * n) / (n - 1)),
          momentum,
        );
    });
  }
  return y;
}

export function instanceNorm(
  x: Tensor,
  runningMean?: Tensor | null,
  runningVar?: Tensor | null,
  weight?: Tensor | null,
  bias?: Tensor | null,
  opts: InstanceNormOptions = {},
): Tensor {
  const who = 'instanceNorm';
  const C = expectChannels(who, x);
  const { useInputStats = true, momentum = 0.1, eps = 1e-5 } = opts;
  if (!useInputStats) return batchNorm(x, runningMean, runningVar, weight, bias, { training: false, eps });
  if (x.ndim < 3)
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: expected an input [N, C, ...spatial], got shape ${fmtShape(x.shape)}`,
    );
  expectVector(who, 'weight', weight, C);
  expectVector(who, 'bias', bias, C);
  const w = weight ?? ones([C], { dtype: x.dtype, device: x.device });
  const b = bias ?? zeros([C], { dtype: x.dtype, device: x.device });
  const y = dispatch1('InstanceNormalization', [x, w, b], { epsilon: eps });
  if (runningMean || runningVar) {
    expectVector(who, 'running_mean', runningMean, C);
    expectVector(who, 'running_var', runningVar, C);
    noGrad(() => {
      // Per-instance statistics, averaged over the batch (torch's instance_norm).
      const N = x.shape[0]!;
      const S = x.numel() / (N * C);
      const st = groupStats(floats(x), reduceGroups([N, C, S], [2]));
      const mean = new Float64Array(C);
      const variance = new Float64Array(C);
      for (let i = 0; i < N * C; i++) {
        mean[i % C]! += st.mean[i]! / N;
        variance[i % C]! += (st.variance[i]! * S) / (S - 1) / N;
      }
      if (runningMean) updateRunning(who, runningMean, mean, momentum);
      if (runningVar) updateRunning(who, runningVar, variance, momentum);
    });
  }
  return y;
}

export function layerNorm(
  x: Tensor,
  normalizedShape: number[],
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `layerNorm: given normalized_shape=${fmtShape(normalizedShape)}, expected input with shape [*, ${normalizedShape.join(', ')}], got ${fmtShape(x.shape)}`,
    );
  }
  for (const [name, t] of [
    ['weight', weight],
    ['bias', bias],
  ] as const) {
    if (t && (t.ndim !== k || t.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `layerNorm: ${name} must have shape ${fmtShape(normalizedShape)}, got ${fmtShape(t.shape)}`,
      );
    }
  }
  const w = weight ?? ones(normalizedShape, { dtype: x.dtype, device: x.device });
  return dispatch('LayerNormalization', bias ? [x, w, bias] : [x, w], { axis: x.ndim - k, epsilon: eps })[0]!;
}

export function groupNorm(
  x: Tensor,
  numGroups: number,
  weight?: Tensor | null,
  bias?: Tensor | null,
  eps = 1e-5,
): Tensor {
  const who = 'groupNorm';
  const C = expectChannels(who, x);
  if (!Number.isInteger(numGroups) || numGroups < 1 || C % numGroups !== 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: expected the ${C} channels to be divisible by num_groups, got ${numGroups}`,
    );
  }
  expectVector(who, 'weight', weight, C);
  expectVector(who, 'bias', bias, C);
  const w = weight ?? ones([C], { dtype: x.dtype, device: x.device });
  const b = bias ?? zeros([C], { dtype: x.dtype, device: x.device });
  return dispatch1('GroupNormalization', [x, w, b], { num_groups: numGroups, epsilon: eps });
}
