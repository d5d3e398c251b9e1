/**
 * BatchNormalization. Inference: Y = (X - mean) / sqrt(var + epsilon) * scale + B with the given
 * statistics. Training (opset 14+, training_mode = 1): batch statistics over every axis but the
 * channel, outputs Y, running_mean = mean * momentum + batch_mean * (1 - momentum) and likewise
 * running_var (biased batch variance, as the ONNX reference). Opsets 1-13 run inference whatever
 * `is_test` / `spatial` say, as ONNX Runtime does; per-activation parameters ([C, D1, ...], the
 * spatial = 0 form) broadcast from the channel axis.
 */
import { int64s } from '../../runtime/creation.js';
import { allocate } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, expectFloat, input, sumToShape } from '../helpers.js';
import { type Attrs, dispatch1, type KernelContext, type OpInputs, registerOp } from '../registry.js';
import { reshapeView } from '../shape/reshape.js';
import type { FloatArray } from './gemm.js';
import { broadcastFloats, floats, nonChannelAxes, output } from './kernel-io.js';
import { castAs, groupStats, moments, normBackward, reduceGroups, rsqrtEps, scalarLike } from './moments.js';

const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const sub = (a: Tensor, b: Tensor) => dispatch1('Sub', [a, b]);
const add = (a: Tensor, b: Tensor) => dispatch1('Add', [a, b]);
const neg = (a: Tensor) => dispatch1('Neg', [a]);

/** [1, ...p.shape, 1, ...]: a parameter laid along X from the channel axis. */
function viewShape(p: Tensor, x: Tensor): number[] {
  return [1, ...p.shape, ...new Array(Math.max(0, x.ndim - 1 - p.ndim)).fill(1)];
}
const view = (p: Tensor, x: Tensor) => dispatch1('Reshape', [p, int64s(viewShape(p, x))]);
/** Gradient of a parameter viewed along X: summed over the broadcast axes, back in its own shape. */
const paramGrad = (g: Tensor, p: Tensor, x: Tensor) =>
  dispatch1('Reshape', [sumToShape(g, viewShape(p, x)), int64s(p.shape)]);

function isTraining(attrs: Attrs, ctx: { opset: number }, since: number): boolean {
  return since >= 14 && attrInt(attrs, 'training_mode', 0) !== 0 && ctx.opset >= 14;
}

function params(op: string, inputs: OpInputs) {
  const x = input(inputs, 0, op);
  const [scale, b, mean, variance] = [1, 2, 3, 4].map((i) => input(inputs, i, op)) as [
    Tensor,
    Tensor,
    Tensor,
    Tensor,
  ];
  expectFloat(op, 'X', x);
  if (x.ndim < 2)
    throw new TesseraError('SHAPE_MISMATCH', `${op}: X must be [N, C, ...], got shape ${fmtShape(x.shape)}`);
  const names = ['scale', 'B', 'input_mean', 'input_var'];
  [scale, b, mean, variance].forEach((p, i) => {
    expectFloat(op, names[i]!, p);
    const fits = p.ndim >= 1 && p.ndim <= x.ndim - 1 && p.shape.every((d, k) => d === x.shape[k + 1]);
    if (!fits) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: ${names[i]} must have shape [${x.shape[1]}] (the channel count of X ${fmtShape(x.shape)}), got ${fmtShape(p.shape)}`,
      );
    }
  });
  return { x, scale, b, mean, variance };
}

function kernel(since: number) {
  return (inputs: OpInputs, attrs: Attrs, ctx: KernelContext): Tensor[] => {
    const op = ctx.op;
    const { x, scale, b, mean, variance } = params(op, inputs);
    const eps = attrFloat(attrs, 'epsilon', 1e-5);
    const xs = floats(x);
    // float32/float64 write the output dtype directly (one rounding, as the float64 buffer and its
    // conversion gave), in an array the executor may recycle.
    const y: FloatArray =
      x.dtype === 'float32' || x.dtype === 'float64'
        ? (allocate(x.dtype, xs.length) as FloatArray)
        : new Float64Array(xs.length);
    const C = x.shape[1]!;
    const S = xs.length / Math.max(1, x.shape[0]! * C);
    const training = isTraining(attrs, ctx, since);
    if (!training && [scale, b, mean, variance].some((p) => p.ndim !== 1)) {
      // Per-activation parameters ([C, D1, ...], spatial = 0): broadcast along X from the channel axis.
      const at = (p: Tensor) => broadcastFloats(reshapeView(p, viewShape(p, x)), x.shape, op);
      const [sc, bs, mu, va] = [at(scale), at(b), at(mean), at(variance)];
      for (let e = 0; e < xs.length; e++)
        y[e] = ((xs[e]! - mu[e]!) / Math.sqrt(va[e]! + eps)) * sc[e]! + bs[e]!;
      return [output(y, x.shape, x.dtype)];
    }
    if (training && scale.ndim !== 1) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: training mode needs [C] parameters, got ${fmtShape(scale.shape)}`,
      );
    }
    // y = (x - mean[c]) * a[c] + B[c] with a = scale / sqrt(var + eps).
    const sc = floats(scale);
    const bs = floats(b);
    let mu = floats(mean);
    let va = floats(variance);
    let stats: { mean: Float64Array; variance: Float64Array } | null = null;
    if (training) {
      stats = groupStats(xs, reduceGroups(x.shape, nonChannelAxes(x.ndim)));
      mu = stats.mean;
      va = stats.variance;
    }
    for (let c = 0; c < C; c++) {
      const a = sc[c]! / Math.sqrt(va[c]! + eps);
      const m = mu[c]!;
      const d = bs[c]!;
      for (let n = 0; n < x.shape[0]!; n++) {
        const o = (n * C + c) * S;
        for (let k = o; k < o + S; k++) y[k] = (xs[k]! - m) * a + d;
      }
    }
    if (!stats) return [output(y, x.shape, x.dtype)];
    const st = stats;
    const momentum = attrFloat(attrs, 'momentum', 0.9);
    const im = floats(mean);
    const iv = floats(variance);
    const rm = Float64Array.from({ length: C }, (_, c) => im[c]! * momentum + st.mean[c]! * (1 - momentum));
    const rv = Float64Array.from(
      { length: C },
      (_, c) => iv[c]! * momentum + st.variance[c]! * (1 - momentum),
    );
    return [
      output(y, x.shape, x.dtype),
      output(rm, mean.shape, mean.dtype),
      output(rv, variance.shape, variance.dtype),
    ];
  };
}

