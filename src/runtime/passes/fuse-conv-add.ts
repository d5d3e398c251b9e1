/**
 * Conv + residual Add + Relu fusion: in a ResNet block the last convolution's output is added to
 * the shortcut and the sum goes through a Relu (an AddRelu after addReluFusion). When that Conv's
 * output has no other use, the three become one com.tessera::FusedConv with the shortcut as its
 * fourth input Z, as onnxruntime's FusedConv has it: Y = Relu(Conv(X, W) + B + Z), the sum added to
 * each output tile while it is in cache instead of a separate pass over two large tensors. The fused
 * node takes the AddRelu's place in the node order (Z is ready there; the Conv's own inputs were
 * ready earlier). 2-D float32 convolutions with a Z of the same known shape; CPU sessions only.
 */
import type { Graph, Model, ValueType } from '../graph.js';
import { subgraphsOf } from '../graph.js';
import { FUSED_DOMAIN } from './fused-ops.js';
import { producers, useCounts } from './graph-edit.js';
import type { PassContext } from './index.js';
import { type InferenceResult, inferGraph } from './shape-inference.js';

function sameShape4d(a: ValueType | undefined, b: ValueType | undefined): boolean {
  if (a?.kind !== 'tensor' || b?.kind !== 'tensor' || !a.shape || !b.shape) return false;
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== 4 || b.shape.length !== 4)
    return false;
  return a.shape.every((d, i) => typeof d === 'number' && d === b.shape![i]);
}

function fuseGraph(g: Graph, model: Model, outer?: InferenceResult): number {
  const inferred = inferGraph(g, model.opsets, undefined, outer);
  let fused = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) fused += fuseGraph(sub, model, inferred);
  const uses = useCounts(g);
  const made = producers(g);
  const removed = new Set<object>();
  for (const add of g.nodes) {
    if (add.opType !== 'AddRelu' || add.domain !== FUSED_DOMAIN || add.inputs.length !== 2) continue;
    const [a, b] = add.inputs as [string, string];
    if (!sameShape4d(inferred.types.get(a), inferred.types.get(b))) continue;
    // Either input may be the convolution's; the other is the shortcut.
    for (const [y, z] of [
      [a, b],
      [b, a],
    ] as const) {
      const conv = made.get(y);
      if (conv?.opType !== 'Conv' || conv.domain !== '' || removed.has(conv) || uses.get(y) !== 1) continue;
      if (conv.outputs.length !== 1 || y === z) continue;
      add.opType = 'FusedConv';
      add.inputs = [conv.inputs[0]!, conv.inputs[1]!, conv.inputs[2] ?? '', z];
      add.attrs = { ...conv.attrs, activation: 'Relu', activation_params: [] };
      removed.add(conv);
      fused++;
      break;
    }
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  return fused;
}

/** Fuses Conv + AddRelu into FusedConv with a residual input on CPU sessions; returns how many. */
export function convAddFusion(model: Model, ctx: PassContext = {}): number {
  if (ctx.device !== undefined && ctx.device !== 'cpu') return 0;
  const n = fuseGraph(model.graph, model);
  if (n) model.opsets.set(FUSED_DOMAIN, model.opsets.get(FUSED_DOMAIN) ?? 1);
  return n;
}
