/** Small helpers every op file uses: reading attributes and int inputs, checking dtypes, reducing broadcast gradients. */
import { int64s } from '../runtime/creation.js';
import { type DType, isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { fmtShape, sameShape } from '../runtime/shape.js';
import type { Tensor } from '../runtime/tensor.js';
import { type Attrs, dispatch1, type OpInputs } from './registry.js';

/** `op: ` for messages when the caller names its op (the optional last argument of the attr readers). */
const opPrefix = (op?: string) => (op ? `${op}: ` : '');
const describe = (v: unknown) => (Array.isArray(v) ? `a list` : `${typeof v} ${JSON.stringify(v)}`);

export function attrInt(attrs: Attrs, name: string, def?: number, op?: string): number {
  const v = attrs[name];
  if (v === undefined) {
    if (def === undefined)
      throw new TesseraError('INVALID_ARGUMENT', `${opPrefix(op)}attribute '${name}' is required`);
    return def;
  }
  if (typeof v !== 'number')
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${opPrefix(op)}attribute '${name}' must be a number, got ${describe(v)}`,
    );
  return v;
}
export function attrFloat(attrs: Attrs, name: string, def?: number, op?: string): number {
  return attrInt(attrs, name, def, op);
}
export function attrInts(attrs: Attrs, name: string): number[] | undefined;
export function attrInts(attrs: Attrs, name: string, def: number[]): number[];
export function attrInts(attrs: Attrs, name: string, def?: number[]): number[] | undefined {
  const v = attrs[name];
  if (v === undefined) return def;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'number')) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `attribute '${name}' must be a list of numbers, got ${describe(v)}`,
    );
  }
  return v as number[];
}
export function attrString(attrs: Attrs, name: string, def?: string, op?: string): string {
  const v = attrs[name];
  if (v === undefined) {
    if (def === undefined)
      throw new TesseraError('INVALID_ARGUMENT', `${opPrefix(op)}attribute '${name}' is required`);
    return def;
  }
  if (typeof v !== 'string')
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${opPrefix(op)}attribute '${name}' must be a string, got ${describe(v)}`,
    );
  return v;
}

/** Reads a small integer tensor (shape, axes, pads...) as JS numbers. */
export function readInts(t: Tensor): number[] {
  return Array.from(t.numbers());
}

/** The input at `i`, which must be present. */
export function input(inputs: OpInputs, i: number, op: string): Tensor {
  const t = inputs[i];
  if (!t) throw new TesseraError('INVALID_ARGUMENT', `${op}: input ${i} is required`);
  return t;
}

export function expectDType(
  op: string,
  what: string,
  t: Tensor,
  allowed: (d: DType) => boolean,
  desc: string,
): void {
  if (!allowed(t.dtype)) {
    throw new TesseraError('DTYPE_MISMATCH', `${op}: ${what} must be ${desc}, got ${t.dtype}`);
  }
}
export function expectFloat(op: string, what: string, t: Tensor): void {
  expectDType(op, what, t, isFloat, 'a float tensor');
}
export function expectSameDType(op: string, ts: readonly (Tensor | undefined)[]): void {
  const first = ts.find((t) => t);
  for (const t of ts) {
    if (t && first && t.dtype !== first.dtype) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `${op}: inputs must have the same dtype, got ${ts.map((x) => x?.dtype ?? 'none').join(' and ')}`,
      );
    }
  }
}

/**
 * Sums a broadcast gradient back to the shape of the input it flowed from: the step every
 * broadcasting op's gradient needs.
 */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new TesseraError('INTERNAL', `sumToShape: ${fmtShape(g.shape)} -> ${fmtShape(shape)}`);
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  let r = axes.length ? dispatch1('ReduceSum', [g, int64s(axes)], { keepdims: 1 }) : g;
  if (!sameShape(r.shape, shape)) r = dispatch1('Reshape', [r, int64s(shape)]);
  return r;
}
