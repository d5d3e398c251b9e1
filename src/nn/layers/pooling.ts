/** MaxPool2d, AvgPool2d, AdaptiveAvgPool2d: settings as torch.nn; the computation is nn.functional. */
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import * as F from '../functional/index.js';
import { Module } from '../module.js';
import { ntuple } from './args.js';
import { pyBool, pyIntOrTuple } from './repr.js';

type IntOrPair = number | number[];

function checkPool(
  who: string,
  kernelSize: IntOrPair,
  stride: IntOrPair,
  padding: IntOrPair,
  dilation: IntOrPair,
) {
  const k = ntuple(who, 'kernel_size', kernelSize, 2, 1);
  ntuple(who, 'stride', stride, 2, 1);
  ntuple(who, 'dilation', dilation, 2, 1);
  const p = ntuple(who, 'padding', padding, 2, 0);
  p.forEach((pad, i) => {
    if (pad > k[i]! / 2) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: pad should be at most half of effective kernel size, got padding ${pad} for kernel size ${k[i]}`,
      );
    }
  });
}

export interface MaxPool2dOptions {
  /** Defaults to kernelSize. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  dilation?: IntOrPair;
  ceilMode?: boolean;
}

/** Max over kernelSize windows of [N, C, H, W] inputs (torch.nn.MaxPool2d). */
export class MaxPool2d extends Module {
  readonly kernelSize: IntOrPair;
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly dilation: IntOrPair;
  readonly ceilMode: boolean;

  constructor(kernelSize: IntOrPair, opts: MaxPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.ceilMode = opts.ceilMode ?? false;
    checkPool('MaxPool2d', this.kernelSize, this.stride, this.padding, this.dilation);
  }

  override forward(x: Tensor): Tensor {
    return F.maxPool2d(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      ceilMode: this.ceilMode,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}, dilation=${pyIntOrTuple(this.dilation)}, ceil_mode=${pyBool(this.ceilMode)}`;
  }
}

export interface AvgPool2dOptions {
  /** Defaults to kernelSize. */
  stride?: IntOrPair | null;
  padding?: IntOrPair;
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true, as torch). */
  countIncludePad?: boolean;
}

/** Mean over kernelSize windows of [N, C, H, W] inputs (torch.nn.AvgPool2d). */
export class AvgPool2d extends Module {
  readonly kernelSize: IntOrPair;
  readonly stride: IntOrPair;
  readonly padding: IntOrPair;
  readonly ceilMode: boolean;
  readonly countIncludePad: boolean;

  constructor(kernelSize: IntOrPair, opts: AvgPool2dOptions = {}) {
    super();
    this.kernelSize = kernelSize;
    this.stride = opts.stride ?? kernelSize;
    this.padding = opts.padding ?? 0;
    this.ceilMode = opts.ceilMode ?? false;
    this.countIncludePad = opts.countIncludePad ?? true;
    checkPool('AvgPool2d', this.kernelSize, this.stride, this.padding, 1);
  }

  override forward(x: Tensor): Tensor {
    return F.avgPool2d(x, {
      kernelSize: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      ceilMode: this.ceilMode,
      countIncludePad: this.countIncludePad,
    });
  }

  override extraRepr(): string {
    return `kernel_size=${pyIntOrTuple(this.kernelSize)}, stride=${pyIntOrTuple(this.stride)}, padding=${pyIntOrTuple(this.padding)}`;
  }
}

/** Mean pooling to a fixed [H, W] output (null keeps the input's size) (torch.nn.AdaptiveAvgPool2d). */
export class AdaptiveAvgPool2d extends Module {
  readonly outputSize: number | (number | null)[];

  constructor(outputSize: number | (number | null)[]) {
    super();
    const sizes = typeof outputSize === 'number' ? [outputSize, outputSize] : outputSize;
    if (sizes.length !== 2 || sizes.some((s) => s !== null && (!Number.isInteger(s) || s < 0))) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `AdaptiveAvgPool2d: output_size must be an integer or a list of 2 integers (or null), got ${JSON.stringify(outputSize)}`,
      );
    }
    this.outputSize = outputSize;
  }

  override forward(x: Tensor): Tensor {
    return F.adaptiveAvgPool2d(x, this.outputSize);
  }

  override extraRepr(): string {
    return `output_size=${pyIntOrTuple(this.outputSize)}`;
  }
}
