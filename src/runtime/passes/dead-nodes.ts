/**
 * Dead-node removal: drops nodes none of whose outputs is read (by a later node, a subgraph, or as
 * a graph output), repeatedly, and initializers nothing reads; and a Dropout's mask output that
 * nothing reads, so its kernel makes no mask (squeezenet's 86K-element mask cost 55 us a run).
 * Runs inside subgraphs too.
 */
import { freeVariables, type Graph, type Model, subgraphsOf } from '../graph.js';

function sweep(g: Graph): number {
  let removed = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) removed += sweep(sub);
  for (;;) {
    const used = new Set<string>(g.outputs.map((o) => o.name));
    for (const n of g.nodes) {
      for (const i of n.inputs) if (i) used.add(i);
      for (const sub of subgraphsOf(n)) for (const v of freeVariables(sub)) used.add(v);
    }
    const before = g.nodes.length;
    g.nodes = g.nodes.filter((n) => n.outputs.some((o) => o && used.has(o)));
    for (const n of g.nodes) {
      if (n.opType === 'Dropout' && n.domain === '' && n.outputs.length === 2 && !used.has(n.outputs[1]!)) {
        n.outputs = n.outputs.slice(0, 1);
        removed++;
      }
    }
    removed += before - g.nodes.length;
    if (g.nodes.length === before) {
      const inputs = new Set(g.inputs.map((i) => i.name));
      for (const name of [...g.initializers.keys()]) {
        if (!used.has(name) && !inputs.has(name)) g.initializers.delete(name);
      }
      return removed;
    }
  }
}

/** Removes dead nodes from the model's graph and subgraphs; returns how many. */
export function deadNodeElimination(model: Model): number {
  return sweep(model.graph);
}
