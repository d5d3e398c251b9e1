import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ops, type Tensor, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';
import { runNodeTests } from '../misc/node-cases.js';

const TRAINING = { domain: 'ai.onnx.preview.training' };
const run = (op: string, inputs: Tensor[], attrs = {}) => ops.dispatch(op, inputs, attrs, TRAINING);
const R = (v: number) => tensor(v, { dtype: 'float64' });
const T = (v: number) => tensor(v, { dtype: 'int64' });
const v64 = (v: number[]) => tensor(v, { dtype: 'float64' });

test('Momentum: standard and nesterov steps (by hand)', () => {
  const attrs = { alpha: 0.5, beta: 0.3, norm_coefficient: 0, mode: 'standard' };
  // T = 0 uses beta 1: V' = 0.5*3 + 2 = 3.5, X' = 1 - 0.1*3.5 = 0.65.
  const [x0, v0] = run('Momentum', [R(0.1), T(0), v64([1]), v64([2]), v64([3])], attrs);
  assertClose(x0!, [0.65], { atol: 1e-12 });
  assertClose(v0!, [3.5], { atol: 1e-12 });
  // T = 1: V' = 1.5 + 0.3*2 = 2.1, X' = 0.79; nesterov X' = 1 - 0.1 (2 + 0.5*2.1) = 0.695.
  assertClose(run('Momentum', [R(0.1), T(1), v64([1]), v64([2]), v64([3])], attrs)[0]!, [0.79], {
    atol: 1e-12,
  });
  assertClose(
    run('Momentum', [R(0.1), T(1), v64([1]), v64([2]), v64([3])], { ...attrs, mode: 'nesterov' })[0]!,
    [0.695],
    {
      atol: 1e-12,
    },
  );
  // norm_coefficient adds 0.5 X to the gradient: g = 2.5, V' = 1.5 + 0.75 = 2.25, X' = 0.775.
  assertClose(
    run('Momentum', [R(0.1), T(1), v64([1]), v64([2]), v64([3])], { ...attrs, norm_coefficient: 0.5 })[0]!,
    [0.775],
    { atol: 1e-12 },
  );
  assert.throws(
    () => run('Momentum', [R(0.1), T(1), v64([1]), v64([2]), v64([3])], { ...attrs, mode: 'heavy' }),
    /Momentum: mode must be 'standard' or 'nesterov', got 'heavy'/,
  );
});

test('Adagrad: decayed rate, accumulated squares; outputs X1..Xn then H1..Hn', () => {
  // r = 0.5 / (1 + 1*0.25) = 0.4; H' = 0 + 9; X' = 1 - 0.4*3/3 = 0.6. Second tensor: g = -1, H = 3:
  // H' = 4, X' = 2 + 0.4*1/2 = 2.2.
  const outs = run('Adagrad', [R(0.5), T(1), v64([1]), v64([2]), v64([3]), v64([-1]), v64([0]), v64([3])], {
    decay_factor: 0.25,
    epsilon: 0,
  });
  assert.equal(outs.length, 4);
  assertClose(outs[0]!, [0.6], { atol: 1e-12 });
  assertClose(outs[1]!, [2.2], { atol: 1e-12 });
  assertClose(outs[2]!, [9], { atol: 1e-12 });
  assertClose(outs[3]!, [4], { atol: 1e-12 });
  assert.throws(
    () => run('Adagrad', [R(0.5), T(1), v64([1]), v64([2])]),
    /Adagrad: expects at least 5 inputs, got 4/,
  );
  assert.throws(
    () => run('Adagrad', [R(0.5), T(1), v64([1]), v64([2, 2]), v64([0])]),
    /Adagrad: the gradient and states of tensor 0 must be float64 of shape \[1\], got float64 of shape \[2\]/,
  );
});

test('Adam: moments, bias correction for T > 0, post-step decay', () => {
  const attrs = { alpha: 0.5, beta: 0.75, epsilon: 0 };
  // V' = 0.5*0 + 0.5*2 = 1, H' = 0.25*4 = 1; T = 0: X' = 1 - 0.1 * 1/1 = 0.9.
  const [x, v, h] = run('Adam', [R(0.1), T(0), v64([1]), v64([2]), v64([0]), v64([0])], attrs);
  assertClose(x!, [0.9], { atol: 1e-12 });
  assertClose(v!, [1], { atol: 1e-12 });
  assertClose(h!, [1], { atol: 1e-12 });
  // T = 2: r = 0.1 sqrt(1 - 0.75^2) / (1 - 0.5^2) = 0.1 sqrt(0.4375) / 0.75.
  const r = (0.1 * Math.sqrt(0.4375)) / 0.75;
  assertClose(run('Adam', [R(0.1), T(2), v64([1]), v64([2]), v64([0]), v64([0])], attrs)[0]!, [1 - r], {
    atol: 1e-12,
  });
  // norm_coefficient_post 0.5 halves the stepped X.
  assertClose(
    run('Adam', [R(0.1), T(0), v64([1]), v64([2]), v64([0]), v64([0])], {
      ...attrs,
      norm_coefficient_post: 0.5,
    })[0]!,
    [0.45],
    { atol: 1e-12 },
  );
  assert.throws(
    () => run('Adam', [R(0.1), tensor(0), v64([1]), v64([2]), v64([0]), v64([0])]),
    /Adam: T must be an int64 scalar/,
  );
});

test('ONNX conformance: training optimizer node tests', () => {
  runNodeTests([
    'test_adagrad',
    'test_adagrad_multiple',
    'test_adam',
    'test_adam_multiple',
    'test_momentum',
    'test_momentum_multiple',
    'test_nesterov_momentum',
  ]);
});
