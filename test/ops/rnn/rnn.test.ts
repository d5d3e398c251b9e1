import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradcheck, ops, randn, type Tensor, tensor } from '../../../src/index.js';
import { composedRecurrent } from '../../../src/ops/rnn/grad.js';
import { Generator } from '../../../src/runtime/random.js';
import { assertClose } from '../../helpers/close.js';
import { runNodeTests } from '../misc/node-cases.js';

const run = (op: string, inputs: (Tensor | undefined)[], attrs = {}) => ops.dispatch(op, inputs, attrs);
const t64 = (v: number[], shape: number[]) => tensor(v, { dtype: 'float64' }).reshape(shape);

// Expected values were computed in Python (math.tanh, 1/(1+exp(-v))) by writing out each gate
// equation of the ONNX spec for these one-unit cells.
const W1 = t64([0.5], [1, 1, 1]);
const R1 = t64([2], [1, 1, 1]);
const B1 = t64([0.1, 0.2], [1, 2]);

test('RNN: forward and reverse over a two-step sequence (tanh(0.5 x + 2 h + 0.3))', () => {
  const x = t64([1, -1], [2, 1, 1]);
  const [y, yh] = run('RNN', [x, W1, R1, B1], { hidden_size: 1 });
  assert.deepEqual(y!.shape, [2, 1, 1, 1]);
  assertClose(y!, [0.6640367702678491, 0.8103589047474361], { atol: 1e-12 });
  assertClose(yh!, [0.8103589047474361], { atol: 1e-12 });
  // Reverse: x[1] is read first; Y[t] is still indexed by time.
  const [yr, yrh] = run('RNN', [x, W1, R1, B1], { hidden_size: 1, direction: 'reverse' });
  assertClose(yr!, [0.38443153627164545, -0.197375320224904], { atol: 1e-12 });
  assertClose(yrh!, [0.38443153627164545], { atol: 1e-12 });
  // LeakyRelu (alpha 0.1) instead of tanh, on x = [-1, 3]: [-0.02, 1.76].
  const leaky = run('RNN', [t64([-1, 3], [2, 1, 1]), W1, R1, B1], {
    hidden_size: 1,
    activations: ['LeakyRelu'],
    activation_alpha: [0.1],
  })[0]!;
  assertClose(leaky, [-0.02, 1.76], { atol: 1e-12 });
});

test('RNN: bidirectional with sequence_lens, zero-filled past each length; layout 1 agrees', () => {
  // Batch 0 = [1, -1] (length 2), batch 1 = [-1, 5] with length 1 (the 5 is never read).
  const x = t64([1, -1, -1, 5], [2, 2, 1]);
  const W = t64([0.5, 0.5], [2, 1, 1]);
  const R = t64([2, 2], [2, 1, 1]);
  const B = t64([0.1, 0.2, 0.1, 0.2], [2, 2]);
  const lens = tensor([2, 1], { dtype: 'int32' });
  const [y, yh] = run('RNN', [x, W, R, B, lens], { hidden_size: 1, direction: 'bidirectional' });
  assert.deepEqual(y!.shape, [2, 2, 2, 1]);
  const a = 0.6640367702678491; // forward step 1 of batch 0
  const b = 0.8103589047474361; // forward step 2 of batch 0
  const c = 0.38443153627164545; // reverse result at time 0 of batch 0
  const d = -0.197375320224904; // tanh(-0.2): one step on x = -1 from h = 0
  // Y[t][dir][batch]
  assertClose(y!, [a, d, c, d, b, 0, d, 0], { atol: 1e-12 });
  assertClose(yh!, [b, d, c, d], { atol: 1e-12 });
  // layout 1: X [batch, seq, input], Y [batch, seq, dirs, hidden], Y_h [batch, dirs, hidden].
  const xb = t64([1, -1, -1, 5], [2, 2, 1]).permute([1, 0, 2]);
  const [y1, yh1] = run('RNN', [xb, W, R, B, lens], {
    hidden_size: 1,
    direction: 'bidirectional',
    layout: 1,
  });
  assert.deepEqual(y1!.shape, [2, 2, 2, 1]);
  assertClose(y1!, y!.permute([2, 0, 1, 3]), { atol: 1e-12 });
  assertClose(yh1!, yh!.permute([1, 0, 2]), { atol: 1e-12 });
});

