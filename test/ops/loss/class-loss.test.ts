/**
 * NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss: reductions, class weights and
 * ignore_index by hand, the log_prob output, errors, gradcheck (input and log_prob paths, extra
 * dims), second-order check, conformance cases.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, randn, type Tensor, tensor } from '../../../src/index.js';
import { dispatch, dispatch1 } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';
import { conformanceCases } from '../transformer/conformance-cases.js';
import { hvpError } from '../transformer/hvp.js';

const gen = new Generator(5);
const rnd = (shape: number[], requiresGrad = false) =>
  randn(shape, { dtype: 'float64', requiresGrad, generator: gen });
const f64 = (v: number[][]) => tensor(v, { dtype: 'float64' });
const i64 = (v: number[] | number[][]) => tensor(v as number[], { dtype: 'int64' });
const nll = (x: Tensor, t: Tensor, w?: Tensor, attrs: Record<string, unknown> = {}) =>
  dispatch1('NegativeLogLikelihoodLoss', [x, t, w], attrs as never);

const logp = f64([
  [-1, -2, -3],
  [-0.5, -1.5, -2.5],
]);
const target = i64([0, 2]);
const weight = tensor([1, 2, 3], { dtype: 'float64' });

test('NLL by hand: none / sum / mean, class weights, ignore_index', () => {
  assertClose(nll(logp, target, undefined, { reduction: 'none' }), [1, 2.5]);
  assertClose(nll(logp, target, undefined, { reduction: 'sum' }), 3.5);
  assertClose(nll(logp, target), 1.75);
  // Weighted: [1 * 1, 3 * 2.5]; mean divides by the weights of the targets (1 + 3).
  assertClose(nll(logp, target, weight, { reduction: 'none' }), [1, 7.5]);
  assertClose(nll(logp, target, weight), 8.5 / 4);
  // Ignored targets count nowhere, including the mean's denominator.
  assertClose(nll(logp, target, undefined, { ignore_index: 2 }), 1);
  assertClose(nll(logp, target, weight, { ignore_index: 0, reduction: 'none' }), [0, 7.5]);
  assertClose(nll(logp, target, weight, { ignore_index: 0 }), 2.5);
  assert.ok(Number.isNaN(nll(logp, i64([1, 1]), undefined, { ignore_index: 1 }).item() as number));
  // ignore_index may lie outside [0, C) (here negative); int32 targets work too.
  const t32 = tensor([-1, 1], { dtype: 'int32' });
  assertClose(nll(logp, t32, undefined, { ignore_index: -1, reduction: 'sum' }), 1.5);
});

test('NLL with extra dims: target [N, d1] picks input[n, target, d1]', () => {
  const x = tensor([1, 2, 3, 4], { dtype: 'float64' }).reshape([1, 2, 2]);
  // loss[0, 0] = -x[0, 1, 0] = -3; loss[0, 1] = -x[0, 0, 1] = -2
  assertClose(nll(x, i64([[1, 0]]), undefined, { reduction: 'none' }), [-3, -2]);
});

test('SoftmaxCrossEntropyLoss by hand, with the log_prob output', () => {
  const scores = f64([
    [0, Math.log(3)],
    [2, 2],
  ]);
  const [loss, lp] = dispatch('SoftmaxCrossEntropyLoss', [scores, i64([1, 0])], { reduction: 'none' });
  // Row 0: softmax (1/4, 3/4), target 1 -> -ln(3/4); row 1: (1/2, 1/2) -> ln 2.
  assertClose(loss!, [-Math.log(0.75), Math.log(2)], { rtol: 1e-12 });
  assertClose(lp!, [Math.log(0.25), Math.log(0.75), -Math.log(2), -Math.log(2)], { rtol: 1e-12 });
  const [mean] = dispatch('SoftmaxCrossEntropyLoss', [
    scores,
    i64([1, 0]),
    tensor([2, 1], { dtype: 'float64' }),
  ]);
  // Weights 1 (class 1) and 2 (class 0): (1 * -ln(3/4) + 2 * ln 2) / 3
  assertClose(mean!, (-Math.log(0.75) + 2 * Math.log(2)) / 3, { rtol: 1e-12 });
});

test('errors name the op, the expectation and what was given', () => {
  assert.throws(
    () => nll(logp, i64([0, 3])),
    /NegativeLogLikelihoodLoss: target value 3 is out of range for 3 classes/,
  );
  assert.throws(() => nll(logp, i64([0])), /target must have shape \[2\] for input \[2, 3\], got \[1\]/);
  assert.throws(
    () => nll(logp, tensor([0, 1])),
    /NegativeLogLikelihoodLoss: target must be int32 or int64, got float32/,
  );
  assert.throws(
    () => nll(logp, target, tensor([1, 1], { dtype: 'float64' })),
    /weight must have shape \[3\], got \[2\]/,
  );
  assert.throws(
    () => nll(logp, target, undefined, { reduction: 'avg' }),
    /reduction must be 'none', 'sum' or 'mean', got 'avg'/,
  );
  assert.throws(
    () => dispatch('SoftmaxCrossEntropyLoss', [tensor([1, 2]), i64([0])]),
    /SoftmaxCrossEntropyLoss: input must have shape \[N, C, d1, \.\.\.\], got \[2\]/,
  );
});

test('gradcheck: NLL and SCE over input (and log_prob), every reduction, weights, ignore_index, extra dims', () => {
  const t = i64([
    [0, 3],
    [2, 1],
    [3, 3],
  ]);
  const w = tensor([0.5, 1, 2, 1.5], { dtype: 'float64' });
  for (const reduction of ['none', 'sum', 'mean']) {
    for (const attrs of [{ reduction }, { reduction, ignore_index: 3 }]) {
      assert.ok(gradcheck((x) => nll(x, t, w, attrs), [rnd([3, 4, 2], true)]));
      assert.ok(
        gradcheck(
          (x) => dispatch('SoftmaxCrossEntropyLoss', [x, t, w], attrs as never),
          [rnd([3, 4, 2], true)],
        ),
      );
    }
  }
  assert.ok(gradcheck((x) => dispatch('SoftmaxCrossEntropyLoss', [x, i64([1, 0, 2])]), [rnd([3, 4], true)]));
});

test('second order: SCE and NLL gradients are differentiable', () => {
  const t = i64([1, 0, 2]);
  assert.ok(
    hvpError((x) => dispatch1('SoftmaxCrossEntropyLoss', [x, t], { reduction: 'sum' }), rnd([3, 4])) < 1e-5,
  );
  assert.ok(hvpError((x) => nll(x.mul(x), t, undefined, { reduction: 'mean' }), rnd([3, 4])) < 1e-5);
});

conformanceCases([
  'test_nllloss_NCd1d2d3_none_no_weight_negative_ii',
  'test_nllloss_NCd1d2_with_weight_reduction_mean',
  'test_nllloss_NCd1_mean_weight_negative_ii',
  'test_sce_mean_weight_ii_3d_log_prob',
  'test_sce_NCd1d2d3_sum_weight_high_ii',
  'test_sce_none_log_prob',
]);
