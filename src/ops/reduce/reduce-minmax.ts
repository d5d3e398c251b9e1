/**
 * ReduceMax, ReduceMin (every numeric dtype and bool, compared exactly in their own storage, so
 * int64 past 2^53 is exact) and ReduceProd.
 *
 * Gradients: ReduceMax/ReduceMin split dy evenly among the elements equal to the extremum (as
 * torch.amax/amin do), so the gradient is symmetric in ties. ReduceProd's gradient is the product
 * of the other elements of each group (prefix times suffix products), exact when x has zeros.
 */
import { int64s } from '../../runtime/creation.js';
import { allocate, type DataArray, fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInts, input } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';
import { indicator } from './indicator.js';
import { comparableData, extremeValue, groupedView, isHalf } from './layout.js';
import { floatReduce, keepShape, registerReduce } from './reduce-common.js';
import { reducedShape } from './reduce-sum.js';

const op = (name: string, ...xs: Tensor[]) => dispatch1(name, xs);

/** Max (or min) of every group; NaN wins, as numpy.max and torch.amax. */
export function extremumKernel(x: Tensor, axes: number[], keepdims: boolean, isMax: boolean): Tensor {
  const { view, groups, size } = groupedView(x, axes);
  const vals = comparableData(view) as any;
  const half = isHalf(x.dtype);
  const out = (half ? new Float64Array(groups) : allocate(x.dtype, groups)) as any;
  const empty = extremeValue(x.dtype, isMax);
  for (let g = 0; g < groups; g++) {
    const s = g * size;
    if (size === 0) {
      out[g] = empty;
      continue;
    }
    let best = vals[s];
    for (let i = s + 1; i < s + size; i++) {
      const v = vals[i];
      if (Number.isNaN(best)) break;
      if (Number.isNaN(v) || (isMax ? v > best : v < best)) best = v;
    }
    out[g] = best;
  }
  const data: DataArray = half ? fromNumbers(x.dtype, out) : out;
  return Tensor.fromData(data, reducedShape(x.shape, axes, keepdims), x.dtype);
}

function extremumGrad(x: Tensor, y: Tensor, dy: Tensor, axes: number[], keep: boolean): Tensor {
  const mask = indicator(x, keepShape(y, x, axes, keep), 'eq');
  const ties = dispatch1('ReduceSum', [mask, int64s(axes)], { keepdims: 1 });
  return op('Div', op('Mul', keepShape(dy, x, axes, keep), mask), ties);
}

registerReduce({
  name: 'ReduceMax',
  allowBool: true,
  kernel: (x, axes, keep) => extremumKernel(x, axes, keep, true),
  grad: extremumGrad,
});

registerReduce({
  name: 'ReduceMin',
  allowBool: true,
  kernel: (x, axes, keep) => extremumKernel(x, axes, keep, false),
  grad: extremumGrad,
});

function product(v: ArrayLike<number>, s: number, n: number): number {
  let acc = 1;
  for (let i = s; i < s + n; i++) acc *= v[i]!;
  return acc;
}

registerReduce({
  name: 'ReduceProd',
  kernel: (x, axes, keep) => floatReduce(x, axes, keep, product),
  grad: (x, _y, dy, axes, keep) =>
    op('Mul', keepShape(dy, x, axes, keep), dispatch1('ProdOthers', [x], { axes }, { domain: 'tessera' })),
});

/**
 * tessera::ProdOthers: for every element, the product of the other elements of its reduction group
 * over `axes` (the derivative of ReduceProd). Prefix times suffix products, so zeros are exact.
 */
registerOp({
  name: 'ProdOthers',
  domain: 'tessera',
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'ProdOthers');
      const axes = attrInts(attrs, 'axes', []);
      const { view, groups, size } = groupedView(x, axes);
      const v = view.numbers();
      const out = new Float64Array(v.length);
      for (let g = 0; g < groups; g++) {
        const s = g * size;
        let acc = 1;
        for (let i = 0; i < size; i++) {
          out[s + i] = acc;
          acc *= v[s + i]!;
        }
        acc = 1;
        for (let i = size - 1; i >= 0; i--) {
          out[s + i]! *= acc;
          acc *= v[s + i]!;
        }
      }
      // `out` is laid out like the grouped view; read it back in x's own axis order.
      const packed = Tensor.fromData(fromNumbers(x.dtype, out), view.shape, x.dtype);
      const pstr = contiguousStrides(view.shape);
      const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
      const perm = [...kept, ...axes];
      const strides = new Array<number>(x.ndim);
      perm.forEach((p, j) => {
        strides[p] = pstr[j]!;
      });
      const data = packed.asStrided(x.shape, strides, 0).dataSync();
      return [Tensor.fromData(data, x.shape, x.dtype)];
    },
  },
  grad: () => {
    throw new TesseraError(
      'UNSUPPORTED',
      'ReduceProd: double backward (the gradient of its gradient) is not supported',
    );
  },
});
