/**
 * Conv (N-d: 1-D, 2-D, 3-D; strides, pads, dilations, groups, auto_pad, optional bias) as
 * im2col + GEMM, and its weight gradient com.tessera::ConvWeightGrad. The input gradient is a
 * ConvTranspose and the weight gradient's own gradients are a ConvTranspose and a Conv, so every
 * order of derivative stays in the registry.
 */

import { type Conv2dShape, conv2dWasm, conv2dWeightGradWasm } from '../../backends/cpu/wasm/conv.js';
import { int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectFloat, expectSameDType, input } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { type FloatArray, gemm } from './gemm.js';
import { im2col, inPositions, kernelSize, outPositions } from './im2col.js';
import { computeBuffer, floats, nonChannelAxes, output } from './kernel-io.js';
import { expectSpatial, explicitWindowAttrs, kernelShape, resolveWindow, type Window } from './window.js';

export function groupOf(op: string, attrs: Attrs): number {
  const g = attrInt(attrs, 'group', 1);
  if (!Number.isInteger(g) || g < 1)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: group must be >= 1, got ${g}`);
  return g;
}

/** Checks X [N, C, ...], W [M, C/group, ...k], B [M] and resolves the window. */
/** Conv's input checks and window, shared by every backend's Conv kernel. */
export function convSetup(op: string, inputs: OpInputs, attrs: Attrs) {
  const x = input(inputs, 0, op);
  const w = input(inputs, 1, op);
  const b = inputs[2];
  expectFloat(op, 'X', x);
  expectSameDType(op, [x, w, b]);
  expectSpatial(op, x);
  const group = groupOf(op, attrs);
  if (w.ndim !== x.ndim) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: W must have the rank of X (${x.ndim}), got shape ${fmtShape(w.shape)}`,
    );
  }
  const C = x.shape[1]!;
  const M = w.shape[0]!;
  if (C % group !== 0 || w.shape[1]! * group !== C) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: X has ${C} channels, expected W.shape[1] * group = ${w.shape[1]} * ${group}; W shape ${fmtShape(w.shape)}`,
    );
  }
  if (M % group !== 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: W.shape[0] (${M}) must be divisible by group (${group})`,
    );
  }
  if (b && (b.ndim !== 1 || b.shape[0] !== M)) {
    throw new TesseraError('SHAPE_MISMATCH', `${op}: B must have shape [${M}], got ${fmtShape(b.shape)}`);
  }
  const kernel = kernelShape(op, attrs, w);
  if (kernel.length !== w.ndim - 2 || kernel.some((k, i) => k !== w.shape[i + 2])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: kernel_shape ${fmtShape(kernel)} does not match W's spatial dims ${fmtShape(w.shape.slice(2))}`,
    );
  }
  const win = resolveWindow(op, x.shape.slice(2), kernel, attrs);
  return { x, w, b, group, win };
}

/**
 * The float32 2-D convolution in WASM memory (src/backends/cpu/wasm/conv.ts), with a Relu applied
 * in the same pass when `relu`; undefined for other dtypes and ranks or when the WASM kernels are
 * not loaded (callers then run the TypeScript path).
 */
function convWasm(
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
  win: Window,
  group: number,
  relu: boolean,
  z?: Tensor,
): Tensor | undefined {
  if (win.kernel.length !== 2 || x.dtype !== 'float32') return undefined;
  const xs = floats(x);
  const ws = floats(w);
  const bs = b ? floats(b) : undefined;
  if (!(xs instanceof Float32Array && ws instanceof Float32Array)) return undefined;
  if (bs && !(bs instanceof Float32Array)) return undefined;
  const s = shape2d(x.shape[0]!, x.shape[1]!, w.shape[0]!, group, win);
  let zs: Float32Array | undefined;
  if (z) {
    // The residual must be Y's shape exactly (no broadcasting) and dense float32.
    const want = [s.N, s.M, s.oH, s.oW];
    if (z.dtype !== 'float32' || z.ndim !== 4 || z.shape.some((d, i) => d !== want[i])) return undefined;
    const d = floats(z);
    if (!(d instanceof Float32Array)) return undefined;
    zs = d;
  }
  const y = conv2dWasm(s, xs, ws, bs, relu, zs);
  return y ? output(y, [s.N, s.M, s.oH, s.oW], x.dtype) : undefined;
}

