/**
 * QLinearMatMul (opset 10; 21 adds float16/bfloat16 scales and float8 types): the product of two
 * quantized matrices, requantized:
 *   y = saturate(rint((a - a_zero_point) @ (b - b_zero_point) * (a_scale * b_scale / y_scale)) + y_zero_point)
 * Scales and zero points are per tensor, or per row of a / y ([M]) and per column of b ([N]).
 * The integer product is exact; the scale multiplier is rounded to the scales' dtype as the ONNX
 * reference computes it. MatMul's batch broadcasting applies.
 */
import { type DType, isFloat8 } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { matmulTensors } from '../linalg/matmul.js';
import { type OpInputs, registerOp } from '../registry.js';
import { expectScale, makeSaturator, roundTo } from './common.js';

const OP = 'QLinearMatMul';

const isQ8 = (d: DType) => d === 'int8' || d === 'uint8' || isFloat8(d);

/** Checks a scale / zero point is one element or `n` elements along the named dimension. */
function perDim(t: Tensor | undefined, n: number, what: string, dim: string): void {
  if (!t || t.numel() === 1) return;
  if (t.ndim !== 1 || t.shape[0] !== n) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${OP}: ${what} must be a scalar or 1-D with ${n} elements (the ${dim}), got shape ${fmtShape(t.shape)}`,
    );
  }
}

const at = (v: ArrayLike<number> | undefined, i: number) => (v ? (v.length === 1 ? v[0]! : v[i]!) : 0);

/** x - zero point as float64, the zero point indexed by `which(i)` (row or column). */
function centered(x: Tensor, zp: Tensor | undefined, which: (i: number) => number): Tensor {
  const xs = x.numbers();
  const zs = zp?.numbers();
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i]! - at(zs, which(i));
  return Tensor.fromData(out, x.shape, 'float64');
}

export function qlinearMatMul(inputs: OpInputs): Tensor {
  const a = input(inputs, 0, OP);
  const aScale = input(inputs, 1, OP);
  const aZp = inputs[2];
  const b = input(inputs, 3, OP);
  const bScale = input(inputs, 4, OP);
  const bZp = inputs[5];
  const yScale = input(inputs, 6, OP);
  const yZp = inputs[7];
  for (const [t, name] of [
    [a, 'a'],
    [b, 'b'],
  ] as const) {
    if (!isQ8(t.dtype))
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `${OP}: ${name} must be int8, uint8 or float8, got ${t.dtype}`,
      );
  }
  for (const [zp, x, name] of [
    [aZp, a, 'a'],
    [bZp, b, 'b'],
  ] as const) {
    if (zp && zp.dtype !== x.dtype) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `${OP}: ${name}_zero_point must have ${name}'s dtype ${x.dtype}, got ${zp.dtype}`,
      );
    }
  }
  expectScale(OP, 'a_scale', aScale);
  expectScale(OP, 'b_scale', bScale);
  expectScale(OP, 'y_scale', yScale);
  const to = yZp?.dtype ?? a.dtype;
  if (!isQ8(to))
    throw new TesseraError('DTYPE_MISMATCH', `${OP}: y_zero_point must be int8, uint8 or float8, got ${to}`);
  const K = a.shape[a.ndim - 1] ?? 1;
  const M = a.ndim >= 2 ? a.shape[a.ndim - 2]! : 1;
  const N = b.ndim >= 2 ? b.shape[b.ndim - 1]! : 1;
  perDim(aScale, M, 'a_scale', 'rows of a');
  perDim(aZp, M, 'a_zero_point', 'rows of a');
  perDim(bScale, N, 'b_scale', 'columns of b');
  perDim(bZp, N, 'b_zero_point', 'columns of b');
  perDim(yScale, M, 'y_scale', 'rows of y');
  perDim(yZp, M, 'y_zero_point', 'rows of y');
  const ac = centered(a, aZp, (i) => Math.floor(i / K) % M);
  const bc = centered(b, bZp, (i) => i % N);
  const c = matmulTensors(OP, ac, bc);
  const cs = c.numbers();
  const [as, bs, ys] = [aScale.numbers(), bScale.numbers(), yScale.numbers()];
  const yz = yZp?.numbers();
  const sdt = aScale.dtype;
  const sat = makeSaturator(OP, to, true);
  const rows = a.ndim >= 2;
  const cols = b.ndim >= 2;
  const out = Tensor.empty(c.shape, to);
  const o = out.storage.data as Int8Array;
  for (let i = 0; i < cs.length; i++) {
    const col = cols ? i % N : 0;
    const row = rows ? Math.floor(cols ? i / N : i) % M : 0;
    const m = roundTo(sdt, roundTo(sdt, at(as, row) * at(bs, col)) / at(ys, row));
    o[i] = sat(cs[i]! * m, at(yz, row));
  }
  return out;
}

registerOp({
  name: OP,
  since: 10,
  minInputs: 8,
  maxInputs: 8,
  kernels: { cpu: (inputs) => [qlinearMatMul(inputs)] },
});
