/** conv1d/2d/3d and convTranspose1d/2d/3d with torch's arguments, over the Conv and ConvTranspose ops. */

import { dispatch1 } from '../../ops/registry.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { batched, type IntOrTuple, symmetricPads, tuple } from './args.js';

export type ConvPadding = IntOrTuple | 'same' | 'valid';

export interface ConvOptions {
  stride?: IntOrTuple;
  /** An int or tuple (both sides), 'valid' (none) or 'same' (output size = input size, stride 1). */
  padding?: ConvPadding;
  dilation?: IntOrTuple;
  groups?: number;
}

export interface ConvTransposeOptions {
  stride?: IntOrTuple;
  padding?: IntOrTuple;
  outputPadding?: IntOrTuple;
  groups?: number;
  dilation?: IntOrTuple;
}

function convNd(
  who: string,
  r: number,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  opts: ConvOptions,
): Tensor {
  if (weight.ndim !== r + 2) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: weight must be ${r + 2}-D [out, in/groups, ...kernel], got ${fmtShape(weight.shape)}`,
    );
  }
  const strides = tuple(who, 'stride', opts.stride ?? 1, r, 1);
  const dilations = tuple(who, 'dilation', opts.dilation ?? 1, r, 1);
  const kernel = weight.shape.slice(2);
  const padding = opts.padding ?? 0;
  let pads: number[];
  if (padding === 'valid') pads = new Array(2 * r).fill(0);
  else if (padding === 'same') {
    if (strides.some((s) => s !== 1)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: padding='same' is not supported for strided convolutions`,
      );
    }
    // As torch: total d*(k-1), the odd element at the end.
    const total = kernel.map((k, i) => dilations[i]! * (k - 1));
    pads = [...total.map((t) => Math.floor(t / 2)), ...total.map((t) => t - Math.floor(t / 2))];
  } else pads = symmetricPads(tuple(who, 'padding', padding, r, 0));
  const attrs = { strides, dilations, pads, group: opts.groups ?? 1 };
  return batched(who, x, r, (xb) => dispatch1('Conv', bias ? [xb, weight, bias] : [xb, weight], attrs));
}

export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  return convNd('conv1d', 1, x, weight, bias, opts);
}
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  return convNd('conv2d', 2, x, weight, bias, opts);
}
export function conv3d(x: Tensor, weight: Tensor, bias?: Tensor | null, opts: ConvOptions = {}): Tensor {
  return convNd('conv3d', 3, x, weight, bias, opts);
}

function convTransposeNd(
  who: string,
  r: number,
  x: Tensor,
  weight: Tensor,
  bias: Tensor | null | undefined,
  opts: ConvTransposeOptions,
): Tensor {
  if (weight.ndim !== r + 2) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: weight must be ${r + 2}-D [in, out/groups, ...kernel], got ${fmtShape(weight.shape)}`,
    );
  }
  const strides = tuple(who, 'stride', opts.stride ?? 1, r, 1);
  const dilations = tuple(who, 'dilation', opts.dilation ?? 1, r, 1);
  const outputPadding = tuple(who, 'output_padding', opts.outputPadding ?? 0, r, 0);
  outputPadding.forEach((p, i) => {
    if (p >= strides[i]! && p >= dilations[i]!) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: output_padding must be smaller than either stride or dilation, got output_padding ${fmtShape(outputPadding)}, stride ${fmtShape(strides)}, dilation ${fmtShape(dilations)}`,
      );
    }
  });
  const attrs = {
    strides,
    dilations,
    pads: symmetricPads(tuple(who, 'padding', opts.padding ?? 0, r, 0)),
    output_padding: outputPadding,
    group: opts.groups ?? 1,
  };
  return batched(who, x, r, (xb) =>
    dispatch1('ConvTranspose', bias ? [xb, weight, bias] : [xb, weight], attrs),
  );
}

export function convTranspose1d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: ConvTransposeOptions = {},
): Tensor {
  return convTransposeNd('convTranspose1d', 1, x, weight, bias, opts);
}
export function convTranspose2d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: ConvTransposeOptions = {},
): Tensor {
  return convTransposeNd('convTranspose2d', 2, x, weight, bias, opts);
}
export function convTranspose3d(
  x: Tensor,
  weight: Tensor,
  bias?: Tensor | null,
  opts: ConvTransposeOptions = {},
): Tensor {
  return convTransposeNd('convTranspose3d', 3, x, weight, bias, opts);
}
