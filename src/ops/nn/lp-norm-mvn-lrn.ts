/**
 * LpNormalization (x / ||x||_p along an axis, p = 1 or 2), MeanVarianceNormalization
 * ((x - mean) / (sqrt(var) + 1e-9) over `axes`, as the ONNX function body) and LRN (local response
 * normalization across channels). Their gradients are first-order kernels in com.tessera.
 */
import { lrnForward, lrnWasm } from '../../backends/cpu/lrn.js';
import { allocate } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, attrInts, expectFloat, expectSameDType, input } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';
import { groupStats, reduceGroups } from './moments.js';

function lpSetup(op: string, x: Tensor, attrs: Attrs) {
  expectFloat(op, 'input', x);
  const p = attrInt(attrs, 'p', 2);
  if (p !== 1 && p !== 2) throw new TesseraError('INVALID_ARGUMENT', `${op}: p must be 1 or 2, got ${p}`);
  const axis = normAxis(attrInt(attrs, 'axis', -1), x.ndim, op);
  const grp = reduceGroups(x.shape, [axis]);
  const xs = floats(x);
  const norm = new Float64Array(grp.G);
  for (let e = 0; e < xs.length; e++) norm[grp.ids[e]!]! += p === 1 ? Math.abs(xs[e]!) : xs[e]! * xs[e]!;
  if (p === 2) for (let g = 0; g < grp.G; g++) norm[g] = Math.sqrt(norm[g]!);
  return { p, grp, xs, norm };
}

registerOp({
  name: 'LpNormalization',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  defaults: { axis: -1, p: 2 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      const { grp, xs, norm } = lpSetup(ctx.op, x, attrs);
      // A zero vector stays zero (no 0/0).
      const y = Float64Array.from(xs, (v, e) => (norm[grp.ids[e]!] === 0 ? 0 : v / norm[grp.ids[e]!]!));
      return [output(y, x.shape, x.dtype)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1('LpNormalizationGrad', [inputs[0]!, dy!], attrs, { domain: TESSERA_DOMAIN }),
  ],
});

/** dx = (dy - g * sum(dy * y)) / ||x||, g = y for p = 2 and sign(x) for p = 1. */
registerOp({
  name: 'LpNormalizationGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  defaults: { axis: -1, p: 2 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      const dy = input(inputs, 1, ctx.op);
      expectSameDType(ctx.op, [x, dy]);
      const { p, grp, xs, norm } = lpSetup(ctx.op, x, attrs);
      const ds = floats(dy);
      const dot = new Float64Array(grp.G);
      for (let e = 0; e < xs.length; e++) {
        const g = grp.ids[e]!;
        if (norm[g] !== 0) dot[g]! += (ds[e]! * xs[e]!) / norm[g]!;
      }
      const dx = new Float64Array(xs.length);
      for (let e = 0; e < xs.length; e++) {
        const g = grp.ids[e]!;
        const nv = norm[g]!;
        if (nv === 0) continue;
        const dir = p === 2 ? xs[e]! / nv : Math.sign(xs[e]!);
        dx[e] = (ds[e]! - dir * dot[g]!) / nv;
      }
      return [output(dx, x.shape, x.dtype)];
    },
  },
});

const MVN_EPS = 1e-9;

function mvnSetup(op: string, x: Tensor, attrs: Attrs) {
  expectFloat(op, 'X', x);
  const raw = attrInts(attrs, 'axes') ?? [0, 2, 3];
  const axes = [...new Set(raw.map((a) => normAxis(a, x.ndim, op)))];
  const grp = reduceGroups(x.shape, axes);
  const xs = floats(x);
  const { mean, variance } = groupStats(xs, grp);
  const std = variance.map(Math.sqrt);
  return { grp, xs, mean, std };
}

registerOp({
  name: 'MeanVarianceNormalization',
  since: 9,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      const { grp, xs, mean, std } = mvnSetup(ctx.op, x, attrs);
      const y = Float64Array.from(xs, (v, e) => (v - mean[grp.ids[e]!]!) / (std[grp.ids[e]!]! + MVN_EPS));
      return [output(y, x.shape, x.dtype)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1('MeanVarianceNormalizationGrad', [inputs[0]!, dy!], attrs, { domain: TESSERA_DOMAIN }),
  ],
});

/** With c = x - mean, s = std, d = s + eps: dx = (dy - mean(dy)) / d - c * mean(dy * c) / (d^2 s). */
registerOp({
  name: 'MeanVarianceNormalizationGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      const dy = input(inputs, 1, ctx.op);
      expectSameDType(ctx.op, [x, dy]);
      const { grp, xs, mean, std } = mvnSetup(ctx.op, x, attrs);
      const ds = floats(dy);
      const mdy = new Float64Array(grp.G);
      const mdc = new Float64Array(grp.G);
      for (let e = 0; e < xs.length; e++) {
        const g = grp.ids[e]!;
        mdy[g]! += ds[e]! / grp.n;
        mdc[g]! += (ds[e]! * (xs[e]! - mean[g]!)) / grp.n;
      }
      const dx = Float64Array.from(xs, (v, e) => {
        const g = grp.ids[e]!;
        const s = std[g]!;
        const d = s + MVN_EPS;
        const c = v - mean[g]!;
        return (ds[e]! - mdy[g]!) / d - (s === 0 ? 0 : (c * mdc[g]!) / (d * d * s));
      });
      return [output(dx, x.shape, x.dtype)];
    },
  },
});

