/** ReduceSum: sums over `axes` (an input since opset 13, an attribute before). */
import { copyContiguous } from '../../backends/cpu/elementwise.js';
import { int64s } from '../../runtime/creation.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { normAxis, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, input, readInts } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';

/** Resolves reduce axes from an input tensor (opset 13+/18+) or the `axes` attribute. */
export function reduceAxes(op: string, x: Tensor, axesInput: Tensor | undefined, attrs: Attrs): number[] {
  const raw = axesInput ? readInts(axesInput) : attrInts(attrs, 'axes');
  if (!raw || raw.length === 0) {
    return attrInt(attrs, 'noop_with_empty_axes', 0) ? [] : x.shape.map((_, i) => i);
  }
  return [...new Set(raw.map((a) => normAxis(a, x.ndim, op)))].sort((a, b) => a - b);
}

export function reducedShape(shape: readonly number[], axes: number[], keepdims: boolean): number[] {
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keepdims) out.push(1);
  });
  return out;
}

/**
 * Generic reduction over sorted `axes`: `init`, `step(acc, v)` per element, `finish(acc, count)`.
 * Returns a contiguous tensor of the reduced shape (with kept dims when `keepdims`).
 */
export function reduceKernel(
  x: Tensor,
  axes: number[],
  keepdims: boolean,
  init: number,
  step: (acc: number, v: number) => number,
  finish: (acc: number, count: number) => number = (a) => a,
  outDtype = x.dtype,
): Tensor {
  const outShape = reducedShape(x.shape, axes, keepdims);
  const vals = x.numbers();
  const shape = x.shape;
  const rank = shape.length;
  const isRed = shape.map((_, i) => axes.includes(i));
  // Output strides over the input's rank (0 on reduced dims).
  const ostr = new Array<number>(rank).fill(0);
  let acc = 1;
  for (let i = rank - 1; i >= 0; i--) {
    if (!isRed[i]) {
      ostr[i] = acc;
      acc *= shape[i]!;
    }
  }
  const nOut = numel(outShape);
  const accs = new Float64Array(nOut).fill(init);
  const idx = new Array<number>(rank).fill(0);
  let o = 0;
  const n = vals.length;
  for (let i = 0; i < n; i++) {
    accs[o] = step(accs[o]!, vals[i]!);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        o += ostr[d]!;
        break;
      }
      o -= ostr[d]! * (shape[d]! - 1);
      idx[d] = 0;
    }
  }
  const count = nOut === 0 ? 0 : numel(shape) / Math.max(nOut, 1);
  for (let i = 0; i < nOut; i++) accs[i] = finish(accs[i]!, numel(shape) === 0 ? 0 : count);
  return Tensor.fromData(fromNumbers(outDtype, accs), outShape, outDtype);
}

function sumKernel(op: string) {
  return (inputs: OpInputs, attrs: Attrs) => {
    const x = input(inputs, 0, op);
    const axes = reduceAxes(op, x, inputs[1], attrs);
    if (axes.length === 0) return [copyContiguous(x)];
    return [reduceKernel(x, axes, attrInt(attrs, 'keepdims', 1) !== 0, 0, (a, v) => a + v)];
  };
}

/** Gradient of a sum-like reduction: broadcast dy back over the reduced axes. */
export function expandReducedGrad(dy: Tensor, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  let g = dy;
  if (!keepdims && axes.length) g = dispatch1('Reshape', [g, int64s(reducedShape(x.shape, axes, true))]);
  return dispatch1('Expand', [g, int64s(x.shape)]);
}

for (const since of [1, 13]) {
  registerOp({
    name: 'ReduceSum',
    since,
    minInputs: 1,
    maxInputs: since >= 13 ? 2 : 1,
    defaults: { keepdims: 1, noop_with_empty_axes: 0 },
    kernels: { cpu: sumKernel('ReduceSum') },
    grad: ({ inputs, attrs }, [dy]) => {
      const x = inputs[0]!;
      const axes = reduceAxes('ReduceSum', x, inputs[1], attrs);
      return [axes.length ? expandReducedGrad(dy!, x, axes, attrs.keepdims !== 0) : dy];
    },
  });
}