/** The 2-D geometry the WASM kernels take. */
function shape2d(N: number, C: number, M: number, group: number, win: Window): Conv2dShape {
  const [H, W] = win.inSize as [number, number];
  const [kH, kW] = win.kernel as [number, number];
  const [sH, sW] = win.strides as [number, number];
  const [dH, dW] = win.dilations as [number, number];
  const [pH, pW] = win.padsBegin as [number, number];
  const [oH, oW] = win.outSize as [number, number];
  return { N, C, H, W, M, group, kH, kW, sH, sW, dH, dW, pH, pW, oH, oW };
}

/**
 * Conv (+ a residual Z) then Relu as one CPU kernel (FusedConv with activation Relu): the fast path
 * adds Z and applies the Relu while each output tile is in cache. Undefined where that path does not
 * apply (a residual needs the native driver); the caller then runs the ops one by one.
 */
export function convReluCpu(inputs: OpInputs, attrs: Attrs): Tensor | undefined {
  const { x, w, b, group, win } = convSetup('FusedConv', inputs.slice(0, 3), attrs);
  return convWasm(x, w, b, win, group, true, inputs[3]);
}

/**
 * Y[N, M, ...out] = conv(X, W) + B, computed per image and group as W_g [Mg, Cg*K] x cols [Cg*K, L].
 */
export function convForward(
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
  win: Window,
  group: number,
  op: string,
): Tensor {
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const M = w.shape[0]!;
  const Cg = C / group;
  const Mg = M / group;
  const K = kernelSize(win);
  const L = outPositions(win);
  const P = inPositions(win);
  const fast = convWasm(x, w, b, win, group, false);
  if (fast) return fast;
  const xs = floats(x);
  const ws = floats(w);
  const y = computeBuffer(x.dtype, N * M * L);
  // A 1x1 kernel with unit strides and no padding reads the image as its own column matrix.
  const direct =
    K === 1 && win.strides.every((s) => s === 1) && [...win.padsBegin, ...win.padsEnd].every((p) => p === 0);
  const cols: FloatArray = direct ? xs : computeBuffer(x.dtype, Cg * K * L);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      const xOff = (n * C + g * Cg) * P;
      if (!direct) im2col(xs, xOff, Cg, win, cols, op);
      gemm(
        false,
        false,
        Mg,
        L,
        Cg * K,
        ws,
        g * Mg * Cg * K,
        cols,
        direct ? xOff : 0,
        y,
        (n * M + g * Mg) * L,
        false,
      );
    }
  }
  if (b) {
    const bs = floats(b);
    if (y instanceof Float32Array) addRowBias32(y, bs, N, M, L);
    else
      for (let n = 0; n < N; n++)
        for (let m = 0; m < M; m++) {
          const o = (n * M + m) * L;
          const v = bs[m]!;
          for (let l = 0; l < L; l++) y[o + l]! += v;
        }
  }
  return output(y, [N, M, ...win.outSize], x.dtype);
}

/** y[n, m, :] += b[m] for float32 y (kept apart so the loop sees one array type). */
function addRowBias32(y: Float32Array, b: FloatArray, N: number, M: number, L: number): void {
  for (let n = 0; n < N; n++)
    for (let m = 0; m < M; m++) {
      const v = Math.fround(b[m]!);
      const o = (n * M + m) * L;
      for (let l = o, end = o + L; l < end; l++) y[l]! += v;
    }
}

