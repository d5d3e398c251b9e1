/**
 * Pieces every elementwise op file shares: dtype classes and checks, loops over raw storage values
 * (exact for int64/uint64 through BigInt, and for strings), scalar constants for gradients, and the
 * pre-opset-7 `broadcast`/`axis` attributes of the binary ops.
 */
import { forEachBroadcast, mapBinary, mapUnary } from '../../backends/cpu/elementwise.js';
import { full, int64s, zeros } from '../../runtime/creation.js';
import { allocate, type DType, isBigInt, isFloat, isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { broadcastShapes, fmtShape, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, sumToShape } from '../helpers.js';
import {
  type Attrs,
  dispatch1,
  type GradContext,
  type OpDef,
  type OpInputs,
  registerOp,
} from '../registry.js';

// ---- dtype classes (ONNX type constraints) ------------------------------------------------------

export const floatTypes = (d: DType) => isFloat(d);
/** Every number type: ints, uints and floats (not bool or string). */
export const numericTypes = (d: DType) => isFloat(d) || isInt(d);
export const intTypes = (d: DType) => isInt(d);
export const uintTypes = (d: DType) => d === 'uint8' || d === 'uint16' || d === 'uint32' || d === 'uint64';
export const boolTypes = (d: DType) => d === 'bool';

/** Checks every present input's dtype: `Sqrt: input 0 must be a float tensor, got int32`. */
export function checkTypes(op: string, inputs: OpInputs, allowed: (d: DType) => boolean, desc: string): void {
  inputs.forEach((t, i) => {
    if (t && !allowed(t.dtype)) {
      throw new TesseraError('DTYPE_MISMATCH', `${op}: input ${i} must be ${desc}, got ${t.dtype}`);
    }
  });
}

/** ONNX binary ops take one dtype for all inputs (no implicit promotion). */
export function checkSame(op: string, inputs: OpInputs): void {
  const present = inputs.filter((t): t is Tensor => t !== undefined);
  if (present.some((t) => t.dtype !== present[0]!.dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${op}: inputs must share one dtype, got ${present.map((t) => t.dtype).join(', ')}`,
    );
  }
}

/** True where storage values are not plain JS numbers a kernel can compute on exactly. */
export const needsRaw = (d: DType) => isBigInt(d) || d === 'string';

// ---- loops over raw storage values --------------------------------------------------------------

/** out[i] = f(raw x[i]) on the storage values themselves (bigint for 64-bit ints, strings, 0/1 bools). */
export function rawUnary(x: Tensor, f: (v: any) => any, outDtype: DType): Tensor {
  const out = allocate(outDtype, x.numel()) as any;
  const src = x.storage.data as any;
  forEachBroadcast([x], x.shape, (i, o) => {
    out[i] = f(src[o[0]!]);
  });
  return Tensor.fromData(out, x.shape, outDtype);
}

/** out = f(raw a, raw b), broadcast. */
export function rawBinary(
  a: Tensor,
  b: Tensor,
  f: (x: any, y: any) => any,
  outDtype: DType,
  who: string,
): Tensor {
  const shape = broadcastShapes([a.shape, b.shape], who);
  const out = allocate(outDtype, numel(shape)) as any;
  const da = a.storage.data as any;
  const db = b.storage.data as any;
  forEachBroadcast([a, b], shape, (i, o) => {
    out[i] = f(da[o[0]!], db[o[1]!]);
  });
  return Tensor.fromData(out, shape, outDtype);
}

/** A unary kernel on numbers, or on raw values (`raw`) where the dtype needs it (int64, uint64, string). */
export function unaryKernel(
  x: Tensor,
  f: (v: number) => number,
  raw: ((v: any) => any) | undefined,
  outDtype: DType = x.dtype,
): Tensor {
  if (raw && needsRaw(x.dtype)) return rawUnary(x, raw, outDtype);
  return mapUnary(x, f, outDtype);
}

/** A broadcasting binary kernel on numbers, or on raw values where the inputs' dtype needs it. */
export function binaryKernel(
  a: Tensor,
  b: Tensor,
  f: (x: number, y: number) => number,
  raw: ((x: any, y: any) => any) | undefined,
  outDtype: DType,
  who: string,
): Tensor {
  if (raw && needsRaw(a.dtype)) return rawBinary(a, b, raw, outDtype, who);
  return mapBinary(a, b, f, outDtype, who);
}

// ---- gradient building blocks -------------------------------------------------------------------

/** Runs a single-output op. */
export const op = (name: string, ...xs: Tensor[]) => dispatch1(name, xs);
/** A 0-d constant with `like`'s dtype and device. */
export const scalarLike = (v: number, like: Tensor) =>
  full([], v, { dtype: like.dtype, device: like.device });
/** Zeros shaped like `t` (gradients of piecewise-constant functions). */
export const zerosOf = (t: Tensor) => zeros(t.shape, { dtype: t.dtype, device: t.device });
/** dy where `cond`, else 0 (keeps dy's dtype, differentiable in dy). */
export const maskGrad = (cond: Tensor, dy: Tensor) => op('Where', cond, dy, scalarLike(0, dy));

// ---- legacy broadcasting (opset < 7) -------------------------------------------------------------

/**
 * Before opset 7, binary ops broadcast only with `broadcast=1`, aligning B to A at `axis` (default:
 * the trailing dims). Returns B as a view of A's rank laid out that way.
 */
export function legacyAlign(opName: string, a: Tensor, b: Tensor, attrs: Attrs): Tensor {
  const same = a.ndim === b.ndim && a.shape.every((d, i) => d === b.shape[i]);
  if (same) return b;
  if (attrInt(attrs, 'broadcast', 0) === 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${opName}: inputs of shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)} need broadcast=1 before opset 7`,
    );
  }
  const axis = attrs.axis === undefined ? a.ndim - b.ndim : attrInt(attrs, 'axis');
  const start = axis < 0 ? axis + a.ndim : axis;
  if (start < 0 || start + b.ndim > a.ndim) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${opName}: cannot broadcast ${fmtShape(b.shape)} onto ${fmtShape(a.shape)} at axis ${axis}`,
    );
  }
  const shape = new Array<number>(a.ndim).fill(1);
  const strides = new Array<number>(a.ndim).fill(0);
  b.shape.forEach((d, i) => {
    shape[start + i] = d;
    strides[start + i] = b.strides[i]!;
  });
  const v = b.asStrided(shape, strides, b.offset);
  v.requiresGrad = b.requiresGrad;
  return v;
}

/**
 * Registers the opset-1 form of a two-input op that numpy-broadcasts from opset 7: the same kernel
 * and gradient, with B aligned by the legacy `broadcast`/`axis` attributes first.
 */
export function registerLegacyBinary(
  def: OpDef,
  alignB: (opName: string, a: Tensor, b: Tensor, attrs: Attrs) => Tensor = legacyAlign,
): void {
  const cpu = def.kernels.cpu;
  const grad = def.grad;
  const align = (inputs: OpInputs, attrs: Attrs): [Tensor, Tensor] => {
    const a = inputs[0]!;
    return [a, alignB(def.name, a, inputs[1]!, attrs)];
  };
  registerOp({
    ...def,
    since: 1,
    defaults: { ...def.defaults, broadcast: 0 },
    kernels: { cpu: (inputs, attrs, ctx) => cpu(align(inputs, attrs), attrs, ctx) },
    grad: grad
      ? (ctx: GradContext, dys) => {
          const aligned = align(ctx.inputs, ctx.attrs);
          const g = grad({ ...ctx, inputs: aligned }, dys);
          const b = ctx.inputs[1]!;
          const gb = g[1]
            ? dispatch1('Reshape', [sumToShape(g[1], aligned[1].shape), int64s(b.shape)])
            : g[1];
          return [g[0], gb];
        }
      : undefined,
  });
}
