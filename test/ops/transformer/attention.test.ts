/**
 * Attention: values derived by hand (softmax of scores we can write down, V = identity rows so Y
 * shows the probabilities), masks, causal offsets, the KV cache, grouped heads, 3-D layout,
 * softcap and qk_matmul_output modes; errors; the kernel against the same computation written
 * with MatMul/Softmax ops; conformance cases; gradcheck through every input and output.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { eye, Generator, gradcheck, randn, type Tensor, tensor, zeros } from '../../../src/index.js';
import { dispatch, dispatch1 } from '../../../src/ops/registry.js';
import { attentionForwardOps } from '../../../src/ops/transformer/attention-grad.js';
import { assertClose } from '../../helpers/close.js';
import { conformanceCases } from './conformance-cases.js';
import { hvpError } from './hvp.js';

const gen = new Generator(7);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });
const f64 = (v: number[] | number[][], shape: number[]) =>
  tensor(v as number[], { dtype: 'float64' }).reshape(shape);
const attention = (inputs: (Tensor | undefined)[], attrs: Record<string, unknown> = {}) =>
  dispatch('Attention', inputs, attrs as never);

test('one head by hand: softmax of q.k / sqrt(d) weights the rows of V', () => {
  const q = f64([1, 0], [1, 1, 1, 2]);
  const k = f64([1, 0, 0, 1], [1, 1, 2, 2]);
  const v = f64([1, 2, 3, 4], [1, 1, 2, 2]);
  // scores [1/sqrt(2), 0]; p0 = 1 / (1 + exp(-1/sqrt(2)))
  const p0 = 1 / (1 + Math.exp(-1 / Math.sqrt(2)));
  const p1 = 1 - p0;
  const [y] = attention([q, k, v]);
  assert.deepEqual([...y!.shape], [1, 1, 1, 2]);
  assertClose(y!, [p0 * 1 + p1 * 3, p0 * 2 + p1 * 4], { rtol: 1e-12, atol: 1e-12 });
});

test('causal with a KV cache: query i sees keys j <= i + past length; present = past ++ new', () => {
  // Zero scores make every allowed key equally likely; V rows are one-hot, so Y shows P.
  const q = zeros([1, 1, 2, 4], { dtype: 'float64' });
  const k = zeros([1, 1, 2, 4], { dtype: 'float64' });
  const pastK = zeros([1, 1, 2, 4], { dtype: 'float64' });
  const vAll = eye(4, 4, { dtype: 'float64' });
  const pastV = vAll.narrow(0, 0, 2).reshape([1, 1, 2, 4]);
  const v = vAll.narrow(0, 2, 2).reshape([1, 1, 2, 4]);
  const [y, pk, pv] = attention([q, k, v, undefined, pastK, pastV], { is_causal: 1 });
  assertClose(y!, [1 / 3, 1 / 3, 1 / 3, 0, 1 / 4, 1 / 4, 1 / 4, 1 / 4]);
  assert.deepEqual([...pk!.shape], [1, 1, 4, 4]);
  assertClose(pv!, vAll.reshape([1, 1, 4, 4]));
});

test('bool mask: false masks a key; a row with every key masked gives zeros, not NaN', () => {
  const q = zeros([1, 1, 2, 2], { dtype: 'float64' });
  const k = zeros([1, 1, 2, 2], { dtype: 'float64' });
  const v = eye(2, 2, { dtype: 'float64' }).reshape([1, 1, 2, 2]);
  const mask = tensor([
    [true, false],
    [false, false],
  ]);
  const [y, , , qk] = attention([q, k, v, mask], { qk_matmul_output_mode: 3 });
  assertClose(y!, [1, 0, 0, 0]);
  assertClose(qk!, [1, 0, 0, 0]);
});

test('a float mask shorter than the keys is padded with -inf; it adds to the scores', () => {
  const q = zeros([1, 1, 1, 2], { dtype: 'float64' });
  const k = zeros([1, 1, 3, 2], { dtype: 'float64' });
  const v = eye(3, 3, { dtype: 'float64' }).reshape([1, 1, 3, 3]);
  // exp(0) : exp(ln 3) : 0 -> 1/4, 3/4, 0
  const mask = f64([0, Math.log(3)], [1, 2]);
  assertClose(attention([q, k, v, mask])[0]!, [0.25, 0.75, 0], { rtol: 1e-12, atol: 1e-12 });
});

test('nonpad_kv_seqlen (opset 24): keys past the length are masked; causal offset is length - q_len', () => {
  const q = zeros([2, 1, 1, 2], { dtype: 'float64' });
  const k = zeros([2, 1, 4, 2], { dtype: 'float64' });
  const v = eye(4, 4, { dtype: 'float64' }).reshape([1, 1, 4, 4]).expand([2, 1, 4, 4]).contiguous();
  const lens = tensor([2, 4], { dtype: 'int64' });
  const none = [q, k, v, undefined, undefined, undefined, lens];
  assertClose(attention(none)[0]!, [0.5, 0.5, 0, 0, 0.25, 0.25, 0.25, 0.25]);
  // Causal: query 0 of batch 0 sits at position 2 - 1 = 1, so it sees keys 0 and 1.
  assertClose(attention(none, { is_causal: 1 })[0]!, [0.5, 0.5, 0, 0, 0.25, 0.25, 0.25, 0.25]);
  const k3 = zeros([2, 1, 3, 2], { dtype: 'float64' });
  const v3 = eye(3, 3, { dtype: 'float64' }).reshape([1, 1, 3, 3]).expand([2, 1, 3, 3]).contiguous();
  const q2 = zeros([2, 1, 2, 2], { dtype: 'float64' });
  // q_len 2, lengths [3, 2]: batch 0 rows see j <= 1 and j <= 2; batch 1 rows j <= 0 and j <= 1.
  const y = attention([q2, k3, v3, undefined, undefined, undefined, tensor([3, 2], { dtype: 'int64' })], {
    is_causal: 1,
  })[0]!;
  assertClose(y, [0.5, 0.5, 0, 1 / 3, 1 / 3, 1 / 3, 1, 0, 0, 0.5, 0.5, 0]);
  assert.throws(
    () => dispatch('Attention', none, {}, { opset: 23 }),
    /Attention: expects at most 6 inputs, got 7/,
  );
});

test('grouped heads: query head h reads KV head floor(h / group)', () => {
  const q = zeros([1, 4, 1, 2], { dtype: 'float64' });
  const k = zeros([1, 2, 1, 2], { dtype: 'float64' });
  const v = f64([10, 20], [1, 2, 1, 1]);
  assertClose(attention([q, k, v])[0]!, [10, 10, 20, 20]);
});

test('3-D inputs are [batch, seq, heads * size]: the same as 4-D after a reshape and transpose', () => {
  const [B, Sq, Skv, Hq, Hkv, D, Dv] = [2, 3, 5, 4, 2, 3, 2];
  const q3 = rnd([B, Sq, Hq * D]);
  const k3 = rnd([B, Skv, Hkv * D]);
  const v3 = rnd([B, Skv, Hkv * Dv]);
  const to4 = (t: Tensor, h: number) => t.reshape([B, t.shape[1]!, h, -1]).permute([0, 2, 1, 3]).contiguous();
  const y3 = attention([q3, k3, v3], { q_num_heads: Hq, kv_num_heads: Hkv, is_causal: 1 })[0]!;
  const y4 = attention([to4(q3, Hq), to4(k3, Hkv), to4(v3, Hkv)], { is_causal: 1 })[0]!;
  assertClose(y3, y4.permute([0, 2, 1, 3]).reshape([B, Sq, Hq * Dv]), { rtol: 1e-12, atol: 1e-12 });
});

test('scale, softcap and the four qk_matmul_output modes, by hand', () => {
  const q = f64([2], [1, 1, 1, 1]);
  const k = f64([3, 0], [1, 1, 2, 1]);
  const v = eye(2, 2, { dtype: 'float64' }).reshape([1, 1, 2, 2]);
  const mask = f64([0, 1], [1, 2]);
  const capped = 4 * Math.tanh(6 / 4);
  const e = Math.exp(capped - 1);
  const p = [e / (e + 1), 1 / (e + 1)];
  const expected = [[6, 0], [capped, 0], [capped, 1], p];
  for (let mode = 0; mode < 4; mode++) {
    const [y, , , qk] = attention([q, k, v, mask], { scale: 1, softcap: 4, qk_matmul_output_mode: mode });
    assertClose(y!, p, { rtol: 1e-12, atol: 1e-12 });
    assertClose(qk!, expected[mode]!, { rtol: 1e-12, atol: 1e-12 });
  }
});

test('float16 inputs give float16 outputs close to the float64 result; softmax_precision accepted', () => {
  const q = rnd([1, 2, 3, 4]);
  const k = rnd([1, 2, 5, 4]);
  const v = rnd([1, 2, 5, 4]);
  const ref = attention([q, k, v])[0]!;
  for (const attrs of [{}, { softmax_precision: 1 }]) {
    const y = attention([q.to('float16'), k.to('float16'), v.to('float16')], attrs)[0]!;
    assert.equal(y.dtype, 'float16');
    assertClose(y, ref, { rtol: 1e-2, atol: 1e-2 });
  }
});

test('errors name the op, the expectation and what was given', () => {
  const q = rnd([1, 3, 2, 4]);
  const k = rnd([1, 2, 2, 4]);
  assert.throws(() => attention([q, k, k]), /Attention: q_num_heads 3 must be a multiple of kv_num_heads 2/);
  assert.throws(
    () => attention([rnd([1, 2, 8]), rnd([1, 2, 8]), rnd([1, 2, 8])]),
    /Attention: q_num_heads and kv_num_heads/,
  );
  assert.throws(
    () => attention([q, q, q, rnd([2, 5])]),
    /Attention: attn_mask of shape \[2, 5\] does not broadcast to \[1, 3, 2, 2\]/,
  );
  assert.throws(
    () => attention([q, q, q, tensor([1, 2], { dtype: 'int32' })]),
    /Attention: attn_mask must be bool or Q's dtype float64, got int32/,
  );
  assert.throws(
    () => attention([q, q, q, undefined, rnd([1, 3, 1, 4])]),
    /past_key and past_value must be given together/,
  );
  assert.throws(
    () => attention([q, rnd([1, 3, 2, 5]), q]),
    /Attention: K head size 5 differs from Q head size 4/,
  );
});

test('the kernel matches the same attention written with MatMul/Softmax/Where ops', () => {
  const inputs = [
    rnd([2, 4, 3, 5]),
    rnd([2, 2, 2, 5]),
    rnd([2, 2, 2, 3]),
    rnd([3, 4]),
    rnd([2, 2, 2, 5]),
    rnd([2, 2, 2, 3]),
  ];
  const attrs = { softcap: 1.5, is_causal: 1 };
  const y = attention(inputs, attrs)[0]!;
  assertClose(y, attentionForwardOps(inputs, attrs).y4, { rtol: 1e-12, atol: 1e-12 });
});

test('gradcheck: 4-D grouped heads, cache, float mask, softcap, causal, every output and mode', () => {
  for (let mode = 0; mode < 4; mode++) {
    // Mode 2 outputs the biased scores, so there the mask covers every key (no -inf to difference).
    const inputs = [
      rnd([1, 4, 2, 3], true),
      rnd([1, 2, 2, 3], true),
      rnd([1, 2, 2, 2], true),
      rnd([2, mode === 2 ? 4 : 3], true),
      rnd([1, 2, 2, 3], true),
      rnd([1, 2, 2, 2], true),
    ];
    const attrs = { softcap: 2, is_causal: mode === 2 ? 0 : mode % 2, qk_matmul_output_mode: mode };
    assert.ok(gradcheck((...xs) => attention(xs, attrs), inputs));
  }
});

test('gradcheck: 3-D inputs with a broadcast bool mask and a 4-D float mask', () => {
  const mask = tensor([[true, false, true]]);
  const a = { q_num_heads: 2, kv_num_heads: 1 };
  assert.ok(
    gradcheck(
      (q, k, v) => attention([q, k, v, mask], a)[0]!,
      [rnd([2, 2, 4], true), rnd([2, 3, 2], true), rnd([2, 3, 3], true)],
    ),
  );
  assert.ok(
    gradcheck(
      (q, k, v, m) => attention([q, k, v, m])[0]!,
      [rnd([2, 1, 2, 2], true), rnd([2, 1, 3, 2], true), rnd([2, 1, 3, 2], true), rnd([2, 1, 1, 3], true)],
    ),
  );
});

test('second order: the gradient is built from differentiable ops (Hessian-vector products)', () => {
  const [k, v, m] = [rnd([1, 2, 3, 2]), rnd([1, 2, 3, 2]), rnd([2, 3])];
  const attrs = { softcap: 3, is_causal: 1 };
  assert.ok(hvpError((q) => dispatch1('Attention', [q, k, v, m], attrs), rnd([1, 2, 2, 2])) < 1e-5);
  const q = rnd([1, 2, 2, 2]);
  assert.ok(hvpError((kk) => dispatch1('Attention', [q, kk, v, m], attrs), k) < 1e-5);
});

conformanceCases([
  'test_attention_4d',
  'test_attention_3d_gqa_with_past_and_present',
  'test_attention_4d_with_past_and_present_qk_matmul_bias_4d_mask_causal',
  'test_attention_4d_causal_nonpad_attn_mask_composition',
  'test_attention_4d_gqa_with_past_and_present_fp16',
  'test_attention_23_boolmask_fullymasked_row_nan_robustness',
  'test_attention_24_qk_matmul_output_mode3_softmax_precision',
]);
