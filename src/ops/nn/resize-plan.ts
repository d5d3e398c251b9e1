/**
 * Resize as a separable linear map: for every axis, each output index reads a few input indices
 * with weights (nearest: one tap; linear: two; cubic: four; antialiased filters: wider). The plan
 * follows the ONNX reference (coordinate transforms, nearest rounding, cubic_coeff_a,
 * exclude_outside, antialias, tf_crop_and_resize extrapolation). Applying the plan axis by axis
 * gives Resize; applying its transpose gives the gradient.
 */
import { TesseraError } from '../../runtime/errors.js';

export type CoordMode =
  | 'half_pixel'
  | 'half_pixel_symmetric'
  | 'pytorch_half_pixel'
  | 'align_corners'
  | 'asymmetric'
  | 'tf_crop_and_resize';
/** `simple` is the pre-opset-11 rule (ceil when downsampling, floor otherwise), as ONNX Runtime. */
export type NearestMode = 'round_prefer_floor' | 'round_prefer_ceil' | 'floor' | 'ceil' | 'simple';

export interface ResizeOptions {
  mode: 'nearest' | 'linear' | 'cubic';
  coord: CoordMode;
  nearest: NearestMode;
  cubicA: number;
  excludeOutside: boolean;
  antialias: boolean;
}

export interface AxisPlan {
  inLen: number;
  outLen: number;
  /** Taps per output index. */
  n: number;
  idx: Int32Array;
  w: Float64Array;
  /** Output indices whose source coordinate falls outside the input (tf_crop_and_resize). */
  outside: Uint8Array;
  identity: boolean;
}

const COORD_MODES: CoordMode[] = [
  'half_pixel',
  'half_pixel_symmetric',
  'pytorch_half_pixel',
  'align_corners',
  'asymmetric',
  'tf_crop_and_resize',
];
const NEAREST_MODES: NearestMode[] = ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil', 'simple'];

