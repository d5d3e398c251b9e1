/**
 * Registration shared by the ReduceXxx family (everything but ReduceSum, whose axes became an input
 * at opset 13): `axes` is an attribute from opset 1 and an optional int64 input from opset 18, where
 * `noop_with_empty_axes` appears too. One definition per signature, so the graph executor picks the
 * right one by opset.
 */
import { copyContiguous } from '../../backends/cpu/elementwise.js';
import { int64s } from '../../runtime/creation.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { normAxis } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, input, readInts } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { expectNumeric, groupedView } from './layout.js';
import { reducedShape } from './reduce-sum.js';

/**
 * The sorted, de-duplicated axes to reduce, or null when the op is an identity (empty axes with
 * noop_with_empty_axes=1). Empty or absent axes otherwise mean every axis.
 */
export function resolveAxes(
  op: string,
  x: Tensor,
  axesInput: Tensor | undefined,
  attrs: Attrs,
): number[] | null {
  const raw = axesInput ? readInts(axesInput) : attrInts(attrs, 'axes');
  if (!raw || raw.length === 0) {
    return attrInt(attrs, 'noop_with_empty_axes', 0) ? null : x.shape.map((_, i) => i);
  }
  return [...new Set(raw.map((a) => normAxis(a, x.ndim, op)))].sort((a, b) => a - b);
}

/** dy with the reduced axes restored as size-1 dims (a no-op when keepdims was set). */
export function keepShape(dy: Tensor, x: Tensor, axes: number[], keepdims: boolean): Tensor {
  if (keepdims || axes.length === 0) return dy;
  return dispatch1('Reshape', [dy, int64s(reducedShape(x.shape, axes, true))]);
}

/**
 * Reduces every group of `x` (the elements that share the kept coordinates) with `f`, computing in
 * float64 and storing in x's dtype (ints truncate, as a C cast of the float result).
 */
export function floatReduce(
  x: Tensor,
  axes: number[],
  keepdims: boolean,
  f: (v: ArrayLike<number>, start: number, n: number) => number,
): Tensor {
  const { view, groups, size } = groupedView(x, axes);
  const vals = view.numbers();
  const out = new Float64Array(groups);
  for (let g = 0; g < groups; g++) out[g] = f(vals, g * size, size);
  return Tensor.fromData(fromNumbers(x.dtype, out), reducedShape(x.shape, axes, keepdims), x.dtype);
}

export interface ReduceSpec {
  name: string;
  /** Reduces `x` over the (non-empty or rank-0) sorted `axes`. */
  kernel(x: Tensor, axes: number[], keepdims: boolean): Tensor;
  /** dx from x, the output y and dy (both y and dy have the output's shape). */
  grad?(x: Tensor, y: Tensor, dy: Tensor, axes: number[], keepdims: boolean): Tensor;
  allowBool?: boolean;
}

/** Registers `spec` at opset 1 (axes attribute) and opset 18 (axes input). */
export function registerReduce(spec: ReduceSpec): void {
  const { name } = spec;
  for (const since of [1, 18]) {
    registerOp({
      name,
      since,
      minInputs: 1,
      maxInputs: since >= 18 ? 2 : 1,
      defaults: { keepdims: 1, noop_with_empty_axes: 0 },
      validate: (inputs) => expectNumeric(name, input(inputs, 0, name), spec.allowBool),
      kernels: {
        cpu: (inputs, attrs) => {
          const x = input(inputs, 0, name);
          const axes = resolveAxes(name, x, inputs[1], attrs);
          if (axes === null) return [copyContiguous(x)];
          return [spec.kernel(x, axes, attrInt(attrs, 'keepdims') !== 0)];
        },
      },
      grad: spec.grad
        ? ({ inputs, outputs, attrs }, [dy]) => {
            const x = inputs[0]!;
            const axes = resolveAxes(name, x, inputs[1], attrs);
            if (axes === null) return [dy, null];
            return [spec.grad!(x, outputs[0]!, dy!, axes, attrInt(attrs, 'keepdims') !== 0), null];
          }
        : undefined,
    });
  }
}
