/**
 * What the quantization ops share: the rounding steps of the ONNX reference (round half to even,
 * arithmetic rounded to a float dtype's precision), saturation to a quantized type, and the
 * mapping from an element of X to its scale / zero point (per tensor, per axis, or blocked).
 */
import {
  bf16ToF32,
  type DType,
  encodeFloat8,
  f16ToF32,
  f32ToBf16,
  f32ToF16,
  intRange,
  isFloat,
  isFloat8,
} from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';

/** Round half to even (numpy.rint), for any finite or infinite number. */
export function rint(v: number): number {
  const r = Math.round(v);
  // Math.round rounds halves up: move the odd result of a tie back to the even neighbour.
  return r - v === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `v` rounded to the precision of a float dtype (float16/bfloat16 through float32, as numpy computes them). */
export function roundTo(dtype: DType, v: number): number {
  switch (dtype) {
    case 'float32':
      return Math.fround(v);
    case 'float16':
      return f16ToF32(f32ToF16(Math.fround(v)));
    case 'bfloat16':
      return bf16ToF32(f32ToBf16(Math.fround(v)));
    default:
      return v;
  }
}

/** The types QuantizeLinear can produce (and DequantizeLinear read, with int32). */
export function isQuantType(d: DType): boolean {
  return (
    d === 'int8' ||
    d === 'uint8' ||
    d === 'int16' ||
    d === 'uint16' ||
    d === 'int4' ||
    d === 'uint4' ||
    d === 'int2' ||
    d === 'uint2' ||
    isFloat8(d)
  );
}

/**
 * The stored value (as encodeNumber takes it, or a float8 bit pattern) of a quantized element:
 * integers round half to even and clamp to the type's range (NaN gives the zero point `zp`);
 * float8/float4 encode to nearest even with `saturate`.
 */
export function makeSaturator(op: string, to: DType, saturate: boolean): (v: number, zp: number) => number {
  if (isFloat8(to)) return (v, zp) => encodeFloat8(to, v + zp, saturate);
  const range = intRange(to);
  if (!range || to === 'bool') throw new TesseraError('DTYPE_MISMATCH', `${op}: cannot quantize to ${to}`);
  const [lo, hi] = range;
  return (v, zp) => {
    if (Number.isNaN(v)) return zp;
    const q = rint(v) + zp;
    return Math.min(Math.max(q, lo), hi);
  };
}

/** A float dtype from an ONNX TensorProto.DataType attribute (output_dtype, precision); undefined for 0/absent. */
export function dtypeAttr(op: string, name: string, v: unknown): DType | undefined {
  if (v === undefined || v === 0) return undefined;
  const d = typeof v === 'number' ? ONNX_DTYPE[v] : undefined;
  if (!d)
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: attribute ${name} must be an ONNX data type number, got ${String(v)}`,
    );
  return d;
}

export function expectScale(op: string, what: string, s: Tensor): void {
  if (!isFloat(s.dtype)) {
    throw new TesseraError('DTYPE_MISMATCH', `${op}: ${what} must be a float tensor, got ${s.dtype}`);
  }
}

/** How X's elements find their scale and zero point. */
export interface QuantLayout {
  mode: 'tensor' | 'axis' | 'blocked';
  /** The quantization axis (normalized); 0 for per-tensor. */
  axis: number;
  blockSize: number;
  /** Index into the (contiguous) scale / zero point for each element of X, in row-major order. */
  paramIndex: (i: number) => number;
}

/**
 * Resolves the granularity from the scale's shape: one element is per tensor; a 1-D scale of
 * X.shape[axis] elements is per axis; a scale of X's rank with ceil(D/block_size) along `axis`
 * and X's size elsewhere is blocked. The zero point, when given, must have the scale's shape.
 */
export function quantLayout(
  op: string,
  x: Tensor,
  scale: Tensor,
  zp: Tensor | undefined,
  axisAttr: number,
  blockSize: number,
  names: { scale: string; zp: string },
): QuantLayout {
  if (zp && !(zp.numel() === 1 && scale.numel() === 1)) {
    if (zp.ndim !== scale.ndim || zp.shape.some((d, i) => d !== scale.shape[i])) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: ${names.zp} must have the shape of ${names.scale} ${fmtShape(scale.shape)}, got ${fmtShape(zp.shape)}`,
      );
    }
  }
  if (!Number.isInteger(blockSize) || blockSize < 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: block_size must be a non-negative integer, got ${blockSize}`,
    );
  }
  if (scale.numel() === 1 && scale.ndim <= 1)
    return { mode: 'tensor', axis: 0, blockSize: 0, paramIndex: () => 0 };
  if (x.ndim === 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: a 0-d input takes a single-element ${names.scale}, got shape ${fmtShape(scale.shape)}`,
    );
  }
  const axis = normAxis(axisAttr, x.ndim, op);
  const D = x.shape[axis]!;
  const inner = x.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  if (blockSize === 0) {
    if (scale.ndim !== 1 || scale.shape[0] !== D) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: per-axis ${names.scale} must be 1-D with X.shape[${axis}] = ${D} elements, got shape ${fmtShape(scale.shape)} (X ${fmtShape(x.shape)}); blocked quantization needs block_size`,
      );
    }
    return { mode: 'axis', axis, blockSize: 0, paramIndex: (i) => Math.floor(i / inner) % D };
  }
  const S = Math.ceil(D / blockSize);
  const want = x.shape.map((d, i) => (i === axis ? S : d));
  if (scale.ndim !== x.ndim || scale.shape.some((d, i) => d !== want[i])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: blocked ${names.scale} for X ${fmtShape(x.shape)}, axis ${axis} and block_size ${blockSize} must have shape ${fmtShape(want)}, got ${fmtShape(scale.shape)}`,
    );
  }
  return {
    mode: 'blocked',
    axis,
    blockSize,
    paramIndex: (i) => {
      const r = i % inner;
      const rest = (i - r) / inner;
      const a = rest % D;
      const o = (rest - a) / D;
      return (o * S + Math.floor(a / blockSize)) * inner + r;
    },
  };
}
