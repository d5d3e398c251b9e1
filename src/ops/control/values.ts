/**
 * Shared pieces of the control-flow and sequence ops: telling runtime values apart, reading scalar
 * inputs, slicing a tensor along an axis (a view) and stacking tensors along a new axis (through the
 * registry's Unsqueeze and Concat).
 */
import { int64s } from '../../runtime/creation.js';
import { bytesPerElement } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { isTensorValue, OptionalValue, TensorSequence, type Value } from '../../runtime/graph.js';
import { fmtShape, numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { dispatch1, type OpInputs } from '../registry.js';

/** The inputs as runtime values (sequences and optionals travel through dispatch as inputs). */
export const values = (inputs: OpInputs): readonly (Value | undefined)[] =>
  inputs as unknown as (Value | undefined)[];
/** Kernel results that are not all tensors, in the registry's Tensor[] signature. */
export const asOutputs = (vs: readonly (Value | undefined)[]): Tensor[] => vs as unknown as Tensor[];

export function tensorInput(inputs: OpInputs, i: number, op: string, what = `input ${i}`): Tensor {
  const v = values(inputs)[i];
  if (!isTensorValue(v)) {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: ${what} must be a tensor, got ${describeValue(v)}`);
  }
  return v;
}

export function sequenceInput(inputs: OpInputs, i: number, op: string): TensorSequence {
  const v = values(inputs)[i];
  if (!(v instanceof TensorSequence)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: input ${i} must be a sequence, got ${describeValue(v)}`,
    );
  }
  return v;
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v instanceof TensorSequence) return 'a sequence';
  if (v instanceof OptionalValue) return 'an optional';
  if (isTensorValue(v)) return `a ${v.dtype} tensor of shape ${fmtShape(v.shape)}`;
  return typeof v;
}

/** A one-element tensor's value as a number (bool as 0/1), with a message naming the op. */
export function scalarOf(t: Tensor, op: string, what: string): number {
  if (t.numel() !== 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: ${what} must have one element, got shape ${fmtShape(t.shape)}`,
    );
  }
  return t.numbers()[0]!;
}

/** Element `i` of `t` along `axis`: a view without that axis. */
export function sliceAt(t: Tensor, axis: number, i: number): Tensor {
  const shape = t.shape.filter((_, d) => d !== axis);
  const strides = t.strides.filter((_, d) => d !== axis);
  return t.asStrided(shape, strides, t.offset + i * t.strides[axis]!);
}

/** Stacks same-shaped tensors along a new axis `axis`. */
export function stack(ts: readonly Tensor[], axis: number, op: string): Tensor {
  const first = ts[0]!;
  for (const [i, t] of ts.entries()) {
    if (t.dtype !== first.dtype || t.ndim !== first.ndim || t.shape.some((d, k) => d !== first.shape[k])) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: iteration ${i} produced ${t.dtype}${fmtShape(t.shape)}, iteration 0 ${first.dtype}${fmtShape(first.shape)}; scan outputs must agree`,
      );
    }
  }
  const axes = int64s([axis]);
  const parts = ts.map((t) => dispatch1('Unsqueeze', [t, axes]));
  return parts.length === 1
    ? dispatch1('Identity', [parts[0]!], { copy: 1 })
    : dispatch1('Concat', parts, { axis });
}

export function tensorBytes(t: Tensor): number {
  return numel(t.shape) * Math.max(bytesPerElement(t.dtype), 1);
}
