/** Compress (select slices where a 1-D condition is true; flattened when no axis) and NonZero. */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { gatherFlat, movementGrad } from './layout.js';

/** Truthiness of each element (nonzero numbers, NaN included; non-empty strings). */
export function truthy(t: Tensor): Uint8Array {
  const out = new Uint8Array(t.numel());
  if (t.dtype === 'string') {
    const s = t.dataSync() as string[];
    for (let i = 0; i < s.length; i++) out[i] = s[i] !== '' ? 1 : 0;
  } else if (t.dtype === 'int64' || t.dtype === 'uint64') {
    const b = t.dataSync() as BigInt64Array;
    for (let i = 0; i < b.length; i++) out[i] = b[i] !== 0n ? 1 : 0;
  } else {
    const v = t.numbers();
    for (let i = 0; i < v.length; i++) out[i] = v[i] !== 0 ? 1 : 0;
  }
  return out;
}

export function compressKernel(x: Tensor, condition: Tensor, axisAttr: number | undefined): Tensor {
  if (condition.ndim !== 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Compress: condition must be 1-D, got ${fmtShape(condition.shape)}`,
    );
  }
  const cond = truthy(condition);
  const flat = axisAttr === undefined;
  const shape = flat ? [x.numel()] : x.shape;
  const axis = flat ? 0 : normAxis(axisAttr, x.ndim, 'Compress');
  const dim = shape[axis]!;
  const keep: number[] = [];
  for (let i = 0; i < cond.length; i++) {
    if (!cond[i]) continue;
    if (i >= dim) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Compress: condition selects index ${i}, but axis ${axis} has size ${dim}`,
      );
    }
    keep.push(i);
  }
  const outer = numel(shape.slice(0, axis));
  const inner = numel(shape.slice(axis + 1));
  const map = new Int32Array(outer * keep.length * inner);
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (const k of keep) for (let j = 0; j < inner; j++) map[p++] = (o * dim + k) * inner + j;
  }
  const outShape = [...shape];
  outShape[axis] = keep.length;
  return gatherFlat(x, map, outShape);
}

const axisOf = (attrs: Attrs) => (attrs.axis === undefined ? undefined : attrInt(attrs, 'axis'));

registerOp({
  name: 'Compress',
  since: 9,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, attrs) => [
      compressKernel(input(inputs, 0, 'Compress'), input(inputs, 1, 'Compress'), axisOf(attrs)),
    ],
  },
  grad: ({ inputs, attrs }, [dy]) => [
    movementGrad(inputs[0]!, dy!, (ids) => compressKernel(ids, inputs[1]!, axisOf(attrs))),
    null,
  ],
});

/** NonZero: int64 [rank, count] coordinates of the nonzero elements in row-major order (0-d reads as 1-D). */
export function nonZeroKernel(x: Tensor): Tensor {
  const shape = x.ndim === 0 ? [1] : x.shape;
  const t = truthy(x);
  const r = shape.length;
  const hits: number[] = [];
  for (let i = 0; i < t.length; i++) if (t[i]) hits.push(i);
  const out = new BigInt64Array(r * hits.length);
  hits.forEach((flat, j) => {
    let rem = flat;
    for (let d = r - 1; d >= 0; d--) {
      out[d * hits.length + j] = BigInt(rem % shape[d]!);
      rem = Math.floor(rem / shape[d]!);
    }
  });
  return Tensor.fromData(out, [r, hits.length], 'int64');
}

registerOp({
  name: 'NonZero',
  since: 9,
  minInputs: 1,
  maxInputs: 1,
  kernels: { cpu: (inputs) => [nonZeroKernel(input(inputs, 0, 'NonZero'))] },
});
