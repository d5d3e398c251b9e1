/**
 * GridSample: samples X [N, C, D1..Dr] at the normalized coordinates of grid [N, G1..Gr, r]
 * (last axis in x, y[, z] order, i.e. reversed spatial order), giving Y [N, C, G1..Gr].
 * Modes nearest / linear / cubic (Keys, alpha -0.75), padding zeros / border / reflection, and
 * align_corners, following the ONNX reference (PyTorch's grid_sample): out-of-range coordinates
 * are first clamped or reflected, then every tap is padded per dimension. Opset 16 names the
 * modes bilinear / bicubic and takes 4-D X only; opset 20 takes any rank.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrString, expectFloat, expectSameDType, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';

type Padding = 'zeros' | 'border' | 'reflection';

/** Reflects x by the near border until it lies in [lo, hi]. */
export function reflect(x: number, lo: number, hi: number): number {
  const rng = hi - lo;
  if (rng <= 0) return lo;
  if (x < lo) {
    const dx = lo - x;
    const n = Math.trunc(dx / rng);
    const r = dx - n * rng;
    return n % 2 === 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const dx = x - hi;
    const n = Math.trunc(dx / rng);
    const r = dx - n * rng;
    return n % 2 === 0 ? hi - r : lo + r;
  }
  return x;
}

/** Keys cubic convolution weights for taps at -1, 0, 1, 2 of a fractional offset t in [0, 1). */
export function cubicWeights(t: number): [number, number, number, number] {
  const A = -0.75;
  const x = Math.abs(t);
  const w0 = ((A * (x + 1) - 5 * A) * (x + 1) + 8 * A) * (x + 1) - 4 * A;
  const w1 = ((A + 2) * x - (A + 3)) * x * x + 1;
  const w2 = ((A + 2) * (1 - x) - (A + 3)) * (1 - x) * (1 - x) + 1;
  const w3 = ((A * (2 - x) - 5 * A) * (2 - x) + 8 * A) * (2 - x) - 4 * A;
  return [w0, w1, w2, w3];
}

