/**
 * Slice: a strided view (steps may be negative). Starts/ends/axes are attributes before opset 10
 * and int inputs after (steps from 10). Clamping follows the ONNX spec: negative starts/ends get the
 * dim added, then starts clamp to [0, dim] (positive step) or [0, dim-1] (negative step) and ends to
 * [0, dim] or [-1, dim-1].
 */
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInts, input, readInts } from '../helpers.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';
import { viewGrad } from './layout.js';
import { uniqueAxes } from './squeeze.js';

/** Per-dim start, step and length of a slice (dims not sliced: 0, 1, full length). */
export interface SliceSpec {
  start: number[];
  step: number[];
  len: number[];
}

const clamp = (v: number, lo: number, hi: number) => Math.min(Math.max(v, lo), hi);

export function resolveSlice(
  shape: readonly number[],
  starts: readonly number[],
  ends: readonly number[],
  axes: readonly number[] | undefined,
  steps: readonly number[] | undefined,
  op = 'Slice',
): SliceSpec {
  const rank = shape.length;
  if (ends.length !== starts.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: starts has ${starts.length} entries and ends ${ends.length}, expected the same count`,
    );
  }
  const ax = axes ?? starts.map((_, i) => i);
  const st = steps ?? starts.map(() => 1);
  if (ax.length !== starts.length || st.length !== starts.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: axes (${ax.length}) and steps (${st.length}) must have one entry per start (${starts.length})`,
    );
  }
  const norm = uniqueAxes(op, ax, rank);
  const spec: SliceSpec = { start: shape.map(() => 0), step: shape.map(() => 1), len: [...shape] };
  norm.forEach((a, i) => {
    const dim = shape[a]!;
    const step = st[i]!;
    if (step === 0 || !Number.isFinite(step)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: step for axis ${a} is ${step}, expected a nonzero integer`,
      );
    }
    let s = starts[i]!;
    let e = ends[i]!;
    if (s < 0) s += dim;
    if (e < 0) e += dim;
    if (step > 0) {
      s = clamp(s, 0, dim);
      e = clamp(e, 0, dim);
    } else {
      s = clamp(s, 0, dim - 1);
      e = clamp(e, -1, dim - 1);
    }
    spec.start[a] = s;
    spec.step[a] = step;
    spec.len[a] = dim === 0 ? 0 : Math.max(0, Math.ceil((e - s) / step));
  });
  return spec;
}

/** The view of `x` a SliceSpec selects. */
export function sliceView(x: Tensor, spec: SliceSpec): Tensor {
  let offset = x.offset;
  const empty = spec.len.some((l) => l === 0);
  if (!empty) for (let d = 0; d < x.ndim; d++) offset += spec.start[d]! * x.strides[d]!;
  return x.asStrided(
    spec.len,
    x.strides.map((s, d) => s * spec.step[d]!),
    offset,
  );
}

/** Gradient of a slice: dy scattered back into zeros of x's shape. */
export function sliceGrad(x: Tensor, dy: Tensor, spec: SliceSpec): Tensor {
  const cs = contiguousStrides(x.shape);
  let offset = 0;
  if (dy.numel() > 0) for (let d = 0; d < cs.length; d++) offset += spec.start[d]! * cs[d]!;
  return viewGrad(
    x,
    dy,
    cs.map((s, d) => s * spec.step[d]!),
    offset,
  );
}

function specOf(inputs: OpInputs, attrs: Attrs, opset1: boolean): SliceSpec {
  const x = input(inputs, 0, 'Slice');
  if (x.ndim === 0)
    throw new TesseraError('INVALID_ARGUMENT', `Slice: input must have rank >= 1, got ${fmtShape(x.shape)}`);
  if (opset1) {
    const starts = attrInts(attrs, 'starts');
    const ends = attrInts(attrs, 'ends');
    if (!starts || !ends)
      throw new TesseraError('INVALID_ARGUMENT', "Slice: attributes 'starts' and 'ends' are required");
    return resolveSlice(x.shape, starts, ends, attrInts(attrs, 'axes'), undefined);
  }
  const starts = readInts(input(inputs, 1, 'Slice'));
  const ends = readInts(input(inputs, 2, 'Slice'));
  const axes = inputs[3] ? readInts(inputs[3]) : undefined;
  const steps = inputs[4] ? readInts(inputs[4]) : undefined;
  return resolveSlice(x.shape, starts, ends, axes, steps);
}

for (const since of [1, 10]) {
  const opset1 = since === 1;
  registerOp({
    name: 'Slice',
    since,
    minInputs: opset1 ? 1 : 3,
    maxInputs: opset1 ? 1 : 5,
    kernels: { cpu: (inputs, attrs) => [sliceView(inputs[0]!, specOf(inputs, attrs, opset1))] },
    grad: ({ inputs, attrs }, [dy]) => [
      sliceGrad(inputs[0]!, dy!, specOf(inputs, attrs, opset1)),
      ...inputs.slice(1).map(() => null),
    ],
  });
}
