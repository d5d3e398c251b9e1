/** Conv1d and Conv2d: parameters and defaults as torch.nn; the computation is nn.functional.conv1d/2d. */
import { zeros } from '../../runtime/creation.js';
import { DEFAULT_FLOAT, type DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import type { ConvPadding } from '../functional/conv.js';
import * as F from '../functional/index.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { ntuple } from './args.js';
import { pyTuple } from './repr.js';

export interface ConvOptions {
  stride?: number | number[];
  /** Zero padding per side: an int, one int per spatial dim, 'valid' (none) or 'same' (stride 1 only). */
  padding?: ConvPadding;
  dilation?: number | number[];
  groups?: number;
  bias?: boolean;
  /** Only 'zeros' is supported. */
  paddingMode?: 'zeros';
  dtype?: DType;
}

abstract class ConvNd extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: number[];
  readonly stride: number[];
  readonly padding: number[] | 'same' | 'valid';
  readonly dilation: number[];
  readonly groups: number;
  readonly paddingMode = 'zeros';
  weight: Parameter;
  bias: Parameter | null;

  constructor(
    who: string,
    dims: number,
    inChannels: number,
    outChannels: number,
    kernelSize: number | number[],
    opts: ConvOptions,
  ) {
    super();
    const groups = opts.groups ?? 1;
    if (!Number.isInteger(groups) || groups <= 0) {
      throw new TesseraError('INVALID_ARGUMENT', `${who}: groups must be a positive integer, got ${groups}`);
    }
    for (const [what, n] of [
      ['in_channels', inChannels],
      ['out_channels', outChannels],
    ] as const) {
      if (!Number.isInteger(n) || n <= 0) {
        throw new TesseraError('INVALID_ARGUMENT', `${who}: ${what} must be a positive integer, got ${n}`);
      }
      if (n % groups !== 0) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${who}: ${what} (${n}) must be divisible by groups (${groups})`,
        );
      }
    }
    if ((opts.paddingMode ?? 'zeros') !== 'zeros') {
      throw new TesseraError(
        'UNSUPPORTED',
        `${who}: padding_mode '${opts.paddingMode}' is not supported, only 'zeros'`,
      );
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.groups = groups;
    this.kernelSize = ntuple(who, 'kernel_size', kernelSize, dims, 1);
    this.stride = ntuple(who, 'stride', opts.stride ?? 1, dims, 1);
    this.dilation = ntuple(who, 'dilation', opts.dilation ?? 1, dims, 1);
    const padding = opts.padding ?? 0;
    if (typeof padding === 'string') {
      if (padding !== 'same' && padding !== 'valid') {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${who}: invalid padding string '${padding}', should be one of 'valid', 'same'`,
        );
      }
      if (padding === 'same' && this.stride.some((s) => s !== 1)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${who}: padding='same' is not supported for strided convolutions, got stride ${pyTuple(this.stride)}`,
        );
      }
      this.padding = padding;
    } else this.padding = ntuple(who, 'padding', padding, dims, 0);
    const dtype = opts.dtype ?? DEFAULT_FLOAT;
    this.weight = new Parameter(zeros([outChannels, inChannels / groups, ...this.kernelSize], { dtype }));
    this.bias = opts.bias === false ? null : new Parameter(zeros([outChannels], { dtype }));
    this.resetParameters();
  }

  /** torch's default: kaiming_uniform_(a=sqrt(5)) for W, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for b. */
  resetParameters(): void {
    kaimingUniform_(this.weight, Math.sqrt(5));
    if (this.bias) {
      const { fanIn } = calculateFanInAndFanOut(this.weight);
      if (fanIn !== 0) uniform_(this.bias, -1 / Math.sqrt(fanIn), 1 / Math.sqrt(fanIn));
    }
  }

  protected convOptions() {
    return {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
    };
  }

  override extraRepr(): string {
    let s = `${this.inChannels}, ${this.outChannels}, kernel_size=${pyTuple(this.kernelSize)}, stride=${pyTuple(this.stride)}`;
    if (typeof this.padding === 'string') s += `, padding=${this.padding}`;
    else if (this.padding.some((p) => p !== 0)) s += `, padding=${pyTuple(this.padding)}`;
    if (this.dilation.some((d) => d !== 1)) s += `, dilation=${pyTuple(this.dilation)}`;
    if (this.groups !== 1) s += `, groups=${this.groups}`;
    if (this.bias === null) s += ', bias=False';
    return s;
  }
}

/** 1-D convolution over [N, C, L] (or unbatched [C, L]) inputs (torch.nn.Conv1d). */
export class Conv1d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | number[],
    opts: ConvOptions = {},
  ) {
    super('Conv1d', 1, inChannels, outChannels, kernelSize, opts);
  }
  override forward(x: Tensor): Tensor {
    return F.conv1d(x, this.weight, this.bias, this.convOptions());
  }
}

/** 2-D convolution over [N, C, H, W] (or unbatched [C, H, W]) inputs (torch.nn.Conv2d). */
export class Conv2d extends ConvNd {
  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: number | number[],
    opts: ConvOptions = {},
  ) {
    super('Conv2d', 2, inChannels, outChannels, kernelSize, opts);
  }
  override forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, this.convOptions());
  }
}
