/**
 * DeformConv (opset 19; 22 only widened the types), 2-D: a convolution whose every kernel tap
 * reads X at its regular position plus a learned offset (offset [N, offset_group * kH * kW * 2,
 * oH, oW], (dh, dw) pairs), bilinearly interpolated with zeros outside the image, optionally
 * scaled by mask [N, offset_group * kH * kW, oH, oW]; with group, offset_group, dilations, pads,
 * strides and bias B.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, expectFloat, expectSameDType, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';

const OP = 'DeformConv';
const fail = (msg: string): never => {
  throw new TesseraError('SHAPE_MISMATCH', `${OP}: ${msg}`);
};

/** X[c] at real coordinates (h, w): bilinear over the four neighbours, zero outside the image. */
function bilinear(xs: ArrayLike<number>, base: number, H: number, W: number, h: number, w: number): number {
  const h0 = Math.floor(h);
  const w0 = Math.floor(w);
  const th = h - h0;
  const tw = w - w0;
  let v = 0;
  for (let a = 0; a < 2; a++) {
    const hh = h0 + a;
    if (hh < 0 || hh >= H) continue;
    const wh = a ? th : 1 - th;
    for (let b = 0; b < 2; b++) {
      const ww = w0 + b;
      if (ww < 0 || ww >= W) continue;
      v += wh * (b ? tw : 1 - tw) * xs[base + hh * W + ww]!;
    }
  }
  return v;
}

function deformConvKernel(inputs: OpInputs, attrs: Attrs): Tensor[] {
  const x = input(inputs, 0, OP);
  const wt = input(inputs, 1, OP);
  const off = input(inputs, 2, OP);
  const [bias, mask] = [inputs[3], inputs[4]];
  expectFloat(OP, 'X', x);
  expectSameDType(OP, [x, wt, off, bias, mask]);
  if (x.ndim !== 4) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${OP}: only 2-D convolutions (X of rank 4) are implemented, got X ${fmtShape(x.shape)}`,
    );
  }
  const [N, IC, H, W] = x.shape as [number, number, number, number];
  if (wt.ndim !== 4) fail(`W must have rank 4, got ${fmtShape(wt.shape)}`);
  const [OC, ICg] = wt.shape as [number, number];
  const [kh, kw] = attrInts(attrs, 'kernel_shape', wt.shape.slice(2)) as [number, number];
  const group = attrInt(attrs, 'group', 1);
  const og = attrInt(attrs, 'offset_group', 1);
  const [dh, dw] = attrInts(attrs, 'dilations', [1, 1]) as [number, number];
  const [sh, sw] = attrInts(attrs, 'strides', [1, 1]) as [number, number];
  const pads = attrInts(attrs, 'pads', [0, 0, 0, 0]);
  if (IC !== ICg * group || OC % group !== 0) {
    fail(
      `X has ${IC} channels and W ${fmtShape(wt.shape)} with group ${group}: expected X channels = W.shape[1] * group and W.shape[0] divisible by group`,
    );
  }
  if (IC % og !== 0) fail(`input channels ${IC} are not divisible by offset_group ${og}`);
  const oh = Math.floor((H + pads[0]! + pads[2]! - ((kh - 1) * dh + 1)) / sh) + 1;
  const ow = Math.floor((W + pads[1]! + pads[3]! - ((kw - 1) * dw + 1)) / sw) + 1;
  const K = kh * kw;
  const wantOff = [N, og * K * 2, oh, ow];
  if (off.ndim !== 4 || off.shape.some((d, i) => d !== wantOff[i])) {
    fail(`offset must have shape ${fmtShape(wantOff)}, got ${fmtShape(off.shape)}`);
  }
  if (mask) {
    const want = [N, og * K, oh, ow];
    if (mask.ndim !== 4 || mask.shape.some((d, i) => d !== want[i]))
      fail(`mask must have shape ${fmtShape(want)}, got ${fmtShape(mask.shape)}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== OC))
    fail(`B must have shape [${OC}], got ${fmtShape(bias.shape)}`);
  const xs = floats(x);
  const ws = floats(wt);
  const os = floats(off);
  const ms = mask ? floats(mask) : null;
  const bs = bias ? floats(bias) : null;
  const ocPerGroup = OC / group;
  const icPerOg = IC / og;
  const P = oh * ow;
  // Sampled input values per (input channel, kernel tap, output position), shared by every output channel.
  const cols = new Float64Array(IC * K * P);
  const y = new Float64Array(N * OC * P);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < IC; c++) {
      const g = Math.floor(c / icPerOg);
      const xbase = (n * IC + c) * H * W;
      for (let a = 0; a < kh; a++)
        for (let b = 0; b < kw; b++) {
          const k = a * kw + b;
          const offH = ((n * og + g) * K + k) * 2 * P;
          const offW = offH + P;
          const mBase = ((n * og + g) * K + k) * P;
          for (let i = 0; i < oh; i++)
            for (let j = 0; j < ow; j++) {
              const p = i * ow + j;
              const h = -pads[0]! + i * sh + a * dh + os[offH + p]!;
              const w = -pads[1]! + j * sw + b * dw + os[offW + p]!;
              const m = ms ? ms[mBase + p]! : 1;
              cols[(c * K + k) * P + p] = m === 0 ? 0 : m * bilinear(xs, xbase, H, W, h, w);
            }
        }
    }
    for (let o = 0; o < OC; o++) {
      const grp = Math.floor(o / ocPerGroup);
      const ybase = (n * OC + o) * P;
      if (bs) for (let p = 0; p < P; p++) y[ybase + p] = bs[o]!;
      for (let ci = 0; ci < ICg; ci++) {
        const c = grp * ICg + ci;
        for (let k = 0; k < K; k++) {
          const wv = ws[(o * ICg + ci) * K + k]!;
          if (wv === 0) continue;
          const cb = (c * K + k) * P;
          for (let p = 0; p < P; p++) y[ybase + p]! += wv * cols[cb + p]!;
        }
      }
    }
  }
  return [Tensor.fromData(fromNumbers(x.dtype, y), [N, OC, oh, ow], x.dtype)];
}

registerOp({
  name: OP,
  since: 19,
  minInputs: 3,
  maxInputs: 5,
  defaults: { group: 1, offset_group: 1 },
  kernels: { cpu: deformConvKernel },
});
