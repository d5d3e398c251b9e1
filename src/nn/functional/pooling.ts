/**
 * maxPool1d/2d/3d, avgPool1d/2d/3d and adaptiveAvgPool1d/2d/3d with torch's arguments (stride
 * defaults to the kernel size; avg pooling counts the padding by default), over the MaxPool,
 * AveragePool and com.tessera::AdaptiveAveragePool ops.
 */

import { TESSERA_DOMAIN } from '../../ops/nn/domain.js';
import { windowTaps } from '../../ops/nn/pool-taps.js';
import { resolveWindow } from '../../ops/nn/window.js';
import { dispatch, dispatch1 } from '../../ops/registry.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { batched, type IntOrTuple, reshape, symmetricPads, tuple } from './args.js';

export interface MaxPoolOptions {
  kernelSize: IntOrTuple;
  /** Defaults to kernelSize. */
  stride?: IntOrTuple | null;
  padding?: IntOrTuple;
  dilation?: IntOrTuple;
  ceilMode?: boolean;
}

export interface AvgPoolOptions {
  kernelSize: IntOrTuple;
  /** Defaults to kernelSize. */
  stride?: IntOrTuple | null;
  padding?: IntOrTuple;
  ceilMode?: boolean;
  /** Count the zero padding in the divisor (default true, as torch). */
  countIncludePad?: boolean;
  /** Divide every window sum by this instead. */
  divisorOverride?: number | null;
}

function poolAttrs(
  who: string,
  r: number,
  o: {
    kernelSize: IntOrTuple;
    stride?: IntOrTuple | null;
    padding?: IntOrTuple;
    dilation?: IntOrTuple;
    ceilMode?: boolean;
  },
) {
  const kernel = tuple(who, 'kernel_size', o.kernelSize, r, 1);
  const strides = tuple(who, 'stride', o.stride ?? kernel, r, 1);
  const dilations = tuple(who, 'dilation', o.dilation ?? 1, r, 1);
  const padding = tuple(who, 'padding', o.padding ?? 0, r, 0);
  return {
    kernel_shape: kernel,
    strides,
    dilations,
    pads: symmetricPads(padding),
    ceil_mode: o.ceilMode ? 1 : 0,
    padding,
  };
}

