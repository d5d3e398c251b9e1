/**
 * InstanceNormalization (statistics per sample and channel over the spatial axes, per-channel
 * scale and B) and GroupNormalization (statistics per sample and group of channels; opset 18
 * takes per-group scale/bias, opset 21 per-channel, with stash_type). Gradients written with ops.
 */
import { int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, expectFloat, expectSameDType, input } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { floats, nonChannelAxes, output } from './kernel-io.js';
import { groupStats, moments, normBackward, reduceGroups } from './moments.js';

const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const sub = (a: Tensor, b: Tensor) => dispatch1('Sub', [a, b]);
const reshape = (t: Tensor, shape: number[]) => dispatch1('Reshape', [t, int64s(shape)]);

function expectVector(op: string, what: string, t: Tensor, n: number): void {
  if (t.ndim !== 1 || t.shape[0] !== n) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: ${what} must have shape [${n}], got ${fmtShape(t.shape)}`,
    );
  }
}

/**
 * Normalizes x viewed as [N, G, rest] per (n, g), then applies per-channel scale/bias
 * (`perChannel[c]`), the shared kernel of InstanceNormalization (G = C) and GroupNormalization.
 */
function groupNormKernel(
  x: Tensor,
  G: number,
  eps: number,
  scaleC: ArrayLike<number>,
  biasC: ArrayLike<number>,
): Tensor {
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const S = x.numel() / Math.max(1, N * C);
  const xs = floats(x);
  const grp = reduceGroups([N, G, (C / G) * S], [2]);
  const { mean, variance } = groupStats(xs, grp);
  const y = new Float64Array(xs.length);
  for (let e = 0; e < xs.length; e++) {
    const g = grp.ids[e]!;
    const c = Math.floor(e / S) % C;
    y[e] = ((xs[e]! - mean[g]!) / Math.sqrt(variance[g]! + eps)) * scaleC[c]! + biasC[c]!;
  }
  return output(y, x.shape, x.dtype);
}

/** Channel-axis view [1, C, 1, ...] of a per-channel vector. */
const channelView = (p: Tensor, x: Tensor) => reshape(p, [1, x.shape[1]!, ...x.shape.slice(2).map(() => 1)]);

/** dX, dScale_c, dBias_c of y = x_hat * scale_c + bias_c with statistics over [N, G, rest] groups. */
function groupNormGrad(
  x: Tensor,
  scaleC: Tensor,
  G: number,
  eps: number,
  dy: Tensor,
  needScale: boolean,
  needBias: boolean,
) {
  const N = x.shape[0]!;
  const xr = reshape(x, [N, G, -1]);
  const [mean, invstd] = moments(xr, [2], eps);
  const dx = x.requiresGrad
    ? reshape(normBackward(xr, mean, invstd, [2], reshape(mul(dy, channelView(scaleC, x)), [N, G, -1])), [
        ...x.shape,
      ])
    : null;
  const axes = nonChannelAxes(x.ndim);
  const sumC = (t: Tensor) => dispatch1('ReduceSum', [t, int64s(axes)], { keepdims: 0 });
  const xhat = needScale ? reshape(mul(sub(xr, mean), invstd), [...x.shape]) : null;
  return { dx, dscale: xhat ? sumC(mul(dy, xhat)) : null, dbias: needBias ? sumC(dy) : null };
}

function setup(op: string, inputs: OpInputs) {
  const x = input(inputs, 0, op);
  const scale = input(inputs, 1, op);
  const b = input(inputs, 2, op);
  expectFloat(op, 'X', x);
  expectSameDType(op, [x, scale, b]);
  if (x.ndim < 2)
    throw new TesseraError('SHAPE_MISMATCH', `${op}: X must be [N, C, ...], got shape ${fmtShape(x.shape)}`);
  return { x, scale, b };
}

registerOp({
  name: 'InstanceNormalization',
  since: 1,
  minInputs: 3,
  maxInputs: 3,
  defaults: { epsilon: 1e-5 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const { x, scale, b } = setup(ctx.op, inputs);
      const C = x.shape[1]!;
      expectVector(ctx.op, 'scale', scale, C);
      expectVector(ctx.op, 'B', b, C);
      return [groupNormKernel(x, C, attrFloat(attrs, 'epsilon'), floats(scale), floats(b))];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const { x, scale, b } = setup('InstanceNormalization', inputs);
    const r = groupNormGrad(
      x,
      scale,
      x.shape[1]!,
      attrFloat(attrs, 'epsilon'),
      dy!,
      scale.requiresGrad,
      b.requiresGrad,
    );
    return [r.dx, r.dscale, r.dbias];
  },
});

function groups(op: string, x: Tensor, attrs: Attrs): number {
  if (attrs.num_groups === undefined)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute 'num_groups' is required`);
  const G = attrInt(attrs, 'num_groups');
  const C = x.shape[1]!;
  if (!Number.isInteger(G) || G < 1 || C % G !== 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: num_groups must divide the ${C} channels of X, got ${G}`,
    );
  }
  return G;
}

// Opset 18 has one scale/bias per group; opset 21 one per channel (and stash_type, computed in float64 here).
for (const since of [18, 21]) {
  const perChannel = since >= 21;
  /** Per-group parameters spread to channels: [G] -> [C]. */
  const spread = (p: Tensor, x: Tensor, G: number) =>
    perChannel
      ? p
      : reshape(dispatch1('Expand', [reshape(p, [G, 1]), int64s([G, x.shape[1]! / G])]), [x.shape[1]!]);
  registerOp({
    name: 'GroupNormalization',
    since,
    minInputs: 3,
    maxInputs: 3,
    defaults: perChannel ? { epsilon: 1e-5, stash_type: 1 } : { epsilon: 1e-5 },
    kernels: {
      cpu: (inputs, attrs, ctx) => {
        const { x, scale, b } = setup(ctx.op, inputs);
        const G = groups(ctx.op, x, attrs);
        const n = perChannel ? x.shape[1]! : G;
        expectVector(ctx.op, 'scale', scale, n);
        expectVector(ctx.op, 'bias', b, n);
        const cg = x.shape[1]! / G;
        const toC = (p: Tensor) => {
          const v = floats(p);
          return perChannel
            ? v
            : Float64Array.from({ length: x.shape[1]! }, (_, c) => v[Math.floor(c / cg)]!);
        };
        return [groupNormKernel(x, G, attrFloat(attrs, 'epsilon'), toC(scale), toC(b))];
      },
    },
    grad: ({ inputs, attrs }, [dy]) => {
      const { x, scale, b } = setup('GroupNormalization', inputs);
      const G = groups('GroupNormalization', x, attrs);
      const r = groupNormGrad(
        x,
        spread(scale, x, G),
        G,
        attrFloat(attrs, 'epsilon'),
        dy!,
        scale.requiresGrad,
        b.requiresGrad,
      );
      // Per-group parameters collect the gradients of their channels.
      const back = (g: Tensor | null) =>
        g === null || perChannel
          ? g
          : dispatch1('ReduceSum', [reshape(g, [G, x.shape[1]! / G]), int64s([1])], { keepdims: 0 });
      return [r.dx, back(r.dscale), back(r.dbias)];
    },
  });
}
