/**
 * Conv / Gemm / MatMul + activation fusion: a producer whose only use is a Relu, Sigmoid, Tanh,
 * LeakyRelu, HardSigmoid or Clip (with constant bounds) becomes one FusedConv / FusedGemm /
 * FusedMatMul node (domain com.tessera, see fused-ops.ts) carrying the activation as attributes.
 */
import { findOp } from '../../ops/registry.js';
import { type Graph, type Model, type Node, subgraphsOf } from '../graph.js';
import { FUSABLE_ACTIVATIONS, FUSED_DOMAIN } from './fused-ops.js';
import { constant, soleConsumer, useCounts } from './graph-edit.js';

const FUSED: Readonly<Record<string, string>> = {
  Conv: 'FusedConv',
  Gemm: 'FusedGemm',
  MatMul: 'FusedMatMul',
};

/** The activation's parameters, or undefined when they are not constants. */
function activationParams(g: Graph, act: Node, opset: number): number[] | undefined {
  const num = (v: unknown, d: number) => (typeof v === 'number' ? v : d);
  switch (act.opType) {
    case 'LeakyRelu':
      return [num(act.attrs.alpha, 0.01)];
    case 'HardSigmoid':
      return [num(act.attrs.alpha, 0.2), num(act.attrs.beta, 0.5)];
    case 'Clip': {
      if (opset < 11)
        return [num(act.attrs.min, Number.NEGATIVE_INFINITY), num(act.attrs.max, Number.POSITIVE_INFINITY)];
      const bound = (name: string | undefined, d: number) => {
        if (!name) return d;
        const t = constant(g, name);
        return t && t.numel() === 1 ? t.numbers()[0] : undefined;
      };
      const lo = bound(act.inputs[1], Number.NEGATIVE_INFINITY);
      const hi = bound(act.inputs[2], Number.POSITIVE_INFINITY);
      return lo === undefined || hi === undefined ? undefined : [lo, hi];
    }
    default:
      return [];
  }
}

function fuseGraph(g: Graph, opset: number): number {
  let fused = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) fused += fuseGraph(sub, opset);
  const uses = useCounts(g);
  const removed = new Set<object>();
  for (const p of g.nodes) {
    const fusedName = FUSED[p.opType];
    if (!fusedName || p.domain !== '' || removed.has(p) || p.outputs.length !== 1) continue;
    // Gemm before opset 7 has its own broadcast attribute; leave it.
    if (p.opType === 'Gemm' && opset < 7) continue;
    const act = soleConsumer(g, uses, p.outputs[0]!);
    if (act?.domain !== '' || FUSABLE_ACTIVATIONS[act.opType] === undefined || act.inputs[0] !== p.outputs[0])
      continue;
    const params = activationParams(g, act, opset);
    if (!params) continue;
    p.opType = fusedName;
    p.domain = FUSED_DOMAIN;
    p.attrs = { ...p.attrs, activation: act.opType, activation_params: params };
    p.outputs = [act.outputs[0]!];
    removed.add(act);
    fused++;
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  return fused;
}

/** Fuses activations into their Conv/Gemm/MatMul producers; returns how many. */
export function activationFusion(model: Model): number {
  if (!findOp('FusedConv', 1, FUSED_DOMAIN)) return 0;
  const n = fuseGraph(model.graph, model.opsets.get('') ?? 1);
  if (n) model.opsets.set(FUSED_DOMAIN, 1);
  return n;
}
