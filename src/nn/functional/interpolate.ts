/**
 * interpolate (torch.nn.functional.interpolate) over the Resize op, with the coordinate rules
 * PyTorch uses: 'nearest' = asymmetric + floor, 'nearest-exact' = half_pixel + round half up,
 * 'linear' / 'bilinear' / 'trilinear' / 'bicubic' = pytorch_half_pixel (or align_corners), and
 * 'area' = adaptive average pooling.
 */

import { TESSERA_DOMAIN } from '../../ops/nn/domain.js';
import { dispatch1 } from '../../ops/registry.js';
import { int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';

export type InterpolateMode =
  | 'nearest'
  | 'nearest-exact'
  | 'linear'
  | 'bilinear'
  | 'bicubic'
  | 'trilinear'
  | 'area';

export interface InterpolateOptions {
  /** Output spatial size (an int for every axis, or one per axis). */
  size?: number | number[];
  /** Multiplier for the spatial size (an number for every axis, or one per axis). */
  scaleFactor?: number | number[];
  mode?: InterpolateMode;
  /** Align the corner pixels of input and output (linear modes only). */
  alignCorners?: boolean;
  /** Compute the output size from scaleFactor and use it (not scaleFactor) for the coordinates. */
  recomputeScaleFactor?: boolean;
  /** Antialiasing filter when downsampling (bilinear and bicubic). */
  antialias?: boolean;
}

const RANK: Partial<Record<InterpolateMode, number>> = { linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 };

export function interpolate(x: Tensor, opts: InterpolateOptions = {}): Tensor {
  const who = 'interpolate';
  const mode = opts.mode ?? 'nearest';
  const r = x.ndim - 2;
  if (r < 1 || r > 3) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: expected a 3-D, 4-D or 5-D input [N, C, ...spatial], got shape ${fmtShape(x.shape)}`,
    );
  }
  const want = RANK[mode];
  if (want !== undefined && want !== r) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: mode '${mode}' expects a ${want + 2}-D input, got shape ${fmtShape(x.shape)}`,
    );
  }
  const linear = want !== undefined;
  if (opts.alignCorners !== undefined && !linear) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: align_corners only works with linear, bilinear, bicubic and trilinear modes`,
    );
  }
  if (opts.antialias && mode !== 'bilinear' && mode !== 'bicubic') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: antialias only works with bilinear and bicubic modes`,
    );
  }
  const inSize = x.shape.slice(2);
  const spread = (v: number | number[], name: string): number[] => {
    const out = typeof v === 'number' ? new Array<number>(r).fill(v) : [...v];
    if (out.length !== r)
      throw new TesseraError('INVALID_ARGUMENT', `${who}: ${name} must have ${r} values, got ${out.length}`);
    return out;
  };
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
    throw new TesseraError('INVALID_ARGUMENT', `${who}: give exactly one of size and scaleFactor`);
  }
  let sizes: number[] | undefined;
  let scales: number[] | undefined;
  if (opts.size !== undefined) sizes = spread(opts.size, 'size');
  else {
    const sf = spread(opts.scaleFactor!, 'scaleFactor');
    if (sf.some((s) => !(s > 0)))
      throw new TesseraError('INVALID_ARGUMENT', `${who}: scaleFactor must be positive, got ${fmtShape(sf)}`);
    // With align_corners the coordinates come from the sizes, as torch computes them.
    if (opts.recomputeScaleFactor || opts.alignCorners || mode === 'area')
      sizes = sf.map((s, i) => Math.floor(inSize[i]! * s));
    else scales = sf;
  }
  if (sizes?.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: output size must be positive integers, got ${fmtShape(sizes)}`,
    );
  }
  if (mode === 'area')
    return dispatch1('AdaptiveAveragePool', [x], { output_size: sizes! }, { domain: TESSERA_DOMAIN });
  const attrs = {
    axes: inSize.map((_, i) => i + 2),
    mode:
      mode === 'nearest' || mode === 'nearest-exact' ? 'nearest' : mode === 'bicubic' ? 'cubic' : 'linear',
    coordinate_transformation_mode:
      mode === 'nearest'
        ? 'asymmetric'
        : mode === 'nearest-exact'
          ? 'half_pixel'
          : opts.alignCorners
            ? 'align_corners'
            : 'pytorch_half_pixel',
    nearest_mode: mode === 'nearest' ? 'floor' : 'round_prefer_ceil',
    // torch's antialiased bicubic uses a = -0.5 (as PIL); its plain bicubic a = -0.75.
    cubic_coeff_a: opts.antialias ? -0.5 : -0.75,
    antialias: opts.antialias ? 1 : 0,
  };
  const scalesT = scales ? Tensor.fromData(Float64Array.from(scales), [r], 'float64') : undefined;
  return dispatch1('Resize', [x, undefined, scalesT, sizes ? int64s(sizes) : undefined], attrs);
}
