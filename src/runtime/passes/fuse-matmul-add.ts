/**
 * MatMul + Add -> Gemm: a 2-D float MatMul whose only use is an Add with a bias that broadcasts
 * one way to the product's [M, N] shape becomes Gemm(A, B, C). Shapes come from shape inference,
 * so the rewrite happens only where both operands are known to be matrices.
 */
import { findOp } from '../../ops/registry.js';
import type { Dim, Graph, Model, ValueType } from '../graph.js';
import { subgraphsOf } from '../graph.js';
import { soleConsumer, useCounts } from './graph-edit.js';
import { inferGraph } from './shape-inference.js';

const rank2 = (t: ValueType | undefined): Dim[] | undefined =>
  t?.kind === 'tensor' && t.shape?.length === 2 && (t.dtype === 'float32' || t.dtype === 'float64')
    ? t.shape
    : undefined;

/** C broadcasts to [m, n] in Gemm's one-directional way: rank <= 2, each dim 1 or equal. */
function biasFits(c: ValueType | undefined, m: Dim, n: Dim): boolean {
  if (c?.kind !== 'tensor' || !c.shape || c.shape.length > 2) return false;
  const target = [m, n].slice(2 - c.shape.length);
  return c.shape.every((d, i) => d === 1 || (d !== null && d === target[i]));
}

function fuseGraph(g: Graph, types: ReadonlyMap<string, ValueType>): number {
  let fused = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) fused += fuseGraph(sub, types);
  const uses = useCounts(g);
  const removed = new Set<object>();
  for (const mm of g.nodes) {
    if (mm.opType !== 'MatMul' || mm.domain !== '' || removed.has(mm)) continue;
    const a = rank2(types.get(mm.inputs[0]!));
    const b = rank2(types.get(mm.inputs[1]!));
    const y = mm.outputs[0]!;
    if (!a || !b || types.get(mm.inputs[0]!)!.kind !== 'tensor') continue;
    const add = soleConsumer(g, uses, y);
    if (add?.opType !== 'Add' || add.domain !== '' || add.inputs.length !== 2) continue;
    const bias = add.inputs[0] === y ? add.inputs[1]! : add.inputs[0]!;
    if (bias === y || !biasFits(types.get(bias), a[0]!, b[1]!)) continue;
    const ta = types.get(mm.inputs[0]!) as { dtype: string };
    const tc = types.get(bias) as { dtype: string };
    if (ta.dtype !== tc.dtype) continue;
    mm.opType = 'Gemm';
    mm.inputs = [mm.inputs[0]!, mm.inputs[1]!, bias];
    mm.outputs = [add.outputs[0]!];
    mm.attrs = {};
    removed.add(add);
    fused++;
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  return fused;
}

/** Rewrites MatMul + Add into Gemm where shapes allow; returns how many. */
export function matMulAddFusion(model: Model): number {
  const opset = model.opsets.get('') ?? 1;
  // Gemm broadcasts C one way from opset 7; before that it needs a `broadcast` attribute.
  if (opset < 7 || !findOp('Gemm', opset)) return 0;
  return fuseGraph(model.graph, inferGraph(model.graph, model.opsets).types);
}