function inferenceGrad(inputs: OpInputs, attrs: Attrs, dy: Tensor): (Tensor | null)[] {
  const { x, scale, b, mean, variance } = params('BatchNormalization', inputs);
  const d = x.dtype;
  const istd = rsqrtEps(castAs(variance, d), attrFloat(attrs, 'epsilon', 1e-5));
  const sc = castAs(scale, d);
  const centered = sub(x, view(castAs(mean, d), x));
  const s = mul(view(istd, x), view(sc, x));
  const dyS = mul(dy, s);
  // Sum of dy * (x - mean) per parameter position: feeds both scale and var.
  const dsv = sumToShape(mul(dy, centered), viewShape(scale, x));
  const back = (g: Tensor, p: Tensor) => castAs(dispatch1('Reshape', [g, int64s(p.shape)]), p.dtype);
  return [
    x.requiresGrad ? dyS : null,
    scale.requiresGrad ? back(mul(dsv, view(istd, x)), scale) : null,
    b.requiresGrad ? castAs(paramGrad(dy, b, x), b.dtype) : null,
    mean.requiresGrad ? castAs(neg(paramGrad(dyS, mean, x)), mean.dtype) : null,
    variance.requiresGrad
      ? back(
          mul(mul(dsv, view(sc, x)), mul(view(mul(mul(istd, istd), istd), x), scalarLike(-0.5, x))),
          variance,
        )
      : null,
  ];
}

function trainingGrad(inputs: OpInputs, attrs: Attrs, dys: (Tensor | null)[]): (Tensor | null)[] {
  const { x, scale, b, mean, variance } = params('BatchNormalization', inputs);
  const [dy, drm, drv] = dys;
  const d = x.dtype;
  const axes = nonChannelAxes(x.ndim);
  const n = axes.reduce((a, ax) => a * x.shape[ax]!, 1);
  const momentum = attrFloat(attrs, 'momentum', 0.9);
  const [bm, binv] = moments(x, axes, attrFloat(attrs, 'epsilon', 1e-5));
  let dx: Tensor | null = null;
  let dscale: Tensor | null = null;
  let db: Tensor | null = null;
  if (dy) {
    if (x.requiresGrad) dx = normBackward(x, bm, binv, axes, mul(dy, view(castAs(scale, d), x)));
    if (scale.requiresGrad) dscale = castAs(paramGrad(mul(dy, mul(sub(x, bm), binv)), scale, x), scale.dtype);
    if (b.requiresGrad) db = castAs(paramGrad(dy, b, x), b.dtype);
  }
  if (x.requiresGrad && drm) {
    // running_mean depends on x through the batch mean: d/dx_i = (1 - momentum) / n.
    const t = dispatch1('Expand', [
      mul(view(castAs(drm, d), x), scalarLike((1 - momentum) / n, x)),
      int64s(x.shape),
    ]);
    dx = dx ? add(dx, t) : t;
  }
  if (x.requiresGrad && drv) {
    // ... and running_var through the biased batch variance: d/dx_i = (1 - momentum) * 2 (x_i - mean) / n.
    const t = mul(mul(view(castAs(drv, d), x), sub(x, bm)), scalarLike((2 * (1 - momentum)) / n, x));
    dx = dx ? add(dx, t) : t;
  }
  const keep = (g: Tensor | null, p: Tensor) =>
    g && p.requiresGrad ? mul(g, scalarLike(momentum, g)) : null;
  return [dx, dscale, db, keep(drm ?? null, mean), keep(drv ?? null, variance)];
}

for (const since of [1, 14]) {
  registerOp({
    name: 'BatchNormalization',
    since,
    minInputs: 5,
    maxInputs: 5,
    defaults:
      since >= 14 ? { epsilon: 1e-5, momentum: 0.9, training_mode: 0 } : { epsilon: 1e-5, momentum: 0.9 },
    kernels: { cpu: kernel(since) },
    grad: ({ inputs, attrs, opset }, dys) =>
      isTraining(attrs, { opset }, since)
        ? trainingGrad(inputs, attrs, dys)
        : inferenceGrad(inputs, attrs, dys[0]!),
  });
}
