/**
 * RMSNormalization (opset 23): Y = X / sqrt(mean(X^2 over axes [axis, rank)) + epsilon) * scale,
 * with scale broadcast (NumPy rules) to X. Statistics in float64 here (stash_type asks for at
 * least float32). The gradient is written with ops, so it can be differentiated again.
 */
import { int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, expectFloat, expectSameDType, input, sumToShape } from '../helpers.js';
import { broadcastFloats, floats, output } from '../nn/kernel-io.js';
import { reduceGroups, rsqrtEps } from '../nn/moments.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';

const OP = 'RMSNormalization';
const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const sub = (a: Tensor, b: Tensor) => dispatch1('Sub', [a, b]);
const meanKeep = (t: Tensor, axes: number[]) => dispatch1('ReduceMean', [t, int64s(axes)], { keepdims: 1 });

function rmsAxes(x: Tensor, attrs: Attrs): number[] {
  const axis = normAxis(attrInt(attrs, 'axis', -1), x.ndim, OP);
  return Array.from({ length: x.ndim - axis }, (_, i) => axis + i);
}

registerOp({
  name: OP,
  since: 23,
  minInputs: 2,
  maxInputs: 2,
  defaults: { axis: -1, epsilon: 1e-5, stash_type: 1 },
  validate(inputs) {
    const x = input(inputs, 0, OP);
    expectFloat(OP, 'X', x);
    expectSameDType(OP, [x, input(inputs, 1, OP)]);
    if (x.ndim === 0) throw new TesseraError('SHAPE_MISMATCH', `${OP}: X must have rank >= 1, got a scalar`);
  },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = inputs[0]!;
      const eps = attrFloat(attrs, 'epsilon');
      const grp = reduceGroups(x.shape, rmsAxes(x, attrs));
      const xs = floats(x);
      const sc = broadcastFloats(inputs[1]!, x.shape, `${OP} (scale)`);
      const ms = new Float64Array(grp.G);
      for (let e = 0; e < xs.length; e++) ms[grp.ids[e]!]! += xs[e]! * xs[e]!;
      const inv = ms.map((s) => 1 / Math.sqrt(s / grp.n + eps));
      const y = new Float64Array(xs.length);
      for (let e = 0; e < xs.length; e++) y[e] = xs[e]! * inv[grp.ids[e]!]! * sc[e]!;
      return [output(y, x.shape, x.dtype)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const [x, scale] = [inputs[0]!, inputs[1]!];
    const axes = rmsAxes(x, attrs);
    // r = 1/sqrt(mean(x^2) + eps), xhat = x r; dx = r (g - xhat mean(g xhat)) with g = dy * scale.
    const r = rsqrtEps(meanKeep(mul(x, x), axes), attrFloat(attrs, 'epsilon'));
    const xhat = mul(x, r);
    const dscale = scale.requiresGrad ? sumToShape(mul(dy!, xhat), scale.shape) : null;
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      const g = mul(dy!, scale);
      dx = sumToShape(mul(r, sub(g, mul(xhat, meanKeep(mul(g, xhat), axes)))), x.shape);
    }
    return [dx, dscale];
  },
});
