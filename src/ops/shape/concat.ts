/**
 * Concat and Split along one axis. Split's outputs are views of its input. Split takes `split` as an
 * attribute before opset 13 and an input after; opset 18 adds `num_outputs` (uneven last chunk).
 * Without either, it divides into the node's output count (ctx.numOutputs).
 */

import { copySplit } from '../../backends/cpu/wasm/split.js';
import { int64s, zeros } from '../../runtime/creation.js';
import { allocateUnset } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, expectSameDType, readInts } from '../helpers.js';
import {
  type Attrs,
  dispatch,
  dispatch1,
  type KernelContext,
  type OpInputs,
  registerOp,
} from '../registry.js';

function axisArg(op: string, attrs: Attrs, rank: number): number {
  if (attrs.axis === undefined)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute 'axis' is required`);
  return normAxis(attrInt(attrs, 'axis'), rank, op);
}

/** Concatenates along `axis` (already normalized); every input has the first one's rank and other dims. */
export function concatKernel(xs: readonly Tensor[], axis: number): Tensor {
  const first = xs[0]!;
  xs.forEach((x, i) => {
    if (x.ndim !== first.ndim) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Concat: input ${i} has rank ${x.ndim}, expected ${first.ndim}`,
      );
    }
    for (let d = 0; d < x.ndim; d++) {
      if (d !== axis && x.shape[d] !== first.shape[d]) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `Concat: input ${i} has shape ${fmtShape(x.shape)}, expected ${fmtShape(first.shape)} except on axis ${axis}`,
        );
      }
    }
  });
  const outShape = [...first.shape];
  outShape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
  const outer = numel(first.shape.slice(0, axis));
  const inner = numel(first.shape.slice(axis + 1));
  // Every element is written below: a typed array need not be zeroed first.
  const out = allocateUnset(first.dtype, numel(outShape)) as any;
  const rowOut = outShape[axis]! * inner;
  let col = 0;
  for (const x of xs) {
    const src = x.dataSync() as any;
    const row = x.shape[axis]! * inner;
    // Typed arrays of the one storage type: block copies; string arrays: the element loop.
    const blocks = ArrayBuffer.isView(out) && ArrayBuffer.isView(src) && out.constructor === src.constructor;
    for (let o = 0; o < outer; o++) {
      const s = o * row;
      const d = o * rowOut + col;
      // Already in place: the producer wrote into this part of the output (runtime/concat-in-place.ts).
      if (blocks && sameSpot(out, d, src, s)) continue;
      // Large float32 blocks (a batch-1 channel concatenation) on the worker pool's threads too.
      if (out instanceof Float32Array && src instanceof Float32Array && copySplit(out, d, src, s, row))
        continue;
      if (blocks) (out as Float64Array).set((src as Float64Array).subarray(s, s + row), d);
      else for (let j = 0; j < row; j++) out[d + j] = src[s + j];
    }
    col += row;
  }
  return Tensor.fromData(out, outShape, first.dtype);
}

/** Whether element d of `out` and element s of `src` are the same memory. */
function sameSpot(out: ArrayBufferView, d: number, src: ArrayBufferView, s: number): boolean {
  const bpe = (out as Float32Array).BYTES_PER_ELEMENT;
  return out.buffer === src.buffer && out.byteOffset + d * bpe === src.byteOffset + s * bpe;
}

function concat(inputs: OpInputs, attrs: Attrs): Tensor[] {
  const xs = inputs.filter((t): t is Tensor => t !== undefined);
  if (xs.length === 0) throw new TesseraError('INVALID_ARGUMENT', 'Concat: expects at least 1 input, got 0');
  expectSameDType('Concat', xs);
  if (xs[0]!.ndim === 0)
    throw new TesseraError('INVALID_ARGUMENT', 'Concat: inputs must have rank >= 1, got rank 0');
  return [concatKernel(xs, axisArg('Concat', attrs, xs[0]!.ndim))];
}

function concatGrad(inputs: OpInputs, attrs: Attrs, dy: Tensor): (Tensor | null)[] {
  const axis = normAxis(attrInt(attrs, 'axis'), dy.ndim, 'Concat');
  const sizes = inputs.map((t) => t!.shape[axis]!);
  const parts = dispatch('Split', [dy, int64s(sizes)], { axis }, { numOutputs: sizes.length });
  return inputs.map((t, i) => (t?.requiresGrad ? parts[i]! : null));
}

