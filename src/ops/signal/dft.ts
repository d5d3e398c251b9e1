/**
 * DFT (opset 17: `axis` attribute; opset 20: `axis` input, default -2). The signal is a float
 * tensor whose last dim holds the complex parts: 1 (real) or 2 (real, imaginary).
 *
 * - forward: y[k] = sum_n x[n] e^{-2 pi i k n / N}, N = dft_length (the axis is cropped or
 *   zero-padded to it); `onesided` keeps bins [0, N/2] (RFFT).
 * - inverse: x[n] = 1/N sum_k y[k] e^{2 pi i k n / N}.
 * - inverse with onesided (IRFFT, as numpy.fft.irfft): the input holds bins [0, m) of a Hermitian
 *   spectrum, N = dft_length or 2 (m - 1), and the output is real (last dim 1).
 *
 * The gradient is the adjoint linear map, written with DFT itself (plus Slice/Pad/Mul), so it runs
 * on any backend and differentiates again.
 */
import { int64s, scalar } from '../../runtime/creation.js';
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input, readInts } from '../helpers.js';
import { dispatch1, type OpInputs, registerOp } from '../registry.js';
import { fftInPlace } from './fft.js';

export interface DftArgs {
  /** Signal axis, already normalized to [0, rank-2]. */
  axis: number;
  /** dft_length; undefined uses the default (the axis length, or 2 (m - 1) for IRFFT). */
  length?: number;
  inverse: boolean;
  onesided: boolean;
}

/** Checks the signal tensor's dtype/shape and normalizes `axis` (negative counts from the back). */
export function checkSignal(op: string, x: Tensor, axis: number): number {
  if (!isFloat(x.dtype))
    throw new TesseraError('DTYPE_MISMATCH', `${op}: input must be a float tensor, got ${x.dtype}`);
  const r = x.ndim;
  const c = x.shape[r - 1];
  if (r < 2 || (c !== 1 && c !== 2)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: input must have rank >= 2 with a last dim of 1 (real) or 2 (complex), got shape [${x.shape.join(', ')}]`,
    );
  }
  const a = axis < 0 ? axis + r : axis;
  if (!Number.isInteger(axis) || a < 0 || a > r - 2) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: axis must be in [${-r}, -2] or [0, ${r - 2}] for an input of rank ${r}, got ${axis}`,
    );
  }
  return a;
}

/** Reads an optional scalar int input (dft_length, axis, frame_step...). */
export function scalarInt(op: string, what: string, t: Tensor | undefined): number | undefined {
  if (!t) return undefined;
  if (t.numel() !== 1 || (t.dtype !== 'int32' && t.dtype !== 'int64')) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: ${what} must be a scalar int32/int64 tensor, got ${t.dtype} of shape [${t.shape.join(', ')}]`,
    );
  }
  return readInts(t)[0]!;
}

/** The DFT along `axis` of x (see the file comment for the modes). */
export function dft(x: Tensor, args: DftArgs, op = 'DFT'): Tensor {
  const r = x.ndim;
  const axis = args.axis;
  const cin = x.shape[r - 1]!;
  const m = x.shape[axis]!;
  const irfft = args.inverse && args.onesided;
  const n = args.length ?? (irfft ? 2 * (m - 1) : m);
  if (!Number.isInteger(n) || n < 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: dft_length must be a positive integer, got ${n}${args.length === undefined ? ` (from an axis of length ${m})` : ''}`,
    );
  }
  const bins = irfft ? n : args.onesided ? Math.floor(n / 2) + 1 : n;
  const cout = irfft ? 1 : 2;
  let outer = 1;
  for (let d = 0; d < axis; d++) outer *= x.shape[d]!;
  let inner = 1;
  for (let d = axis + 1; d < r - 1; d++) inner *= x.shape[d]!;
  const src = x.numbers();
  const out = new Float64Array(outer * bins * inner * cout);
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  const h = Math.floor(n / 2) + 1;
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      re.fill(0);
      im.fill(0);
      const base = o * m * inner * cin + i * cin;
      // Bins/samples past the input are zeros; past n they are cropped.
      const take = Math.min(m, irfft ? h : n);
      for (let t = 0; t < take; t++) {
        const p = base + t * inner * cin;
        re[t] = src[p]!;
        if (cin === 2) im[t] = src[p + 1]!;
      }
      if (irfft) {
        for (let k = h; k < n; k++) {
          re[k] = re[n - k]!;
          im[k] = -im[n - k]!;
        }
      }
      fftInPlace(re, im, args.inverse);
      const scale = args.inverse ? 1 / n : 1;
      const ob = o * bins * inner * cout + i * cout;
      for (let k = 0; k < bins; k++) {
        const q = ob + k * inner * cout;
        out[q] = re[k]! * scale;
        if (cout === 2) out[q + 1] = im[k]! * scale;
      }
    }
  }
  const shape = [...x.shape];
  shape[axis] = bins;
  shape[r - 1] = cout;
  return Tensor.fromData(fromNumbers(x.dtype, out), shape, x.dtype);
}