function maxPoolNd(
  who: string,
  r: number,
  x: Tensor,
  opts: MaxPoolOptions,
  withIndices: boolean,
): Tensor | [Tensor, Tensor] {
  const a = poolAttrs(who, r, opts);
  a.padding.forEach((p, i) => {
    if (2 * p > (a.kernel_shape[i]! - 1) * a.dilations[i]! + 1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: pad should be at most half of effective kernel size, got padding ${fmtShape(a.padding)}, kernel_size ${fmtShape(a.kernel_shape)}, dilation ${fmtShape(a.dilations)}`,
      );
    }
  });
  const { padding: _, ...attrs } = a;
  let indices: Tensor | null = null;
  const y = batched(who, x, r, (xb) => {
    const [out, ind] = dispatch('MaxPool', [xb], attrs);
    if (withIndices) indices = toPlaneIndices(ind!, xb);
    return out!;
  });
  if (!withIndices) return y;
  const ind = indices as unknown as Tensor;
  return [y, x.ndim === r + 1 ? reshape(ind, ind.shape.slice(1)) : ind];
}

/** ONNX indices count over the whole [N, C, ...] input; torch's count within each (n, c) plane. */
function toPlaneIndices(ind: Tensor, x: Tensor): Tensor {
  const P = x.shape.slice(2).reduce((a, b) => a * b, 1);
  const src = ind.dataSync() as BigInt64Array;
  const out = BigInt64Array.from(src, (v) => BigInt(Number(v) % P));
  return Tensor.fromData(out, ind.shape, 'int64');
}

export function maxPool1d(x: Tensor, opts: MaxPoolOptions): Tensor {
  return maxPoolNd('maxPool1d', 1, x, opts, false) as Tensor;
}
export function maxPool2d(x: Tensor, opts: MaxPoolOptions): Tensor {
  return maxPoolNd('maxPool2d', 2, x, opts, false) as Tensor;
}
export function maxPool3d(x: Tensor, opts: MaxPoolOptions): Tensor {
  return maxPoolNd('maxPool3d', 3, x, opts, false) as Tensor;
}
/** maxPool with returnIndices: [values, indices], indices flat within each (n, c) plane as torch. */
export function maxPool1dWithIndices(x: Tensor, opts: MaxPoolOptions): [Tensor, Tensor] {
  return maxPoolNd('maxPool1d', 1, x, opts, true) as [Tensor, Tensor];
}
export function maxPool2dWithIndices(x: Tensor, opts: MaxPoolOptions): [Tensor, Tensor] {
  return maxPoolNd('maxPool2d', 2, x, opts, true) as [Tensor, Tensor];
}
export function maxPool3dWithIndices(x: Tensor, opts: MaxPoolOptions): [Tensor, Tensor] {
  return maxPoolNd('maxPool3d', 3, x, opts, true) as [Tensor, Tensor];
}

function avgPoolNd(who: string, r: number, x: Tensor, opts: AvgPoolOptions): Tensor {
  const { padding, dilations: _, ...attrs } = poolAttrs(who, r, opts);
  padding.forEach((p, i) => {
    if (2 * p > attrs.kernel_shape[i]!) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: pad should be at most half of kernel size, got padding ${fmtShape(padding)}, kernel_size ${fmtShape(attrs.kernel_shape)}`,
      );
    }
  });
  const divisor = opts.divisorOverride;
  if (divisor !== undefined && divisor !== null && !(divisor !== 0 && Number.isFinite(divisor))) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: divisor_override must be a non-zero number, got ${divisor}`,
    );
  }
  const countIncludePad = divisor ? true : (opts.countIncludePad ?? true);
  return batched(who, x, r, (xb) => {
    const y = dispatch1('AveragePool', [xb], { ...attrs, count_include_pad: countIncludePad ? 1 : 0 });
    if (!divisor) return y;
    // Window sums over the divisor: the padded-window mean times (padded count / divisor).
    const win = resolveWindow(who, xb.shape.slice(2), attrs.kernel_shape, attrs, attrs.ceil_mode === 1);
    const counts = windowTaps(win).padCounts.map((c) => c / divisor);
    const scale = Tensor.fromData(fromNumbers(xb.dtype, counts), [1, 1, ...win.outSize], xb.dtype);
    return dispatch1('Mul', [y, scale]);
  });
}

export function avgPool1d(x: Tensor, opts: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool1d', 1, x, opts);
}
export function avgPool2d(x: Tensor, opts: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool2d', 2, x, opts);
}
export function avgPool3d(x: Tensor, opts: AvgPoolOptions): Tensor {
  return avgPoolNd('avgPool3d', 3, x, opts);
}

function adaptiveAvgPoolNd(
  who: string,
  r: number,
  x: Tensor,
  outputSize: number | (number | null)[],
): Tensor {
  return batched(who, x, r, (xb) => {
    const sizes = typeof outputSize === 'number' ? new Array<number | null>(r).fill(outputSize) : outputSize;
    if (sizes.length !== r) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: output_size must be an int or ${r} values, got [${sizes.join(', ')}]`,
      );
    }
    const out = sizes.map((s, i) => (s === null ? xb.shape[i + 2]! : s));
    if (out.some((s) => !Number.isInteger(s) || s < 1)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${who}: output_size must be positive integers, got [${out.join(', ')}]`,
      );
    }
    return dispatch1('AdaptiveAveragePool', [xb], { output_size: out }, { domain: TESSERA_DOMAIN });
  });
}

export function adaptiveAvgPool1d(x: Tensor, outputSize: number | (number | null)[]): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool1d', 1, x, outputSize);
}
export function adaptiveAvgPool2d(x: Tensor, outputSize: number | (number | null)[]): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool2d', 2, x, outputSize);
}
export function adaptiveAvgPool3d(x: Tensor, outputSize: number | (number | null)[]): Tensor {
  return adaptiveAvgPoolNd('adaptiveAvgPool3d', 3, x, outputSize);
}
