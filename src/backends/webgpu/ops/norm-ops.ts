/**
 * Normalizations on the GPU: BatchNormalization (inference, and training mode with batch
 * statistics and running averages), LayerNormalization, InstanceNormalization,
 * GroupNormalization, LRN and its gradient, and the com.tessera Moments/RsqrtEps ops the gradients
 * are written with. Statistics are two-pass (mean, then mean squared deviation) as on the CPU.
 */
import { attrFloat, attrInt, expectFloat, expectSameDType } from '../../../ops/helpers.js';
import { TESSERA_DOMAIN } from '../../../ops/nn/domain.js';
import type { Attrs, KernelContext, OpInputs } from '../../../ops/registry.js';
import { TesseraError } from '../../../runtime/errors.js';
import { fmtShape, normAxis } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { elementwise } from '../kernels/elementwise.js';
import { reduce } from '../kernels/reduce.js';
import {
  bufIn,
  COMPUTE_ARGS,
  empty,
  flatIndex,
  grid,
  handleOf,
  launch,
  Params,
  packed,
  paramsDecl,
  upload,
} from '../runtime.js';
import { load, storage, store } from '../wgsl.js';

/** `shape` with each of `axes` kept as 1 (a reduction's output with keepdims). */
export const keptShape = (shape: readonly number[], axes: readonly number[]) =>
  shape.map((d, i) => (axes.includes(i) ? 1 : d));

