/**
 * Gradients of RNN, GRU and LSTM: the forward pass is rebuilt from registry ops (MatMul, Slice,
 * activations, ReverseSequence for the reverse direction, masks for sequence_lens) on detached
 * copies of the inputs, and autograd runs back through it. First-order only: the returned
 * gradients are not themselves recorded against the op's inputs.
 */
import { backward, enableGrad } from '../../runtime/autograd.js';
import { int64s, scalar } from '../../runtime/creation.js';
import { fromNumbers } from '../../runtime/dtype.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt } from '../helpers.js';
import { type Attrs, dispatch1, type GradContext } from '../registry.js';
import { type ActivationSpec, activationsOf } from './activations.js';
import type { Kind } from './recurrent.js';

const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Record<Kind, string[]> = {
  RNN: ['Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
};

const add = (a: Tensor, b: Tensor) => dispatch1('Add', [a, b]);
const sub = (a: Tensor, b: Tensor) => dispatch1('Sub', [a, b]);
const mul = (a: Tensor, b: Tensor) => dispatch1('Mul', [a, b]);
const matmul = (a: Tensor, b: Tensor) => dispatch1('MatMul', [a, b]);
const sc = (v: number, like: Tensor) => scalar(v, like.dtype);
/** t[..., lo:hi] along `axis`. */
const slice = (t: Tensor, lo: number, hi: number, axis: number) =>
  dispatch1('Slice', [t, int64s([lo]), int64s([hi]), int64s([axis])]);
const squeeze0 = (t: Tensor) => dispatch1('Squeeze', [t, int64s([0])]);
const unsqueeze0 = (t: Tensor) => dispatch1('Unsqueeze', [t, int64s([0])]);

function activate(a: ActivationSpec, x: Tensor): Tensor {
  switch (a.name) {
    case 'relu':
      return dispatch1('Relu', [x]);
    case 'tanh':
      return dispatch1('Tanh', [x]);
    case 'sigmoid':
      return dispatch1('Sigmoid', [x]);
    case 'affine':
      return add(mul(x, sc(a.alpha, x)), sc(a.beta, x));
    case 'scaledtanh':
      return mul(dispatch1('Tanh', [mul(x, sc(a.beta, x))]), sc(a.alpha, x));
    case 'leakyrelu':
      return dispatch1('LeakyRelu', [x], { alpha: a.alpha });
    case 'thresholdedrelu':
      return dispatch1('ThresholdedRelu', [x], { alpha: a.alpha });
    case 'hardsigmoid':
      return dispatch1('HardSigmoid', [x], { alpha: a.alpha, beta: a.beta });
    case 'elu':
      return dispatch1('Elu', [x], { alpha: a.alpha });
    case 'softsign':
      return dispatch1('Softsign', [x]);
    default:
      return dispatch1('Softplus', [x]);
  }
}

/** The op's forward pass from registry ops (inputs as the op takes them). Returns [Y, Y_h, (Y_c)]. */
export function composedRecurrent(
  kind: Kind,
  inputs: readonly (Tensor | undefined)[],
  attrs: Attrs,
): Tensor[] {
  const layout = attrInt(attrs, 'layout', 0);
  const direction = (attrs.direction as string | undefined) ?? 'forward';
  const dirs = direction === 'bidirectional' ? 2 : 1;
  let X = inputs[0]!;
  if (layout === 1) X = dispatch1('Transpose', [X], { perm: [1, 0, 2] });
  const [seq, batch] = X.shape as [number, number];
  const W = inputs[1]!;
  const R = inputs[2]!;
  const G = GATES[kind];
  const H = R.shape[2]!;
  const stateT = (t: Tensor | undefined) =>
    t && layout === 1 ? dispatch1('Transpose', [t], { perm: [1, 0, 2] }) : t;
  const h0all = stateT(inputs[5]);
  const c0all = kind === 'LSTM' ? stateT(inputs[6]) : undefined;
  const lens = inputs[4] ? Array.from(inputs[4].numbers()) : new Array<number>(batch).fill(seq);
  const lensT = int64s(lens);
  const masks = inputs[4]
    ? Array.from({ length: seq }, (_, t) =>
        Tensor.fromData(
          fromNumbers(
            X.dtype,
            lens.map((l) => (t < l ? 1 : 0)),
          ),
          [batch, 1],
          X.dtype,
        ),
      )
    : undefined;
  const acts = activationsOf(
    kind,
    attrs.activations as string[] | undefined,
    attrs.activation_alpha as number[] | undefined,
    attrs.activation_beta as number[] | undefined,
    DEFAULT_ACTS[kind],
    dirs,
  );
  const nAct = DEFAULT_ACTS[kind].length;
  const clipV = attrs.clip === undefined ? undefined : Number(attrs.clip);
  const clip = (t: Tensor) => (clipV === undefined ? t : dispatch1('Clip', [t, sc(-clipV, t), sc(clipV, t)]));
  const lbr = attrInt(attrs, 'linear_before_reset', 0) !== 0;
  const inputForget = attrInt(attrs, 'input_forget', 0) !== 0;
  const zeros = Tensor.fromData(fromNumbers(X.dtype, new Array(batch * H).fill(0)), [batch, H], X.dtype);

  const Ys: Tensor[] = [];
  const Hs: Tensor[] = [];
  const Cs: Tensor[] = [];
  for (let d = 0; d < dirs; d++) {
    const reverse = direction === 'reverse' || d === 1;
    const [f, g, hAct] = acts.slice(d * nAct, (d + 1) * nAct) as [
      ActivationSpec,
      ActivationSpec,
      ActivationSpec,
    ];
    const WT = dispatch1('Transpose', [squeeze0(slice(W, d, d + 1, 0))], { perm: [1, 0] }); // [I, G*H]
    const RT = dispatch1('Transpose', [squeeze0(slice(R, d, d + 1, 0))], { perm: [1, 0] }); // [H, G*H]
    const B = inputs[3] ? squeeze0(slice(inputs[3], d, d + 1, 0)) : undefined;
    const Wb = B ? slice(B, 0, G * H, 0) : undefined;
    const Rb = B ? slice(B, G * H, 2 * G * H, 0) : undefined;
    const P = inputs[7] && kind === 'LSTM' ? squeeze0(slice(inputs[7], d, d + 1, 0)) : undefined;
    const gate = (t: Tensor, k: number) => slice(t, k * H, (k + 1) * H, 1);
    const peep = (k: number, c: Tensor) => (P ? mul(slice(P, k * H, (k + 1) * H, 0), c) : undefined);
    const plus = (...ts: (Tensor | undefined)[]) => ts.filter((t): t is Tensor => !!t).reduce(add);
    const Xd = reverse ? dispatch1('ReverseSequence', [X, lensT], { batch_axis: 1, time_axis: 0 }) : X;
    let XW = matmul(Xd, WT); // [seq, batch, G*H]
    if (Wb) XW = add(XW, Wb);
    let h = h0all ? squeeze0(slice(h0all, d, d + 1, 0)) : zeros;
    let c = c0all ? squeeze0(slice(c0all, d, d + 1, 0)) : zeros;
    const ys: Tensor[] = [];
    for (let t = 0; t < seq; t++) {
      const xw = squeeze0(slice(XW, t, t + 1, 0));
      let hr = matmul(h, RT);
      if (Rb) hr = add(hr, Rb);
      let hNew: Tensor;
      let cNew = c;
      if (kind === 'RNN') hNew = activate(f, clip(add(xw, hr)));
      else if (kind === 'GRU') {
        const z = activate(f, clip(add(gate(xw, 0), gate(hr, 0))));
        const r = activate(f, clip(add(gate(xw, 1), gate(hr, 1))));
        let pre: Tensor;
        if (lbr) pre = add(gate(xw, 2), mul(r, gate(hr, 2)));
        else {
          pre = add(gate(xw, 2), matmul(mul(r, h), slice(RT, 2 * H, 3 * H, 1)));
          if (Rb) pre = add(pre, slice(Rb, 2 * H, 3 * H, 0));
        }
        const ht = activate(g, clip(pre));
        hNew = add(ht, mul(z, sub(h, ht)));
      } else {
        const i = activate(f, clip(plus(gate(xw, 0), gate(hr, 0), peep(0, c))));
        const fg = inputForget
          ? sub(sc(1, i), i)
          : activate(f, clip(plus(gate(xw, 2), gate(hr, 2), peep(2, c))));
        const ct = activate(g, clip(add(gate(xw, 3), gate(hr, 3))));
        cNew = add(mul(fg, c), mul(i, ct));
        const o = activate(f, clip(plus(gate(xw, 1), gate(hr, 1), peep(1, cNew))));
        hNew = mul(o, activate(hAct, cNew));
      }
      let y = hNew;
      if (masks) {
        const m = masks[t]!;
        const keep = sub(sc(1, m), m);
        hNew = add(mul(m, hNew), mul(keep, h));
        if (kind === 'LSTM') cNew = add(mul(m, cNew), mul(keep, c));
        y = mul(m, y);
      }
      ys.push(unsqueeze0(y));
      h = hNew;
      c = cNew;
    }
    let Yd = dispatch1('Concat', ys, { axis: 0 }); // [seq, batch, H]
    if (reverse) Yd = dispatch1('ReverseSequence', [Yd, lensT], { batch_axis: 1, time_axis: 0 });
    Ys.push(dispatch1('Unsqueeze', [Yd, int64s([1])]));
    Hs.push(unsqueeze0(h));
    Cs.push(unsqueeze0(c));
  }
  let Y = dispatch1('Concat', Ys, { axis: 1 }); // [seq, dirs, batch, H]
  let Yh = dispatch1('Concat', Hs, { axis: 0 });
  let Yc = dispatch1('Concat', Cs, { axis: 0 });
  if (layout === 1) {
    Y = dispatch1('Transpose', [Y], { perm: [2, 0, 1, 3] });
    Yh = dispatch1('Transpose', [Yh], { perm: [1, 0, 2] });
    Yc = dispatch1('Transpose', [Yc], { perm: [1, 0, 2] });
  }
  return kind === 'LSTM' ? [Y, Yh, Yc] : [Y, Yh];
}

/** Gradients for the op's inputs (null for sequence_lens and inputs that need none). */
export function recurrentGrad(kind: Kind, ctx: GradContext, dys: (Tensor | null)[]): (Tensor | null)[] {
  const leaves = ctx.inputs.map((t, i) => {
    if (!t) return undefined;
    const d = t.detach();
    if (i !== 4 && t.requiresGrad) d.requiresGrad_(true);
    return d;
  });
  enableGrad(() => {
    const outs = composedRecurrent(kind, leaves, ctx.attrs);
    let loss: Tensor | undefined;
    outs.forEach((o, k) => {
      const dy = dys[k];
      if (!dy) return;
      const term = dispatch1('ReduceSum', [mul(o, dy.detach())], { keepdims: 0 });
      loss = loss ? add(loss, term) : term;
    });
    if (loss?.requiresGrad) backward(loss);
  });
  return ctx.inputs.map((t, i) => {
    if (!t || i === 4 || !t.requiresGrad) return null;
    return (
      leaves[i]!.grad ?? Tensor.fromData(fromNumbers(t.dtype, new Array(t.numel()).fill(0)), t.shape, t.dtype)
    );
  });
}
