/**
 * Sliding-window geometry shared by convolution and pooling: kernel, strides, dilations and pads
 * per spatial axis, resolved from ONNX attributes (auto_pad, ceil_mode) into explicit numbers.
 */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, attrString } from '../helpers.js';
import type { Attrs } from '../registry.js';

export interface Window {
  /** Input spatial dims. */
  inSize: number[];
  kernel: number[];
  strides: number[];
  dilations: number[];
  padsBegin: number[];
  padsEnd: number[];
  /** Output spatial dims. */
  outSize: number[];
}

function lenCheck(op: string, name: string, v: number[], n: number): number[] {
  if (v.length !== n) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: attribute '${name}' must have ${n} values (one per spatial axis), got [${v.join(', ')}]`,
    );
  }
  for (const x of v) {
    if (!Number.isInteger(x))
      throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute '${name}' must hold integers, got ${x}`);
  }
  return v;
}

/** Strides, dilations and pads attributes (ONNX defaults: 1s, 1s, 0s). */
export function windowAttrs(op: string, attrs: Attrs, r: number) {
  const strides = lenCheck(op, 'strides', attrInts(attrs, 'strides') ?? new Array(r).fill(1), r);
  const dilations = lenCheck(op, 'dilations', attrInts(attrs, 'dilations') ?? new Array(r).fill(1), r);
  const pads = lenCheck(op, 'pads', attrInts(attrs, 'pads') ?? new Array(2 * r).fill(0), 2 * r);
  for (let i = 0; i < r; i++) {
    if (strides[i]! < 1)
      throw new TesseraError('INVALID_ARGUMENT', `${op}: strides must be >= 1, got ${fmtShape(strides)}`);
    if (dilations[i]! < 1)
      throw new TesseraError('INVALID_ARGUMENT', `${op}: dilations must be >= 1, got ${fmtShape(dilations)}`);
  }
  return { strides, dilations, pads, autoPad: attrString(attrs, 'auto_pad', 'NOTSET') };
}

/** Pooling ops take only non-negative pads (convolutions accept negative pads as cropping). */
export function expectNonNegativePads(op: string, attrs: Attrs): void {
  const pads = attrInts(attrs, 'pads');
  if (pads?.some((p) => p < 0))
    throw new TesseraError('INVALID_ARGUMENT', `${op}: pads must be >= 0, got ${fmtShape(pads)}`);
}

/**
 * Resolves the window of a convolution or pooling over `inSize`. `ceilMode` rounds the output size
 * up (pooling), dropping a last window that would start in the end padding, as ONNX and PyTorch do.
 */
export function resolveWindow(
  op: string,
  inSize: readonly number[],
  kernel: readonly number[],
  attrs: Attrs,
  ceilMode = false,
): Window {
  const r = inSize.length;
  lenCheck(op, 'kernel_shape', [...kernel], r);
  if (kernel.some((k) => k < 1))
    throw new TesseraError('INVALID_ARGUMENT', `${op}: kernel_shape must be >= 1, got ${fmtShape(kernel)}`);
  const { strides, dilations, pads, autoPad } = windowAttrs(op, attrs, r);
  const padsBegin = pads.slice(0, r);
  const padsEnd = pads.slice(r);
  const outSize: number[] = [];
  for (let i = 0; i < r; i++) {
    const n = inSize[i]!;
    const s = strides[i]!;
    const dk = (kernel[i]! - 1) * dilations[i]! + 1;
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
      const out = Math.ceil(n / s);
      const total = Math.max(0, (out - 1) * s + dk - n);
      const small = Math.floor(total / 2);
      padsBegin[i] = autoPad === 'SAME_UPPER' ? small : total - small;
      padsEnd[i] = total - padsBegin[i]!;
      outSize.push(out);
      continue;
    }
    if (autoPad === 'VALID') {
      padsBegin[i] = 0;
      padsEnd[i] = 0;
    } else if (autoPad !== 'NOTSET') {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '${autoPad}'`,
      );
    }
    const span = n + padsBegin[i]! + padsEnd[i]! - dk;
    if (span < 0) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: input spatial size ${fmtShape(inSize)} with pads ${fmtShape(pads)} is smaller than the dilated kernel (${dk} on axis ${i})`,
      );
    }
    let out = (ceilMode ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
    if (ceilMode && (out - 1) * s >= n + padsBegin[i]!) out--;
    outSize.push(out);
  }
  return { inSize: [...inSize], kernel: [...kernel], strides, dilations, padsBegin, padsEnd, outSize };
}

/** The kernel_shape attribute, or the weight's trailing dims. */
export function kernelShape(op: string, attrs: Attrs, w?: Tensor): number[] {
  const k = attrInts(attrs, 'kernel_shape');
  if (k) return k;
  if (w) return w.shape.slice(2);
  throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute 'kernel_shape' is required`);
}

/** Checks X is [N, C, ...spatial] with at least one spatial axis. */
export function expectSpatial(op: string, x: Tensor, what = 'X'): void {
  if (x.ndim < 3) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: ${what} must be [N, C, ...spatial] with rank >= 3, got shape ${fmtShape(x.shape)}`,
    );
  }
}

/** Attributes describing a resolved window with explicit pads (for gradient ops). */
export function explicitWindowAttrs(w: Window): Attrs {
  return {
    kernel_shape: w.kernel,
    strides: w.strides,
    dilations: w.dilations,
    pads: [...w.padsBegin, ...w.padsEnd],
    auto_pad: 'NOTSET',
  };
}

export function ceilModeOf(attrs: Attrs): boolean {
  return attrInt(attrs, 'ceil_mode', 0) !== 0;
}