/** A contiguous GPU view of `t` with another shape (same element count). */
function view(t: Tensor, shape: readonly number[]): Tensor {
  const p = packed(t.device === 'webgpu' ? t : upload(t));
  const st: number[] = new Array(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return p.asStrided(shape, st, 0);
}

/** Mean and biased variance (float32, kept dims) of x over `axes`. */
export function stats(x: Tensor, axes: number[]): [Tensor, Tensor] {
  const kept = keptShape(x.shape, axes);
  const mean = reduce(x, axes, kept, 'float32', {
    kind: 'f',
    init: '0.0',
    map: 'v',
    comb: 'a + b',
    finish: 'acc / f32(R)',
  });
  const variance = reduce(
    x,
    axes,
    kept,
    'float32',
    { kind: 'f', init: '0.0', map: '(v - c) * (v - c)', comb: 'a + b', finish: 'acc / f32(R)' },
    mean,
  );
  return [mean, variance];
}

const rsqrt = (v: Tensor, eps: number, dtype = v.dtype) =>
  elementwise({
    inputs: [v],
    loads: ['f'],
    expr: '1.0 / sqrt(v0 + c0)',
    outDtype: dtype,
    consts: new Params().f(eps),
  });

const noF64 = (x: Tensor) => (x.dtype === 'float64' ? 'has no kernel for float64' : null);

function batchNorm(inputs: OpInputs, attrs: Attrs, ctx: KernelContext, since: number): Tensor[] | string {
  const op = ctx.op;
  const [x, scale, b, mean, variance] = inputs as Tensor[];
  expectFloat(op, 'X', x!);
  if (x!.ndim < 2)
    throw new TesseraError('SHAPE_MISMATCH', `${op}: X must be [N, C, ...], got shape ${fmtShape(x!.shape)}`);
  const names = ['scale', 'B', 'input_mean', 'input_var'];
  [scale, b, mean, variance].forEach((p, i) => {
    expectFloat(op, names[i]!, p!);
    const fits = p!.ndim >= 1 && p!.ndim <= x!.ndim - 1 && p!.shape.every((d, k) => d === x!.shape[k + 1]);
    if (!fits) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: ${names[i]} must have shape [${x!.shape[1]}] (the channel count of X ${fmtShape(x!.shape)}), got ${fmtShape(p!.shape)}`,
      );
    }
  });
  if ([x, scale, b, mean, variance].some((t) => t!.dtype === 'float64')) return 'has no kernel for float64';
  const eps = attrFloat(attrs, 'epsilon', 1e-5);
  // Parameters laid along X from the channel axis: [1, ...p.shape, 1, ...].
  const along = (p: Tensor) =>
    view(p, [1, ...p.shape, ...new Array(Math.max(0, x!.ndim - 1 - p.ndim)).fill(1)]);
  const training = since >= 14 && attrInt(attrs, 'training_mode', 0) !== 0 && ctx.opset >= 14;
  if (!training) {
    const y = elementwise({
      inputs: [x!, along(scale!), along(b!), along(mean!), along(variance!)],
      loads: ['f', 'f', 'f', 'f', 'f'],
      expr: '(v0 - v3) * (v1 / sqrt(v4 + c0)) + v2',
      outDtype: x!.dtype,
      consts: new Params().f(eps),
    });
    return [y];
  }
  if (scale!.ndim !== 1) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: training mode needs [C] parameters, got ${fmtShape(scale!.shape)}`,
    );
  }
  const axes = x!.shape.map((_, i) => i).filter((i) => i !== 1);
  const [bm, bv] = stats(x!, axes);
  const y = elementwise({
    inputs: [x!, along(scale!), along(b!), bm, bv],
    loads: ['f', 'f', 'f', 'f', 'f'],
    expr: '(v0 - v3) * (v1 / sqrt(v4 + c0)) + v2',
    outDtype: x!.dtype,
    consts: new Params().f(eps),
  });
  const momentum = attrFloat(attrs, 'momentum', 0.9);
  const running = (prev: Tensor, batch: Tensor) =>
    elementwise({
      inputs: [prev, view(batch, prev.shape)],
      loads: ['f', 'f'],
      expr: 'v0 * c0 + v1 * c1',
      outDtype: prev.dtype,
      consts: new Params().f(momentum, 1 - momentum),
    });
  return [y, running(mean!, bm), running(variance!, bv)];
}

function layerNorm(inputs: OpInputs, attrs: Attrs, op: string): Tensor[] | string {
  const [x, scale, b] = [inputs[0]!, inputs[1]!, inputs[2]];
  expectFloat(op, 'X', x);
  expectSameDType(op, [x, scale, b]);
  if (x.ndim === 0) throw new TesseraError('SHAPE_MISMATCH', `${op}: X must have rank >= 1, got a scalar`);
  const bad = noF64(x);
  if (bad) return bad;
  const axis = normAxis(attrInt(attrs, 'axis', -1), x.ndim, op);
  const axes = Array.from({ length: x.ndim - axis }, (_, i) => axis + i);
  const [mean, variance] = stats(x, axes);
  const inv = rsqrt(variance, attrFloat(attrs, 'epsilon'), 'float32');
  const ins = [x, mean, inv, scale, ...(b ? [b] : [])];
  const y = elementwise({
    inputs: ins,
    loads: ins.map(() => 'f' as const),
    expr: b ? '(v0 - v1) * v2 * v3 + v4' : '(v0 - v1) * v2 * v3',
    outDtype: x.dtype,
  });
  return [y, mean, inv];
}

/** x viewed [N, G, C/G, S]; statistics per (n, g); per-channel scale/bias given as [1, G, C/G, 1] views. */
function groupNorm(x: Tensor, G: number, eps: number, scaleC: Tensor, biasC: Tensor): Tensor {
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const S = x.numel() / Math.max(1, N * C);
  const xv = view(x, [N, G, C / G, S]);
  const [mean, variance] = stats(xv, [2, 3]);
  const y = elementwise({
    inputs: [xv, mean, variance, scaleC, biasC],
    loads: ['f', 'f', 'f', 'f', 'f'],
    expr: '((v0 - v1) / sqrt(v2 + c0)) * v3 + v4',
    outDtype: x.dtype,
    consts: new Params().f(eps),
  });
  return view(y, x.shape);
}

function expectVector(op: string, what: string, t: Tensor, n: number): void {
  if (t.ndim !== 1 || t.shape[0] !== n)
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: ${what} must have shape [${n}], got ${fmtShape(t.shape)}`,
    );
}

function normSetup(op: string, inputs: OpInputs) {
  const [x, scale, b] = [inputs[0]!, inputs[1]!, inputs[2]!];
  expectFloat(op, 'X', x);
  expectSameDType(op, [x, scale, b]);
  if (x.ndim < 2)
    throw new TesseraError('SHAPE_MISMATCH', `${op}: X must be [N, C, ...], got shape ${fmtShape(x.shape)}`);
  return { x, scale, b };
}

/** LRN's window sums: base = bias + alpha/size * sum of squares over channels [c - lo, c + hi]. */
function lrnSetup(op: string, x: Tensor, attrs: Attrs) {
  expectFloat(op, 'X', x);
  if (x.ndim < 2)
    throw new TesseraError('SHAPE_MISMATCH', `${op}: X must be [N, C, ...], got shape ${fmtShape(x.shape)}`);
  if (attrs.size === undefined)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute 'size' is required`);
  const size = attrInt(attrs, 'size');
  if (!Number.isInteger(size) || size < 1)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: size must be a positive integer, got ${size}`);
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const S = x.numel() / Math.max(1, N * C);
  const p = new Params()
    .u(x.numel(), C, S, Math.floor((size - 1) / 2), Math.ceil((size - 1) / 2))
    .f(attrFloat(attrs, 'alpha', 1e-4), attrFloat(attrs, 'beta', 0.75), attrFloat(attrs, 'bias', 1), size);
  return p;
}

const LRN_BASE = `fn base_(n: u32, c: u32, s: u32) -> f32 {
  let C = pu(1u); let S = pu(2u); let lo = pu(3u); let hi = pu(4u);
  var sq = 0.0;
  let k0 = select(0u, c - lo, c >= lo);
  let k1 = min(C - 1u, c + hi);
  for (var k = k0; k <= k1; k = k + 1u) { let v = X(n, k, s); sq = sq + v * v; }
  return pf(7u) + pf(5u) / pf(8u) * sq;
}`;

function lrn(x: Tensor, attrs: Attrs, op: string): Tensor {
  const p = lrnSetup(op, x, attrs);
  const y = empty(x.shape, x.dtype);
  if (x.numel() === 0) return y;
  const code = `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'y', x.dtype, 'read_write')}
