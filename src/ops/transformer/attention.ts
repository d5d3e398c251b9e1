/**
 * Attention (opset 23; opset 24 adds the nonpad_kv_seqlen input): scaled dot-product attention
 * over 4-D [batch, heads, seq, head_size] or 3-D [batch, seq, heads * head_size] inputs, with
 * grouped-query heads, a KV cache (past_key/past_value -> present_key/present_value), a bool or
 * additive float mask (shorter masks are padded with -inf up to the total KV length), causal
 * masking aligned to the cache (offset = past length, or nonpad_kv_seqlen - q_len), softcap,
 * softmax_precision and the four qk_matmul_output modes. Rows whose bias masks every key output
 * zeros (not NaN), as the ONNX function body does.
 *
 * The CPU kernel computes in float64 and rounds where the function body stores an intermediate in
 * the input's dtype. The gradient is written with MatMul/Softmax/Where/... ops (attention-grad.ts).
 */
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';
import { attrInt } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';
import { attentionBias, attentionGeometry, headsMajor, sqrtScale, withCache } from './attention-core.js';
import { attentionGrad } from './attention-grad.js';
import { rounderFor } from './precision.js';

function softmaxDtype(attrs: Attrs, fallback: Tensor['dtype']): Tensor['dtype'] {
  const p = attrs.softmax_precision;
  if (p === undefined) return fallback;
  const d = typeof p === 'number' ? ONNX_DTYPE[p] : undefined;
  if (!d || !isFloat(d)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Attention: softmax_precision must name a float type (1, 10, 11 or 16), got ${String(p)}`,
    );
  }
  return d;
}

function attentionKernel(inputs: OpInputs, attrs: Attrs): Tensor[] {
  const g = attentionGeometry(inputs, attrs);
  const { is3d, B, Hq, Hkv, G, Sq, Skv, Spast, Stot, D, Dv } = g;
  const q = inputs[0]!;
  const dt = q.dtype;
  const rT = rounderFor(dt);
  const rP = rounderFor(softmaxDtype(attrs, dt));
  const mode = attrInt(attrs, 'qk_matmul_output_mode', 0);
  if (mode < 0 || mode > 3) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Attention: qk_matmul_output_mode must be 0, 1, 2 or 3, got ${mode}`,
    );
  }
  const softcap = typeof attrs.softcap === 'number' ? attrs.softcap : 0;
  const c = rT(Math.fround(softcap));

  const qv = headsMajor(q, Hq, is3d);
  const pk = inputs[4] ? floats(inputs[4]) : null;
  const pv = inputs[5] ? floats(inputs[5]) : null;
  const kAll = withCache(pk, headsMajor(inputs[1]!, Hkv, is3d), B, Hkv, Spast, Skv, D);
  const vAll = withCache(pv, headsMajor(inputs[2]!, Hkv, is3d), B, Hkv, Spast, Skv, Dv);
  const bias = attentionBias(inputs, attrs, g);

  const sq = sqrtScale(attrs, D, dt);
  const qs = Float64Array.from(qv, (x) => rT(x * sq));
  const ks = Float64Array.from(kAll, (x) => rT(x * sq));
  const y = new Float64Array(B * Hq * Sq * Dv);
  const qk = new Float64Array(B * Hq * Sq * Stot);
  const row = new Float64Array(Stot);
  const p = new Float64Array(Stot);
  for (let b = 0; b < B; b++)
    for (let h = 0; h < Hq; h++) {
      const kvh = Math.floor(h / G);
      const kBase = (b * Hkv + kvh) * Stot * D;
      const vBase = (b * Hkv + kvh) * Stot * Dv;
      for (let i = 0; i < Sq; i++) {
        const r = (b * Hq + h) * Sq + i;
        const qBase = r * D;
        const bBase = r * Stot;
        let allMasked = true;
        for (let j = 0; j < Stot; j++) {
          let s = 0;
          for (let d = 0; d < D; d++) s += qs[qBase + d]! * ks[kBase + j * D + d]!;
          s = rT(s);
          const capped = softcap > 0 ? rT(rT(Math.tanh(rT(s / c))) * c) : s;
          const bj = rT(bias[bBase + j]!);
          if (bj !== Number.NEGATIVE_INFINITY) allMasked = false;
          row[j] = rT(capped + bj);
          if (mode === 0) qk[bBase + j] = s;
          else if (mode === 1) qk[bBase + j] = capped;
          else if (mode === 2) qk[bBase + j] = row[j]!;
        }
        // Softmax in the softmax_precision type, max-shifted; fully masked rows give zeros.
        let m = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < Stot; j++) {
          row[j] = rP(row[j]!);
          if (row[j]! > m || Number.isNaN(row[j]!)) m = row[j]!;
        }
        let sum = 0;
        for (let j = 0; j < Stot; j++) {
          p[j] = Math.exp(row[j]! - m);
          sum += p[j]!;
        }
        for (let j = 0; j < Stot; j++) p[j] = allMasked ? 0 : rT(rP(p[j]! / sum));
        if (mode === 3) for (let j = 0; j < Stot; j++) qk[bBase + j] = p[j]!;
        const yBase = r * Dv;
        for (let j = 0; j < Stot; j++) {
          const pj = p[j]!;
          if (pj === 0) continue;
          for (let e = 0; e < Dv; e++) y[yBase + e]! += pj * vAll[vBase + j * Dv + e]!;
        }
      }
    }
  let yOut: Float64Array = y;
  if (is3d) {
    // [B, Hq, Sq, Dv] -> [B, Sq, Hq * Dv]
    yOut = new Float64Array(y.length);
    let o = 0;
    for (let b = 0; b < B; b++)
      for (let i = 0; i < Sq; i++)
        for (let h = 0; h < Hq; h++) {
          const base = ((b * Hq + h) * Sq + i) * Dv;
          for (let e = 0; e < Dv; e++) yOut[o++] = y[base + e]!;
        }
  }
  const make = (vals: Float64Array, shape: number[]) => Tensor.fromData(fromNumbers(dt, vals), shape, dt);
  return [
    make(yOut, is3d ? [B, Sq, Hq * Dv] : [B, Hq, Sq, Dv]),
    make(kAll, [B, Hkv, Stot, D]),
    make(vAll, [B, Hkv, Stot, Dv]),
    make(qk, [B, Hq, Sq, Stot]),
  ];
}

for (const since of [23, 24]) {
  registerOp({
    name: 'Attention',
    since,
    minInputs: 3,
    maxInputs: since >= 24 ? 7 : 6,
    defaults: { is_causal: 0, qk_matmul_output_mode: 0, softcap: 0 },
    kernels: { cpu: attentionKernel },
    grad: attentionGrad,
  });
}
