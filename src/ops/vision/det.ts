/**
 * Det (opset 11; 22 only widened the types): determinants of the square matrices in the last two
 * dimensions, [*, M, M] -> [*], by LU decomposition with partial pivoting in float64.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { expectFloat, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { registerOp } from '../registry.js';

/** The determinant of the n x n row-major matrix at a[off...] (the scratch copy is destroyed). */
export function determinant(m: Float64Array, n: number): number {
  let det = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r * n + c]!) > Math.abs(m[piv * n + c]!)) piv = r;
    const p = m[piv * n + c]!;
    if (p === 0) return 0;
    if (piv !== c) {
      for (let k = 0; k < n; k++) {
        const t = m[c * n + k]!;
        m[c * n + k] = m[piv * n + k]!;
        m[piv * n + k] = t;
      }
      det = -det;
    }
    det *= p;
    for (let r = c + 1; r < n; r++) {
      const f = m[r * n + c]! / p;
      if (f === 0) continue;
      for (let k = c + 1; k < n; k++) m[r * n + k]! -= f * m[c * n + k]!;
    }
  }
  return det;
}

registerOp({
  name: 'Det',
  since: 11,
  minInputs: 1,
  maxInputs: 1,
  validate(inputs) {
    const x = input(inputs, 0, 'Det');
    expectFloat('Det', 'X', x);
    const r = x.ndim;
    if (r < 2 || x.shape[r - 1] !== x.shape[r - 2]) {
      throw new TesseraError('SHAPE_MISMATCH', `Det: X must have shape [*, M, M], got ${fmtShape(x.shape)}`);
    }
  },
  kernels: {
    cpu: (inputs) => {
      const x = inputs[0]!;
      const n = x.shape[x.ndim - 1]!;
      const outShape = x.shape.slice(0, -2);
      const count = outShape.reduce((a, b) => a * b, 1);
      const xs = floats(x);
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++)
        out[i] = determinant(Float64Array.from(xs.subarray(i * n * n, (i + 1) * n * n)), n);
      return [Tensor.fromData(fromNumbers(x.dtype, out), outShape, x.dtype)];
    },
  },
});
