/**
 * ai.onnx.preview::FlexAttention (version 1): scaled dot-product attention over 4-D Q [B, Hq, L,
 * E], K [B, Hkv, S, E], V [B, Hkv, S, Ev] (grouped heads: query head h reads KV head
 * h / (Hq / Hkv)) with two optional subgraphs: score_mod rewrites the [B, Hq, L, S] scores before
 * the softmax, prob_mod the probabilities after it. As the function body: the scale's square
 * root multiplies Q and K in their dtype; scores, softmax and the product with V run in
 * softmax_precision (float32 for 16-bit inputs, else the input dtype); Y is cast back.
 * The subgraphs need the graph executor, so eager calls work without them only.
 */
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { isTensorValue } from '../../runtime/graph.js';
import { fmtShape, sameShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';
import { graphAttr, subgraphRuntime } from '../control/runtime.js';
import { expectFloat, expectSameDType, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, type KernelContext, type OpInputs, registerOp } from '../registry.js';
import { sqrtScale } from './attention-core.js';
import { rounderFor } from './precision.js';

const OP = 'FlexAttention';
const fail = (msg: string): never => {
  throw new TesseraError('SHAPE_MISMATCH', `${OP}: ${msg}`);
};

/** Runs the graph attribute `name` on `t` and checks it returns one tensor of t's shape. */
function applyMod(name: string, t: Tensor, attrs: Attrs, ctx: KernelContext): Tensor {
  const out = subgraphRuntime(ctx).runSubgraph(graphAttr(attrs, name, OP), [t], `${OP} ${name}`);
  const r = out[0];
  if (out.length !== 1 || !isTensorValue(r))
    fail(`${name} must return one tensor, got ${out.length} outputs`);
  const y = r as Tensor;
  if (!sameShape(y.shape, t.shape))
    fail(`${name} must keep the shape ${fmtShape(t.shape)}, got ${fmtShape(y.shape)}`);
  return y;
}

function flexKernel(inputs: OpInputs, attrs: Attrs, ctx: KernelContext): Tensor[] {
  const q = input(inputs, 0, OP);
  const k = input(inputs, 1, OP);
  const v = input(inputs, 2, OP);
  expectFloat(OP, 'Q', q);
  expectSameDType(OP, [q, k, v]);
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) {
    fail(`Q, K and V must have rank 4, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const [B, Hq, L, E] = q.shape as [number, number, number, number];
  const [, Hkv, S] = k.shape as [number, number, number, number];
  const Ev = v.shape[3]!;
  if (k.shape[0] !== B || v.shape[0] !== B || k.shape[3] !== E || v.shape[1] !== Hkv || v.shape[2] !== S) {
    fail(`K ${fmtShape(k.shape)} and V ${fmtShape(v.shape)} do not match Q ${fmtShape(q.shape)}`);
  }
  if (Hkv === 0 || Hq % Hkv !== 0) fail(`q_num_heads ${Hq} must be a multiple of kv_num_heads ${Hkv}`);
  const G = Hq / Hkv;
  const dt = q.dtype;
  const sp = attrs.softmax_precision;
  const pd = typeof sp === 'number' ? ONNX_DTYPE[sp] : dt === 'float16' || dt === 'bfloat16' ? 'float32' : dt;
  if (!pd || !isFloat(pd)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: softmax_precision must name a float type, got ${String(sp)}`,
    );
  }
  const rT = rounderFor(dt);
  const rP = rounderFor(pd);
  const s = sqrtScale(attrs, E, dt);
  const qs = Float64Array.from(floats(q), (x) => rT(x * s));
  const ks = Float64Array.from(floats(k), (x) => rT(x * s));
  const vs = floats(v);
  const scores = new Float64Array(B * Hq * L * S);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const kBase = (b * Hkv + Math.floor(h / G)) * S * E;
      for (let i = 0; i < L; i++) {
        const qBase = ((b * Hq + h) * L + i) * E;
        const o = ((b * Hq + h) * L + i) * S;
        for (let j = 0; j < S; j++) {
          let acc = 0;
          for (let e = 0; e < E; e++) acc += qs[qBase + e]! * ks[kBase + j * E + e]!;
          scores[o + j] = rP(rT(acc));
        }
      }
    }
  const shape = [B, Hq, L, S];
  let sc: ArrayLike<number> = scores;
  if (attrs.score_mod !== undefined) {
    sc = floats(applyMod('score_mod', Tensor.fromData(fromNumbers(pd, scores), shape, pd), attrs, ctx));
  }
  const probs = new Float64Array(scores.length);
  for (let r = 0; r < B * Hq * L; r++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let j = 0; j < S; j++) {
      const x = sc[r * S + j]!;
      if (x > m || Number.isNaN(x)) m = x;
    }
    let sum = 0;
    for (let j = 0; j < S; j++) sum += probs[r * S + j] = Math.exp(sc[r * S + j]! - m);
    for (let j = 0; j < S; j++) probs[r * S + j] = rP(probs[r * S + j]! / sum);
  }
  let pr: ArrayLike<number> = probs;
  if (attrs.prob_mod !== undefined) {
    pr = floats(applyMod('prob_mod', Tensor.fromData(fromNumbers(pd, probs), shape, pd), attrs, ctx));
  }
  const y = new Float64Array(B * Hq * L * Ev);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const vBase = (b * Hkv + Math.floor(h / G)) * S * Ev;
      for (let i = 0; i < L; i++) {
        const r = (b * Hq + h) * L + i;
        for (let j = 0; j < S; j++) {
          const p = pr[r * S + j]!;
          if (p === 0) continue;
          for (let e = 0; e < Ev; e++) y[r * Ev + e]! += p * vs[vBase + j * Ev + e]!;
        }
        for (let e = 0; e < Ev; e++) y[r * Ev + e] = rP(y[r * Ev + e]!);
      }
    }
  return [Tensor.fromData(fromNumbers(dt, y), [B, Hq, L, Ev], dt)];
}

registerOp({
  name: OP,
  domain: 'ai.onnx.preview',
  since: 1,
  minInputs: 3,
  maxInputs: 3,
  kernels: { cpu: flexKernel },
});