// ---- gradient helpers (ops only) ------------------------------------------------------------------

/** Crops or zero-pads `t` along `axis` to `len`. */
export function fitAxis(t: Tensor, axis: number, len: number): Tensor {
  const cur = t.shape[axis]!;
  if (cur === len) return t;
  if (cur > len) return dispatch1('Slice', [t, int64s([0]), int64s([len]), int64s([axis])]);
  const pads = new Array<number>(2 * t.ndim).fill(0);
  pads[t.ndim + axis] = len - cur;
  return dispatch1('Pad', [t, int64s(pads)]);
}

const realPart = (t: Tensor) => dispatch1('Slice', [t, int64s([0]), int64s([1]), int64s([t.ndim - 1])]);
const scaled = (t: Tensor, s: number) => (s === 1 ? t : dispatch1('Mul', [t, scalar(s, t.dtype)]));
const dftOp = (t: Tensor, axis: number, inverse: boolean, onesided: boolean) =>
  dispatch1('DFT', [t, undefined, scalar(axis, 'int64')], {
    inverse: inverse ? 1 : 0,
    onesided: onesided ? 1 : 0,
  });

/** Gradient of `dft(x, args)` with respect to x: the adjoint of the (real-)linear map. */
export function dftGrad(x: Tensor, args: DftArgs, dy: Tensor): Tensor {
  const { axis } = args;
  const m = x.shape[axis]!;
  const realIn = x.shape[x.ndim - 1] === 1;
  let g: Tensor;
  if (args.inverse && args.onesided) {
    // y = Re(IDFT_n(hermitian(x))): x_bar_k = w_k * RFFT(dy)_k / n, w_k = 2 for the mirrored bins.
    const n = dy.shape[axis]!;
    const h = Math.floor(n / 2) + 1;
    const wshape = x.shape.map((_, d) => (d === axis ? h : 1));
    const w = new Array<number>(h).fill(1);
    for (let k = 1; k <= n - h; k++) w[k] = 2;
    const wt = Tensor.fromData(
      fromNumbers(
        dy.dtype,
        w.map((v) => v / n),
      ),
      wshape,
      dy.dtype,
    );
    g = dispatch1('Mul', [dftOp(dy, axis, false, true), wt]);
    g = fitAxis(g, axis, m);
  } else {
    const n = args.length ?? m;
    const full = args.onesided ? fitAxis(dy, axis, n) : dy;
    // forward: F^H dy = n * IDFT(dy); inverse: (1/n) F dy.
    g = args.inverse
      ? scaled(dftOp(full, axis, false, false), 1 / n)
      : scaled(dftOp(full, axis, true, false), n);
    g = fitAxis(g, axis, m);
  }
  return realIn ? realPart(g) : g;
}

function register(since: number): void {
  const opset17 = since < 20;
  registerOp({
    name: 'DFT',
    since,
    minInputs: 1,
    maxInputs: opset17 ? 2 : 3,
    defaults: opset17 ? { axis: 1, inverse: 0, onesided: 0 } : { inverse: 0, onesided: 0 },
    kernels: { cpu: (inputs, attrs) => [dft(input(inputs, 0, 'DFT'), argsOf(inputs, attrs, opset17))] },
    grad: ({ inputs, attrs }, [dy]) => [
      dftGrad(inputs[0]!, argsOf(inputs, attrs, opset17), dy!),
      ...inputs.slice(1).map(() => null),
    ],
  });
}

function argsOf(inputs: OpInputs, attrs: Record<string, unknown>, opset17: boolean): DftArgs {
  const x = input(inputs, 0, 'DFT');
  const rawAxis = opset17 ? Number(attrs.axis ?? 1) : (scalarInt('DFT', 'axis', inputs[2]) ?? -2);
  const axis = checkSignal('DFT', x, rawAxis);
  const length = scalarInt('DFT', 'dft_length', inputs[1]);
  const inverse = Number(attrs.inverse ?? 0) !== 0;
  const onesided = Number(attrs.onesided ?? 0) !== 0;
  return { axis, length, inverse, onesided };
}

register(17);
register(20);
