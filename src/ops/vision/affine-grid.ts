/**
 * AffineGrid (opset 20): the sampling grid of an affine transform for GridSample. theta
 * [N, 2, 3] with size [N, C, H, W] gives [N, H, W, 2]; theta [N, 3, 4] with size [N, C, D, H, W]
 * gives [N, D, H, W, 3]. Base coordinates run over [-1, 1] (pixel centers, or corners with
 * align_corners) in x, y[, z] order; the grid is theta @ (x, y[, z], 1). The gradient w.r.t. theta
 * is dgrid^T @ base (a MatMul), the transform being linear in theta.
 */
import { int64s } from '../../runtime/creation.js';
import { type DType, fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectFloat, input, readInts } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';

const OP = 'AffineGrid';

/** Coordinates of n points over [-1, 1]: corners included with align_corners, else pixel centers. */
function axisCoords(n: number, align: boolean): Float64Array {
  const out = new Float64Array(n);
  if (align) {
    const step = n > 1 ? 2 / (n - 1) : 0;
    for (let i = 0; i < n; i++) out[i] = -1 + i * step;
  } else {
    const step = 2 / n;
    for (let i = 0; i < n; i++) out[i] = -1 + step / 2 + i * step;
  }
  return out;
}

function plan(inputs: OpInputs, attrs: Attrs) {
  const theta = input(inputs, 0, OP);
  expectFloat(OP, 'theta', theta);
  const size = readInts(input(inputs, 1, OP));
  const r = size.length - 2;
  if (r !== 2 && r !== 3) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: size must have 4 (N, C, H, W) or 5 (N, C, D, H, W) values, got ${size.length}`,
    );
  }
  const N = size[0]!;
  if (theta.ndim !== 3 || theta.shape[0] !== N || theta.shape[1] !== r || theta.shape[2] !== r + 1) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${OP}: theta must have shape [${N}, ${r}, ${r + 1}] for size [${size.join(', ')}], got ${fmtShape(theta.shape)}`,
    );
  }
  const spatial = size.slice(2);
  if (spatial.some((d) => d <= 0))
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: spatial sizes must be positive, got [${size.join(', ')}]`,
    );
  return { theta, N, r, spatial, align: attrInt(attrs, 'align_corners', 0) !== 0 };
}

/** The homogeneous base grid [P, r + 1]: (x, y[, z], 1) per output point in row-major order. */
function baseGrid(spatial: number[], align: boolean, dtype: DType): Tensor {
  const r = spatial.length;
  const coords = spatial.map((n) => axisCoords(n, align));
  const P = spatial.reduce((a, b) => a * b, 1);
  const out = new Float64Array(P * (r + 1));
  const idx = new Array<number>(r).fill(0);
  for (let p = 0; p < P; p++) {
    // Spatial dims are (D,) H, W; the coordinate vector is x (W), y (H)[, z (D)].
    for (let k = 0; k < r; k++) out[p * (r + 1) + k] = coords[r - 1 - k]![idx[r - 1 - k]!]!;
    out[p * (r + 1) + r] = 1;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < spatial[d]!) break;
      idx[d] = 0;
    }
  }
  return Tensor.fromData(fromNumbers(dtype, out), [P, r + 1], dtype);
}

registerOp({
  name: OP,
  since: 20,
  minInputs: 2,
  maxInputs: 2,
  defaults: { align_corners: 0 },
  kernels: {
    cpu: (inputs, attrs) => {
      const { theta, N, r, spatial, align } = plan(inputs, attrs);
      const base = floats(baseGrid(spatial, align, 'float64'));
      const th = floats(theta);
      const P = base.length / (r + 1);
      const out = new Float64Array(N * P * r);
      for (let n = 0; n < N; n++)
        for (let p = 0; p < P; p++)
          for (let k = 0; k < r; k++) {
            let s = 0;
            for (let m = 0; m <= r; m++) s += th[(n * r + k) * (r + 1) + m]! * base[p * (r + 1) + m]!;
            out[(n * P + p) * r + k] = s;
          }
      return [Tensor.fromData(fromNumbers(theta.dtype, out), [N, ...spatial, r], theta.dtype)];
    },
  },
  grad: ({ inputs, attrs }, [dgrid]) => {
    const { theta, N, r, spatial, align } = plan(inputs, attrs);
    const P = spatial.reduce((a, b) => a * b, 1);
    const g = dispatch1('Transpose', [dispatch1('Reshape', [dgrid!, int64s([N, P, r])])], {
      perm: [0, 2, 1],
    });
    return [dispatch1('MatMul', [g, baseGrid(spatial, align, theta.dtype)]), null];
  },
});