${paramsDecl(2, p.vec4s)}
fn X(n: u32, c: u32, s: u32) -> f32 { return ${load('x[(n * pu(1u) + c) * pu(2u) + s]', x.dtype, 'f')}; }
${LRN_BASE}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let S = pu(2u); let C = pu(1u);
  let s = gi % S; let c = (gi / S) % C; let n = gi / (S * C);
  y[gi] = ${store('X(n, c, s) / pow(base_(n, c, s), pf(6u))', x.dtype)};
}`;
  launch(code, [bufIn(x), handleOf(y)], p, grid(x.numel(), 64));
  return y;
}

/** dx_i = dy_i base_i^-beta - (2 alpha beta / size) x_i * sum over windows j containing i of dy_j x_j base_j^(-beta-1). */
function lrnGrad(x: Tensor, dy: Tensor, attrs: Attrs, op: string): Tensor {
  const p = lrnSetup(op, x, attrs);
  const dx = empty(x.shape, x.dtype);
  if (x.numel() === 0) return dx;
  const code = `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'dy', dy.dtype, 'read')}
${storage(2, 'dx', x.dtype, 'read_write')}
${paramsDecl(3, p.vec4s)}
fn X(n: u32, c: u32, s: u32) -> f32 { return ${load('x[(n * pu(1u) + c) * pu(2u) + s]', x.dtype, 'f')}; }
fn DY(n: u32, c: u32, s: u32) -> f32 { return ${load('dy[(n * pu(1u) + c) * pu(2u) + s]', dy.dtype, 'f')}; }
${LRN_BASE}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let S = pu(2u); let C = pu(1u); let lo = pu(3u); let hi = pu(4u);
  let alpha = pf(5u); let beta = pf(6u); let size = pf(8u);
  let s = gi % S; let c = (gi / S) % C; let n = gi / (S * C);
  var acc = 0.0;
  let j0 = select(0u, c - hi, c >= hi);
  let j1 = min(C - 1u, c + lo);
  for (var j = j0; j <= j1; j = j + 1u) { acc = acc + DY(n, j, s) * X(n, j, s) * pow(base_(n, j, s), -beta - 1.0); }
  dx[gi] = ${store('DY(n, c, s) * pow(base_(n, c, s), -beta) - (2.0 * alpha * beta / size) * X(n, c, s) * acc', x.dtype)};
}`;
  launch(code, [bufIn(x), bufIn(dy), handleOf(dx)], p, grid(x.numel(), 64));
  return dx;
}

export function registerNormKernels(): void {
  for (const since of [1, 14]) {
    gpuKernel('BatchNormalization', (inputs, attrs, ctx) => batchNorm(inputs, attrs, ctx, since), { since });
  }
  gpuKernel('LayerNormalization', (inputs, attrs, ctx) => layerNorm(inputs, attrs, ctx.op));
  gpuKernel('InstanceNormalization', (inputs, attrs, ctx) => {
    const { x, scale, b } = normSetup(ctx.op, inputs);
    const C = x.shape[1]!;
    expectVector(ctx.op, 'scale', scale, C);
    expectVector(ctx.op, 'B', b, C);
    const bad = noF64(x);
    if (bad) return bad;
    return [groupNorm(x, C, attrFloat(attrs, 'epsilon'), view(scale, [1, C, 1, 1]), view(b, [1, C, 1, 1]))];
  });
  for (const since of [18, 21]) {
    gpuKernel(
      'GroupNormalization',
      (inputs, attrs, ctx) => {
        const { x, scale, b } = normSetup(ctx.op, inputs);
        if (attrs.num_groups === undefined)
          throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: attribute 'num_groups' is required`);
        const G = attrInt(attrs, 'num_groups');
        const C = x.shape[1]!;
        if (!Number.isInteger(G) || G < 1 || C % G !== 0) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `${ctx.op}: num_groups must divide the ${C} channels of X, got ${G}`,
          );
        }
        const perChannel = since >= 21;
        const n = perChannel ? C : G;
        expectVector(ctx.op, 'scale', scale, n);
        expectVector(ctx.op, 'bias', b, n);
        const bad = noF64(x);
        if (bad) return bad;
        const pv = (t: Tensor) => (perChannel ? view(t, [1, G, C / G, 1]) : view(t, [1, G, 1, 1]));
        return [groupNorm(x, G, attrFloat(attrs, 'epsilon'), pv(scale), pv(b))];
      },
      { since },
    );
  }
  gpuKernel('LRN', (inputs, attrs, ctx) => noF64(inputs[0]!) ?? [lrn(inputs[0]!, attrs, ctx.op)]);
  gpuKernel(
    'LRNGrad',
    (inputs, attrs, ctx) => {
      expectSameDType(ctx.op, [inputs[0], inputs[1]]);
      return noF64(inputs[0]!) ?? [lrnGrad(inputs[0]!, inputs[1]!, attrs, ctx.op)];
    },
    { domain: TESSERA_DOMAIN },
  );
  gpuKernel(
    'RsqrtEps',
    (inputs, attrs, ctx) => {
      expectFloat(ctx.op, 'X', inputs[0]!);
      return noF64(inputs[0]!) ?? [rsqrt(inputs[0]!, attrFloat(attrs, 'epsilon'))];
    },
    { domain: TESSERA_DOMAIN },
  );
  gpuKernel(
    'Moments',
    (inputs, attrs, ctx) => {
      const x = inputs[0]!;
      expectFloat(ctx.op, 'X', x);
      const bad = noF64(x);
      if (bad) return bad;
      const raw = attrs.axes as number[] | undefined;
      if (!raw) throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: attribute 'axes' is required`);
      const axes = [...new Set(raw.map((a) => normAxis(a, x.ndim, ctx.op)))].sort((a, b) => a - b);
      const [mean, variance] = stats(x, axes);
      const cast = (t: Tensor) =>
        x.dtype === 'float32' ? t : elementwise({ inputs: [t], loads: ['f'], expr: 'v0', outDtype: x.dtype });
      return [cast(mean), rsqrt(variance, attrFloat(attrs, 'epsilon'), x.dtype)];
    },
    { domain: TESSERA_DOMAIN },
  );
}
