/**
 * Pooling windows as tap lists: for every output position, the in-plane offsets of the input
 * elements its window covers (padding excluded), built once per call and reused for every
 * (batch, channel) plane. Sliding windows (MaxPool, AveragePool, LpPool) and adaptive windows
 * (AdaptiveAveragePool) share this form, and so share their loops and gradients.
 */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import type { Window } from './window.js';

export interface Taps {
  /** Output positions per plane. */
  L: number;
  /** Input positions per plane. */
  P: number;
  /** Taps of output l are offsets[starts[l] .. starts[l+1]). */
  starts: Int32Array;
  offsets: Int32Array;
  /** Window taps inside the padded input (what count_include_pad divides by). */
  padCounts: Float64Array;
}

interface AxisTaps {
  idx: number[][];
  padCount: number[];
}

function build(inSize: readonly number[], axes: AxisTaps[]): Taps {
  const r = inSize.length;
  const outSize = axes.map((a) => a.idx.length);
  const L = outSize.reduce((a, b) => a * b, 1);
  const P = inSize.reduce((a, b) => a * b, 1);
  const inStrides = new Array<number>(r).fill(1);
  for (let i = r - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1]! * inSize[i + 1]!;
  const starts = new Int32Array(L + 1);
  const padCounts = new Float64Array(L);
  const offsets: number[] = [];
  const o = new Array<number>(r).fill(0);
  for (let l = 0; l < L; l++) {
    starts[l] = offsets.length;
    let pc = 1;
    for (let a = 0; a < r; a++) pc *= axes[a]!.padCount[o[a]!]!;
    padCounts[l] = pc;
    // Cartesian product of the per-axis valid indices, row-major.
    const lists = o.map((oi, a) => axes[a]!.idx[oi]!);
    if (lists.every((li) => li.length > 0)) {
      const k = new Array<number>(r).fill(0);
      for (;;) {
        let off = 0;
        for (let a = 0; a < r; a++) off += lists[a]![k[a]!]! * inStrides[a]!;
        offsets.push(off);
        let a = r - 1;
        while (a >= 0 && ++k[a]! === lists[a]!.length) k[a--] = 0;
        if (a < 0) break;
      }
    }
    for (let a = r - 1; a >= 0; a--) {
      if (++o[a]! < outSize[a]!) break;
      o[a] = 0;
    }
  }
  starts[L] = offsets.length;
  return { L, P, starts, offsets: Int32Array.from(offsets), padCounts };
}

/** Taps of a sliding window (strides, dilations, pads). */
export function windowTaps(win: Window): Taps {
  const axes = win.inSize.map((n, a): AxisTaps => {
    const idx: number[][] = [];
    const padCount: number[] = [];
    const lo = -win.padsBegin[a]!;
    const hi = n + win.padsEnd[a]!;
    for (let o = 0; o < win.outSize[a]!; o++) {
      const list: number[] = [];
      let pc = 0;
      for (let k = 0; k < win.kernel[a]!; k++) {
        const p = o * win.strides[a]! - win.padsBegin[a]! + k * win.dilations[a]!;
        if (p >= 0 && p < n) list.push(p);
        if (p >= lo && p < hi) pc++;
      }
      idx.push(list);
      padCount.push(pc);
    }
    return { idx, padCount };
  });
  return build(win.inSize, axes);
}

/** Taps of adaptive pooling: output i of an axis covers [floor(i*in/out), ceil((i+1)*in/out)). */
export function adaptiveTaps(inSize: readonly number[], outSize: readonly number[]): Taps {
  const axes = inSize.map((n, a): AxisTaps => {
    const out = outSize[a]!;
    const idx: number[][] = [];
    for (let i = 0; i < out; i++) {
      const s = Math.floor((i * n) / out);
      const e = Math.ceil(((i + 1) * n) / out);
      idx.push(Array.from({ length: e - s }, (_, j) => s + j));
    }
    return { idx, padCount: idx.map((l) => l.length) };
  });
  return build(inSize, axes);
}

/** Number of (batch, channel) planes of an [N, C, ...spatial] tensor. */
export function planes(x: Tensor): number {
  return x.shape[0]! * x.shape[1]!;
}

/** Average of each window: sum of its taps / divisor[l]. */
export function avgPoolForward(
  xs: ArrayLike<number>,
  nPlanes: number,
  t: Taps,
  divisors: ArrayLike<number>,
): Float64Array {
  const y = new Float64Array(nPlanes * t.L);
  for (let q = 0; q < nPlanes; q++) {
    const base = q * t.P;
    for (let l = 0; l < t.L; l++) {
      let s = 0;
      for (let j = t.starts[l]!; j < t.starts[l + 1]!; j++) s += xs[base + t.offsets[j]!]!;
      y[q * t.L + l] = s / divisors[l]!;
    }
  }
  return y;
}

/** The adjoint of avgPoolForward: each output gradient spread evenly over its window's taps. */
export function avgPoolBackward(
  dys: ArrayLike<number>,
  nPlanes: number,
  t: Taps,
  divisors: ArrayLike<number>,
): Float64Array {
  const dx = new Float64Array(nPlanes * t.P);
  for (let q = 0; q < nPlanes; q++) {
    const base = q * t.P;
    for (let l = 0; l < t.L; l++) {
      const g = dys[q * t.L + l]! / divisors[l]!;
      for (let j = t.starts[l]!; j < t.starts[l + 1]!; j++) dx[base + t.offsets[j]!]! += g;
    }
  }
  return dx;
}

/** Checks an attribute shape (an int list) matches the tensor it describes. */
export function expectShape(op: string, what: string, t: Tensor, shape: readonly number[]): void {
  if (t.ndim !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: ${what} has shape ${fmtShape(t.shape)}, expected ${fmtShape(shape)}`,
    );
  }
}
