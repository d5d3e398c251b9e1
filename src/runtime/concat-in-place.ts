/**
 * Concat in place. A Concat along an axis with only size-1 dims before it (a batch-1 channel
 * concatenation: squeezenet's fire modules, inception's branches) lays its inputs end to end, so
 * each input's producer can write straight into its part of the Concat's output and the Concat has
 * nothing left to copy (squeezenet spent 8% of a run in its Concats).
 *
 * The executor learns each such Concat's layout (array class, input lengths) from a run; on later
 * runs it hands each producer's kernel its part of one array as the array its first allocation of
 * that class and length gets (RunState.take), and the Concat the whole. concatKernel copies only
 * the blocks that are not already where they belong, so a producer that allocates another way, or
 * shapes that changed since the layout was learned, cost a copy, never a wrong value.
 *
 * Producers qualify when their one output is read by that Concat alone (not by any other node, a
 * subgraph or the caller): the part is then dead once the Concat has run, and the whole array
 * belongs to the Concat's output.
 */
import type { Attrs } from '../ops/registry.js';
import type { ArrayCtor, TypedArray } from './dtype.js';
import { freeVariables, type Graph, type Node, subgraphsOf, type Value } from './graph.js';
import { normAxis } from './shape.js';
import { Tensor } from './tensor.js';

/** Where a Concat's inputs lie in its output: one array of `ctor`, input i at offsets[i]. */
export interface ConcatLayout {
  readonly ctor: ArrayCtor;
  readonly offsets: readonly number[];
  readonly sizes: readonly number[];
  readonly total: number;
}

/** One Concat node of a compiled graph; its layout is learned on a run and kept for the next. */
export interface ConcatSite {
  layout: ConcatLayout | undefined;
}

/** A producer's part: input `index` of the Concat at `site`. */
export interface Placement {
  readonly site: ConcatSite;
  readonly index: number;
}

/**
 * The Concat sites of graph `g` (nodes in run order) and the producers that may write into them,
 * by node position.
 */
export function findPlacements(
  g: Graph,
  order: readonly Node[],
): { sites: Map<number, ConcatSite>; placements: Map<number, Placement> } {
  const sites = new Map<number, ConcatSite>();
  const placements = new Map<number, Placement>();
  const readers = new Map<string, number>();
  const read = (name: string) => readers.set(name, (readers.get(name) ?? 0) + 1);
  const fvCache = new WeakMap<Graph, Set<string>>();
  for (const n of order) {
    for (const x of n.inputs) if (x) read(x);
    for (const sub of subgraphsOf(n)) for (const v of freeVariables(sub, fvCache)) read(v);
  }
  for (const o of g.outputs) read(o.name);
  const producer = new Map<string, number>();
  order.forEach((n, pos) => {
    if (n.outputs.length === 1 && n.outputs[0] && !isConcat(n)) producer.set(n.outputs[0], pos);
  });
  order.forEach((n, pos) => {
    if (!isConcat(n)) return;
    const site: ConcatSite = { layout: undefined };
    sites.set(pos, site);
    n.inputs.forEach((x, index) => {
      const p = x ? producer.get(x) : undefined;
      if (p !== undefined && p < pos && readers.get(x!) === 1) placements.set(p, { site, index });
    });
  });
  return { sites, placements };
}

function isConcat(n: Node): boolean {
  return n.opType === 'Concat' && n.domain === '';
}

/**
 * The layout of a Concat that just ran, when its inputs were laid end to end in its output: dense
 * tensors of one typed-array class with only size-1 dims before the axis. Else undefined.
 */
export function learnLayout(
  inputs: readonly (Value | undefined)[],
  output: Value,
  attrs: Attrs,
): ConcatLayout | undefined {
  if (!(output instanceof Tensor) || output.device !== 'cpu') return undefined;
  const data = output.storage.data;
  if (!ArrayBuffer.isView(data)) return undefined;
  const rank = output.ndim;
  if (rank === 0 || typeof attrs.axis !== 'number') return undefined;
  const axis = normAxis(attrs.axis, rank, 'Concat');
  for (let d = 0; d < axis; d++) if (output.shape[d] !== 1) return undefined;
  const offsets: number[] = [];
  const sizes: number[] = [];
  let total = 0;
  for (const x of inputs) {
    if (!(x instanceof Tensor)) return undefined;
    offsets.push(total);
    sizes.push(x.numel());
    total += x.numel();
  }
  if (total !== output.numel() || total === 0) return undefined;
  return { ctor: data.constructor as ArrayCtor, offsets, sizes, total };
}

/** Whether two layouts are the same (a run with the same shapes as the one before). */
export function sameLayout(a: ConcatLayout | undefined, b: ConcatLayout | undefined): boolean {
  if (a === b) return true;
  if (!a || !b || a.ctor !== b.ctor || a.total !== b.total || a.sizes.length !== b.sizes.length) return false;
  return a.sizes.every((s, i) => s === b.sizes[i]);
}

/** Input `index`'s part of the Concat's array. */
export function partOf(whole: TypedArray, layout: ConcatLayout, index: number): TypedArray {
  const o = layout.offsets[index]!;
  return whole.subarray(o, o + layout.sizes[index]!) as TypedArray;
}
