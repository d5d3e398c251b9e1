/**
 * RNN, GRU and LSTM: one driver for the three (input checks, layouts, directions, sequence_lens,
 * initial states, outputs) and a cell per op. Shapes (layout 0; layout 1 puts batch first):
 *   X [seq, batch, input], W [dirs, G*hidden, input], R [dirs, G*hidden, hidden],
 *   B [dirs, 2*G*hidden] (Wb then Rb), sequence_lens [batch], initial_h/c [dirs, batch, hidden],
 *   LSTM P [dirs, 3*hidden]; outputs Y [seq, dirs, batch, hidden], Y_h (and LSTM Y_c)
 *   [dirs, batch, hidden].
 * Gate order: GRU z, r, h; LSTM i, o, f, c. `clip` bounds every gate's pre-activation. Steps past a
 * batch entry's sequence length leave Y at 0, and Y_h/Y_c hold the state after its last step.
 * Gates are computed in float64 and written in X's dtype.
 */
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { sameShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import type { Attrs, OpInputs } from '../registry.js';
import { type Activation, activationsOf } from './activations.js';

export type Kind = 'RNN' | 'GRU' | 'LSTM';

const GATES: Record<Kind, number> = { RNN: 1, GRU: 3, LSTM: 4 };
const DEFAULT_ACTS: Record<Kind, string[]> = {
  RNN: ['Tanh'],
  GRU: ['Sigmoid', 'Tanh'],
  LSTM: ['Sigmoid', 'Tanh', 'Tanh'],
};

/** Weights of one direction, as float64. */
interface Dir {
  W: Float64Array;
  R: Float64Array;
  Wb: Float64Array;
  Rb: Float64Array;
  P?: Float64Array;
  acts: Activation[];
}

interface Ctx {
  kind: Kind;
  hidden: number;
  inputSize: number;
  clip: number;
  linearBeforeReset: boolean;
  inputForget: boolean;
}

/** out[j] = sum_k M[j, k] v[k] + bias[j] for j in [0, rows). */
function matvec(
  M: Float64Array,
  rows: number,
  cols: number,
  v: Float64Array,
  bias: Float64Array,
  out: Float64Array,
): void {
  for (let j = 0; j < rows; j++) {
    let s = bias[j]!;
    const o = j * cols;
    for (let k = 0; k < cols; k++) s += M[o + k]! * v[k]!;
    out[j] = s;
  }
}

/** One time step for one batch entry: updates h (and c) in place. */
function step(
  ctx: Ctx,
  d: Dir,
  x: Float64Array,
  h: Float64Array,
  c: Float64Array,
  scratch: Float64Array[],
): void {
  const H = ctx.hidden;
  const G = GATES[ctx.kind];
  const [xw, hr, tmp] = scratch as [Float64Array, Float64Array, Float64Array];
  const cl = (v: number) => (ctx.clip > 0 ? Math.max(-ctx.clip, Math.min(ctx.clip, v)) : v);
  matvec(d.W, G * H, ctx.inputSize, x, d.Wb, xw);
  matvec(d.R, G * H, H, h, d.Rb, hr);
  if (ctx.kind === 'RNN') {
    const f = d.acts[0]!;
    for (let j = 0; j < H; j++) h[j] = f(cl(xw[j]! + hr[j]!));
    return;
  }
  if (ctx.kind === 'GRU') {
    const [f, g] = d.acts as [Activation, Activation];
    const z = tmp.subarray(0, H);
    const r = tmp.subarray(H, 2 * H);
    const ht = tmp.subarray(2 * H, 3 * H);
    for (let j = 0; j < H; j++) {
      z[j] = f(cl(xw[j]! + hr[j]!));
      r[j] = f(cl(xw[H + j]! + hr[H + j]!));
    }
    if (ctx.linearBeforeReset) {
      for (let j = 0; j < H; j++) ht[j] = g(cl(xw[2 * H + j]! + r[j]! * hr[2 * H + j]!));
    } else {
      // (r * h) R_h^T + Rb_h, from the rows of the h gate.
      for (let j = 0; j < H; j++) {
        let s = d.Rb[2 * H + j]!;
        const o = (2 * H + j) * H;
        for (let k = 0; k < H; k++) s += d.R[o + k]! * r[k]! * h[k]!;
        ht[j] = g(cl(xw[2 * H + j]! + s));
      }
    }
    for (let j = 0; j < H; j++) h[j] = (1 - z[j]!) * ht[j]! + z[j]! * h[j]!;
    return;
  }
  // LSTM, gates i, o, f, c; peepholes P = [Pi, Po, Pf].
  const [f, g, hAct] = d.acts as [Activation, Activation, Activation];
  const P = d.P;
  for (let j = 0; j < H; j++) {
    const i = f(cl(xw[j]! + hr[j]! + (P ? P[j]! * c[j]! : 0)));
    const fg = ctx.inputForget
      ? 1 - i
      : f(cl(xw[2 * H + j]! + hr[2 * H + j]! + (P ? P[2 * H + j]! * c[j]! : 0)));
    const ct = g(cl(xw[3 * H + j]! + hr[3 * H + j]!));
    const C = fg * c[j]! + i * ct;
    const o = f(cl(xw[H + j]! + hr[H + j]! + (P ? P[H + j]! * C : 0)));
    c[j] = C;
    h[j] = o * hAct(C);
  }
}

function expectShape(op: string, what: string, t: Tensor, shape: number[]): void {
  if (!sameShape(t.shape, shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: ${what} must have shape [${shape.join(', ')}], got [${t.shape.join(', ')}]`,
    );
  }
}

/** Runs the op; returns [Y, Y_h] (and Y_c for LSTM). */
export function recurrent(kind: Kind, inputs: OpInputs, attrs: Attrs): Tensor[] {
  const op = kind;
  const X = input(inputs, 0, op);
  const Wt = input(inputs, 1, op);
  const Rt = input(inputs, 2, op);
  if (!isFloat(X.dtype))
    throw new TesseraError('DTYPE_MISMATCH', `${op}: X must be a float tensor, got ${X.dtype}`);
  for (const [name, t] of [
    ['W', Wt],
    ['R', Rt],
    ['B', inputs[3]],
    ['initial_h', inputs[5]],
    ['initial_c', inputs[6]],
    ['P', inputs[7]],
  ] as const) {
    if (t && t.dtype !== X.dtype)
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `${op}: ${name} must have X's dtype ${X.dtype}, got ${t.dtype}`,
      );
  }
  const layout = attrInt(attrs, 'layout', 0);
  if (layout !== 0 && layout !== 1)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: layout must be 0 or 1, got ${layout}`);
  const direction = (attrs.direction as string | undefined) ?? 'forward';
  if (direction !== 'forward' && direction !== 'reverse' && direction !== 'bidirectional') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: direction must be forward, reverse or bidirectional, got '${direction}'`,
    );
  }
  const dirs = direction === 'bidirectional' ? 2 : 1;
  if (X.ndim !== 3)
    throw new TesseraError('SHAPE_MISMATCH', `${op}: X must have rank 3, got shape [${X.shape.join(', ')}]`);
  const [seq, batch, inputSize] = (layout === 0 ? X.shape : [X.shape[1], X.shape[0], X.shape[2]]) as number[];
  const G = GATES[kind];
  const H = attrs.hidden_size !== undefined ? attrInt(attrs, 'hidden_size') : Wt.shape[1]! / G;
  if (!Number.isInteger(H) || H < 1)
    throw new TesseraError('INVALID_ARGUMENT', `${op}: hidden_size must be a positive integer, got ${H}`);
  expectShape(op, 'W', Wt, [dirs, G * H, inputSize!]);
  expectShape(op, 'R', Rt, [dirs, G * H, H]);
  const stateShape = layout === 0 ? [dirs, batch!, H] : [batch!, dirs, H];
  const Bt = inputs[3];
  if (Bt) expectShape(op, 'B', Bt, [dirs, 2 * G * H]);
  const lensT = inputs[4];
  let lens: number[] = new Array(batch!).fill(seq!);
  if (lensT) {
    if (lensT.dtype !== 'int32')
      throw new TesseraError('DTYPE_MISMATCH', `${op}: sequence_lens must be int32, got ${lensT.dtype}`);
    expectShape(op, 'sequence_lens', lensT, [batch!]);
    lens = Array.from(lensT.numbers());
    for (const l of lens) {
      if (l < 0 || l > seq!)
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${op}: sequence_lens entries must be in [0, ${seq}], got ${l}`,
        );
    }
  }
  const h0 = inputs[5];
  if (h0) expectShape(op, 'initial_h', h0, stateShape);
  const c0 = kind === 'LSTM' ? inputs[6] : undefined;
  if (c0) expectShape(op, 'initial_c', c0, stateShape);
  const Pt = kind === 'LSTM' ? inputs[7] : undefined;
  if (Pt) expectShape(op, 'P', Pt, [dirs, 3 * H]);

  const acts = activationsOf(
    op,
    attrs.activations as string[] | undefined,
    attrs.activation_alpha as number[] | undefined,
    attrs.activation_beta as number[] | undefined,
    DEFAULT_ACTS[kind],
    dirs,
  );
  const nAct = DEFAULT_ACTS[kind].length;
  const w = Wt.numbers();
  const r = Rt.numbers();
  const b = Bt?.numbers();
  const p = Pt?.numbers();
  const dirData: Dir[] = Array.from({ length: dirs }, (_, d) => ({
    W: Float64Array.from(w.subarray(d * G * H * inputSize!, (d + 1) * G * H * inputSize!)),
    R: Float64Array.from(r.subarray(d * G * H * H, (d + 1) * G * H * H)),
    Wb: b ? Float64Array.from(b.subarray(d * 2 * G * H, d * 2 * G * H + G * H)) : new Float64Array(G * H),
    Rb: b
      ? Float64Array.from(b.subarray(d * 2 * G * H + G * H, (d + 1) * 2 * G * H))
      : new Float64Array(G * H),
    P: p ? Float64Array.from(p.subarray(d * 3 * H, (d + 1) * 3 * H)) : undefined,
    acts: acts.slice(d * nAct, (d + 1) * nAct).map((a) => a.fn),
  }));
  const ctx: Ctx = {
    kind,
    hidden: H,
    inputSize: inputSize!,
    clip: attrs.clip === undefined ? 0 : Number(attrs.clip),
    linearBeforeReset: attrInt(attrs, 'linear_before_reset', 0) !== 0,
    inputForget: attrInt(attrs, 'input_forget', 0) !== 0,
  };
  if (attrs.clip !== undefined && !(ctx.clip > 0))
    throw new TesseraError('INVALID_ARGUMENT', `${op}: clip must be positive, got ${String(attrs.clip)}`);

  // Index helpers for the two layouts.
  const xs = X.numbers();
  const xAt = (t: number, bi: number) =>
    layout === 0 ? (t * batch! + bi) * inputSize! : (bi * seq! + t) * inputSize!;
  const stAt = (d: number, bi: number) => (layout === 0 ? (d * batch! + bi) * H : (bi * dirs + d) * H);
  const yAt = (t: number, d: number, bi: number) =>
    layout === 0 ? ((t * dirs + d) * batch! + bi) * H : ((bi * seq! + t) * dirs + d) * H;

  const Y = new Float64Array(seq! * dirs * batch! * H);
  const Yh = new Float64Array(dirs * batch! * H);
  const Yc = new Float64Array(dirs * batch! * H);
  const h0v = h0?.numbers();
  const c0v = c0?.numbers();
  const xv = new Float64Array(inputSize!);
  const h = new Float64Array(H);
  const c = new Float64Array(H);
  const scratch = [new Float64Array(G * H), new Float64Array(G * H), new Float64Array(3 * H)];
  for (let d = 0; d < dirs; d++) {
    const reverse = direction === 'reverse' || d === 1;
    for (let bi = 0; bi < batch!; bi++) {
      const so = stAt(d, bi);
      for (let j = 0; j < H; j++) {
        h[j] = h0v ? h0v[so + j]! : 0;
        c[j] = c0v ? c0v[so + j]! : 0;
      }
      const L = lens[bi]!;
      for (let s = 0; s < L; s++) {
        const t = reverse ? L - 1 - s : s;
        const xo = xAt(t, bi);
        for (let k = 0; k < inputSize!; k++) xv[k] = xs[xo + k]!;
        step(ctx, dirData[d]!, xv, h, c, scratch);
        Y.set(h, yAt(t, d, bi));
      }
      Yh.set(h, so);
      Yc.set(c, so);
    }
  }
  const dt = X.dtype;
  const yShape = layout === 0 ? [seq!, dirs, batch!, H] : [batch!, seq!, dirs, H];
  const outs = [
    Tensor.fromData(fromNumbers(dt, Y), yShape, dt),
    Tensor.fromData(fromNumbers(dt, Yh), stateShape, dt),
  ];
  if (kind === 'LSTM') outs.push(Tensor.fromData(fromNumbers(dt, Yc), stateShape, dt));
  return outs;
}
