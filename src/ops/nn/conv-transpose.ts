/**
 * ConvTranspose: the adjoint of Conv (GEMM into columns, then col2im), with output_padding,
 * output_shape, groups, dilations and auto_pad. Its gradients are a Conv (for X) and
 * com.tessera::ConvWeightGrad with the roles of input and output swapped (for W).
 */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, expectFloat, expectSameDType, input } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { biasGrad } from './conv.js';
import { TESSERA_DOMAIN } from './domain.js';
import { gemm } from './gemm.js';
import { col2im, inPositions, kernelSize, outPositions } from './im2col.js';
import { computeBuffer, floats, output } from './kernel-io.js';
import { expectSpatial, explicitWindowAttrs, kernelShape, type Window, windowAttrs } from './window.js';

/**
 * The window of the convolution that ConvTranspose transposes: it maps the output Y (its "input",
 * `inSize`) to X (its "output", `outSize`).
 */
export function convTransposeWindow(op: string, x: Tensor, kernel: number[], attrs: Attrs): Window {
  const r = x.ndim - 2;
  const inSize = x.shape.slice(2);
  const { strides, dilations, pads, autoPad } = windowAttrs(op, attrs, r);
  const outputPadding = attrInts(attrs, 'output_padding') ?? new Array(r).fill(0);
  if (outputPadding.length !== r) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: output_padding must have ${r} values, got [${outputPadding.join(', ')}]`,
    );
  }
  let outputShape = attrInts(attrs, 'output_shape');
  if (outputShape && outputShape.length === r + 2) outputShape = outputShape.slice(2);
  if (outputShape && outputShape.length !== r) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: output_shape must have ${r} (or ${r + 2}) values, got [${outputShape.join(', ')}]`,
    );
  }
  if (!['NOTSET', 'SAME_UPPER', 'SAME_LOWER', 'VALID'].includes(autoPad)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${autoPad}'`,
    );
  }
  const padsBegin = pads.slice(0, r);
  const padsEnd = pads.slice(r);
  const ySize: number[] = [];
  for (let i = 0; i < r; i++) {
    const dk = (kernel[i]! - 1) * dilations[i]! + 1;
    const full = strides[i]! * (inSize[i]! - 1) + outputPadding[i]! + dk;
    const same = autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER';
    if (outputShape || same) {
      const out = outputShape ? outputShape[i]! : inSize[i]! * strides[i]!;
      const total = full - out;
      const half = Math.floor(total / 2);
      padsBegin[i] = autoPad === 'SAME_UPPER' ? half : total - half;
      padsEnd[i] = total - padsBegin[i]!;
      ySize.push(out);
    } else {
      if (autoPad === 'VALID') {
        padsBegin[i] = 0;
        padsEnd[i] = 0;
      }
      ySize.push(full - padsBegin[i]! - padsEnd[i]!);
    }
    if (ySize[i]! < 0) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: pads ${fmtShape(pads)} exceed the output size on axis ${i} (input ${fmtShape(inSize)})`,
      );
    }
  }
  return { inSize: ySize, kernel, strides, dilations, padsBegin, padsEnd, outSize: inSize };
}

function setup(op: string, inputs: OpInputs, attrs: Attrs) {
  const x = input(inputs, 0, op);
  const w = input(inputs, 1, op);
  const b = inputs[2];
  expectFloat(op, 'X', x);
  expectSameDType(op, [x, w, b]);
  expectSpatial(op, x);
  const group = attrInt(attrs, 'group', 1);
  if (!Number.isInteger(group) || group < 1)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: group must be >= 1, got ${group}`);
  if (w.ndim !== x.ndim || w.shape[0] !== x.shape[1] || x.shape[1]! % group !== 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: W must be [C, M/group, ...k] with C = ${x.shape[1]} (divisible by group ${group}), got ${fmtShape(w.shape)}`,
    );
  }
  const M = w.shape[1]! * group;
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
  return { x, w, b, group, win: convTransposeWindow(op, x, kernel, attrs) };
}

/** Y[N, M, ...] = convT(X, W) + B: per image and group, cols = W_g^T x X_g, then col2im into Y. */
export function convTransposeForward(
  x: Tensor,
  w: Tensor,
  b: Tensor | undefined,
  win: Window,
  group: number,
  op: string,
): Tensor {
  const N = x.shape[0]!;
  const Cin = x.shape[1]!;
  const Cg = Cin / group;
  const Mg = w.shape[1]!;
  const M = Mg * group;
  const K = kernelSize(win);
  const L = outPositions(win);
  const P = inPositions(win);
  const xs = floats(x);
  const ws = floats(w);
  const y = computeBuffer(x.dtype, N * M * P);
  const cols = computeBuffer(x.dtype, Mg * K * L);
  for (let n = 0; n < N; n++) {
    for (let g = 0; g < group; g++) {
      gemm(true, false, Mg * K, L, Cg, ws, g * Cg * Mg * K, xs, (n * Cin + g * Cg) * L, cols, 0, false);
      col2im(cols, Mg, win, y, (n * M + g * Mg) * P, op);
    }
  }
  if (b) {
    const bs = floats(b);
    for (let n = 0; n < N; n++)
      for (let m = 0; m < M; m++) {
        const o = (n * M + m) * P;
        for (let p = 0; p < P; p++) y[o + p]! += bs[m]!;
      }
  }
  return output(y, [N, M, ...win.inSize], x.dtype);
}

registerOp({
  name: 'ConvTranspose',
  since: 1,
  minInputs: 2,
  maxInputs: 3,
  defaults: { auto_pad: 'NOTSET', group: 1 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const { x, w, b, group, win } = setup(ctx.op, inputs, attrs);
      return [convTransposeForward(x, w, b, win, group, ctx.op)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const { x, w, b, group, win } = setup('ConvTranspose', inputs, attrs);
    const wa = { ...explicitWindowAttrs(win), group };
    let dx: Tensor | null = null;
    if (x.requiresGrad) {
      dx = dispatch1('Conv', [dy!, w], wa);
      if (dx.shape.some((d, i) => d !== x.shape[i])) {
        throw new TesseraError(
          'UNSUPPORTED',
          `ConvTranspose: no gradient for X when output_padding is not smaller than strides (X ${fmtShape(x.shape)})`,
        );
      }
    }
    return [
      dx,
      w.requiresGrad ? dispatch1('ConvWeightGrad', [dy!, x], wa, { domain: TESSERA_DOMAIN }) : null,
      b?.requiresGrad ? biasGrad(dy!) : null,
    ];
  },
});
