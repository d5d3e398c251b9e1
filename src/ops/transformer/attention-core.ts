/**
 * Shared pieces of Attention's kernel and gradient: input validation and sizes, reading heads,
 * the additive bias (mask, causal, padding) and the scale as the ONNX function body computes it.
 */
import { type DType, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import type { Attrs, OpInputs } from '../registry.js';
import { rounderFor } from './precision.js';

export interface AttentionGeometry {
  is3d: boolean;
  B: number;
  Hq: number;
  Hkv: number;
  /** Query heads per KV head. */
  G: number;
  Sq: number;
  /** New keys/values in this call, past (cache) length, and their sum. */
  Skv: number;
  Spast: number;
  Stot: number;
  D: number;
  Dv: number;
}

const fail = (code: 'INVALID_ARGUMENT' | 'SHAPE_MISMATCH' | 'DTYPE_MISMATCH', msg: string): never => {
  throw new TesseraError(code, `Attention: ${msg}`);
};

/** Validates Q/K/V/past/mask shapes and dtypes and returns the problem's sizes. */
export function attentionGeometry(inputs: OpInputs, attrs: Attrs): AttentionGeometry {
  const q = input(inputs, 0, 'Attention');
  const k = input(inputs, 1, 'Attention');
  const v = input(inputs, 2, 'Attention');
  const [mask, pastK, pastV, nonpad] = [inputs[3], inputs[4], inputs[5], inputs[6]];
  if (!isFloat(q.dtype)) fail('DTYPE_MISMATCH', `Q must be a float tensor, got ${q.dtype}`);
  for (const [name, t] of [
    ['K', k],
    ['V', v],
    ['past_key', pastK],
    ['past_value', pastV],
  ] as const) {
    if (t && t.dtype !== q.dtype)
      fail('DTYPE_MISMATCH', `${name} must have Q's dtype ${q.dtype}, got ${t.dtype}`);
  }
  if (q.ndim !== 3 && q.ndim !== 4)
    fail('SHAPE_MISMATCH', `Q must have rank 3 or 4, got ${fmtShape(q.shape)}`);
  if (k.ndim !== q.ndim || v.ndim !== q.ndim) {
    fail(
      'SHAPE_MISMATCH',
      `Q, K and V must have the same rank, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`,
    );
  }
  const is3d = q.ndim === 3;
  let Hq: number;
  let Hkv: number;
  let D: number;
  let Dv: number;
  let Sq: number;
  let Skv: number;
  if (is3d) {
    const qh = attrs.q_num_heads;
    const kvh = attrs.kv_num_heads;
    if (typeof qh !== 'number' || typeof kvh !== 'number' || qh <= 0 || kvh <= 0) {
      fail('INVALID_ARGUMENT', 'q_num_heads and kv_num_heads (positive ints) are required for 3-D inputs');
    }
    Hq = qh as number;
    Hkv = kvh as number;
    for (const [name, t, h] of [
      ['Q', q, Hq],
      ['K', k, Hkv],
      ['V', v, Hkv],
    ] as const) {
      if (t.shape[2]! % h !== 0) {
        fail('SHAPE_MISMATCH', `${name} hidden size ${t.shape[2]} is not divisible by its ${h} heads`);
      }
    }
    D = q.shape[2]! / Hq;
    Dv = v.shape[2]! / Hkv;
    Sq = q.shape[1]!;
    Skv = k.shape[1]!;
    if (k.shape[2]! / Hkv !== D) {
      fail('SHAPE_MISMATCH', `K head size ${k.shape[2]! / Hkv} differs from Q head size ${D}`);
    }
    if (v.shape[1] !== Skv)
      fail('SHAPE_MISMATCH', `K and V sequence lengths differ: ${Skv} vs ${v.shape[1]}`);
  } else {
    Hq = q.shape[1]!;
    Hkv = k.shape[1]!;
    D = q.shape[3]!;
    Dv = v.shape[3]!;
    Sq = q.shape[2]!;
    Skv = k.shape[2]!;
    if (k.shape[3] !== D) fail('SHAPE_MISMATCH', `K head size ${k.shape[3]} differs from Q head size ${D}`);
    if (v.shape[1] !== Hkv || v.shape[2] !== Skv) {
      fail(
        'SHAPE_MISMATCH',
        `V shape ${fmtShape(v.shape)} does not match K shape ${fmtShape(k.shape)} in heads and sequence`,
      );
    }
  }
  const B = q.shape[0]!;
  if (k.shape[0] !== B || v.shape[0] !== B) {
    fail('SHAPE_MISMATCH', `batch sizes differ: Q ${B}, K ${k.shape[0]}, V ${v.shape[0]}`);
  }
  if (Hkv === 0 || Hq % Hkv !== 0) {
    fail('SHAPE_MISMATCH', `q_num_heads ${Hq} must be a multiple of kv_num_heads ${Hkv}`);
  }
  if (!pastK !== !pastV) fail('INVALID_ARGUMENT', 'past_key and past_value must be given together');
  let Spast = 0;
  if (pastK && pastV) {
    Spast = pastK.shape[2] ?? -1;
    const wantK = [B, Hkv, Spast, D];
    const wantV = [B, Hkv, Spast, Dv];
    if (pastK.ndim !== 4 || pastK.shape.some((d, i) => d !== wantK[i])) {
      fail('SHAPE_MISMATCH', `past_key must have shape ${fmtShape(wantK)}, got ${fmtShape(pastK.shape)}`);
    }
    if (pastV.ndim !== 4 || pastV.shape.some((d, i) => d !== wantV[i])) {
      fail('SHAPE_MISMATCH', `past_value must have shape ${fmtShape(wantV)}, got ${fmtShape(pastV.shape)}`);
    }
  }
  const Stot = Spast + Skv;
  if (mask) {
    if (mask.dtype !== 'bool' && mask.dtype !== q.dtype) {
      fail('DTYPE_MISMATCH', `attn_mask must be bool or Q's dtype ${q.dtype}, got ${mask.dtype}`);
    }
    const target = [B, Hq, Sq, Stot];
    const r = mask.ndim;
    if (r < 2 || r > 4 || mask.shape[r - 1]! > Stot) {
      fail(
        'SHAPE_MISMATCH',
        `attn_mask of shape ${fmtShape(mask.shape)} does not broadcast to ${fmtShape(target)}`,
      );
    }
    for (let i = 0; i < r - 1; i++) {
      const d = mask.shape[i]!;
      const t = target[4 - r + i]!;
      if (d !== 1 && d !== t) {
        fail(
          'SHAPE_MISMATCH',
          `attn_mask of shape ${fmtShape(mask.shape)} does not broadcast to ${fmtShape(target)}`,
        );
      }
    }
  }
  if (nonpad) {
    if (nonpad.dtype !== 'int64')
      fail('DTYPE_MISMATCH', `nonpad_kv_seqlen must be int64, got ${nonpad.dtype}`);
    if (nonpad.ndim !== 1 || nonpad.shape[0] !== B) {
      fail('SHAPE_MISMATCH', `nonpad_kv_seqlen must have shape [${B}], got ${fmtShape(nonpad.shape)}`);
    }
  }
  return { is3d, B, Hq, Hkv, G: Hq / Hkv, Sq, Skv, Spast, Stot, D, Dv };
}

/** The elements of a 3-D [B, S, H*E] or 4-D [B, H, S, E] tensor in [B, H, S, E] order. */
export function headsMajor(t: Tensor, heads: number, is3d: boolean): ArrayLike<number> {
  const src = floats(t);
  if (!is3d) return src;
  const [B, S, HE] = t.shape as [number, number, number];
  const E = HE / heads;
  const out = new Float64Array(src.length);
  let o = 0;
  for (let b = 0; b < B; b++)
    for (let h = 0; h < heads; h++)
      for (let s = 0; s < S; s++) {
        const base = (b * S + s) * HE + h * E;
        for (let e = 0; e < E; e++) out[o++] = src[base + e]!;
      }
  return out;
}

/** past (if any) then new along the sequence axis: [B, H, Spast + Snew, E]. */
export function withCache(
  past: ArrayLike<number> | null,
  cur: ArrayLike<number>,
  B: number,
  H: number,
  Sp: number,
  Sn: number,
  E: number,
): Float64Array {
  const out = new Float64Array(B * H * (Sp + Sn) * E);
  let o = 0;
  for (let bh = 0; bh < B * H; bh++) {
    for (let i = 0; i < Sp * E; i++) out[o++] = past![bh * Sp * E + i]!;
    for (let i = 0; i < Sn * E; i++) out[o++] = cur[bh * Sn * E + i]!;
  }
  return out;
}

/**
 * The additive bias of every (b, h, i, j) as a dense [B, Hq, Sq, Stot] array: the attn_mask
 * (bool -> 0 / -inf; float as is; -inf past its last column), the causal mask and the
 * nonpad_kv_seqlen padding mask. `withFloatMask` false leaves a float mask out (the gradient
 * adds it with ops so it gets a gradient).
 */
export function attentionBias(
  inputs: OpInputs,
  attrs: Attrs,
  g: AttentionGeometry,
  withFloatMask = true,
): Float64Array {
  const { B, Hq, Sq, Stot, Spast } = g;
  const mask = inputs[3];
  const nonpad = inputs[6] ? Array.from(inputs[6].numbers()) : null;
  const causal = attrInt(attrs, 'is_causal', 0) !== 0;
  const out = new Float64Array(B * Hq * Sq * Stot);
  const useMask = mask && (withFloatMask || mask.dtype === 'bool');
  const mv = useMask ? floats(mask) : null;
  const isBool = mask?.dtype === 'bool';
  // Broadcast strides of the mask over [B, Hq, Sq, Lm] (0 on size-1 and missing dims).
  const ms = [0, 0, 0, 0];
  let Lm = 0;
  if (mask && mv) {
    const r = mask.ndim;
    Lm = mask.shape[r - 1]!;
    let acc = 1;
    for (let i = r - 1; i >= 0; i--) {
      ms[4 - r + i] = mask.shape[i] === 1 && i !== r - 1 ? 0 : acc;
      acc *= mask.shape[i]!;
    }
  }
  let o = 0;
  for (let b = 0; b < B; b++) {
    const offset = inputs[4] ? Spast : nonpad ? nonpad[b]! - Sq : 0;
    const valid = nonpad ? nonpad[b]! : Stot;
    for (let h = 0; h < Hq; h++)
      for (let i = 0; i < Sq; i++) {
        const mrow = b * ms[0]! + h * ms[1]! + i * ms[2]!;
        for (let j = 0; j < Stot; j++) {
          let bias = 0;
          if (mv) {
            if (j >= Lm) bias = Number.NEGATIVE_INFINITY;
            else {
              const m = mv[mrow + j * ms[3]!]!;
              bias = isBool ? (m !== 0 ? 0 : Number.NEGATIVE_INFINITY) : m;
            }
          }
          if (causal && i + offset < j) bias += Number.NEGATIVE_INFINITY;
          if (j >= valid) bias += Number.NEGATIVE_INFINITY;
          out[o++] = bias;
        }
      }
  }
  return out;
}

/**
 * The square root of the scale (default 1/sqrt(D)) that multiplies Q and K. The function body
 * computes it in float32 and casts it to the input dtype; float64 inputs keep full precision, as
 * the reference implementation computes it.
 */
export function sqrtScale(attrs: Attrs, D: number, dtype: DType): number {
  const s = attrs.scale;
  if (dtype === 'float64') return Math.sqrt(typeof s === 'number' ? s : 1 / Math.sqrt(D));
  const scale = typeof s === 'number' ? Math.fround(s) : Math.fround(1 / Math.fround(Math.sqrt(D)));
  return rounderFor(dtype)(Math.fround(Math.sqrt(scale)));
}
