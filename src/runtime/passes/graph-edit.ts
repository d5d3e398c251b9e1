/** Small helpers the rewriting passes share: who reads a value, fresh names, constant scalars. */
import { freeVariables, type Graph, type Node, subgraphsOf } from '../graph.js';
import type { Tensor } from '../tensor.js';

/** How many times each value is read: node inputs, subgraph free variables and graph outputs. */
export function useCounts(g: Graph): Map<string, number> {
  const uses = new Map<string, number>();
  const use = (n: string) => {
    if (n) uses.set(n, (uses.get(n) ?? 0) + 1);
  };
  for (const n of g.nodes) {
    for (const i of n.inputs) use(i);
    for (const sub of subgraphsOf(n)) for (const v of freeVariables(sub)) use(v);
  }
  for (const o of g.outputs) use(o.name);
  return uses;
}

/** The node that produces each value. */
export function producers(g: Graph): Map<string, Node> {
  const out = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) out.set(o, n);
  return out;
}

/** A value name not yet used in the graph. */
export function freshName(g: Graph, base: string): string {
  const taken = (n: string) =>
    g.initializers.has(n) || g.nodes.some((x) => x.outputs.includes(n) || x.inputs.includes(n));
  if (!taken(base)) return base;
  for (let i = 1; ; i++) if (!taken(`${base}_${i}`)) return `${base}_${i}`;
}

/**
 * A constant (an initializer that no graph input overrides; with `allowInputs`, one that is also a
 * graph input: the session runs an unfolded copy when a feed overrides it).
 */
export function constant(g: Graph, name: string | undefined, allowInputs = false): Tensor | undefined {
  if (!name || (!allowInputs && g.inputs.some((i) => i.name === name))) return undefined;
  return g.initializers.get(name);
}

/** The single node reading `value` when exactly one node reads it once and it is no graph output. */
export function soleConsumer(g: Graph, uses: Map<string, number>, value: string): Node | undefined {
  if (uses.get(value) !== 1 || g.outputs.some((o) => o.name === value)) return undefined;
  return g.nodes.find((n) => n.inputs.includes(value));
}