test('GRU: one step by hand, with and without linear_before_reset, from an initial state', () => {
  // Gates z, r, h: W = [0.3, 0.6, -0.4], R = [0.5, -0.2, 0.8], Wb = [0.1, 0, 0.2], Rb = [0, 0.1, -0.3].
  const W = t64([0.3, 0.6, -0.4], [1, 3, 1]);
  const R = t64([0.5, -0.2, 0.8], [1, 3, 1]);
  const B = t64([0.1, 0, 0.2, 0, 0.1, -0.3], [1, 6]);
  const x = t64([2], [1, 1, 1]);
  const h0 = t64([0.5], [1, 1, 1]);
  const ins = [x, W, R, B, undefined, h0];
  assertClose(run('GRU', ins, { hidden_size: 1 })[1]!, [0.2122589484121053], { atol: 1e-12 });
  assertClose(run('GRU', ins, { hidden_size: 1, linear_before_reset: 1 })[1]!, [0.22665784017491628], {
    atol: 1e-12,
  });
});

test('LSTM: peepholes, input_forget and clip by hand; Y_c output', () => {
  // Gates i, o, f, c: W = [0.2, 0.4, -0.3, 0.5], R = [0.1, -0.2, 0.3, 0.6], P = [Pi, Po, Pf] = [0.5, -0.5, 0.25].
  const W = t64([0.2, 0.4, -0.3, 0.5], [1, 4, 1]);
  const R = t64([0.1, -0.2, 0.3, 0.6], [1, 4, 1]);
  const x = t64([1.5], [1, 1, 1]);
  const h0 = t64([0.1], [1, 1, 1]);
  const c0 = t64([-0.2], [1, 1, 1]);
  const P = t64([0.5, -0.5, 0.25], [1, 3]);
  const outs = run('LSTM', [x, W, R, undefined, undefined, h0, c0, P], { hidden_size: 1 });
  assert.equal(outs.length, 3);
  assertClose(outs[1]!, [0.17279353597170072], { atol: 1e-12 });
  assertClose(outs[2]!, [0.29289674783960945], { atol: 1e-12 });
  const coupled = run('LSTM', [x, W, R, undefined, undefined, h0, c0, P], {
    hidden_size: 1,
    input_forget: 1,
  });
  assertClose(coupled[1]!, [0.16614632025267978], { atol: 1e-12 });
  assertClose(coupled[2]!, [0.2802815784762381], { atol: 1e-12 });
  // clip 0.5 bounds every gate's pre-activation (no peepholes here).
  const clipped = run('LSTM', [x, W, R, undefined, undefined, h0, c0], { hidden_size: 1, clip: 0.5 });
  assertClose(clipped[1]!, [0.11523327896657228], { atol: 1e-12 });
  assertClose(clipped[2]!, [0.1872852269124849], { atol: 1e-12 });
});

