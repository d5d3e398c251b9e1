/**
 * Channel-affine fusion: chains of per-channel constant arithmetic, as converted DenseNets have in
 * every block (BatchNormalization, then Mul and Add by [C, 1, 1] constants, then Relu), become one
 * pass over the tensor instead of three or four. A step is an inference-mode BatchNormalization with
 * constant [C] parameters, or a Mul, Add or Sub (X - k) by a constant that varies only along the
 * channel axis 1 (or is a single value). Scales and shifts compose in float64:
 *   y = x * S + T;  Mul k: S *= k, T *= k;  Add k: T += k;  BatchNormalization: a = scale / sqrt(var + eps), S *= a, T = T * a + B - mean * a
 * 1. Steps after a Conv whose output only they read fold into the Conv's weights and bias,
 *    W'[m] = W[m] * S[m] and B'[m] = B[m] * S[m] + T[m] (stored in the weights' dtype); a Relu after
 *    them is then absorbed by activation fusion (FusedConv). This runs for every device.
 * 2. Elsewhere, two or more steps, or one step and a trailing Relu, become one
 *    com.tessera::ChannelAffine (channel-affine.ts) with S and T as [C] initializers. That op's CPU
 *    kernel is one SIMD pass; on other devices it would be Mul + Add + Relu, no better than the
 *    chain, so this rewrite runs for CPU sessions only (PassContext.device unset or 'cpu').
 * Both change rounding only as fusing BatchNormalization into a Conv does (one float32 multiply and
 * add per element from float64-composed parameters); test/runtime/passes/ compares against the
 * unfused graph.
 */
import { fromNumbers } from '../dtype.js';
import { type Graph, type Model, type Node, subgraphsOf, type ValueType } from '../graph.js';
import { Tensor } from '../tensor.js';
import './channel-affine.js';
import { FUSED_DOMAIN } from './fused-ops.js';
import { constant as constantOf, freshName, soleConsumer, useCounts } from './graph-edit.js';
import type { PassContext } from './index.js';
import { type InferenceResult, inferGraph } from './shape-inference.js';

/** x * mul + add per channel: each array has one value (every channel) or C. */
interface Step {
  mul?: Float64Array;
  add?: Float64Array;
  dtype: 'float32' | 'float64';
}

/** A running composition y = x * S + T over C channels (C = 1 until a step names the count). */
class Affine {
  S = Float64Array.of(1);
  T = Float64Array.of(0);
  dtype: 'float32' | 'float64' | undefined;

  /** Applies `s`; false when its channel count clashes with the one so far, or its dtype does. */
  apply(s: Step): boolean {
    if (this.dtype && this.dtype !== s.dtype) return false;
    const C = Math.max(this.S.length, s.mul?.length ?? 1, s.add?.length ?? 1);
    for (const a of [this.S, s.mul, s.add]) if (a && a.length !== 1 && a.length !== C) return false;
    const at = (a: Float64Array, c: number) => a[a.length === 1 ? 0 : c]!;
    const S = new Float64Array(C);
    const T = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const m = s.mul ? at(s.mul, c) : 1;
      S[c] = at(this.S, c) * m;
      T[c] = at(this.T, c) * m + (s.add ? at(s.add, c) : 0);
    }
    this.S = S;
    this.T = T;
    this.dtype = s.dtype;
    return true;
  }
}

interface Ctx {
  g: Graph;
  opset: number;
  allowInputs: boolean;
  types: ReadonlyMap<string, ValueType>;
}

const isFloat = (d: string): d is 'float32' | 'float64' => d === 'float32' || d === 'float64';

/** A constant's values when it varies only along axis 1 of a rank-`rank` operand (or is one value). */
function perChannel(
  ctx: Ctx,
  name: string | undefined,
  rank: number,
): { v: Float64Array; dtype: string } | undefined {
  const k = constantOf(ctx.g, name, ctx.allowInputs);
  if (!k || k.ndim > rank || !isFloat(k.dtype)) return undefined;
  const dims = [...new Array<number>(rank - k.ndim).fill(1), ...k.shape];
  if (dims.some((d, i) => i !== 1 && d !== 1)) return undefined;
  return { v: Float64Array.from(k.numbers()), dtype: k.dtype };
}

