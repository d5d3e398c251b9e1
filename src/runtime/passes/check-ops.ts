/**
 * Load-time checks of a model against the op registry: every imported opset is one Tessera knows,
 * and every node (subgraphs included) names an op the registry has for the model's opset.
 */
import { findOp, listOps } from '../../ops/registry.js';
import { TesseraError } from '../errors.js';
import { allNodes, type Graph, type Model, subgraphsOf } from '../graph.js';

/** Newest opset version per domain that Tessera implements ('' is ai.onnx). */
export const MAX_OPSET: Readonly<Record<string, number>> = {
  '': 28,
  'ai.onnx.ml': 5,
  'ai.onnx.preview': 1,
  'ai.onnx.preview.training': 1,
  'com.tessera': 1,
};

export interface OpProblem {
  node: string;
  opType: string;
  domain: string;
  reason: string;
}

const domainName = (d: string) => d || 'ai.onnx';
export const opId = (domain: string, opType: string) => (domain ? `${domain}::${opType}` : opType);

/** Opset imports Tessera cannot run, as messages. */
export function opsetProblems(model: Model): string[] {
  // Importing an unknown domain is harmless until a node uses it: opProblems reports that.
  const out: string[] = [];
  for (const [domain, version] of model.opsets) {
    const max = MAX_OPSET[domain];
    if (max !== undefined && version > max) {
      out.push(`the model imports ${domainName(domain)} opset ${version}; Tessera implements up to ${max}`);
    }
  }
  return out;
}

/** Nodes whose op the registry lacks (unknown op or domain, or not at the model's opset). */
export function opProblems(model: Model): OpProblem[] {
  const knownDomains = new Set(['', ...listOps().map((d) => d.domain ?? '')]);
  const out: OpProblem[] = [];
  for (const { node } of allNodes(model.graph)) {
    const opset = model.opsets.get(node.domain);
    const base = { node: node.name, opType: node.opType, domain: node.domain };
    if (opset === undefined) {
      out.push({
        ...base,
        reason: `its domain '${domainName(node.domain)}' is not in the model's opset imports`,
      });
    } else if (!knownDomains.has(node.domain) && MAX_OPSET[node.domain] === undefined) {
      out.push({ ...base, reason: `unknown domain '${node.domain}'` });
    } else if (!findOp(node.opType, opset, node.domain)) {
      const any = findOp(node.opType, undefined, node.domain);
      out.push({
        ...base,
        reason: any
          ? `op ${opId(node.domain, node.opType)} is not implemented for opset ${opset} (only from opset ${any.since ?? 1})`
          : `unknown op ${opId(node.domain, node.opType)}: it is not in the op registry`,
      });
    }
  }
  return out;
}

/** Throws the first problems as one TesseraError (UNSUPPORTED, or INVALID_MODEL for a missing import). */
export function checkModelOps(model: Model): void {
  const opsets = opsetProblems(model);
  if (opsets.length) throw new TesseraError('UNSUPPORTED', `model: ${opsets.join('; ')}`);
  const problems = opProblems(model);
  if (problems.length === 0) return;
  const missing = [...new Set(problems.map((p) => opId(p.domain, p.opType)))];
  const first = problems[0]!;
  const invalid = problems.every((p) => p.reason.includes('opset imports'));
  throw new TesseraError(
    invalid ? 'INVALID_MODEL' : 'UNSUPPORTED',
    `node '${first.node}' (${first.opType}): ${first.reason}` +
      (problems.length > 1 ? ` (${problems.length} nodes cannot run; ops: ${missing.join(', ')})` : ''),
  );
}

/**
 * Every value a node reads must be a graph input, an initializer, another node's output, or (in a
 * subgraph) a value of an enclosing graph: INVALID_MODEL naming the node otherwise.
 */
export function checkScopes(g: Graph, outer: ReadonlySet<string> = new Set(), what = 'graph'): void {
  const visible = new Set<string>([...outer, ...g.inputs.map((i) => i.name), ...g.initializers.keys()]);
  for (const n of g.nodes) for (const o of n.outputs) if (o) visible.add(o);
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (i && !visible.has(i)) {
        throw new TesseraError(
          'INVALID_MODEL',
          `node '${n.name}' (${n.opType}): input '${i}' is not produced by any node, nor a graph input or initializer${what === 'graph' ? '' : ` (in ${what})`}`,
        );
      }
    }
    for (const sub of subgraphsOf(n)) checkScopes(sub, visible, `a subgraph of node '${n.name}'`);
  }
  for (const o of g.outputs) {
    if (!visible.has(o.name))
      throw new TesseraError('INVALID_MODEL', `${what}: output '${o.name}' is never produced`);
  }
}
