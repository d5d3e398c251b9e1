/**
 * Squeeze, Unsqueeze, Flatten: rank changes. Squeeze and Unsqueeze are always views; Flatten is a
 * view when the input is contiguous. `axes` is an attribute before opset 13 and an int64 input after.
 */
import { int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, input, readInts } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { reshapeView } from './reshape.js';

const reshapeBack = (x: Tensor, dy: Tensor) => dispatch1('Reshape', [dy, int64s(x.shape)]);

/** Normalized, checked axes for rank `rank`; duplicates are an error, as in ONNX. */
export function uniqueAxes(op: string, axes: readonly number[], rank: number): number[] {
  const out = axes.map((a) => {
    if (!Number.isInteger(a) || a < -rank || a >= rank) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: axis ${a} is out of range, expected an axis in [${-rank}, ${rank - 1}]`,
      );
    }
    return a < 0 ? a + rank : a;
  });
  if (new Set(out).size !== out.length) {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: axes [${axes.join(', ')}] repeat an axis`);
  }
  return out;
}

function axesOf(inputs: OpInputs, attrs: Attrs): number[] | undefined {
  return inputs[1] ? readInts(inputs[1]) : attrInts(attrs, 'axes');
}

/** `x` with the listed size-1 axes removed (all size-1 axes when `axes` is undefined), as a view. */
export function squeezeView(x: Tensor, axes: readonly number[] | undefined, op = 'Squeeze'): Tensor {
  let drop: number[];
  if (axes === undefined) drop = x.shape.flatMap((d, i) => (d === 1 ? [i] : []));
  else {
    drop = uniqueAxes(op, axes, x.ndim);
    for (const a of drop) {
      if (x.shape[a] !== 1) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${op}: axis ${a} of input ${fmtShape(x.shape)} has size ${x.shape[a]}, expected size 1`,
        );
      }
    }
  }
  const keep = x.shape.map((_, i) => i).filter((i) => !drop.includes(i));
  return x.asStrided(
    keep.map((i) => x.shape[i]!),
    keep.map((i) => x.strides[i]!),
  );
}

/** `x` with size-1 axes inserted at `axes` (positions in the output), as a view. */
export function unsqueezeView(x: Tensor, axes: readonly number[], op = 'Unsqueeze'): Tensor {
  const rank = x.ndim + axes.length;
  const at = new Set(uniqueAxes(op, axes, rank));
  const shape: number[] = [];
  const strides: number[] = [];
  let src = 0;
  for (let i = 0; i < rank; i++) {
    if (at.has(i)) {
      shape.push(1);
      // Any stride works for a size-1 dim; this one keeps contiguous inputs contiguous.
      strides.push(src < x.ndim ? x.strides[src]! * x.shape[src]! : 1);
    } else {
      shape.push(x.shape[src]!);
      strides.push(x.strides[src]!);
      src++;
    }
  }
  return x.asStrided(shape, strides);
}

for (const since of [1, 13]) {
  registerOp({
    name: 'Squeeze',
    since,
    minInputs: 1,
    maxInputs: since >= 13 ? 2 : 1,
    kernels: { cpu: (inputs, attrs) => [squeezeView(input(inputs, 0, 'Squeeze'), axesOf(inputs, attrs))] },
    grad: ({ inputs }, [dy]) => [reshapeBack(inputs[0]!, dy!), null],
  });

  registerOp({
    name: 'Unsqueeze',
    since,
    minInputs: since >= 13 ? 2 : 1,
    maxInputs: since >= 13 ? 2 : 1,
    kernels: {
      cpu: (inputs, attrs) => {
        const axes = axesOf(inputs, attrs);
        if (!axes) throw new TesseraError('INVALID_ARGUMENT', "Unsqueeze: 'axes' is required");
        return [unsqueezeView(input(inputs, 0, 'Unsqueeze'), axes)];
      },
    },
    grad: ({ inputs }, [dy]) => [reshapeBack(inputs[0]!, dy!), null],
  });
}

/** Flatten's 2-D output shape: [prod(dims before axis), prod(dims from axis)]. */
export function flattenShape(shape: readonly number[], axis: number, op = 'Flatten'): [number, number] {
  const r = shape.length;
  if (!Number.isInteger(axis) || axis < -r || axis > r) {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: axis ${axis} is out of range, expected [${-r}, ${r}]`);
  }
  const a = axis < 0 ? axis + r : axis;
  return [numel(shape.slice(0, a)), numel(shape.slice(a))];
}

registerOp({
  name: 'Flatten',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  defaults: { axis: 1 },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'Flatten');
      return [reshapeView(x, flattenShape(x.shape, attrInt(attrs, 'axis', 1)))];
    },
  },
  grad: ({ inputs }, [dy]) => [reshapeBack(inputs[0]!, dy!)],
});
