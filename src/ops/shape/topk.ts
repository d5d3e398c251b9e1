/**
 * TopK: the k largest (or smallest) elements along an axis and their int64 indices. Equal values
 * keep the lower index first; NaN counts as larger than every number (as torch.topk). `k` is an
 * attribute in opset 1 and an input from 10; `largest` and `sorted` arrive in 11 (results are
 * always sorted, which `sorted = 0` permits).
 */
import { isBigInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input, readInts } from '../helpers.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';
import { gatherElementsKernel } from './gather.js';
import { gatherFlat, movementGrad } from './layout.js';

type Cmp = (a: number, b: number) => number;

/** Compares elements i and j of `x`'s row-major data: negative when i sorts before j. */
function comparator(x: Tensor, largest: boolean): Cmp {
  if (x.dtype === 'string')
    throw new TesseraError('DTYPE_MISMATCH', 'TopK: string tensors are not supported');
  const sign = largest ? 1 : -1;
  if (isBigInt(x.dtype)) {
    const v = x.dataSync() as BigInt64Array;
    return (i, j) => (v[i]! === v[j]! ? 0 : v[i]! < v[j]! ? sign : -sign);
  }
  const v = x.numbers();
  return (i, j) => {
    const a = v[i]!;
    const b = v[j]!;
    const na = Number.isNaN(a);
    const nb = Number.isNaN(b);
    if (na || nb) return na && nb ? 0 : na ? -sign : sign;
    return a === b ? 0 : a < b ? sign : -sign;
  };
}

export function topkKernel(x: Tensor, k: number, axisAttr: number, largest: boolean): [Tensor, Tensor] {
  if (x.ndim === 0) throw new TesseraError('INVALID_ARGUMENT', 'TopK: input must have rank >= 1, got rank 0');
  const axis = normAxis(axisAttr, x.ndim, 'TopK');
  const dim = x.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > dim) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `TopK: k = ${k} is out of range for axis ${axis} of ${fmtShape(x.shape)}, expected [0, ${dim}]`,
    );
  }
  const cmp = comparator(x, largest);
  const outer = numel(x.shape.slice(0, axis));
  const inner = numel(x.shape.slice(axis + 1));
  const outShape = [...x.shape];
  outShape[axis] = k;
  const map = new Int32Array(outer * k * inner);
  const idx = new BigInt64Array(map.length);
  const order = new Array<number>(dim);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * dim * inner + j;
      for (let i = 0; i < dim; i++) order[i] = i;
      // Stable on the index: ties keep the lower index first.
      order.sort((a, b) => cmp(base + a * inner, base + b * inner) || a - b);
      for (let i = 0; i < k; i++) {
        const p = (o * k + i) * inner + j;
        map[p] = base + order[i]! * inner;
        idx[p] = BigInt(order[i]!);
      }
    }
  }
  return [gatherFlat(x, map, outShape), Tensor.fromData(idx, outShape, 'int64')];
}

function kOf(since: number, inputs: OpInputs, attrs: Attrs): number {
  if (since < 10) return attrInt(attrs, 'k');
  const k = readInts(input(inputs, 1, 'TopK'));
  if (k.length !== 1)
    throw new TesseraError('INVALID_ARGUMENT', `TopK: K must hold one value, got ${k.length}`);
  return k[0]!;
}

for (const since of [1, 10]) {
  registerOp({
    name: 'TopK',
    since,
    minInputs: since < 10 ? 1 : 2,
    maxInputs: since < 10 ? 1 : 2,
    defaults: { axis: -1, largest: 1, sorted: 1 },
    kernels: {
      cpu: (inputs, attrs) =>
        topkKernel(
          input(inputs, 0, 'TopK'),
          kOf(since, inputs, attrs),
          attrInt(attrs, 'axis', -1),
          attrInt(attrs, 'largest', 1) !== 0,
        ),
    },
    grad: ({ inputs, outputs, attrs }, [dValues]) => {
      const x = inputs[0]!;
      if (!dValues) return [null, null];
      const axis = attrInt(attrs, 'axis', -1);
      const dx = movementGrad(x, dValues, (ids) => gatherElementsKernel(ids, outputs[1]!, axis, 'TopK'));
      return [dx, null];
    },
  });
}
