/**
 * Constant folding: a node whose inputs are all constants (initializers that are not also graph
 * inputs, or outputs of nodes folded before it) is run once at load through the registry and
 * replaced by initializers holding its outputs. Random ops and control flow are left alone, and a
 * node whose outputs would pass a size limit (estimated before it runs) stays computed at run time,
 * so folding cannot blow a model up.
 */

import { planGraph } from '../executor.js';
import { type Graph, type Model, subgraphsOf } from '../graph.js';
import type { Tensor } from '../tensor.js';
import type { PassContext } from './index.js';
import { estimateOutputBytes, isFoldable, tryEvaluate } from './shape-inference.js';

/** Largest output a folded node may produce, in bytes (lowered to the session's memory limit). */
export const MAX_FOLDED_BYTES = 2 ** 30;

function foldGraph(
  g: Graph,
  opsets: ReadonlyMap<string, number>,
  maxBytes: number,
  foldInputs = false,
): number {
  let folded = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) folded += foldGraph(sub, opsets, maxBytes);
  // Initializers that are also inputs may be fed over at run time: not constants, unless the
  // session runs an unfolded copy when they are (foldInputs, top-level graph only).
  const inputs = new Set(foldInputs ? [] : g.inputs.map((i) => i.name));
  const constOf = (name: string): Tensor | undefined =>
    inputs.has(name) ? undefined : g.initializers.get(name);
  const keep = [];
  for (const node of planGraph(g).order) {
    const ins = node.inputs.map((n) => (n ? constOf(n) : undefined));
    const allConst = node.inputs.every((n, i) => !n || ins[i]);
    const opset = opsets.get(node.domain) ?? 1;
    // Sized before it runs: a node whose outputs cannot be sized ahead is left to run time.
    const bytes = allConst && isFoldable(node) ? estimateOutputBytes(node, ins, opset) : undefined;
    const outs = bytes !== undefined && bytes <= maxBytes ? tryEvaluate(node, ins, opset) : undefined;
    if (!outs) {
      keep.push(node);
      continue;
    }
    node.outputs.forEach((name, i) => {
      if (name) g.initializers.set(name, outs[i]!);
    });
    folded++;
  }
  g.nodes = keep;
  return folded;
}

/** Folds constant subexpressions in the model's graph and subgraphs; returns how many nodes. */
export function constantFolding(model: Model, ctx: PassContext = {}): number {
  return foldGraph(
    model.graph,
    model.opsets,
    Math.min(MAX_FOLDED_BYTES, ctx.memoryLimitBytes ?? Number.POSITIVE_INFINITY),
    ctx.foldOverridableInputs ?? false,
  );
}
