/**
 * Add + Relu fusion: the residual Add (or two-input Sum) of ResNet and ShuffleNet blocks whose only
 * use is a Relu becomes one com.tessera::AddRelu (add-relu.ts), one pass over the tensors instead of
 * two with a buffer between. Only where shape inference knows both inputs have one float32/float64
 * shape (no broadcasting), so the fused kernel's fast path applies; and only for CPU sessions
 * (PassContext.device unset or 'cpu'): elsewhere the op would be the same Add and Relu.
 */
import { type Graph, type Model, subgraphsOf, type ValueType } from '../graph.js';
import './add-relu.js';
import { FUSED_DOMAIN } from './fused-ops.js';
import { soleConsumer, useCounts } from './graph-edit.js';
import type { PassContext } from './index.js';
import { type InferenceResult, inferGraph } from './shape-inference.js';

/** Whether both types are float32/float64 tensors of the same fully known shape. */
function sameShape(a: ValueType | undefined, b: ValueType | undefined): boolean {
  if (a?.kind !== 'tensor' || b?.kind !== 'tensor' || !a.shape || !b.shape) return false;
  if (a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'float64')) return false;
  return (
    a.shape.length === b.shape.length && a.shape.every((d, i) => typeof d === 'number' && d === b.shape![i])
  );
}

function fuseGraph(g: Graph, model: Model, outer?: InferenceResult): number {
  const inferred = inferGraph(g, model.opsets, undefined, outer);
  let fused = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) fused += fuseGraph(sub, model, inferred);
  // Before opset 7 Add broadcasts by its own attributes.
  if ((model.opsets.get('') ?? 1) < 7) return fused;
  const uses = useCounts(g);
  const removed = new Set<object>();
  for (const add of g.nodes) {
    if ((add.opType !== 'Add' && add.opType !== 'Sum') || add.domain !== '' || removed.has(add)) continue;
    if (add.inputs.length !== 2 || add.outputs.length !== 1) continue;
    const [a, b] = add.inputs as [string, string];
    if (!a || !b || !sameShape(inferred.types.get(a), inferred.types.get(b))) continue;
    const relu = soleConsumer(g, uses, add.outputs[0]!);
    if (relu?.opType !== 'Relu' || relu.domain !== '' || relu.inputs[0] !== add.outputs[0]) continue;
    add.opType = 'AddRelu';
    add.domain = FUSED_DOMAIN;
    add.attrs = {};
    add.outputs = [relu.outputs[0]!];
    removed.add(relu);
    fused++;
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  return fused;
}

/** Fuses same-shape Add/Sum + Relu into AddRelu on CPU sessions; returns how many. */
export function addReluFusion(model: Model, ctx: PassContext = {}): number {
  if (ctx.device !== undefined && ctx.device !== 'cpu') return 0;
  const n = fuseGraph(model.graph, model);
  if (n) model.opsets.set(FUSED_DOMAIN, model.opsets.get(FUSED_DOMAIN) ?? 1);
  return n;
}
