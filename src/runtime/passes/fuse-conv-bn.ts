/**
 * Conv + BatchNormalization folding: an inference-mode BatchNormalization whose input is a Conv's
 * only use, with constant weights and statistics, is folded into the Conv's weights and bias:
 *   f = scale / sqrt(var + eps);  W'[m] = W[m] * f[m];  B'[m] = (B[m] - mean[m]) * f[m] + bias[m]
 * (computed in float64, stored in the weights' dtype).
 */
import { type DType, fromNumbers } from '../dtype.js';
import { type Graph, type Model, subgraphsOf } from '../graph.js';
import { Tensor } from '../tensor.js';
import { constant as constantOf, freshName, soleConsumer, useCounts } from './graph-edit.js';
import type { PassContext } from './index.js';

const FLOATS: readonly DType[] = ['float32', 'float64'];

function foldGraph(g: Graph, allowInputs = false): number {
  let folded = 0;
  for (const n of g.nodes) for (const sub of subgraphsOf(n)) folded += foldGraph(sub);
  const constant = (g: Graph, name: string | undefined) => constantOf(g, name, allowInputs);
  const uses = useCounts(g);
  const removed = new Set<object>();
  for (const conv of g.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || removed.has(conv) || conv.outputs.length !== 1)
      continue;
    const bn = soleConsumer(g, uses, conv.outputs[0]!);
    if (bn?.opType !== 'BatchNormalization' || bn.domain !== '' || bn.inputs[0] !== conv.outputs[0]) continue;
    // Inference mode only: no training_mode, spatial (opset < 9) on, no statistics outputs read.
    if (bn.attrs.training_mode || bn.attrs.spatial === 0 || bn.outputs.slice(1).some((o) => o && uses.has(o)))
      continue;
    const w = constant(g, conv.inputs[1]);
    const b = conv.inputs[2] ? constant(g, conv.inputs[2]) : undefined;
    const [scale, bias, mean, variance] = bn.inputs.slice(1, 5).map((n) => constant(g, n));
    if (!w || !scale || !bias || !mean || !variance || (conv.inputs[2] && !b)) continue;
    if (!FLOATS.includes(w.dtype) || w.ndim < 2) continue;
    const m = w.shape[0]!;
    if ([scale, bias, mean, variance, b].some((t) => t && t.numel() !== m)) continue;
    const eps = typeof bn.attrs.epsilon === 'number' ? bn.attrs.epsilon : 1e-5;
    const [s, bi, mu, v] = [scale, bias, mean, variance].map((t) => t.numbers());
    const f = Float64Array.from({ length: m }, (_, i) => s![i]! / Math.sqrt(v![i]! + eps));
    const wv = w.numbers();
    const per = wv.length / m;
    const w2 = new Float64Array(wv.length);
    for (let i = 0; i < wv.length; i++) w2[i] = wv[i]! * f[Math.floor(i / per)]!;
    const b0 = b?.numbers();
    const b2 = Float64Array.from({ length: m }, (_, i) => ((b0?.[i] ?? 0) - mu![i]!) * f[i]! + bi![i]!);
    const wName = freshName(g, `${conv.inputs[1]}_bnfolded`);
    g.initializers.set(wName, Tensor.fromData(fromNumbers(w.dtype, w2), [...w.shape], w.dtype));
    const bName = freshName(g, `${conv.name}_bnfolded_bias`);
    g.initializers.set(bName, Tensor.fromData(fromNumbers(w.dtype, b2), [m], w.dtype));
    conv.inputs = [conv.inputs[0]!, wName, bName];
    conv.outputs = [bn.outputs[0]!];
    removed.add(bn);
    folded++;
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  return folded;
}

/** Folds inference BatchNormalization into the preceding Conv; returns how many. */
export function convBatchNormFusion(model: Model, ctx: PassContext = {}): number {
  return foldGraph(model.graph, ctx.foldOverridableInputs ?? false);
}
