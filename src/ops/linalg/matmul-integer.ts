/**
 * MatMulInteger (opset 10): (A - a_zero_point) @ (B - b_zero_point) on int8/uint8 inputs with
 * MatMul's broadcasting, giving int32. A zero point is a scalar (per tensor) or per row of A
 * ([M], or [..., M, 1]) / per column of B ([N], or [..., 1, N]). Exact: products of 8-bit values
 * summed in float64 stay integers far past any realistic K.
 */
import { mapBinary, mapUnary } from '../../backends/cpu/elementwise.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { matmulTensors } from './matmul.js';

const is8bit = (t: Tensor) => t.dtype === 'int8' || t.dtype === 'uint8';

function centered(x: Tensor, zp: Tensor | undefined, which: 'a' | 'b'): Tensor {
  if (!zp) return mapUnary(x, (v) => v, 'float64');
  if (zp.dtype !== x.dtype) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `MatMulInteger: ${which}_zero_point must have the dtype of ${which.toUpperCase()} (${x.dtype}), got ${zp.dtype}`,
    );
  }
  // A per-row zero point of a 2-D A is a vector of M: it applies along rows, so make it a column.
  const z =
    which === 'a' && zp.ndim === 1 && x.ndim >= 2 && zp.shape[0]! > 1
      ? zp.asStrided([zp.shape[0]!, 1], [zp.strides[0]!, 0])
      : zp;
  return mapBinary(x, z, (v, o) => v - o, 'float64', 'MatMulInteger');
}

registerOp({
  name: 'MatMulInteger',
  since: 10,
  minInputs: 2,
  maxInputs: 4,
  validate: (inputs) => {
    for (const [i, name] of ['A', 'B'].entries()) {
      const t = input(inputs, i, 'MatMulInteger');
      if (!is8bit(t)) {
        throw new TesseraError(
          'DTYPE_MISMATCH',
          `MatMulInteger: ${name} must be int8 or uint8, got ${t.dtype}`,
        );
      }
    }
  },
  kernels: {
    cpu: (inputs) => {
      const a = centered(input(inputs, 0, 'MatMulInteger'), inputs[2], 'a');
      const b = centered(input(inputs, 1, 'MatMulInteger'), inputs[3], 'b');
      const y = matmulTensors('MatMulInteger', a, b);
      return [Tensor.fromData(fromNumbers('int32', y.numbers()), y.shape, 'int32')];
    },
  },
});
