/**
 * RoiAlign: for every region [x1, y1, x2, y2] of rois (scaled by spatial_scale) on the image
 * batch_indices picks from X [N, C, H, W], an output_height x output_width grid of bins, each the
 * average (or max) of sampling_ratio^2 bilinear samples (adaptive ceil(size / bins) when 0).
 * Follows ONNX Runtime's kernel, which the reference copies: samples beyond one pixel outside the
 * map read 0, and max mode takes the largest weighted corner of each sample. Opset 10 places
 * pixels at integer coordinates (output_half_pixel, regions at least 1x1); opset 16 adds
 * coordinate_transformation_mode, default half_pixel.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, attrString, expectFloat, expectSameDType, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';

const OP = 'RoiAlign';

interface Sample {
  pos: [number, number, number, number];
  w: [number, number, number, number];
}

/** Bilinear taps of the point (y, x) on an H x W map (zero weights when it lies outside). */
function sampleAt(y: number, x: number, H: number, W: number): Sample {
  if (y < -1 || y > H || x < -1 || x > W) return { pos: [0, 0, 0, 0], w: [0, 0, 0, 0] };
  y = Math.max(y, 0);
  x = Math.max(x, 0);
  let yl = Math.trunc(y);
  let xl = Math.trunc(x);
  let yh: number;
  let xh: number;
  if (yl >= H - 1) {
    yh = yl = H - 1;
    y = yl;
  } else yh = yl + 1;
  if (xl >= W - 1) {
    xh = xl = W - 1;
    x = xl;
  } else xh = xl + 1;
  const ly = y - yl;
  const lx = x - xl;
  const hy = 1 - ly;
  const hx = 1 - lx;
  return {
    pos: [yl * W + xl, yl * W + xh, yh * W + xl, yh * W + xh],
    w: [hy * hx, hy * lx, ly * hx, ly * lx],
  };
}

function roiAlignKernel(inputs: OpInputs, attrs: Attrs, since: number): Tensor[] {
  const x = input(inputs, 0, OP);
  const rois = input(inputs, 1, OP);
  const bi = input(inputs, 2, OP);
  expectFloat(OP, 'X', x);
  expectSameDType(OP, [x, rois]);
  if (x.ndim !== 4)
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${OP}: X must have shape [N, C, H, W], got ${fmtShape(x.shape)}`,
    );
  if (rois.ndim !== 2 || rois.shape[1] !== 4) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${OP}: rois must have shape [num_rois, 4], got ${fmtShape(rois.shape)}`,
    );
  }
  const R = rois.shape[0]!;
  if (bi.ndim !== 1 || bi.shape[0] !== R) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${OP}: batch_indices must have shape [${R}], got ${fmtShape(bi.shape)}`,
    );
  }
  const mode = attrString(attrs, 'mode', 'avg');
  if (mode !== 'avg' && mode !== 'max')
    throw new TesseraError('INVALID_ARGUMENT', `${OP}: mode must be 'avg' or 'max', got '${mode}'`);
  const ctm =
    since >= 16 ? attrString(attrs, 'coordinate_transformation_mode', 'half_pixel') : 'output_half_pixel';
  if (ctm !== 'half_pixel' && ctm !== 'output_half_pixel') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: coordinate_transformation_mode must be 'half_pixel' or 'output_half_pixel', got '${ctm}'`,
    );
  }
  const halfPixel = ctm === 'half_pixel';
  const PH = attrInt(attrs, 'output_height', 1);
  const PW = attrInt(attrs, 'output_width', 1);
  const ratio = attrInt(attrs, 'sampling_ratio', 0);
  const scale = attrFloat(attrs, 'spatial_scale', 1);
  const [N, C, H, W] = x.shape as [number, number, number, number];
  const xs = floats(x);
  const rv = floats(rois);
  const bv = bi.numbers();
  const out = new Float64Array(R * C * PH * PW);
  const offset = halfPixel ? 0.5 : 0;
  for (let n = 0; n < R; n++) {
    const b = bv[n]!;
    if (!(b >= 0 && b < N))
      throw new TesseraError('INVALID_ARGUMENT', `${OP}: batch index ${b} is out of range [0, ${N})`);
    const x1 = rv[n * 4]! * scale - offset;
    const y1 = rv[n * 4 + 1]! * scale - offset;
    let rw = rv[n * 4 + 2]! * scale - offset - x1;
    let rh = rv[n * 4 + 3]! * scale - offset - y1;
    if (!halfPixel) {
      rw = Math.max(rw, 1);
      rh = Math.max(rh, 1);
    }
    const bh = rh / PH;
    const bw = rw / PW;
    const gh = ratio > 0 ? ratio : Math.ceil(rh / PH);
    const gw = ratio > 0 ? ratio : Math.ceil(rw / PW);
    const count = Math.max(gh * gw, 1);
    const samples: Sample[] = [];
    for (let ph = 0; ph < PH; ph++)
      for (let pw = 0; pw < PW; pw++)
        for (let iy = 0; iy < gh; iy++) {
          const yy = y1 + ph * bh + ((iy + 0.5) * bh) / gh;
          for (let ix = 0; ix < gw; ix++)
            samples.push(sampleAt(yy, x1 + pw * bw + ((ix + 0.5) * bw) / gw, H, W));
        }
    for (let c = 0; c < C; c++) {
      const base = (b * C + c) * H * W;
      let si = 0;
      for (let p = 0; p < PH * PW; p++) {
        let acc = mode === 'avg' ? 0 : Number.NEGATIVE_INFINITY;
        for (let k = 0; k < gh * gw; k++) {
          const s = samples[si++]!;
          if (mode === 'avg') {
            for (let t = 0; t < 4; t++) acc += s.w[t]! * xs[base + s.pos[t]!]!;
          } else {
            for (let t = 0; t < 4; t++) acc = Math.max(acc, s.w[t]! * xs[base + s.pos[t]!]!);
          }
        }
        out[(n * C + c) * PH * PW + p] = mode === 'avg' ? acc / count : gh * gw > 0 ? acc : 0;
      }
    }
  }
  return [Tensor.fromData(fromNumbers(x.dtype, out), [R, C, PH, PW], x.dtype)];
}

for (const since of [10, 16]) {
  registerOp({
    name: OP,
    since,
    minInputs: 3,
    maxInputs: 3,
    defaults: { mode: 'avg', output_height: 1, output_width: 1, sampling_ratio: 0, spatial_scale: 1 },
    kernels: { cpu: (inputs, attrs) => roiAlignKernel(inputs, attrs, since) },
  });
}
