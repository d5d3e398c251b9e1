/**
 * The gradient of Attention, written with MatMul, Softmax, Where, Transpose, ReduceSum... so it
 * runs on every backend and can itself be differentiated. It recomputes the forward pass with
 * those ops (scores, softcap, bias, safe softmax) and applies the chain rule backwards:
 *   Y = P V,  P = softmax(T) (0 on fully masked rows),  T = softcap(S) + bias + mask,
 *   S = (Q s)(K s)^T with s = sqrt(scale),  and K/V heads shared by groups of query heads.
 * Gradients reach Q, K, V, a float attn_mask, past_key and past_value, from Y and from the
 * present_key / present_value / qk_matmul_output outputs.
 */
import { full, int64s } from '../../runtime/creation.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, sumToShape } from '../helpers.js';
import { type Attrs, dispatch1, type GradContext, type OpInputs } from '../registry.js';
import { attentionBias, attentionGeometry, sqrtScale } from './attention-core.js';

const op = (name: string, ...xs: (Tensor | undefined)[]) => dispatch1(name, xs);
const add = (a: Tensor, b: Tensor) => op('Add', a, b);
const sub = (a: Tensor, b: Tensor) => op('Sub', a, b);
const mul = (a: Tensor, b: Tensor) => op('Mul', a, b);
const mm = (a: Tensor, b: Tensor) => op('MatMul', a, b);
const perm = (t: Tensor, p: number[]) => dispatch1('Transpose', [t], { perm: p });
const tr = (t: Tensor) => perm(t, [0, 1, 3, 2]);
const reshape = (t: Tensor, s: number[]) => op('Reshape', t, int64s(s));
const scalar = (v: number, like: Tensor) => full([], v, { dtype: like.dtype, device: like.device });
const slice = (t: Tensor, axis: number, start: number, end: number) =>
  op('Slice', t, int64s([start]), int64s([end]), int64s([axis]));
const addMaybe = (a: Tensor, b: Tensor | null | undefined) => (b ? add(a, b) : a);

/** [B, S, H*E] -> [B, H, S, E] (identity for 4-D inputs). */
function toHeads(t: Tensor, heads: number, is3d: boolean): Tensor {
  if (!is3d) return t;
  const [B, S, HE] = t.shape as [number, number, number];
  return perm(reshape(t, [B, S, heads, HE / heads]), [0, 2, 1, 3]);
}
/** [B, H, S, E] -> [B, S, H*E] (identity for 4-D). */
function fromHeads(t: Tensor, is3d: boolean): Tensor {
  if (!is3d) return t;
  const [B, H, S, E] = t.shape as [number, number, number, number];
  return reshape(perm(t, [0, 2, 1, 3]), [B, S, H * E]);
}
/** [B, Hkv, S, E] -> [B, Hkv*G, S, E], each KV head repeated for its G query heads. */
function repeatHeads(t: Tensor, G: number): Tensor {
  if (G === 1) return t;
  const [B, H, S, E] = t.shape as [number, number, number, number];
  const u = op('Unsqueeze', t, int64s([2]));
  return reshape(op('Expand', u, int64s([B, H, G, S, E])), [B, H * G, S, E]);
}
/** The adjoint of repeatHeads: sums each group of G query heads. */
function sumHeadGroups(t: Tensor, G: number): Tensor {
  if (G === 1) return t;
  const [B, HG, S, E] = t.shape as [number, number, number, number];
  const r = reshape(t, [B, HG / G, G, S, E]);
  return dispatch1('ReduceSum', [r, int64s([2])], { keepdims: 0 });
}

