/**
 * ReduceMean, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum, ReduceLogSumExp. Each reduces in
 * float64 and stores in the input's dtype. An empty group gives what the ONNX reference gives:
 * 0 for L1/L2/SumSquare, -inf for LogSum/LogSumExp, NaN for Mean (0/0).
 */
import type { Tensor } from '../../runtime/tensor.js';
import { dispatch1 } from '../registry.js';
import { indicator, scalarLike, signMask } from './indicator.js';
import { floatReduce, keepShape, registerReduce } from './reduce-common.js';
import { expandReducedGrad } from './reduce-sum.js';

const op = (name: string, ...xs: Tensor[]) => dispatch1(name, xs);

function sum(v: ArrayLike<number>, s: number, n: number): number {
  let acc = 0;
  for (let i = s; i < s + n; i++) acc += v[i]!;
  return acc;
}
function sumAbs(v: ArrayLike<number>, s: number, n: number): number {
  let acc = 0;
  for (let i = s; i < s + n; i++) acc += Math.abs(v[i]!);
  return acc;
}
function sumSquares(v: ArrayLike<number>, s: number, n: number): number {
  let acc = 0;
  for (let i = s; i < s + n; i++) acc += v[i]! * v[i]!;
  return acc;
}
/** log(sum(exp(v))) shifted by the maximum so large inputs do not overflow. */
export function logSumExp(v: ArrayLike<number>, s: number, n: number): number {
  let m = Number.NEGATIVE_INFINITY;
  for (let i = s; i < s + n; i++) {
    const x = v[i]!;
    if (Number.isNaN(x)) return Number.NaN;
    if (x > m) m = x;
  }
  if (!Number.isFinite(m)) return m;
  let acc = 0;
  for (let i = s; i < s + n; i++) acc += Math.exp(v[i]! - m);
  return m + Math.log(acc);
}

/** Number of elements per reduction group. */
function groupSize(x: Tensor, axes: number[]): number {
  return axes.reduce((n, a) => n * x.shape[a]!, 1);
}

registerReduce({
  name: 'ReduceMean',
  kernel: (x, axes, keep) => floatReduce(x, axes, keep, (v, s, n) => sum(v, s, n) / n),
  grad: (x, _y, dy, axes, keep) =>
    expandReducedGrad(op('Mul', dy, scalarLike(dy, 1 / groupSize(x, axes))), x, axes, keep),
});

registerReduce({
  name: 'ReduceL1',
  kernel: (x, axes, keep) => floatReduce(x, axes, keep, sumAbs),
  grad: (x, _y, dy, axes, keep) => op('Mul', keepShape(dy, x, axes, keep), signMask(x)),
});

registerReduce({
  name: 'ReduceL2',
  kernel: (x, axes, keep) => floatReduce(x, axes, keep, (v, s, n) => Math.sqrt(sumSquares(v, s, n))),
  // x / y, with y replaced by 1 where it is 0 (then x is 0 too): the gradient at 0 is 0, as torch.norm's.
  grad: (x, y, dy, axes, keep) => {
    const yk = keepShape(y, x, axes, keep);
    const safe = op('Add', yk, indicator(yk, scalarLike(yk, 0), 'eq'));
    return op('Div', op('Mul', keepShape(dy, x, axes, keep), x), safe);
  },
});

registerReduce({
  name: 'ReduceSumSquare',
  kernel: (x, axes, keep) => floatReduce(x, axes, keep, sumSquares),
  grad: (x, _y, dy, axes, keep) => op('Mul', op('Mul', keepShape(dy, x, axes, keep), x), scalarLike(x, 2)),
});

registerReduce({
  name: 'ReduceLogSum',
  kernel: (x, axes, keep) => floatReduce(x, axes, keep, (v, s, n) => Math.log(sum(v, s, n))),
  // d log(s) = ds / s, and s = exp(y).
  grad: (x, y, dy, axes, keep) => expandReducedGrad(op('Div', dy, op('Exp', y)), x, axes, keep),
});

registerReduce({
  name: 'ReduceLogSumExp',
  kernel: (x, axes, keep) => floatReduce(x, axes, keep, logSumExp),
  // softmax of x within each group.
  grad: (x, y, dy, axes, keep) =>
    op('Mul', keepShape(dy, x, axes, keep), op('Exp', op('Sub', x, keepShape(y, x, axes, keep)))),
});
