/**
 * Softmax, LogSoftmax, Hardmax. Opset 13+ normalizes along `axis` alone (default -1); opsets 1-12
 * coerce the input to 2-D at `axis` (rows: dims before it, columns: it and every dim after;
 * default axis 1), one definition each. Max-shifted, so large inputs do not overflow.
 * Hardmax marks the first maximum of each slice with 1 and has no gradient (piecewise constant).
 */
import { softmaxRows } from '../../backends/cpu/softmax.js';
import { int64s } from '../../runtime/creation.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { normAxis } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectFloat, input } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';
import { splitAtAxis } from './layout.js';

type Kind = 'softmax' | 'log' | 'hard';

export function softmaxKernel(op: string, kind: Kind, x: Tensor, axisAttr: number, legacy: boolean): Tensor {
  const axis = normAxis(axisAttr, x.ndim, op);
  const { outer, len, inner } = splitAtAxis(x.shape, axis, legacy);
  // Contiguous rows of float32: the native loop, same steps.
  if (inner === 1 && kind !== 'hard') {
    const fast = softmaxRows(x, len, kind === 'log');
    if (fast) return fast;
  }
  const v = x.numbers();
  const out = new Float64Array(v.length);
  const m = new Float64Array(inner);
  const s = new Float64Array(inner);
  const at = new Int32Array(inner);
  for (let o = 0; o < outer; o++) {
    const base = o * len * inner;
    for (let a = 0; a < len; a++) {
      const row = base + a * inner;
      for (let i = 0; i < inner; i++) {
        const xv = v[row + i]!;
        // The first maximum wins; a NaN counts as the maximum (numpy.argmax).
        if (a === 0 || xv > m[i]! || (Number.isNaN(xv) && !Number.isNaN(m[i]))) {
          m[i] = xv;
          at[i] = a;
        }
      }
    }
    if (kind === 'hard') {
      if (len > 0) for (let i = 0; i < inner; i++) out[base + at[i]! * inner + i] = 1;
      continue;
    }
    // A NaN anywhere in a slice makes the whole slice NaN (through the sum), as the reference does.
    // Softmax keeps each exp in `out` for the division (Math.exp once an element, not twice).
    s.fill(0);
    for (let a = 0; a < len; a++) {
      const row = base + a * inner;
      for (let i = 0; i < inner; i++) {
        const e = Math.exp(v[row + i]! - m[i]!);
        s[i]! += e;
        out[row + i] = e;
      }
    }
    if (kind === 'log') {
      for (let i = 0; i < inner; i++) s[i] = Math.log(s[i]!);
      for (let a = 0; a < len; a++) {
        const row = base + a * inner;
        for (let i = 0; i < inner; i++) out[row + i] = v[row + i]! - m[i]! - s[i]!;
      }
      continue;
    }
    for (let a = 0; a < len; a++) {
      const row = base + a * inner;
      for (let i = 0; i < inner; i++) out[row + i] = out[row + i]! / s[i]!;
    }
  }
  return Tensor.fromData(fromNumbers(x.dtype, out), x.shape, x.dtype);
}

/** The axes one softmax normalizes over. */
function normAxes(x: Tensor, axisAttr: number, legacy: boolean, op: string): number[] {
  const axis = normAxis(axisAttr, x.ndim, op);
  if (!legacy) return [axis];
  const axes: number[] = [];
  for (let i = axis; i < x.ndim; i++) axes.push(i);
  return axes;
}

const op = (name: string, ...xs: Tensor[]) => dispatch1(name, xs);
const sumKeep = (t: Tensor, axes: number[]) => dispatch1('ReduceSum', [t, int64s(axes)], { keepdims: 1 });

const GRADS: Partial<Record<Kind, (y: Tensor, dy: Tensor, axes: number[]) => Tensor>> = {
  // y * (dy - sum(dy * y))
  softmax: (y, dy, axes) => op('Mul', y, op('Sub', dy, sumKeep(op('Mul', dy, y), axes))),
  // dy - exp(y) * sum(dy)
  log: (y, dy, axes) => op('Sub', dy, op('Mul', op('Exp', y), sumKeep(dy, axes))),
};

for (const [name, kind] of [
  ['Softmax', 'softmax'],
  ['LogSoftmax', 'log'],
  ['Hardmax', 'hard'],
] as const) {
  for (const since of [1, 13]) {
    const legacy = since < 13;
    const g = GRADS[kind];
    registerOp({
      name,
      since,
      minInputs: 1,
      maxInputs: 1,
      defaults: { axis: legacy ? 1 : -1 },
      validate: (inputs) => expectFloat(name, 'input', input(inputs, 0, name)),
      kernels: {
        cpu: (inputs, attrs) => [
          softmaxKernel(name, kind, input(inputs, 0, name), attrInt(attrs, 'axis'), legacy),
        ],
      },
      grad: g
        ? ({ inputs, outputs, attrs }, [dy]) => [
            g(outputs[0]!, dy!, normAxes(inputs[0]!, attrInt(attrs, 'axis'), legacy, name)),
          ]
        : undefined,
    });
  }
}
