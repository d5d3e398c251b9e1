/**
 * STFT (opset 17): the DFT of frames of a signal [batch, length, 1|2], each frame multiplied by the
 * window. Frames start every `frame_step` samples; there are 1 + floor((length - frame_length) /
 * frame_step) of them (no padding, as torch.stft with center=False). `onesided` (default 1) keeps
 * bins [0, frame_length/2]. Output [batch, frames, bins, 2]. Not differentiable here.
 */
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { scalarInt } from './dft.js';
import { fftInPlace } from './fft.js';

export interface StftArgs {
  frameStep: number;
  window?: Tensor;
  frameLength?: number;
  onesided: boolean;
}

export function stft(signal: Tensor, args: StftArgs, op = 'STFT'): Tensor {
  if (!isFloat(signal.dtype))
    throw new TesseraError('DTYPE_MISMATCH', `${op}: signal must be a float tensor, got ${signal.dtype}`);
  const [batch, len, cin] = signal.shape;
  if (signal.ndim !== 3 || (cin !== 1 && cin !== 2)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: signal must have shape [batch, length, 1 or 2], got [${signal.shape.join(', ')}]`,
    );
  }
  const { window } = args;
  if (window && (window.ndim !== 1 || window.dtype !== signal.dtype)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: window must be a 1-D ${signal.dtype} tensor, got ${window.dtype} of shape [${window.shape.join(', ')}]`,
    );
  }
  const fl = args.frameLength ?? window?.shape[0] ?? len!;
  if (window && window.shape[0] !== fl) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: window has length ${window.shape[0]}, expected frame_length ${fl}`,
    );
  }
  const step = args.frameStep;
  if (!Number.isInteger(step) || step < 1)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: frame_step must be a positive integer, got ${step}`);
  if (!Number.isInteger(fl) || fl < 1 || fl > len!) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: frame_length must be in [1, ${len}] (the signal length), got ${fl}`,
    );
  }
  const frames = 1 + Math.floor((len! - fl) / step);
  const bins = args.onesided ? Math.floor(fl / 2) + 1 : fl;
  const w = window ? window.numbers() : undefined;
  const x = signal.numbers();
  const out = new Float64Array(batch! * frames * bins * 2);
  const re = new Float64Array(fl);
  const im = new Float64Array(fl);
  for (let b = 0; b < batch!; b++) {
    for (let f = 0; f < frames; f++) {
      for (let t = 0; t < fl; t++) {
        const p = (b * len! + f * step + t) * cin!;
        const wt = w ? w[t]! : 1;
        re[t] = x[p]! * wt;
        im[t] = cin === 2 ? x[p + 1]! * wt : 0;
      }
      fftInPlace(re, im, false);
      const q = (b * frames + f) * bins * 2;
      for (let k = 0; k < bins; k++) {
        out[q + 2 * k] = re[k]!;
        out[q + 2 * k + 1] = im[k]!;
      }
    }
  }
  return Tensor.fromData(fromNumbers(signal.dtype, out), [batch!, frames, bins, 2], signal.dtype);
}

registerOp({
  name: 'STFT',
  since: 17,
  minInputs: 2,
  maxInputs: 4,
  defaults: { onesided: 1 },
  kernels: {
    cpu: (inputs, attrs) => {
      const signal = input(inputs, 0, 'STFT');
      const frameStep = scalarInt('STFT', 'frame_step', input(inputs, 1, 'STFT'))!;
      return [
        stft(signal, {
          frameStep,
          window: inputs[2],
          frameLength: scalarInt('STFT', 'frame_length', inputs[3]),
          onesided: Number(attrs.onesided ?? 1) !== 0,
        }),
      ];
    },
  },
});
