/**
 * HannWindow, HammingWindow, BlackmanWindow (opset 17): a 1-D window of `size` samples from a scalar
 * int input. With periodic=1 (default) the denominator is N = size (for spectral analysis), with
 * periodic=0 it is size - 1 (symmetric). `output_datatype` is an ONNX TensorProto type (default 1,
 * float). A symmetric window of size 1 is [1], as torch's.
 *   Hann:     0.5 - 0.5 cos(2 pi n / N)
 *   Hamming:  25/46 - 21/46 cos(2 pi n / N)
 *   Blackman: 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)
 */
import { type DType, fromNumbers, isBigInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';
import { input, readInts } from '../helpers.js';
import { registerOp } from '../registry.js';

type WindowFn = (n: number, N: number) => number;

export const WINDOWS: Record<string, WindowFn> = {
  HannWindow: (n, N) => 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / N),
  HammingWindow: (n, N) => 25 / 46 - (21 / 46) * Math.cos((2 * Math.PI * n) / N),
  BlackmanWindow: (n, N) =>
    0.42 - 0.5 * Math.cos((2 * Math.PI * n) / N) + 0.08 * Math.cos((4 * Math.PI * n) / N),
};

/** The output dtype an `output_datatype`-style attribute names (an ONNX TensorProto number). */
export function outputDType(op: string, v: unknown, def: DType = 'float32'): DType {
  if (v === undefined) return def;
  const d = typeof v === 'number' ? ONNX_DTYPE[v] : undefined;
  if (!d || d === 'string' || d === 'bool') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: output_datatype must name a numeric ONNX type, got ${String(v)}`,
    );
  }
  return d;
}

export function windowTensor(op: string, size: number, periodic: boolean, dtype: DType): Tensor {
  const f = WINDOWS[op]!;
  if (!Number.isInteger(size) || size < 0)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: size must be a non-negative integer, got ${size}`);
  const N = periodic ? size : size - 1;
  const vals = new Float64Array(size);
  for (let n = 0; n < size; n++) vals[n] = N === 0 ? 1 : f(n, N);
  const data = isBigInt(dtype) ? fromNumbers(dtype, Array.from(vals, Math.trunc)) : fromNumbers(dtype, vals);
  return Tensor.fromData(data, [size], dtype);
}

for (const name of Object.keys(WINDOWS)) {
  registerOp({
    name,
    since: 17,
    minInputs: 1,
    maxInputs: 1,
    defaults: { periodic: 1, output_datatype: 1 },
    kernels: {
      cpu: (inputs, attrs) => {
        const s = input(inputs, 0, name);
        if (s.numel() !== 1 || (s.dtype !== 'int32' && s.dtype !== 'int64')) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `${name}: size must be a scalar int32/int64 tensor, got ${s.dtype} of shape [${s.shape.join(', ')}]`,
          );
        }
        const dtype = outputDType(name, attrs.output_datatype);
        return [windowTensor(name, readInts(s)[0]!, Number(attrs.periodic) !== 0, dtype)];
      },
    },
  });
}
