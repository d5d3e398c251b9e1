/** BatchNorm1d/2d, LayerNorm, GroupNorm: parameters, buffers and defaults as torch.nn. */
import { full, ones, zeros } from '../../runtime/creation.js';
import { DEFAULT_FLOAT, type DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import * as F from '../functional/index.js';
import { ones_, zeros_ } from '../init.js';
import { Module } from '../module.js';
import { fillInPlace, Parameter } from '../parameter.js';
import { pyBool, pyFloat, pyTuple } from './repr.js';

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch statistic in the running averages; null: cumulative average. */
  momentum?: number | null;
  /** Learnable per-channel weight and bias (default true). */
  affine?: boolean;
  /** Keep running mean/variance buffers for eval mode (default true). */
  trackRunningStats?: boolean;
  dtype?: DType;
}

abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  momentum: number | null;
  readonly affine: boolean;
  readonly trackRunningStats: boolean;
  weight: Parameter | null;
  bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, opts: BatchNormOptions) {
    super();
    if (!Number.isInteger(numFeatures) || numFeatures <= 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${this.getName()}: num_features must be a positive integer, got ${numFeatures}`,
      );
    }
    const dtype = opts.dtype ?? DEFAULT_FLOAT;
    this.numFeatures = numFeatures;
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    this.affine = opts.affine ?? true;
    this.trackRunningStats = opts.trackRunningStats ?? true;
    this.weight = this.affine ? new Parameter(ones([numFeatures], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numFeatures], { dtype })) : null;
    const track = this.trackRunningStats;
    this.registerBuffer('runningMean', track ? zeros([numFeatures], { dtype }) : null);
    this.registerBuffer('runningVar', track ? ones([numFeatures], { dtype }) : null);
    this.registerBuffer('numBatchesTracked', track ? full([], 0, { dtype: 'int64' }) : null);
  }

  resetRunningStats(): void {
    if (!this.trackRunningStats) return;
    zeros_(this.runningMean!);
    ones_(this.runningVar!);
    zeros_(this.numBatchesTracked!);
  }
  resetParameters(): void {
    this.resetRunningStats();
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  /** The input ranks this layer accepts. */
  protected abstract checkInput(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (x.shape[1] !== this.numFeatures) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${this.getName()}: expected ${this.numFeatures} channels (num_features) in dim 1, got input of shape ${fmtShape(x.shape)}`,
      );
    }
    // torch's _BatchNorm.forward: the running-average factor, and batch statistics in training
    // mode or when no running statistics are kept.
    let factor = this.momentum ?? 0;
    if (this.training && this.trackRunningStats && this.numBatchesTracked) {
      const n = Number(this.numBatchesTracked.item()) + 1;
      fillInPlace(this.numBatchesTracked, () => n, `${this.getName()}.numBatchesTracked`);
      factor = this.momentum === null ? 1 / n : this.momentum;
    }
    const useBatchStats = this.training || (this.runningMean === null && this.runningVar === null);
    const keepStats = !this.training || this.trackRunningStats;
    return F.batchNorm(
      x,
      keepStats ? this.runningMean : null,
      keepStats ? this.runningVar : null,
      this.weight,
      this.bias,
      { training: useBatchStats, momentum: factor, eps: this.eps },
    );
  }

  override extraRepr(): string {
    const m = this.momentum === null ? 'None' : pyFloat(this.momentum);
    return `${this.numFeatures}, eps=${pyFloat(this.eps)}, momentum=${m}, affine=${pyBool(this.affine)}, track_running_stats=${pyBool(this.trackRunningStats)}`;
  }
}

/** Batch normalization over [N, C] or [N, C, L] inputs (torch.nn.BatchNorm1d). */
export class BatchNorm1d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 2 && x.ndim !== 3) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `BatchNorm1d: expected 2D or 3D input, got ${x.ndim}D input`,
      );
    }
  }
}

/** Batch normalization over [N, C, H, W] inputs (torch.nn.BatchNorm2d). */
export class BatchNorm2d extends BatchNormBase {
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts);
  }
  protected checkInput(x: Tensor): void {
    if (x.ndim !== 4) {
      throw new TesseraError('INVALID_ARGUMENT', `BatchNorm2d: expected 4D input, got ${x.ndim}D input`);
    }
  }
}

export interface LayerNormOptions {
  eps?: number;
  /** Learnable weight (and bias) of the normalized shape (default true). */
  elementwiseAffine?: boolean;
  /** Learn the bias when elementwiseAffine (default true). */
  bias?: boolean;
  dtype?: DType;
}

/** Normalizes over the trailing `normalizedShape` dims (torch.nn.LayerNorm). */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly elementwiseAffine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | number[], opts: LayerNormOptions = {}) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `LayerNorm: invalid normalized_shape ${JSON.stringify(normalizedShape)}`,
      );
    }
    const dtype = opts.dtype ?? DEFAULT_FLOAT;
    this.normalizedShape = shape;
    this.eps = opts.eps ?? 1e-5;
    this.elementwiseAffine = opts.elementwiseAffine ?? true;
    this.weight = this.elementwiseAffine ? new Parameter(ones(shape, { dtype })) : null;
    this.bias = this.elementwiseAffine && opts.bias !== false ? new Parameter(zeros(shape, { dtype })) : null;
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    const k = this.normalizedShape.length;
    const tail = x.shape.slice(x.ndim - k);
    if (x.ndim < k || tail.some((d, i) => d !== this.normalizedShape[i])) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `LayerNorm: given normalized_shape=${fmtShape(this.normalizedShape)}, expected input with shape [*, ${this.normalizedShape.join(', ')}], got ${fmtShape(x.shape)}`,
      );
    }
    return F.layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${pyTuple(this.normalizedShape)}, eps=${pyFloat(this.eps)}, elementwise_affine=${pyBool(this.elementwiseAffine)}`;
  }
}

export interface GroupNormOptions {
  eps?: number;
  /** Learnable per-channel weight and bias (default true). */
  affine?: boolean;
  dtype?: DType;
}

/** Normalizes [N, C, *] inputs over groups of C / numGroups channels (torch.nn.GroupNorm). */
export class GroupNorm extends Module {
  readonly numGroups: number;
  readonly numChannels: number;
  readonly eps: number;
  readonly affine: boolean;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(numGroups: number, numChannels: number, opts: GroupNormOptions = {}) {
    super();
    if (!Number.isInteger(numGroups) || numGroups <= 0 || !Number.isInteger(numChannels) || numChannels < 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `GroupNorm: num_groups must be a positive integer and num_channels a non-negative one, got ${numGroups} and ${numChannels}`,
      );
    }
    if (numChannels % numGroups !== 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `GroupNorm: num_channels (${numChannels}) must be divisible by num_groups (${numGroups})`,
      );
    }
    const dtype = opts.dtype ?? DEFAULT_FLOAT;
    this.numGroups = numGroups;
    this.numChannels = numChannels;
    this.eps = opts.eps ?? 1e-5;
    this.affine = opts.affine ?? true;
    this.weight = this.affine ? new Parameter(ones([numChannels], { dtype })) : null;
    this.bias = this.affine ? new Parameter(zeros([numChannels], { dtype })) : null;
  }

  resetParameters(): void {
    if (this.weight) ones_(this.weight);
    if (this.bias) zeros_(this.bias);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `GroupNorm: expected input of shape [N, ${this.numChannels}, *] (num_channels), got ${fmtShape(x.shape)}`,
      );
    }
    return F.groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${pyFloat(this.eps)}, affine=${pyBool(this.affine)}`;
  }
}