// Opset 1 defaulted axis to 1; from opset 4 it is required (negative since 11).
registerOp({
  name: 'Concat',
  since: 1,
  minInputs: 1,
  defaults: { axis: 1 },
  kernels: { cpu: concat },
  grad: ({ inputs, attrs }, [dy]) => concatGrad(inputs, attrs, dy!),
});
registerOp({
  name: 'Concat',
  since: 4,
  minInputs: 1,
  kernels: { cpu: concat },
  grad: ({ inputs, attrs }, [dy]) => concatGrad(inputs, attrs, dy!),
});

/** Views of `x` along `axis` with the given sizes (which must sum to the axis length). */
export function splitViews(x: Tensor, axis: number, sizes: readonly number[], op = 'Split'): Tensor[] {
  const total = sizes.reduce((a, b) => a + b, 0);
  if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== x.shape[axis]) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: split sizes [${sizes.join(', ')}] must be non-negative and sum to ${x.shape[axis]} (axis ${axis} of ${fmtShape(x.shape)}), got sum ${total}`,
    );
  }
  let start = 0;
  return sizes.map((s) => {
    const shape = [...x.shape];
    shape[axis] = s;
    const v = x.asStrided(shape, x.strides, x.offset + start * x.strides[axis]!);
    start += s;
    return v;
  });
}

function splitSizes(x: Tensor, axis: number, inputs: OpInputs, attrs: Attrs, ctx: KernelContext): number[] {
  const dim = x.shape[axis]!;
  const given = inputs[1] ? readInts(inputs[1]) : attrInts(attrs, 'split');
  const numOutputs = attrs.num_outputs === undefined ? undefined : attrInt(attrs, 'num_outputs');
  if (given && given.length > 0) {
    if (numOutputs !== undefined) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        "Split: give either the 'split' input or 'num_outputs', not both",
      );
    }
    return given;
  }
  if (numOutputs !== undefined) {
    if (!Number.isInteger(numOutputs) || numOutputs < 1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Split: num_outputs must be a positive integer, got ${numOutputs}`,
      );
    }
    // Opset 18: chunks of ceil(dim / n); the last one takes what is left.
    const chunk = Math.ceil(dim / numOutputs);
    return Array.from({ length: numOutputs }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
  }
  const n = ctx.numOutputs;
  if (n === 0) return [];
  if (n === undefined) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      "Split: without 'split' or 'num_outputs' the number of outputs must be known (pass numOutputs)",
    );
  }
  if (dim % n !== 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `Split: axis ${axis} has size ${dim}, which does not divide into ${n} equal outputs`,
    );
  }
  return new Array<number>(n).fill(dim / n);
}

function split(inputs: OpInputs, attrs: Attrs, ctx: KernelContext): Tensor[] {
  const x = inputs[0];
  if (!x) throw new TesseraError('INVALID_ARGUMENT', 'Split: input 0 is required');
  const axis = normAxis(attrInt(attrs, 'axis', 0), x.ndim, 'Split');
  const sizes = splitSizes(x, axis, inputs, attrs, ctx);
  if (ctx.numOutputs !== undefined && ctx.numOutputs !== sizes.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Split: the split has ${sizes.length} parts, but the node declares ${ctx.numOutputs} outputs`,
    );
  }
  return splitViews(x, axis, sizes);
}

function splitGrad(inputs: OpInputs, outputs: readonly Tensor[], attrs: Attrs, dys: (Tensor | null)[]) {
  const x = inputs[0]!;
  const axis = normAxis(attrInt(attrs, 'axis', 0), x.ndim, 'Split');
  const parts = outputs.map((o, i) => dys[i] ?? zeros(o.shape, { dtype: o.dtype }));
  const dx = parts.length === 1 ? parts[0]! : dispatch1('Concat', parts, { axis });
  return [dx, ...inputs.slice(1).map(() => null)];
}

for (const since of [1, 2, 13, 18]) {
  registerOp({
    name: 'Split',
    since,
    minInputs: 1,
    maxInputs: since === 1 || since >= 13 ? 2 : 1,
    defaults: { axis: 0 },
    kernels: { cpu: split },
    grad: ({ inputs, outputs, attrs }, dys) => splitGrad(inputs, outputs, attrs, dys),
  });
}