/** The node as a step on its input `x` of rank `rank`, or undefined. */
function stepOf(ctx: Ctx, n: Node, x: string, rank: number): Step | undefined {
  if (n.domain !== '' || n.outputs.length < 1 || rank < 2) return undefined;
  if (n.opType === 'BatchNormalization') {
    const uses = n.outputs.slice(1).some((o) => o);
    if (n.inputs[0] !== x || n.attrs.training_mode || n.attrs.spatial === 0 || uses) return undefined;
    const ps = n.inputs.slice(1, 5).map((p) => constantOf(ctx.g, p, ctx.allowInputs));
    const [scale, bias, mean, variance] = ps;
    if (!scale || !bias || !mean || !variance) return undefined;
    const C = scale.numel();
    if (
      ps.some((p) => p!.ndim !== 1 || p!.numel() !== C || p!.dtype !== scale.dtype) ||
      !isFloat(scale.dtype)
    )
      return undefined;
    // X must be of the parameters' dtype (opset 15 lets them differ).
    const xt = ctx.types.get(x);
    if (xt?.kind !== 'tensor' || xt.dtype !== scale.dtype) return undefined;
    const eps = typeof n.attrs.epsilon === 'number' ? n.attrs.epsilon : 1e-5;
    const [s, b, m, v] = ps.map((p) => p!.numbers());
    const mul = Float64Array.from({ length: C }, (_, c) => s![c]! / Math.sqrt(v![c]! + eps));
    const add = Float64Array.from({ length: C }, (_, c) => b![c]! - m![c]! * mul[c]!);
    return { mul, add, dtype: scale.dtype };
  }
  if (n.opType !== 'Mul' && n.opType !== 'Add' && n.opType !== 'Sub') return undefined;
  // Before opset 7 these ops broadcast by their own attributes.
  if (ctx.opset < 7 || n.inputs.length !== 2 || n.outputs.length !== 1) return undefined;
  const [a, b] = n.inputs as [string, string];
  const other = a === x && b !== x ? b : b === x && a !== x && n.opType !== 'Sub' ? a : undefined;
  const k = perChannel(ctx, other, rank);
  if (!k || !isFloat(k.dtype)) return undefined;
  if (n.opType === 'Mul') return { mul: k.v, dtype: k.dtype };
  return { add: n.opType === 'Add' ? k.v : k.v.map((t) => -t), dtype: k.dtype };
}

const rankOf = (ctx: Ctx, v: string) => {
  const t = ctx.types.get(v);
  return t?.kind === 'tensor' && t.shape ? t.shape.length : undefined;
};

/** Follows steps from value `x` (each the sole reader of the last), composing them onto `affine`. */
function chain(
  ctx: Ctx,
  uses: Map<string, number>,
  x: string,
  rank: number,
  removed: Set<object>,
  affine = new Affine(),
) {
  const nodes: Node[] = [];
  let v = x;
  for (;;) {
    const n = soleConsumer(ctx.g, uses, v);
    if (!n || removed.has(n)) break;
    const s = stepOf(ctx, n, v, rank);
    if (!s || !affine.apply(s)) break;
    nodes.push(n);
    v = n.outputs[0]!;
  }
  return { nodes, affine, out: v };
}

/** Rewrite 1: steps after a Conv fold into its weights and bias. */
function foldIntoConvs(ctx: Ctx, removed: Set<object>): number {
  const { g } = ctx;
  const uses = useCounts(g);
  let folded = 0;
  for (const conv of g.nodes) {
    if (conv.opType !== 'Conv' || conv.domain !== '' || removed.has(conv) || conv.outputs.length !== 1)
      continue;
    const w = constantOf(g, conv.inputs[1], ctx.allowInputs);
    const b = conv.inputs[2] ? constantOf(g, conv.inputs[2], ctx.allowInputs) : undefined;
    if (!w || !isFloat(w.dtype) || w.ndim < 3 || (conv.inputs[2] && !b)) continue;
    const M = w.shape[0]!;
    if (b && b.numel() !== M) continue;
    const { nodes, affine, out } = chain(ctx, uses, conv.outputs[0]!, w.ndim, removed);
    if (nodes.length === 0 || affine.dtype !== w.dtype || (affine.S.length !== 1 && affine.S.length !== M))
      continue;
    const at = (a: Float64Array, m: number) => a[a.length === 1 ? 0 : m]!;
    const wv = w.numbers();
    const per = wv.length / M;
    const w2 = new Float64Array(wv.length);
    for (let i = 0; i < wv.length; i++) w2[i] = wv[i]! * at(affine.S, Math.floor(i / per));
    const b0 = b?.numbers();
    const b2 = Float64Array.from({ length: M }, (_, m) => (b0?.[m] ?? 0) * at(affine.S, m) + at(affine.T, m));
    const wName = freshName(g, `${conv.inputs[1]}_affine`);
    g.initializers.set(wName, Tensor.fromData(fromNumbers(w.dtype, w2), [...w.shape], w.dtype));
    const bName = freshName(g, `${conv.name || conv.outputs[0]}_affine_bias`);
    g.initializers.set(bName, Tensor.fromData(fromNumbers(w.dtype, b2), [M], w.dtype));
    conv.inputs = [conv.inputs[0]!, wName, bName];
    conv.outputs = [out];
    for (const n of nodes) removed.add(n);
    folded++;
  }
  return folded;
}

