/**
 * im2col / col2im over 1-D, 2-D and 3-D windows. Lower ranks are lifted to 3-D with unit axes in
 * front, so one loop nest serves all three. Column rows are ordered (channel, kd, kh, kw), which is
 * the flattened layout of an OIHW / OIDHW weight, and columns are output positions in row-major order.
 */
import { TesseraError } from '../../runtime/errors.js';
import type { FloatArray } from './gemm.js';
import type { Window } from './window.js';

interface Win3 {
  inD: number;
  inH: number;
  inW: number;
  kD: number;
  kH: number;
  kW: number;
  oD: number;
  oH: number;
  oW: number;
  sD: number;
  sH: number;
  sW: number;
  dD: number;
  dH: number;
  dW: number;
  pD: number;
  pH: number;
  pW: number;
}

function lift(w: Window, op: string): Win3 {
  const r = w.inSize.length;
  if (r < 1 || r > 3) {
    throw new TesseraError('UNSUPPORTED', `${op}: ${r}-D windows are not supported (1-D, 2-D and 3-D are)`);
  }
  const pad = (v: number[], fill: number) => [...new Array(3 - r).fill(fill), ...v];
  const [inD, inH, inW] = pad(w.inSize, 1) as [number, number, number];
  const [kD, kH, kW] = pad(w.kernel, 1) as [number, number, number];
  const [oD, oH, oW] = pad(w.outSize, 1) as [number, number, number];
  const [sD, sH, sW] = pad(w.strides, 1) as [number, number, number];
  const [dD, dH, dW] = pad(w.dilations, 1) as [number, number, number];
  const [pD, pH, pW] = pad(w.padsBegin, 0) as [number, number, number];
  return { inD, inH, inW, kD, kH, kW, oD, oH, oW, sD, sH, sW, dD, dH, dW, pD, pH, pW };
}

/** Product of the kernel dims. */
export function kernelSize(w: Window): number {
  return w.kernel.reduce((a, b) => a * b, 1);
}
/** Product of the output spatial dims. */
export function outPositions(w: Window): number {
  return w.outSize.reduce((a, b) => a * b, 1);
}
/** Product of the input spatial dims. */
export function inPositions(w: Window): number {
  return w.inSize.reduce((a, b) => a * b, 1);
}

/** cols[C*K, L] <- patches of src[C, ...inSize] starting at srcOff (zeros in the padding). */
export function im2col(
  src: FloatArray,
  srcOff: number,
  C: number,
  w: Window,
  cols: FloatArray,
  op: string,
): void {
  const g = lift(w, op);
  const inPlane = g.inD * g.inH * g.inW;
  let col = 0;
  for (let c = 0; c < C; c++) {
    const cBase = srcOff + c * inPlane;
    for (let kd = 0; kd < g.kD; kd++) {
      for (let kh = 0; kh < g.kH; kh++) {
        for (let kw = 0; kw < g.kW; kw++) {
          for (let od = 0; od < g.oD; od++) {
            const id = od * g.sD - g.pD + kd * g.dD;
            const dOk = id >= 0 && id < g.inD;
            for (let oh = 0; oh < g.oH; oh++) {
              const ih = oh * g.sH - g.pH + kh * g.dH;
              if (!dOk || ih < 0 || ih >= g.inH) {
                cols.fill(0, col, col + g.oW);
                col += g.oW;
                continue;
              }
              const rowBase = cBase + (id * g.inH + ih) * g.inW;
              // Output columns [lo, hi) read inside the row; the rest are padding.
              const iw0 = kw * g.dW - g.pW;
              const lo = Math.min(g.oW, iw0 >= 0 ? 0 : Math.ceil(-iw0 / g.sW));
              const hi = Math.max(lo, Math.min(g.oW, Math.ceil((g.inW - iw0) / g.sW)));
              if (lo > 0) cols.fill(0, col, col + lo);
              if (g.sW === 1 && hi - lo > 16) {
                const s0 = rowBase + iw0 + lo;
                cols.set(src.subarray(s0, s0 + hi - lo), col + lo);
              } else {
                let iw = rowBase + iw0 + lo * g.sW;
                for (let ow = col + lo, end = col + hi; ow < end; ow++, iw += g.sW) cols[ow] = src[iw]!;
              }
              if (hi < g.oW) cols.fill(0, col + hi, col + g.oW);
              col += g.oW;
            }
          }
        }
      }
    }
  }
}

/** dst[C, ...inSize] (at dstOff) += the columns scattered back to their input positions. */
export function col2im(
  cols: FloatArray,
  C: number,
  w: Window,
  dst: FloatArray,
  dstOff: number,
  op: string,
): void {
  const g = lift(w, op);
  const inPlane = g.inD * g.inH * g.inW;
  let col = 0;
  for (let c = 0; c < C; c++) {
    const cBase = dstOff + c * inPlane;
    for (let kd = 0; kd < g.kD; kd++) {
      for (let kh = 0; kh < g.kH; kh++) {
        for (let kw = 0; kw < g.kW; kw++) {
          for (let od = 0; od < g.oD; od++) {
            const id = od * g.sD - g.pD + kd * g.dD;
            const dOk = id >= 0 && id < g.inD;
            for (let oh = 0; oh < g.oH; oh++) {
              const ih = oh * g.sH - g.pH + kh * g.dH;
              if (!dOk || ih < 0 || ih >= g.inH) {
                col += g.oW;
                continue;
              }
              const rowBase = cBase + (id * g.inH + ih) * g.inW;
              let iw = kw * g.dW - g.pW;
              for (let ow = 0; ow < g.oW; ow++, iw += g.sW, col++)
                if (iw >= 0 && iw < g.inW) dst[rowBase + iw]! += cols[col]!;
            }
          }
        }
      }
    }
  }
}
