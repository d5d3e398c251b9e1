/**
 * DynamicQuantizeLinear (opset 11): uint8 quantization of a float tensor with a scale and zero point
 * computed from its own range, which is widened to include 0:
 *   y_scale = (max(0, max(x)) - min(0, min(x))) / 255      (1 when x is all zeros)
 *   y_zero_point = rint(clamp(0 - min(0, min(x)) / y_scale, 0, 255))
 *   y = clamp(rint(x / y_scale) + y_zero_point, 0, 255)
 * Arithmetic in float32, as the ONNX function body (and its reference) computes it.
 */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { rint } from './common.js';

const OP = 'DynamicQuantizeLinear';

export function dynamicQuantizeLinear(x: Tensor): [Tensor, Tensor, Tensor] {
  if (x.dtype !== 'float32') {
    throw new TesseraError('DTYPE_MISMATCH', `${OP}: x must be float32, got ${x.dtype}`);
  }
  const xs = x.numbers();
  let lo = 0;
  let hi = 0;
  let nan = false;
  for (let i = 0; i < xs.length; i++) {
    const v = xs[i]!;
    if (v < lo) lo = v;
    else if (v > hi) hi = v;
    else if (Number.isNaN(v)) nan = true;
  }
  // NaN propagates into the range (as numpy's min/max): scale and zero point become NaN, stored as 0.
  if (nan) lo = hi = Number.NaN;
  const f = Math.fround;
  const scale = hi === lo ? 1 : f(f(hi - lo) / 255);
  const zpf = f(0 - f(lo / scale));
  const zp = rint(Math.max(0, Math.min(255, zpf)));
  const y = new Uint8Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const q = rint(f(xs[i]! / scale)) + zp;
    y[i] = Number.isNaN(q) ? zp : Math.min(Math.max(q, 0), 255);
  }
  return [
    Tensor.fromData(y, x.shape, 'uint8'),
    Tensor.fromData(Float32Array.of(scale), [], 'float32'),
    Tensor.fromData(Uint8Array.of(Number.isNaN(zp) ? 0 : zp), [], 'uint8'),
  ];
}

registerOp({
  name: OP,
  since: 11,
  minInputs: 1,
  maxInputs: 1,
  kernels: { cpu: (inputs) => dynamicQuantizeLinear(input(inputs, 0, OP)) },
});