export function checkOptions(op: string, o: ResizeOptions): void {
  if (!['nearest', 'linear', 'cubic'].includes(o.mode)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: mode must be nearest, linear or cubic, got '${o.mode}'`,
    );
  }
  if (!COORD_MODES.includes(o.coord)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: coordinate_transformation_mode must be one of ${COORD_MODES.join(', ')}, got '${o.coord}'`,
    );
  }
  if (!NEAREST_MODES.includes(o.nearest)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: nearest_mode must be one of ${NEAREST_MODES.slice(0, 4).join(', ')}, got '${o.nearest}'`,
    );
  }
}

/** Source coordinate of output index `o` (the ONNX reference's x_original). */
function sourceCoord(
  o: number,
  inLen: number,
  outLen: number,
  scale: number,
  roi: [number, number],
  coord: CoordMode,
): number {
  // The reference measures the output in floats (scale * input length), not the rounded length.
  const outW = scale * inLen;
  switch (coord) {
    case 'align_corners':
      return outW === 1 ? 0 : (o * (inLen - 1)) / (outW - 1);
    case 'asymmetric':
      return o / scale;
    case 'tf_crop_and_resize': {
      const x =
        outW === 1
          ? ((roi[1] - roi[0]) * (inLen - 1)) / 2
          : (o * (roi[1] - roi[0]) * (inLen - 1)) / (outW - 1);
      return x + roi[0] * (inLen - 1);
    }
    case 'pytorch_half_pixel':
      return outW === 1 ? -0.5 : (o + 0.5) / scale - 0.5;
    case 'half_pixel_symmetric': {
      const adjustment = outLen / outW;
      const center = inLen / 2;
      return center * (1 - adjustment) + (o + 0.5) / scale - 0.5;
    }
    default:
      return (o + 0.5) / scale - 0.5;
  }
}

function nearestIndex(x: number, mode: NearestMode, scale: number): number {
  const f = Math.floor(x);
  const frac = x - f;
  switch (mode) {
    case 'round_prefer_ceil':
      return frac < 0.5 ? f : f + 1;
    case 'floor':
      return f;
    case 'ceil':
      return Math.ceil(x);
    case 'simple':
      return scale < 1 ? Math.ceil(x) : Math.trunc(x);
    default:
      return frac <= 0.5 ? f : f + 1;
  }
}

function cubicKernel(x: number, A: number): number {
  x = Math.abs(x);
  if (x <= 1) return (A + 2) * x ** 3 - (A + 3) * x * x + 1;
  if (x < 2) return A * x ** 3 - 5 * A * x * x + 8 * A * x - 4 * A;
  return 0;
}

/** Coefficients for taps base + start + k (k = 0..n-1), ratio = x - base in (0, 1]. */
function coefficients(ratio: number, scale: number, o: ResizeOptions): { start: number; c: number[] } {
  if (o.mode === 'linear') {
    if (!o.antialias || scale >= 1) return { start: 0, c: [1 - ratio, ratio] };
    const start = Math.floor(-1 / scale) + 1;
    const c: number[] = [];
    for (let k = 0; k < 2 - 2 * start; k++)
      c.push(Math.min(1, Math.max(0, 1 - Math.abs((start + k - ratio) * scale))));
    const s = c.reduce((a, b) => a + b, 0);
    return { start, c: c.map((v) => v / s) };
  }
  const A = o.cubicA;
  if (!o.antialias || scale >= 1) {
    return {
      start: -1,
      c: [
        cubicKernel(ratio + 1, A),
        cubicKernel(ratio, A),
        cubicKernel(1 - ratio, A),
        cubicKernel(2 - ratio, A),
      ],
    };
  }
  const start = Math.floor(-2 / scale) + 1;
  const c: number[] = [];
  for (let i = start; i < 2 - start; i++) c.push(cubicKernel(scale * (i - ratio), A));
  const s = c.reduce((a, b) => a + b, 0);
  return { start, c: c.map((v) => v / s) };
}

/** The taps of one axis. */
export function planAxis(
  inLen: number,
  outLen: number,
  scale: number,
  roi: [number, number],
  o: ResizeOptions,
): AxisPlan {
  const clamp = (i: number) => Math.min(inLen - 1, Math.max(0, i));
  const rows: { idx: number[]; w: number[] }[] = [];
  const outside = new Uint8Array(outLen);
  let n = 1;
  for (let out = 0; out < outLen; out++) {
    const x = sourceCoord(out, inLen, outLen, scale, roi, o.coord);
    if (o.coord === 'tf_crop_and_resize' && (x < 0 || x > inLen - 1)) {
      outside[out] = 1;
      rows.push({ idx: [0], w: [0] });
      continue;
    }
    if (o.mode === 'nearest') {
      rows.push({ idx: [clamp(nearestIndex(x, o.nearest, scale))], w: [1] });
      continue;
    }
    // As the reference: ratio in (0, 1], preferring the input pixel left of x.
    const base = Number.isInteger(x) ? x - 1 : Math.floor(x);
    const { start, c } = coefficients(x - base, Math.min(scale, 1), o);
    const raw = c.map((_, k) => base + start + k);
    if (o.excludeOutside) {
      raw.forEach((i, k) => {
        if (i < 0 || i >= inLen) c[k] = 0;
      });
      const s = c.reduce((a, b) => a + b, 0);
      for (let k = 0; k < c.length; k++) c[k]! /= s;
    }
    rows.push({ idx: raw.map(clamp), w: c });
    n = Math.max(n, c.length);
  }
  const idx = new Int32Array(outLen * n);
  const w = new Float64Array(outLen * n);
  rows.forEach((r, out) => {
    r.idx.forEach((i, k) => {
      idx[out * n + k] = i;
      w[out * n + k] = r.w[k]!;
    });
  });
  let identity = inLen === outLen && !outside.some((v) => v);
  for (let out = 0; identity && out < outLen; out++) {
    for (let k = 0; k < n; k++) {
      const wk = w[out * n + k]!;
      if (wk !== 0 && !(wk === 1 && idx[out * n + k] === out)) identity = false;
    }
  }
  return { inLen, outLen, n, idx, w, outside, identity };
}

/** Applies the plans axis by axis: [...inShape] -> [...outShape]; extrapolated positions get `extrapolation`. */
export function applyPlans(
  xs: ArrayLike<number>,
  inShape: readonly number[],
  plans: AxisPlan[],
  extrapolation: number,
): Float64Array {
  let cur = Float64Array.from(xs);
  const shape = [...inShape];
  plans.forEach((p, d) => {
    if (p.identity) return;
    const outer = shape.slice(0, d).reduce((a, b) => a * b, 1);
    const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    const next = new Float64Array(outer * p.outLen * inner);
    for (let a = 0; a < outer; a++) {
      const src = a * p.inLen * inner;
      for (let o = 0; o < p.outLen; o++) {
        const dst = (a * p.outLen + o) * inner;
        for (let k = 0; k < p.n; k++) {
          const wk = p.w[o * p.n + k]!;
          if (wk === 0) continue;
          const s = src + p.idx[o * p.n + k]! * inner;
          for (let i = 0; i < inner; i++) next[dst + i]! += wk * cur[s + i]!;
        }
      }
    }
    cur = next;
    shape[d] = p.outLen;
  });
  if (plans.some((p) => p.outside.some((v) => v))) markOutside(cur, shape, plans, () => extrapolation);
  return cur;
}

/** Sets every element with an out-of-range coordinate on some axis. */
function markOutside(vals: Float64Array, shape: number[], plans: AxisPlan[], v: () => number): void {
  const r = shape.length;
  const idx = new Array<number>(r).fill(0);
  for (let e = 0; e < vals.length; e++) {
    for (let d = 0; d < r; d++) {
      if (plans[d]!.outside[idx[d]!]) {
        vals[e] = v();
        break;
      }
    }
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** The transpose of applyPlans (extrapolated outputs contribute nothing): [...outShape] -> [...inShape]. */
export function applyPlansTransposed(
  dys: ArrayLike<number>,
  outShape: readonly number[],
  plans: AxisPlan[],
): Float64Array {
  let cur = Float64Array.from(dys);
  const shape = [...outShape];
  if (plans.some((p) => p.outside.some((v) => v))) markOutside(cur, shape, plans, () => 0);
  for (let d = plans.length - 1; d >= 0; d--) {
    const p = plans[d]!;
    if (p.identity) continue;
    const outer = shape.slice(0, d).reduce((a, b) => a * b, 1);
    const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
    const next = new Float64Array(outer * p.inLen * inner);
    for (let a = 0; a < outer; a++) {
      const dstBase = a * p.inLen * inner;
      for (let o = 0; o < p.outLen; o++) {
        const src = (a * p.outLen + o) * inner;
        for (let k = 0; k < p.n; k++) {
          const wk = p.w[o * p.n + k]!;
          if (wk === 0) continue;
          const dst = dstBase + p.idx[o * p.n + k]! * inner;
          for (let i = 0; i < inner; i++) next[dst + i]! += wk * cur[src + i]!;
        }
      }
    }
    cur = next;
    shape[d] = p.inLen;
  }
  return cur;
}