/** Round half to even (C's nearbyint): nearest picks a pixel this way in every rank (the conformance data's 3-D cases too). */
function rint(v: number): number {
  const f = Math.floor(v);
  const d = v - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function gridSampleKernel(inputs: OpInputs, attrs: Attrs, legacy: boolean): Tensor[] {
  const op = 'GridSample';
  const x = input(inputs, 0, op);
  const grid = input(inputs, 1, op);
  expectFloat(op, 'X', x);
  expectFloat(op, 'grid', grid);
  const r = x.ndim - 2;
  if (r < 1 || (legacy && r !== 2)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: X must have rank ${legacy ? '4' : '>= 3'}, got ${fmtShape(x.shape)}`,
    );
  }
  if (grid.ndim !== r + 2 || grid.shape[0] !== x.shape[0] || grid.shape[r + 1] !== r) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: grid must have shape [${x.shape[0]}, ${Array(r).fill('*').join(', ')}, ${r}] for X ${fmtShape(x.shape)}, got ${fmtShape(grid.shape)}`,
    );
  }
  const names = legacy ? ['bilinear', 'nearest', 'bicubic'] : ['linear', 'nearest', 'cubic'];
  const given = attrString(attrs, 'mode', names[0]);
  if (!names.includes(given)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: mode must be '${names[0]}', 'nearest' or '${names[2]}', got '${given}'`,
    );
  }
  // Opset 16's bilinear / bicubic are opset 20's linear / cubic.
  const mode = given === 'bilinear' ? 'linear' : given === 'bicubic' ? 'cubic' : given;
  const padding = attrString(attrs, 'padding_mode', 'zeros') as Padding;
  if (padding !== 'zeros' && padding !== 'border' && padding !== 'reflection') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: padding_mode must be 'zeros', 'border' or 'reflection', got '${padding}'`,
    );
  }
  const align = attrInt(attrs, 'align_corners', 0) !== 0;
  const [N, C] = x.shape as [number, number];
  const dims = x.shape.slice(2);
  const gdims = grid.shape.slice(1, -1);
  const P = gdims.reduce((a, b) => a * b, 1);
  const S = dims.reduce((a, b) => a * b, 1);
  const dstr = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  const lo = dims.map(() => (align ? 0 : -0.5));
  const hi = dims.map((d) => (align ? d - 1 : d - 0.5));
  const xs = floats(x);
  const gs = floats(grid);
  const y = new Float64Array(N * C * P);
  const taps = mode === 'cubic' ? 4 : mode === 'linear' ? 2 : 1;
  // Per dimension: the tap indices (after padding; -1 = zero) and their weights.
  const idx = dims.map(() => new Int32Array(taps));
  const wts = dims.map(() => new Float64Array(taps));
  /** The index of tap i of dimension k after padding, or -1 when it reads a zero. */
  const pad = (i: number, k: number): number => {
    const d = dims[k]!;
    if (padding === 'zeros') return i >= 0 && i < d ? i : -1;
    if (padding === 'border') return Math.min(Math.max(i, 0), d - 1);
    return Math.trunc(reflect(i, lo[k]!, hi[k]!));
  };
  const counter = new Int32Array(r);
  for (let n = 0; n < N; n++)
    for (let p = 0; p < P; p++) {
      const g = (n * P + p) * r;
      for (let k = 0; k < r; k++) {
        const nv = gs[g + (r - 1 - k)]!;
        const d = dims[k]!;
        // Denormalized in float32, as the reference computes it.
        let v = Math.fround(align ? ((nv + 1) / 2) * (d - 1) : ((nv + 1) * d - 1) / 2);
        if (mode === 'nearest') v = rint(v);
        if (v < lo[k]! || v > hi[k]!) {
          if (padding === 'border') v = Math.min(Math.max(v, 0), d - 1);
          else if (padding === 'reflection') v = reflect(v, lo[k]!, hi[k]!);
        }
        if (mode === 'nearest') {
          idx[k]![0] = pad(Math.trunc(v), k);
          wts[k]![0] = 1;
        } else {
          const f = Math.floor(v);
          const t = v - f;
          if (mode === 'linear') {
            idx[k]![0] = pad(f, k);
            idx[k]![1] = pad(f + 1, k);
            wts[k]![0] = 1 - t;
            wts[k]![1] = t;
          } else {
            const w = cubicWeights(t);
            for (let j = 0; j < 4; j++) {
              idx[k]![j] = pad(f - 1 + j, k);
              wts[k]![j] = w[j]!;
            }
          }
        }
      }
      // Sum over every combination of taps (the tensor product of the 1-D interpolations).
      for (let c = 0; c < C; c++) {
        const base = (n * C + c) * S;
        let acc = 0;
        counter.fill(0);
        for (;;) {
          let w = 1;
          let off = base;
          for (let k = 0; k < r; k++) {
            const i = idx[k]![counter[k]!]!;
            w *= wts[k]![counter[k]!]!;
            if (i < 0) {
              w = 0;
              break;
            }
            off += i * dstr[k]!;
          }
          if (w !== 0) acc += w * xs[off]!;
          let k = r - 1;
          while (k >= 0 && ++counter[k]! === taps) counter[k--] = 0;
          if (k < 0) break;
        }
        y[(n * C + c) * P + p] = acc;
      }
    }
  return [Tensor.fromData(fromNumbers(x.dtype, y), [N, C, ...gdims], x.dtype)];
}

for (const since of [16, 20]) {
  registerOp({
    name: 'GridSample',
    since,
    minInputs: 2,
    maxInputs: 2,
    defaults: { mode: since < 20 ? 'bilinear' : 'linear', padding_mode: 'zeros', align_corners: 0 },
    validate: (inputs) => expectSameDType('GridSample', [input(inputs, 0, 'GridSample')]),
    kernels: { cpu: (inputs, attrs) => gridSampleKernel(inputs, attrs, since < 20) },
  });
}