/** The forward pass as ops: every tensor the backward pass needs. */
export function attentionForwardOps(inputs: OpInputs, attrs: Attrs) {
  const g = attentionGeometry(inputs, attrs);
  const { is3d, B, Hq, Hkv, G, Sq, Stot, D } = g;
  const [q, k, v, mask, pastK, pastV] = inputs as Tensor[];
  const dt = q!.dtype;
  const q4 = toHeads(q!, Hq, is3d);
  const k4 = toHeads(k!, Hkv, is3d);
  const v4 = toHeads(v!, Hkv, is3d);
  const kp = pastK ? dispatch1('Concat', [pastK, k4], { axis: 2 }) : k4;
  const vp = pastV ? dispatch1('Concat', [pastV, v4], { axis: 2 }) : v4;
  const kx = repeatHeads(kp, G);
  const vx = repeatHeads(vp, G);
  const s = sqrtScale(attrs, D, dt);
  const sqT = scalar(s, q!);
  const qs = mul(q4, sqT);
  const ks = mul(kx, sqT);
  const S = mm(qs, tr(ks));
  const softcap = typeof attrs.softcap === 'number' ? attrs.softcap : 0;
  const capT = softcap > 0 ? scalar(softcap, q!) : null;
  const tanh = capT ? op('Tanh', op('Div', S, capT)) : null;
  const S2 = capT ? mul(tanh!, capT) : S;
  // Constant part of the bias (bool mask, causal, padding); a float mask is added as a tensor.
  const shape4 = [B, Hq, Sq, Stot];
  const constBias = Tensor.fromData(fromNumbers(dt, attentionBias(inputs, attrs, g, false)), shape4, dt);
  const floatMask = mask && mask.dtype !== 'bool' ? mask : null;
  let maskPadded: Tensor | null = null;
  if (floatMask) {
    const Lm = floatMask.shape[floatMask.ndim - 1]!;
    maskPadded =
      Lm === Stot
        ? floatMask
        : dispatch1(
            'Concat',
            [
              floatMask,
              full([...floatMask.shape.slice(0, -1), Stot - Lm], Number.NEGATIVE_INFINITY, { dtype: dt }),
            ],
            { axis: -1 },
          );
  }
  const T = addMaybe(add(S2, constBias), maskPadded);
  // Rows with every key masked: softmax on zeros there (no NaN), then zero probabilities.
  const full4 = attentionBias(inputs, attrs, g, true);
  const rows = new Uint8Array(B * Hq * Sq);
  for (let r = 0; r < rows.length; r++) {
    let all = true;
    for (let j = 0; j < Stot && all; j++) if (full4[r * Stot + j] !== Number.NEGATIVE_INFINITY) all = false;
    rows[r] = all ? 1 : 0;
  }
  const masked = Tensor.fromData(rows, [B, Hq, Sq, 1], 'bool');
  const zero = scalar(0, q!);
  const Tsafe = op('Where', masked, zero, T);
  const probs = op('Where', masked, zero, dispatch1('Softmax', [Tsafe], { axis: -1 }));
  const y4 = mm(probs, vx);
  return { g, q4, qs, ks, vx, S, S2, T, tanh, capT, sqT, probs, y4, maskPadded };
}

export function attentionGrad(ctx: GradContext, dys: (Tensor | null)[]): (Tensor | null)[] {
  const { inputs, attrs } = ctx;
  const [dY, dPK, dPV, dQK] = [dys[0] ?? null, dys[1] ?? null, dys[2] ?? null, dys[3] ?? null];
  const f = attentionForwardOps(inputs, attrs);
  const { is3d, Hq, G, Spast, Stot } = f.g;
  const mode = attrInt(attrs, 'qk_matmul_output_mode', 0);
  const P = f.probs;

  let dVx: Tensor | null = null;
  let dP: Tensor | null = null;
  if (dY) {
    const dY4 = toHeads(dY, Hq, is3d);
    dVx = mm(tr(P), dY4);
    dP = mm(dY4, tr(f.vx));
  }
  if (mode === 3 && dQK) dP = dP ? add(dP, dQK) : dQK;
  let dT: Tensor | null = null;
  if (dP) {
    const dot = dispatch1('ReduceSum', [mul(dP, P), int64s([-1])], { keepdims: 1 });
    dT = mul(P, sub(dP, dot));
  }
  if (mode === 2 && dQK) dT = dT ? add(dT, dQK) : dQK;
  let dMask: Tensor | null = null;
  const mask = inputs[3];
  if (dT && mask?.requiresGrad && f.maskPadded) {
    const Lm = mask.shape[mask.ndim - 1]!;
    const dm = sumToShape(dT, f.maskPadded.shape);
    dMask = Lm === Stot ? dm : slice(dm, -1, 0, Lm);
  }
  let dS2 = dT;
  if (mode === 1 && dQK) dS2 = dS2 ? add(dS2, dQK) : dQK;
  let dS: Tensor | null = dS2;
  if (dS && f.tanh) dS = mul(dS, sub(scalar(1, f.tanh), mul(f.tanh, f.tanh)));
  if (mode === 0 && dQK) dS = dS ? add(dS, dQK) : dQK;

  const [q, k, v, , pastK, pastV] = inputs;
  let dQ: Tensor | null = null;
  let dKp: Tensor | null = dPK;
  let dVp: Tensor | null = dPV;
  if (dS) {
    if (q!.requiresGrad) dQ = fromHeads(mul(mm(dS, f.ks), f.sqT), is3d);
    if (k!.requiresGrad || pastK?.requiresGrad) {
      const dKx = mul(mm(tr(dS), f.qs), f.sqT);
      dKp = addMaybe(sumHeadGroups(dKx, G), dPK);
    }
  }
  if (dVx) dVp = addMaybe(sumHeadGroups(dVx, G), dPV);
  const split = (
    d: Tensor | null,
    cur: Tensor | undefined,
    past: Tensor | undefined,
  ): [Tensor | null, Tensor | null] => {
    if (!d) return [null, null];
    if (!past) return [cur?.requiresGrad ? fromHeads(d, is3d) : null, null];
    return [
      cur?.requiresGrad ? fromHeads(slice(d, 2, Spast, Stot), is3d) : null,
      past.requiresGrad ? slice(d, 2, 0, Spast) : null,
    ];
  };
  const [dK, dPastK] = split(dKp, k, pastK);
  const [dV, dPastV] = split(dVp, v, pastV);
  return [dQ, dK, dV, dMask, dPastK, dPastV, null];
}
