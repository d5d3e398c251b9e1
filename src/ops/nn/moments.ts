/**
 * Shared pieces of the normalization ops. Kernels: mean and 1/sqrt(var + eps) over any set of axes
 * (`reduceGroups`, `groupStats`). Gradients: com.tessera::Moments and com.tessera::RsqrtEps, two
 * differentiable ops the normalization gradients are written with, and `normBackward`, the
 * gradient through x_hat = (x - mean) * invstd. Because the statistics are recomputed with
 * differentiable ops, every normalization gradient can itself be differentiated.
 */
import { full, int64s } from '../../runtime/creation.js';
import { type DType, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInts, expectFloat, input } from '../helpers.js';
import { dispatch, dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';

export interface Groups {
  /** Group (output position) of every element, row-major over the kept axes. */
  ids: Int32Array;
  /** Number of groups. */
  G: number;
  /** Elements per group. */
  n: number;
}

/** Maps every element of `shape` to its group when reducing over `axes`. */
export function reduceGroups(shape: readonly number[], axes: readonly number[]): Groups {
  const r = shape.length;
  const red = shape.map((_, i) => axes.includes(i));
  const gstr = new Array<number>(r).fill(0);
  let G = 1;
  for (let i = r - 1; i >= 0; i--) {
    if (!red[i]) {
      gstr[i] = G;
      G *= shape[i]!;
    }
  }
  const total = shape.reduce((a, b) => a * b, 1);
  const ids = new Int32Array(total);
  const idx = new Array<number>(r).fill(0);
  let g = 0;
  for (let e = 0; e < total; e++) {
    ids[e] = g;
    for (let d = r - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        g += gstr[d]!;
        break;
      }
      g -= gstr[d]! * (shape[d]! - 1);
      idx[d] = 0;
    }
  }
  return { ids, G, n: G === 0 ? 0 : total / G };
}

/** Mean and biased variance of each group (two passes, for accuracy). */
export function groupStats(
  xs: ArrayLike<number>,
  grp: Groups,
): { mean: Float64Array; variance: Float64Array } {
  const mean = new Float64Array(grp.G);
  const variance = new Float64Array(grp.G);
  const { ids, n } = grp;
  for (let e = 0; e < ids.length; e++) mean[ids[e]!]! += xs[e]!;
  for (let g = 0; g < grp.G; g++) mean[g]! /= n;
  for (let e = 0; e < ids.length; e++) {
    const d = xs[e]! - mean[ids[e]!]!;
    variance[ids[e]!]! += d * d;
  }
  for (let g = 0; g < grp.G; g++) variance[g]! /= n;
  return { mean, variance };
}

/** The shape `shape` takes with `axes` kept as size 1. */
export function keptShape(shape: readonly number[], axes: readonly number[]): number[] {
  return shape.map((d, i) => (axes.includes(i) ? 1 : d));
}

export function scalarLike(v: number, t: Tensor): Tensor {
  return full([], v, { dtype: t.dtype, device: t.device });
}

const add = (a: Tensor, b: Tensor) => dispatch1('Add', [a, b]);
const sub = (a: Tensor, b: Tensor) => dispatch1('Sub', [a, b]);
const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const sumKeep = (t: Tensor, axes: number[]) => dispatch1('ReduceSum', [t, int64s(axes)], { keepdims: 1 });

/** Casts `t` to `dtype` when it differs (ONNX ops need equal dtypes). */
export function castAs(t: Tensor, dtype: DType): Tensor {
  return t.dtype === dtype ? t : dispatch1('Cast', [t], { to: dtype });
}

/** [mean, invstd] of x over `axes` (kept as size-1 dims), as differentiable ops. */
export function moments(x: Tensor, axes: number[], epsilon: number): [Tensor, Tensor] {
  const [m, s] = dispatch('Moments', [x], { axes, epsilon }, { domain: TESSERA_DOMAIN });
  return [m!, s!];
}

/**
 * dx given dxhat = dL/dx_hat for x_hat = (x - mean) * invstd over `axes`, plus optional gradients
 * reaching the statistics themselves: dx = invstd * (dxhat - mean(dxhat) - x_hat * mean(dxhat * x_hat)).
 */