test('RNN family: shape, dtype and attribute errors name the op', () => {
  const x = t64([1, 2], [2, 1, 1]);
  assert.throws(
    () => run('RNN', [x, t64([1, 1], [1, 2, 1]), R1], { hidden_size: 1 }),
    /RNN: W must have shape \[1, 1, 1\], got \[1, 2, 1\]/,
  );
  assert.throws(() => run('GRU', [x, W1, R1], { hidden_size: 1 }), /GRU: W must have shape \[1, 3, 1\]/);
  assert.throws(
    () => run('RNN', [x, W1, R1], { hidden_size: 1, direction: 'sideways' }),
    /RNN: direction must be forward, reverse or bidirectional/,
  );
  assert.throws(
    () => run('RNN', [x, W1, R1], { hidden_size: 1, activations: ['Gelu'] }),
    /RNN: unknown activation 'Gelu'/,
  );
  assert.throws(
    () => run('RNN', [x, W1, R1, undefined, tensor([3], { dtype: 'int32' })], { hidden_size: 1 }),
    /RNN: sequence_lens entries must be in \[0, 2\], got 3/,
  );
  assert.throws(
    () => run('LSTM', [x, tensor([1, 1, 1, 1]).reshape([1, 4, 1]), R1]),
    /LSTM: W must have X's dtype float64, got float32/,
  );
});

// Random cells: every input present, both directions, uneven lengths, layout 1, non-default activations.
function randomCase(kind: 'RNN' | 'GRU' | 'LSTM', seed: number) {
  const g = new Generator(seed);
  const G = { RNN: 1, GRU: 3, LSTM: 4 }[kind];
  const [seq, batch, inp, H, dirs] = [3, 2, 2, 2, 2];
  const r = (shape: number[], scale = 0.5) =>
    randn(shape, { dtype: 'float64', generator: g }).mul(scale).detach().requiresGrad_(true);
  const inputs: (Tensor | undefined)[] = [
    r([batch, seq, inp], 1),
    r([dirs, G * H, inp]),
    r([dirs, G * H, H]),
    r([dirs, 2 * G * H]),
    tensor([3, 2], { dtype: 'int32' }),
    r([batch, dirs, H]),
  ];
  if (kind === 'LSTM') inputs.push(r([batch, dirs, H]), r([dirs, 3 * H]));
  const attrs: Record<string, unknown> = { hidden_size: H, direction: 'bidirectional', layout: 1 };
  if (kind === 'RNN')
    Object.assign(attrs, {
      activations: ['Tanh', 'Affine'],
      activation_alpha: [0.7],
      activation_beta: [0.1],
    });
  if (kind === 'GRU') Object.assign(attrs, { linear_before_reset: seed % 2 });
  if (kind === 'LSTM')
    Object.assign(attrs, { activations: ['Sigmoid', 'Tanh', 'Softsign', 'HardSigmoid', 'Tanh', 'Tanh'] });
  return { inputs, attrs };
}

test('RNN, GRU, LSTM: the op-composed forward equals the kernel, and gradients match finite differences', () => {
  for (const [kind, seed] of [
    ['RNN', 1],
    ['GRU', 2],
    ['GRU', 3],
    ['LSTM', 4],
    ['LSTM', 5],
  ] as const) {
    const { inputs, attrs } = randomCase(kind, seed);
    const fast = run(kind, inputs, attrs);
    const composed = composedRecurrent(kind, inputs, attrs as never);
    for (const [i, t] of fast.entries()) assertClose(composed[i]!, t, { atol: 1e-12 });
    const grads = inputs.map((t, i) => (i === 4 ? undefined : t)) as Tensor[];
    const idx = grads.flatMap((t, i) => (t ? [i] : []));
    gradcheck(
      (...ts: Tensor[]) => {
        const ins = [...inputs];
        idx.forEach((i, k) => {
          ins[i] = ts[k];
        });
        return run(kind, ins, attrs);
      },
      idx.map((i) => inputs[i]!),
    );
  }
});

test('ONNX conformance: RNN, GRU and LSTM node tests', () => {
  runNodeTests([
    'test_rnn_seq_length',
    'test_simple_rnn_batchwise',
    'test_simple_rnn_defaults',
    'test_simple_rnn_with_initial_bias',
    'test_gru_batchwise',
    'test_gru_defaults',
    'test_gru_seq_length',
    'test_gru_with_initial_bias',
    'test_lstm_batchwise',
    'test_lstm_defaults',
    'test_lstm_with_initial_bias',
    'test_lstm_with_peepholes',
  ]);
});
