/**
 * LayerNormalization (opset 17; accepted at any opset, as ONNX Runtime does): normalizes over axes
 * [axis, rank), then Y = x_hat * Scale + B, with the optional Mean and InvStdDev outputs (kept dims,
 * in the stash type). Gradients for X, Scale, B and through the Mean/InvStdDev outputs, written
 * with ops.
 */
import { TesseraError } from '../../runtime/errors.js';
import { normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, expectFloat, expectSameDType, input, sumToShape } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { broadcastFloats, floats, output } from './kernel-io.js';
import { groupStats, keptShape, moments, normBackward, reduceGroups, statsBackward } from './moments.js';

const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const sub = (a: Tensor, b: Tensor) => dispatch1('Sub', [a, b]);

function lnAxes(op: string, x: Tensor, attrs: Attrs): number[] {
  const axis = normAxis(attrInt(attrs, 'axis', -1), x.ndim, op);
  return Array.from({ length: x.ndim - axis }, (_, i) => axis + i);
}

registerOp({
  name: 'LayerNormalization',
  // ONNX added it in opset 17; ONNX Runtime also runs it in older-opset graphs (fused models), so do we.
  since: 1,
  minInputs: 2,
  maxInputs: 3,
  defaults: { axis: -1, epsilon: 1e-5, stash_type: 1 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const op = ctx.op;
      const x = input(inputs, 0, op);
      const scale = input(inputs, 1, op);
      const b = inputs[2];
      expectFloat(op, 'X', x);
      expectSameDType(op, [x, scale, b]);
      if (x.ndim === 0)
        throw new TesseraError('SHAPE_MISMATCH', `${op}: X must have rank >= 1, got a scalar`);
      const axes = lnAxes(op, x, attrs);
      const eps = attrFloat(attrs, 'epsilon');
      const grp = reduceGroups(x.shape, axes);
      const xs = floats(x);
      const { mean, variance } = groupStats(xs, grp);
      const inv = variance.map((v) => 1 / Math.sqrt(v + eps));
      // Scale and B usually have the normalized shape: index them by position within a group.
      const inner = grp.n;
      const param = (t: Tensor, what: string) =>
        t.numel() === inner &&
        t.ndim <= axes.length &&
        t.shape.every((d, i) => d === x.shape[x.ndim - t.ndim + i])
          ? { v: floats(t), period: inner }
          : { v: broadcastFloats(t, x.shape, `${op} (${what})`), period: xs.length };
      const sc = param(scale, 'Scale');
      const bs = b ? param(b, 'B') : null;
      const y = new Float64Array(xs.length);
      for (let e = 0; e < xs.length; e++) {
        const g = grp.ids[e]!;
        y[e] = (xs[e]! - mean[g]!) * inv[g]! * sc.v[e % sc.period]! + (bs ? bs.v[e % bs.period]! : 0);
      }
      // Statistics are kept in float32 for 16-bit inputs (stash_type 1), else in X's type.
      const stash = x.dtype === 'float64' ? 'float64' : 'float32';
      const kept = keptShape(x.shape, axes);
      return [output(y, x.shape, x.dtype), output(mean, kept, stash), output(inv, kept, stash)];
    },
  },
  grad: ({ inputs, attrs }, [dy, dmean, dinv]) => {
    const [x, scale, b] = [inputs[0]!, inputs[1]!, inputs[2]];
    const axes = lnAxes('LayerNormalization', x, attrs);
    const [mean, invstd] = moments(x, axes, attrFloat(attrs, 'epsilon'));
    let dx: Tensor | null = null;
    let dscale: Tensor | null = null;
    let db: Tensor | null = null;
    if (dy) {
      const xhat = mul(sub(x, mean), invstd);
      if (x.requiresGrad) dx = sumToShape(normBackward(x, mean, invstd, axes, mul(dy, scale)), x.shape);
      if (scale.requiresGrad) dscale = sumToShape(mul(dy, xhat), scale.shape);
      if (b?.requiresGrad) db = sumToShape(dy, b.shape);
    }
    const dstats = x.requiresGrad ? statsBackward(x, mean, invstd, axes, dmean ?? null, dinv ?? null) : null;
    if (dstats) dx = dx ? dispatch1('Add', [dx, dstats]) : dstats;
    return [dx, dscale, db];
  },
});
