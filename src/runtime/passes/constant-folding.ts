/**
 * Constant folding: a node whose inputs are all constants (initializers that are not also graph
 * inputs, or outputs of nodes folded before it) is run once at load through the registry and
 * replaced by initializers holding its outputs. Random ops and control flow are left alone, and
 * results past a size limit stay computed at run time so folding cannot blow a model up.
 */
import type { Tensor } from '../tensor.js';
import { type Graph, type Model, subgraphsOf } from '../graph.js';
import { planGraph } from '../executor.js';
import { isFoldable, tryEvaluate } from './shape-inference.js';

/** Largest output (elements) a folded node may produce. */
export const MAX_FOLDED_ELEMENTS = 1 << 26;

function foldGraph(g: Graph, opsets: ReadonlyMap<string, number>): number {
  let folded = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) folded += foldGraph(sub, opsets);
  const inputs = new Set(g.inputs.map((i) => i.name));
  const constOf = (name: string): Tensor | undefined => (inputs.has(name) ? undefined : g.initializers.get(name));
  const keep = [];
  for (const node of planGraph(g).order) {
    const ins = node.inputs.map((n) => (n ? constOf(n) : undefined));
    const allConst = node.inputs.every((n, i) => !n || ins[i]);
    const outs = allConst && isFoldable(node) ? tryEvaluate(node, ins, opsets.get(node.domain) ?? 1) : undefined;
    if (!outs || outs.some((t) => t.numel() > MAX_FOLDED_ELEMENTS)) {
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
export function constantFolding(model: Model): number {
  return foldGraph(model.graph, model.opsets);
}