export function normBackward(x: Tensor, mean: Tensor, invstd: Tensor, axes: number[], dxhat: Tensor): Tensor {
  const n = axes.reduce((a, ax) => a * x.shape[ax]!, 1);
  const inv = scalarLike(1 / n, x);
  const xhat = mul(sub(x, mean), invstd);
  const m1 = mul(sumKeep(dxhat, axes), inv);
  const m2 = mul(sumKeep(mul(dxhat, xhat), axes), inv);
  return mul(sub(sub(dxhat, m1), mul(xhat, m2)), invstd);
}

/** dx from gradients reaching mean(x) and invstd(x) over `axes` (null when neither does). */
export function statsBackward(
  x: Tensor,
  mean: Tensor,
  invstd: Tensor,
  axes: number[],
  dmean: Tensor | null,
  dinv: Tensor | null,
): Tensor | null {
  const n = axes.reduce((a, ax) => a * x.shape[ax]!, 1);
  let dx: Tensor | null = null;
  if (dmean) dx = dispatch1('Expand', [mul(castAs(dmean, x.dtype), scalarLike(1 / n, x)), int64s(x.shape)]);
  if (dinv) {
    // d invstd / dx_i = -invstd^3 (x_i - mean) / n
    const coef = mul(mul(mul(invstd, invstd), invstd), scalarLike(-1 / n, x));
    const t = mul(mul(castAs(dinv, x.dtype), coef), sub(x, mean));
    dx = dx ? add(dx, t) : t;
  }
  return dx;
}

function momentAxes(op: string, x: Tensor, axes: number[] | undefined): number[] {
  if (!axes) throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute 'axes' is required`);
  return [...new Set(axes.map((a) => normAxis(a, x.ndim, op)))].sort((a, b) => a - b);
}

/** Outputs mean and 1/sqrt(var + epsilon) over `axes` (kept as size-1 dims). */
registerOp({
  name: 'Moments',
  domain: TESSERA_DOMAIN,
  minInputs: 1,
  maxInputs: 1,
  defaults: { epsilon: 1e-5 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'X', x);
      const axes = momentAxes(ctx.op, x, attrInts(attrs, 'axes'));
      const eps = attrFloat(attrs, 'epsilon');
      const grp = reduceGroups(x.shape, axes);
      const { mean, variance } = groupStats(floats(x), grp);
      const inv = variance.map((v) => 1 / Math.sqrt(v + eps));
      const shape = keptShape(x.shape, axes);
      return [output(mean, shape, x.dtype), output(inv, shape, x.dtype)];
    },
  },
  grad: ({ inputs, outputs, attrs }, [dmean, dinv]) => {
    const x = inputs[0]!;
    const axes = momentAxes('Moments', x, attrInts(attrs, 'axes'));
    return [statsBackward(x, outputs[0]!, outputs[1]!, axes, dmean ?? null, dinv ?? null)];
  },
});

/** 1 / sqrt(x + epsilon), elementwise. */
registerOp({
  name: 'RsqrtEps',
  domain: TESSERA_DOMAIN,
  minInputs: 1,
  maxInputs: 1,
  defaults: { epsilon: 0 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'X', x);
      const eps = attrFloat(attrs, 'epsilon');
      return [
        output(
          Float64Array.from(floats(x), (v) => 1 / Math.sqrt(v + eps)),
          x.shape,
          x.dtype,
        ),
      ];
    },
  },
  grad: ({ inputs, outputs }, [g]) => {
    const y = outputs[0]!;
    return [mul(g!, mul(mul(mul(y, y), y), scalarLike(-0.5, inputs[0]!)))];
  },
});

export function rsqrtEps(v: Tensor, epsilon: number): Tensor {
  return dispatch1('RsqrtEps', [v], { epsilon }, { domain: TESSERA_DOMAIN });
}

export function isFloatTensor(t: Tensor | undefined): boolean {
  return !!t && isFloat(t.dtype);
}
