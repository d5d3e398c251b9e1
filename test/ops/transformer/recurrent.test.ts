/**
 * LinearAttention, CausalConvWithState and FlexAttention: small cases worked out by hand (the
 * recurrences written out step by step), errors, FlexAttention against Attention, and
 * conformance cases (FlexAttention's score_mod / prob_mod subgraphs run inside a session there).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, randn, tensor } from '../../../src/index.js';
import { dispatch, dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { conformanceCases } from './conformance-cases.js';

const gen = new Generator(3);
const rnd = (shape: number[]) => randn(shape, { dtype: 'float64', generator: gen });
const f32 = (v: number[], shape: number[]) => tensor(v).reshape(shape);
const heads = { q_num_heads: 1, kv_num_heads: 1 };

// One head, head size 1 (scale 1): q = (1, 2), k = (3, 4), v = (5, 6) over two tokens.
const q = f32([1, 2], [1, 2, 1]);
const k = f32([3, 4], [1, 2, 1]);
const v = f32([5, 6], [1, 2, 1]);

test('LinearAttention linear and gated rules, step by step', () => {
  // linear: S1 = 3*5 = 15, out1 = 15; S2 = 15 + 4*6 = 39, out2 = 2*39.
  const [y, s] = dispatch('LinearAttention', [q, k, v], { ...heads, update_rule: 'linear' });
  assertClose(y!, [15, 78]);
  assert.deepEqual([...s!.shape], [1, 1, 1, 1]);
  assertClose(s!, [39]);
  // gated with decay -inf (exp = 0) at step 2: S2 = 0 * 15 + 24.
  const decay = f32([0, Number.NEGATIVE_INFINITY], [1, 2, 1]);
  const [yg, sg] = dispatch('LinearAttention', [q, k, v, undefined, decay], {
    ...heads,
    update_rule: 'gated',
  });
  assertClose(yg!, [15, 48]);
  assertClose(sg!, [24]);
});

test('LinearAttention delta and gated_delta rules with a past state, step by step', () => {
  const beta = f32([1, 0.5], [1, 2, 1]);
  // delta: S1 = 0 + 3 * 1 * (5 - 0) = 15; S2 = 15 + 4 * 0.5 * (6 - 15 * 4) = -93.
  const [yd, sd] = dispatch('LinearAttention', [q, k, v, undefined, undefined, beta], {
    ...heads,
    update_rule: 'delta',
  });
  assertClose(yd!, [15, -186]);
  assertClose(sd!, [-93]);
  // gated_delta (default), past 10, decay (0, -inf): S1 = 10 + 3 * (5 - 30) = -65; S2 = 0 + 4 * 0.5 * 6 = 12.
  const past = f32([10], [1, 1, 1, 1]);
  const decay = f32([0, Number.NEGATIVE_INFINITY], [1, 2, 1]);
  const [y, s] = dispatch('LinearAttention', [q, k, v, past, decay, beta], heads);
  assertClose(y!, [-65, 24]);
  assertClose(s!, [12]);
});

test('LinearAttention: grouped query heads read their KV head; scale defaults to 1/sqrt(Dk); errors', () => {
  // Dk = 4, one KV head, two query heads; one token: S = k v^T, out_h = scale * q_h . (k v)
  const qq = f32([1, 0, 0, 0, 0, 1, 0, 0], [1, 1, 8]);
  const kk = f32([2, 3, 0, 0], [1, 1, 4]);
  const vv = f32([7], [1, 1, 1]);
  const [y] = dispatch('LinearAttention', [qq, kk, vv], {
    q_num_heads: 2,
    kv_num_heads: 1,
    update_rule: 'linear',
  });
  assertClose(y!, [(2 * 7) / 2, (3 * 7) / 2]);
  assert.throws(
    () => dispatch('LinearAttention', [q, k, v], heads),
    /LinearAttention: update_rule 'gated_delta' needs the decay input/,
  );
  assert.throws(
    () => dispatch('LinearAttention', [q, k, v], { q_num_heads: 3, kv_num_heads: 2, update_rule: 'linear' }),
    /q_num_heads \(3\) and kv_num_heads \(2\) must be positive, q_num_heads a multiple of kv_num_heads/,
  );
});

test('CausalConvWithState by hand: zeros or past_state on the left; present = last K-1 inputs', () => {
  const x = f32([1, 2, 3], [1, 1, 3]);
  const w = f32([1, 2, 3], [1, 1, 3]);
  // seq = 0, 0, 1, 2, 3: y_t = seq[t] + 2 seq[t+1] + 3 seq[t+2]
  const [y, s] = dispatch('CausalConvWithState', [x, w]);
  assertClose(y!, [3, 8, 14]);
  assertClose(s!, [2, 3]);
  // seq = 5, 6, 1, 2, 3 with bias 1
  const [yp] = dispatch('CausalConvWithState', [x, w, f32([1], [1]), f32([5, 6], [1, 1, 2])]);
  assertClose(yp!, [21, 15, 15]);
  const [ys] = dispatch('CausalConvWithState', [x, w], { activation: 'silu' });
  assertClose(
    ys!,
    [3, 8, 14].map((t) => t / (1 + Math.exp(-t))),
    { rtol: 1e-6 },
  );
  assert.throws(
    () => dispatch('CausalConvWithState', [x, f32([1, 2], [2, 1, 1])]),
    /CausalConvWithState: weight must have shape \[1, 1, k\] with k >= 1, got \[2, 1, 1\]/,
  );
  assert.throws(
    () => dispatch('CausalConvWithState', [x, w], { activation: 'relu' }),
    /activation must be 'silu', 'swish' or 'none', got 'relu'/,
  );
});

test('FlexAttention without modifiers is Attention (grouped heads, float64); its subgraphs need a session', () => {
  const [qq, kk, vv] = [rnd([2, 4, 3, 5]), rnd([2, 2, 4, 5]), rnd([2, 2, 4, 3])];
  const flex = dispatch1('FlexAttention', [qq, kk, vv], { scale: 0.3 }, { domain: 'ai.onnx.preview' });
  assertClose(flex, dispatch1('Attention', [qq, kk, vv], { scale: 0.3 }), { rtol: 1e-12, atol: 1e-12 });
  assert.throws(
    () =>
      dispatch1(
        'FlexAttention',
        [qq, kk, vv],
        { score_mod: { kind: 'graph' } },
        { domain: 'ai.onnx.preview' },
      ),
    /FlexAttention: runs a subgraph, so it is only available inside a graph/,
  );
});

conformanceCases([
  'test_linear_attention_gated_delta_gqa',
  'test_linear_attention_gated_per_head_decay',
  'test_linear_attention_fp16',
  'test_causal_conv_with_state_silu_fp16',
  'test_causal_conv_with_state_kernel_size_one',
  'test_flexattention_causal_mask',
  'test_flexattention_prob_mod',
  'test_flexattention_fp16',
]);
