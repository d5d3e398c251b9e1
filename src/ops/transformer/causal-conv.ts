/**
 * CausalConvWithState (opset 27): a causal depthwise 1-D convolution with a carried state.
 * input [B, C, L], weight [C, 1, K], optional bias [C] and past_state [B, C, K-1] (zeros when
 * absent): with seq = past_state ++ input, output[b, c, t] = act(bias[c] + sum_k weight[c, 0, k]
 * * seq[t + k]) and present_state = the last K-1 positions of seq. activation 'silu' / 'swish'
 * (y * sigmoid(y), computed in float32 as the function body does) or 'none'.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrString, expectFloat, expectSameDType, input } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';
import { rounderFor } from './precision.js';

const OP = 'CausalConvWithState';
const fail = (msg: string): never => {
  throw new TesseraError('SHAPE_MISMATCH', `${OP}: ${msg}`);
};

function causalConvKernel(inputs: OpInputs, attrs: Attrs): Tensor[] {
  const x = input(inputs, 0, OP);
  const w = input(inputs, 1, OP);
  const [bias, past] = [inputs[2], inputs[3]];
  expectFloat(OP, 'input', x);
  expectSameDType(OP, [x, w, bias, past]);
  const act = attrString(attrs, 'activation', 'none');
  if (act !== 'none' && act !== 'silu' && act !== 'swish') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: activation must be 'silu', 'swish' or 'none', got '${act}'`,
    );
  }
  if (x.ndim !== 3) fail(`input must have shape [batch, channels, length], got ${fmtShape(x.shape)}`);
  const [B, C, L] = x.shape as [number, number, number];
  if (w.ndim !== 3 || w.shape[0] !== C || w.shape[1] !== 1 || w.shape[2]! < 1) {
    fail(`weight must have shape [${C}, 1, k] with k >= 1, got ${fmtShape(w.shape)}`);
  }
  const K = w.shape[2]!;
  const S = K - 1;
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== C))
    fail(`bias must have shape [${C}], got ${fmtShape(bias.shape)}`);
  if (past && (past.ndim !== 3 || past.shape[0] !== B || past.shape[1] !== C || past.shape[2] !== S)) {
    fail(`past_state must have shape [${B}, ${C}, ${S}], got ${fmtShape(past.shape)}`);
  }
  const r = rounderFor(x.dtype);
  const xs = floats(x);
  const ws = floats(w);
  const bs = bias ? floats(bias) : null;
  const ps = past ? floats(past) : null;
  const y = new Float64Array(B * C * L);
  const state = new Float64Array(B * C * S);
  const seq = new Float64Array(S + L);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const row = b * C + c;
      for (let i = 0; i < S; i++) seq[i] = ps ? ps[row * S + i]! : 0;
      for (let t = 0; t < L; t++) seq[S + t] = xs[row * L + t]!;
      for (let t = 0; t < L; t++) {
        let s = bs ? bs[c]! : 0;
        for (let k = 0; k < K; k++) s += ws[c * K + k]! * seq[t + k]!;
        let v = r(s);
        if (act !== 'none') v = r(Math.fround(v * Math.fround(1 / (1 + Math.exp(-v)))));
        y[row * L + t] = v;
      }
      for (let i = 0; i < S; i++) state[row * S + i] = seq[L + i]!;
    }
  return [
    Tensor.fromData(fromNumbers(x.dtype, y), [B, C, L], x.dtype),
    Tensor.fromData(fromNumbers(x.dtype, state), [B, C, S], x.dtype),
  ];
}

registerOp({
  name: OP,
  since: 27,
  minInputs: 2,
  maxInputs: 4,
  defaults: { activation: 'none' },
  kernels: { cpu: causalConvKernel },
});
