/**
 * LinearAttention (opset 27): recurrent linear attention over a [Dk, Dv] state per batch and KV
 * head, one token at a time. query [B, T, Hq*Dk], key [B, T, Hkv*Dk], value [B, T, Hkv*Dv],
 * optional past_state [B, Hkv, Dk, Dv] (zeros when absent), decay [B, T, Hkv*Dk] or [B, T, Hkv]
 * (log-space: the state is scaled by exp(decay), per key row or per head), beta [B, T, Hkv] or
 * [B, T, 1]. update_rule:
 *   linear:      S += k v^T
 *   gated:       S = exp(decay) S + k v^T
 *   delta:       S += k (beta (v - S^T k))^T
 *   gated_delta: S = exp(decay) S, then the delta update (the default)
 * and each query head reads its KV head's state: out = scale * q^T S (scale 1/sqrt(Dk) by
 * default). Outputs [B, T, Hq*Dv] and present_state. Everything runs in float32, as the ONNX
 * function body does (every step rounded with Math.fround), whatever the input dtype.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrString, expectFloat, expectSameDType, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';

const OP = 'LinearAttention';
const RULES = ['linear', 'gated', 'delta', 'gated_delta'] as const;
type Rule = (typeof RULES)[number];
const f = Math.fround;
const fail = (msg: string, code: 'SHAPE_MISMATCH' | 'INVALID_ARGUMENT' = 'SHAPE_MISMATCH'): never => {
  throw new TesseraError(code, `${OP}: ${msg}`);
};

function linearAttentionKernel(inputs: OpInputs, attrs: Attrs): Tensor[] {
  const q = input(inputs, 0, OP);
  const k = input(inputs, 1, OP);
  const v = input(inputs, 2, OP);
  const [past, decay, beta] = [inputs[3], inputs[4], inputs[5]];
  expectFloat(OP, 'query', q);
  expectSameDType(OP, [q, k, v, past, decay, beta]);
  const rule = attrString(attrs, 'update_rule', 'gated_delta') as Rule;
  if (!RULES.includes(rule))
    fail(`update_rule must be one of ${RULES.join(', ')}, got '${rule}'`, 'INVALID_ARGUMENT');
  const gated = rule === 'gated' || rule === 'gated_delta';
  const delta = rule === 'delta' || rule === 'gated_delta';
  if (gated && !decay) fail(`update_rule '${rule}' needs the decay input`, 'INVALID_ARGUMENT');
  if (delta && !beta) fail(`update_rule '${rule}' needs the beta input`, 'INVALID_ARGUMENT');
  const Hq = attrInt(attrs, 'q_num_heads', 0);
  const Hkv = attrInt(attrs, 'kv_num_heads', 0);
  if (Hq <= 0 || Hkv <= 0 || Hq % Hkv !== 0) {
    fail(
      `q_num_heads (${Hq}) and kv_num_heads (${Hkv}) must be positive, q_num_heads a multiple of kv_num_heads`,
      'INVALID_ARGUMENT',
    );
  }
  for (const [name, t] of [
    ['query', q],
    ['key', k],
    ['value', v],
  ] as const) {
    if (t.ndim !== 3) fail(`${name} must have shape [batch, seq, hidden], got ${fmtShape(t.shape)}`);
  }
  const [B, T] = q.shape as [number, number];
  if (q.shape[2]! % Hq !== 0 || k.shape[2]! % Hkv !== 0 || v.shape[2]! % Hkv !== 0) {
    fail(
      `hidden sizes ${q.shape[2]}, ${k.shape[2]}, ${v.shape[2]} must divide by the head counts ${Hq}, ${Hkv}, ${Hkv}`,
    );
  }
  const Dk = q.shape[2]! / Hq;
  const Dv = v.shape[2]! / Hkv;
  if (k.shape[2]! / Hkv !== Dk) fail(`key head size ${k.shape[2]! / Hkv} differs from query head size ${Dk}`);
  for (const t of [k, v])
    if (t.shape[0] !== B || t.shape[1] !== T)
      fail(`key and value must have batch ${B} and length ${T}, got ${fmtShape(t.shape)}`);
  const G = Hq / Hkv;
  const stateShape = [B, Hkv, Dk, Dv];
  if (past && (past.ndim !== 4 || past.shape.some((d, i) => d !== stateShape[i]))) {
    fail(`past_state must have shape ${fmtShape(stateShape)}, got ${fmtShape(past.shape)}`);
  }
  // Per-token decay/beta widths: decay per key row (Hkv*Dk) or per head (Hkv); beta per head or shared.
  let decayPerRow = false;
  if (decay && gated) {
    const w = decay.shape[2];
    if (decay.ndim !== 3 || decay.shape[0] !== B || decay.shape[1] !== T || (w !== Hkv * Dk && w !== Hkv)) {
      fail(
        `decay must have shape [${B}, ${T}, ${Hkv * Dk}] or [${B}, ${T}, ${Hkv}], got ${fmtShape(decay.shape)}`,
      );
    }
    decayPerRow = w === Hkv * Dk && Dk !== 1;
  }
  let betaWidth = 1;
  if (beta && delta) {
    const w = beta.shape[2]!;
    if (beta.ndim !== 3 || beta.shape[0] !== B || beta.shape[1] !== T || (w !== Hkv && w !== 1)) {
      fail(`beta must have shape [${B}, ${T}, ${Hkv}] or [${B}, ${T}, 1], got ${fmtShape(beta.shape)}`);
    }
    betaWidth = w;
  }
  const s = attrs.scale;
  const scale = f(typeof s === 'number' && s !== 0 ? s : 1 / f(Math.sqrt(Dk)));
  const [qs, ks, vs] = [floats(q), floats(k), floats(v)];
  const ds = decay && gated ? floats(decay) : null;
  const bs = beta && delta ? floats(beta) : null;
  const state = past ? Float64Array.from(floats(past), f) : new Float64Array(B * Hkv * Dk * Dv);
  const out = new Float64Array(B * T * Hq * Dv);
  const retrieved = new Float64Array(Dv);
  for (let t = 0; t < T; t++)
    for (let b = 0; b < B; b++) {
      const tok = b * T + t;
      for (let h = 0; h < Hkv; h++) {
        const S = (b * Hkv + h) * Dk * Dv;
        const kb = tok * Hkv * Dk + h * Dk;
        const vb = tok * Hkv * Dv + h * Dv;
        if (ds) {
          for (let i = 0; i < Dk; i++) {
            const e = f(Math.exp(ds[decayPerRow ? kb + i : tok * Hkv + h]!));
            for (let j = 0; j < Dv; j++) state[S + i * Dv + j] = f(state[S + i * Dv + j]! * e);
          }
        }
        if (bs) {
          const bt = bs[tok * betaWidth + (betaWidth === 1 ? 0 : h)]!;
          retrieved.fill(0);
          for (let i = 0; i < Dk; i++)
            for (let j = 0; j < Dv; j++) retrieved[j]! += state[S + i * Dv + j]! * ks[kb + i]!;
          for (let j = 0; j < Dv; j++) retrieved[j] = f(bt * f(vs[vb + j]! - f(retrieved[j]!)));
        } else {
          for (let j = 0; j < Dv; j++) retrieved[j] = vs[vb + j]!;
        }
        // retrieved now holds the row written into the state: v, or the delta rule's correction.
        for (let i = 0; i < Dk; i++) {
          const ki = ks[kb + i]!;
          for (let j = 0; j < Dv; j++)
            state[S + i * Dv + j] = f(state[S + i * Dv + j]! + f(ki * retrieved[j]!));
        }
      }
      for (let h = 0; h < Hq; h++) {
        const S = (b * Hkv + Math.floor(h / G)) * Dk * Dv;
        const qb = tok * Hq * Dk + h * Dk;
        const ob = tok * Hq * Dv + h * Dv;
        for (let j = 0; j < Dv; j++) {
          let acc = 0;
          for (let i = 0; i < Dk; i++) acc += qs[qb + i]! * state[S + i * Dv + j]!;
          out[ob + j] = f(scale * f(acc));
        }
      }
    }
  return [
    Tensor.fromData(fromNumbers(q.dtype, out), [B, T, Hq * Dv], q.dtype),
    Tensor.fromData(fromNumbers(q.dtype, state), stateShape, q.dtype),
  ];
}

registerOp({
  name: OP,
  since: 27,
  minInputs: 3,
  maxInputs: 6,
  defaults: { update_rule: 'gated_delta' },
  kernels: { cpu: linearAttentionKernel },
});