/** Rewrite 2: other chains (two nodes or more, a trailing Relu included) become ChannelAffine. */
function fuseChains(ctx: Ctx, removed: Set<object>): number {
  const { g } = ctx;
  const uses = useCounts(g);
  let fused = 0;
  for (const first of g.nodes) {
    if (removed.has(first) || first.domain !== '') continue;
    // The chain's input: BatchNormalization's X, or the non-constant operand of Mul/Add/Sub.
    const x =
      first.opType === 'BatchNormalization'
        ? first.inputs[0]
        : first.inputs.find((i) => i && !constantOf(g, i, ctx.allowInputs));
    if (!x || first.inputs.length < 1) continue;
    const rank = rankOf(ctx, x);
    if (rank === undefined || rank < 2) continue;
    const s = stepOf(ctx, first, x, rank);
    if (!s) continue;
    const affine = new Affine();
    affine.apply(s);
    const rest = chain(ctx, uses, first.outputs[0]!, rank, removed, affine);
    const nodes = [first, ...rest.nodes];
    let out = rest.out;
    const relu = soleConsumer(g, uses, out);
    const withRelu =
      relu?.opType === 'Relu' && relu.domain === '' && !removed.has(relu) && relu.inputs[0] === out;
    if (nodes.length + (withRelu ? 1 : 0) < 2) continue;
    if (withRelu) out = relu!.outputs[0]!;
    const C = affine.S.length;
    const dtype = affine.dtype!;
    const sName = freshName(g, `${first.name || out}_channel_scale`);
    g.initializers.set(sName, Tensor.fromData(fromNumbers(dtype, affine.S), [C], dtype));
    const tName = freshName(g, `${first.name || out}_channel_shift`);
    g.initializers.set(tName, Tensor.fromData(fromNumbers(dtype, affine.T), [C], dtype));
    for (const n of nodes.slice(1)) removed.add(n);
    if (withRelu) removed.add(relu!);
    first.opType = 'ChannelAffine';
    first.domain = FUSED_DOMAIN;
    first.inputs = [x, sName, tName];
    first.outputs = [out];
    first.attrs = { axis: 1, activation: withRelu ? 'Relu' : '' };
    fused++;
  }
  return fused;
}

function fuseGraph(g: Graph, model: Model, ctx: PassContext, cpu: boolean, outer?: InferenceResult): number {
  const inferred = inferGraph(g, model.opsets, undefined, outer);
  let changes = 0;
  for (const n of g.nodes)
    for (const sub of subgraphsOf(n)) changes += fuseGraph(sub, model, ctx, cpu, inferred);
  const c: Ctx = {
    g,
    opset: model.opsets.get('') ?? 1,
    allowInputs: ctx.foldOverridableInputs ?? false,
    types: inferred.types,
  };
  const removed = new Set<object>();
  changes += foldIntoConvs(c, removed);
  if (cpu) {
    g.nodes = g.nodes.filter((n) => !removed.has(n));
    removed.clear();
    changes += fuseChains(c, removed);
  }
  g.nodes = g.nodes.filter((n) => !removed.has(n));
  return changes;
}

/** Folds per-channel affine chains into Convs, and (CPU sessions) the rest into ChannelAffine; returns how many. */
export function channelAffineFusion(model: Model, ctx: PassContext = {}): number {
  const cpu = ctx.device === undefined || ctx.device === 'cpu';
  const n = fuseGraph(model.graph, model, ctx, cpu);
  if (cpu && n) model.opsets.set(FUSED_DOMAIN, model.opsets.get(FUSED_DOMAIN) ?? 1);
  return n;
}