/** dW[M, C/group, ...k] of a convolution with input X and output gradient dY. */
export function convWeightGrad(x: Tensor, dy: Tensor, win: Window, group: number, op: string): Tensor {
  const N = x.shape[0]!;
  const C = x.shape[1]!;
  const M = dy.shape[1]!;
  const Cg = C / group;
  const Mg = M / group;
  const K = kernelSize(win);
  const L = outPositions(win);
  const P = inPositions(win);
  const xs = floats(x);
  const dys = floats(dy);
  if (win.kernel.length === 2 && xs instanceof Float32Array && dys instanceof Float32Array) {
    const fast = conv2dWeightGradWasm(shape2d(N, C, M, group, win), xs, dys);
    if (fast) return output(fast, [M, Cg, ...win.kernel], x.dtype);
  }
  const dw = computeBuffer(x.dtype, M * Cg * K);
  const cols = computeBuffer(x.dtype, Cg * K * L);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      im2col(xs, (n * C + g * Cg) * P, Cg, win, cols, op);
      gemm(false, true, Mg, Cg * K, L, dys, (n * M + g * Mg) * L, cols, 0, dw, g * Mg * Cg * K, true);
    }
  }
  return output(dw, [M, Cg, ...win.kernel], x.dtype);
}

/** Output padding that makes a ConvTranspose undoing `win` produce exactly the window's input size. */
export function fillOutputPadding(win: Window): number[] {
  return win.inSize.map((n, i) => {
    const dk = (win.kernel[i]! - 1) * win.dilations[i]! + 1;
    return n - ((win.outSize[i]! - 1) * win.strides[i]! + dk - win.padsBegin[i]! - win.padsEnd[i]!);
  });
}

/** dX of a convolution: the transposed convolution of dY with W, sized back to X. */
export function convInputGrad(dy: Tensor, w: Tensor, win: Window, group: number): Tensor {
  return dispatch1('ConvTranspose', [dy, w], {
    ...explicitWindowAttrs(win),
    group,
    output_padding: fillOutputPadding(win),
  });
}

/** Gradient of a per-channel bias (axis 1) added to `dy`'s output: Conv and ConvTranspose share it. */
export function biasGrad(dy: Tensor): Tensor {
  return dispatch1('ReduceSum', [dy, int64s(nonChannelAxes(dy.ndim))], { keepdims: 0 });
}

registerOp({
  name: 'Conv',
  since: 1,
  minInputs: 2,
  maxInputs: 3,
  defaults: { auto_pad: 'NOTSET', group: 1 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const { x, w, b, group, win } = convSetup(ctx.op, inputs, attrs);
      return [convForward(x, w, b, win, group, ctx.op)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const { x, w, b, group, win } = convSetup('Conv', inputs, attrs);
    const wa = { ...explicitWindowAttrs(win), group };
    return [
      x.requiresGrad ? convInputGrad(dy!, w, win, group) : null,
      w.requiresGrad ? dispatch1('ConvWeightGrad', [x, dy!], wa, { domain: TESSERA_DOMAIN }) : null,
      b?.requiresGrad ? biasGrad(dy!) : null,
    ];
  },
});

/** The weight gradient of Conv as an op: inputs X and dY, attributes of the forward Conv (explicit pads). */
registerOp({
  name: 'ConvWeightGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  defaults: { group: 1 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      const dy = input(inputs, 1, ctx.op);
      expectSameDType(ctx.op, [x, dy]);
      const group = groupOf(ctx.op, attrs);
      const win = resolveWindow(ctx.op, x.shape.slice(2), kernelShape(ctx.op, attrs), attrs);
      const want = [x.shape[0]!, dy.shape[1]!, ...win.outSize];
      if (dy.ndim !== want.length || dy.shape.some((d, i) => d !== want[i]) || dy.shape[1]! % group !== 0) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${ctx.op}: dY has shape ${fmtShape(dy.shape)}, expected [${x.shape[0]}, M, ${win.outSize.join(', ')}] with M divisible by ${group}`,
        );
      }
      return [convWeightGrad(x, dy, win, group, ctx.op)];
    },
  },
  grad: ({ inputs, attrs }, [g]) => {
    const [x, dy] = [inputs[0]!, inputs[1]!];
    const group = groupOf('ConvWeightGrad', attrs);
    const win = resolveWindow(
      'ConvWeightGrad',
      x.shape.slice(2),
      kernelShape('ConvWeightGrad', attrs),
      attrs,
    );
    return [
      x.requiresGrad ? convInputGrad(dy, g!, win, group) : null,
      dy.requiresGrad ? dispatch1('Conv', [x, g!], { ...explicitWindowAttrs(win), group }) : null,
    ];
  },
});