function lrnAttrs(op: string, x: Tensor, attrs: Attrs) {
  expectFloat(op, 'X', x);
  if (x.ndim < 3)
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: X must be [N, C, D1, ...], got shape ${fmtShape(x.shape)}`,
    );
  if (attrs.size === undefined)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute 'size' is required`);
  const size = attrInt(attrs, 'size');
  if (!Number.isInteger(size) || size < 1)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: size must be a positive integer, got ${size}`);
  const alpha = attrFloat(attrs, 'alpha', 1e-4);
  const beta = attrFloat(attrs, 'beta', 0.75);
  const bias = attrFloat(attrs, 'bias', 1);
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const S = x.numel() / Math.max(1, N * C);
  return { N, C, S, size, alpha, beta, bias };
}

function lrnSetup(op: string, x: Tensor, attrs: Attrs) {
  const { N, C, S, size, alpha, beta, bias } = lrnAttrs(op, x, attrs);
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  const xs = floats(x);
  // base[i] = bias + alpha / size * sum of squares over channels [c - lo, c + hi].
  const base = new Float64Array(xs.length);
  for (let n = 0; n < N; n++)
    for (let c = 0; c < C; c++)
      for (let s = 0; s < S; s++) {
        let sq = 0;
        for (let k = Math.max(0, c - lo); k <= Math.min(C - 1, c + hi); k++) {
          const v = xs[(n * C + k) * S + s]!;
          sq += v * v;
        }
        base[(n * C + c) * S + s] = bias + (alpha / size) * sq;
      }
  return { xs, base, N, C, S, lo, hi, alpha, beta, size };
}

/** LRN by its definition, element by element: the reference the fast path is tested against. */
export function lrnReference(x: Tensor, attrs: Attrs, op = 'LRN'): Tensor {
  const { xs, base, beta } = lrnSetup(op, x, attrs);
  return output(
    Float64Array.from(xs, (v, i) => v / base[i]! ** beta),
    x.shape,
    x.dtype,
  );
}

registerOp({
  name: 'LRN',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  defaults: { alpha: 1e-4, beta: 0.75, bias: 1 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      const p = lrnAttrs(ctx.op, x, attrs);
      if (x.dtype === 'float32' || x.dtype === 'float64') {
        // Sliding channel sums and no per-element Math.pow (src/backends/cpu/lrn.ts).
        const xs = floats(x) as Float32Array | Float64Array;
        const fast = xs instanceof Float32Array ? lrnWasm(xs, p) : null;
        if (fast) return [output(fast, x.shape, x.dtype)];
        const out = allocate(x.dtype, xs.length) as Float32Array | Float64Array;
        lrnForward(xs, out, p);
        return [output(out, x.shape, x.dtype)];
      }
      return [lrnReference(x, attrs, ctx.op)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1('LRNGrad', [inputs[0]!, dy!], attrs, { domain: TESSERA_DOMAIN }),
  ],
});

/** dx_i = dy_i base_i^-beta - (2 alpha beta / size) x_i * sum over windows j containing i of dy_j x_j base_j^(-beta-1). */
registerOp({
  name: 'LRNGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  defaults: { alpha: 1e-4, beta: 0.75, bias: 1 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      const dy = input(inputs, 1, ctx.op);
      expectSameDType(ctx.op, [x, dy]);
      const { xs, base, N, C, S, lo, hi, alpha, beta, size } = lrnSetup(ctx.op, x, attrs);
      const ds = floats(dy);
      const t = Float64Array.from(xs, (v, i) => ds[i]! * v * base[i]! ** (-beta - 1));
      const dx = new Float64Array(xs.length);
      for (let n = 0; n < N; n++)
        for (let c = 0; c < C; c++)
          for (let s = 0; s < S; s++) {
            const i = (n * C + c) * S + s;
            // Channel j's window [j - lo, j + hi] contains c when j is in [c - hi, c + lo].
            let acc = 0;
            for (let j = Math.max(0, c - hi); j <= Math.min(C - 1, c + lo); j++)
              acc += t[(n * C + j) * S + s]!;
            dx[i] = ds[i]! * base[i]! ** -beta - ((2 * alpha * beta) / size) * xs[i]! * acc;
          }
      return [output(dx, x.shape, x.dtype)];
    },
  },
});
