/**
 * Unique: distinct elements (or slices along `axis`), sorted ascending by default or in order of
 * first occurrence with sorted = 0, plus int64 first-occurrence indices, inverse indices and counts.
 * Slices compare lexicographically in row-major order; NaNs count as one value (as numpy.unique).
 */
import { normAxis, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { gatherFlat, permuteView } from './layout.js';

type Key = number | bigint | string;

function keyValues(t: Tensor): Key[] {
  if (t.dtype === 'string') return [...(t.dataSync() as string[])];
  if (t.dtype === 'int64' || t.dtype === 'uint64') return [...(t.dataSync() as BigInt64Array)];
  return Array.from(t.numbers(), (v) => (Object.is(v, -0) ? 0 : v));
}

function compareKey(a: Key, b: Key): number {
  const na = typeof a === 'number' && Number.isNaN(a);
  const nb = typeof b === 'number' && Number.isNaN(b);
  if (na || nb) return na && nb ? 0 : na ? 1 : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export function uniqueKernel(x: Tensor, attrs: Attrs): Tensor[] {
  const sorted = attrInt(attrs, 'sorted', 1) !== 0;
  const byAxis = attrs.axis !== undefined;
  const axis = byAxis ? normAxis(attrInt(attrs, 'axis'), x.ndim, 'Unique') : 0;
  const shape = byAxis ? x.shape : [x.numel()];
  const dim = shape[axis]!;
  // Rows: the slices along `axis`, each flattened in row-major order.
  const perm = byAxis ? [axis, ...x.shape.map((_, i) => i).filter((i) => i !== axis)] : [0];
  const rows = keyValues(byAxis ? permuteView(x, perm) : x);
  const width = dim === 0 ? 0 : rows.length / dim;
  const row = (i: number) => rows.slice(i * width, (i + 1) * width);
  const groups = new Map<string, number>();
  const first: number[] = [];
  const inverse = new Array<number>(dim);
  const counts: number[] = [];
  for (let i = 0; i < dim; i++) {
    const k = row(i).map(String).join('\u0000');
    let g = groups.get(k);
    if (g === undefined) {
      g = first.length;
      groups.set(k, g);
      first.push(i);
      counts.push(0);
    }
    inverse[i] = g;
    counts[g]!++;
  }
  const order = first.map((_, g) => g);
  if (sorted) {
    order.sort((ga, gb) => {
      const a = row(first[ga]!);
      const b = row(first[gb]!);
      for (let j = 0; j < width; j++) {
        const c = compareKey(a[j]!, b[j]!);
        if (c) return c;
      }
      return 0;
    });
  }
  const rank = new Array<number>(order.length);
  order.forEach((g, r) => {
    rank[g] = r;
  });
  // Y gathers the first occurrence of each group along the axis.
  const outer = numel(shape.slice(0, axis));
  const inner = numel(shape.slice(axis + 1));
  const map = new Int32Array(outer * order.length * inner);
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (const g of order) for (let j = 0; j < inner; j++) map[p++] = (o * dim + first[g]!) * inner + j;
  }
  const yShape = [...shape];
  yShape[axis] = order.length;
  const i64 = (vals: number[]) =>
    Tensor.fromData(
      BigInt64Array.from(vals, (v) => BigInt(v)),
      [vals.length],
      'int64',
    );
  return [
    gatherFlat(x, map, yShape),
    i64(order.map((g) => first[g]!)),
    i64(inverse.map((g) => rank[g]!)),
    i64(order.map((g) => counts[g]!)),
  ];
}

registerOp({
  name: 'Unique',
  since: 11,
  minInputs: 1,
  maxInputs: 1,
  defaults: { sorted: 1 },
  kernels: {
    cpu: (inputs, attrs) => uniqueKernel(input(inputs, 0, 'Unique'), attrs),
  },
});
