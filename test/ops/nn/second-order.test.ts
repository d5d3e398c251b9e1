/**
 * Second derivatives of the nn ops: the gradients are written with differentiable ops, so a
 * backward with createGraph can be differentiated again. Each check compares the Hessian-vector
 * product autograd gives with central differences of the first gradient (all in float64).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, randn, Tensor } from '../../../src/index.js';
import { dispatch, dispatch1 } from '../../../src/ops/registry.js';

const gen = new Generator(5);
const rnd = (s: number[]) => randn(s, { dtype: 'float64', generator: gen });

/** max |H v - (g(x + eps v) - g(x - eps v)) / 2 eps| for L(x) = sum(w * f(x)), relative to |H v|. */
function hvpError(f: (x: Tensor) => Tensor, shape: number[]): number {
  const x0 = rnd(shape);
  const w = rnd([...f(x0).shape]);
  const v = rnd(shape).numbers();
  const grad = (vals: ArrayLike<number>, create: boolean): [Tensor, Tensor] => {
    const x = Tensor.fromData(Float64Array.from(vals), shape, 'float64').requiresGrad_();
    f(x).mul(w).sum().backward(undefined, { createGraph: create });
    return [x, x.grad!];
  };
  const base = x0.numbers();
  const [x, g] = grad(base, true);
  x.grad = null;
  g.mul(Tensor.fromData(Float64Array.from(v), shape, 'float64'))
    .sum()
    .backward();
  const hv = x.grad!.numbers();
  const eps = 1e-5;
  const gp = grad(
    base.map((b, i) => b + eps * v[i]!),
    false,
  )[1].numbers();
  const gm = grad(
    base.map((b, i) => b - eps * v[i]!),
    false,
  )[1].numbers();
  let err = 0;
  let scale = 1e-8;
  for (let i = 0; i < hv.length; i++) {
    err = Math.max(err, Math.abs((gp[i]! - gm[i]!) / (2 * eps) - hv[i]!));
    scale = Math.max(scale, Math.abs(hv[i]!));
  }
  return err / scale;
}

const W = rnd([2, 2, 2, 2]);
const s3 = rnd([3]);
const s4 = rnd([4]);
const b4 = rnd([4]);
const bn = [rnd([2]), rnd([2]), rnd([2]), Tensor.fromData(Float64Array.from([0.7, 1.3]), [2], 'float64')];
const sq = (y: Tensor) => y.mul(y);

const CASES: [string, (x: Tensor) => Tensor, number[]][] = [
  ['Conv', (x) => sq(dispatch1('Conv', [x, W], { pads: [1, 0, 0, 1], strides: [2, 1] })), [1, 2, 4, 3]],
  [
    'ConvTranspose',
    (x) =>
      sq(dispatch1('ConvTranspose', [x, W], { pads: [1, 0, 0, 1], strides: [2, 1], output_padding: [1, 0] })),
    [1, 2, 3, 3],
  ],
  ['MaxPool', (x) => sq(dispatch1('MaxPool', [x], { kernel_shape: [2, 2] })), [1, 1, 3, 3]],
  [
    'AveragePool',
    (x) => sq(dispatch1('AveragePool', [x], { kernel_shape: [2, 2], pads: [1, 1, 0, 0] })),
    [1, 1, 3, 3],
  ],
  [
    'LayerNormalization (all outputs)',
    (x) => {
      const [y, m, i] = dispatch('LayerNormalization', [x, s3]);
      return y!.add(m!.mul(i!));
    },
    [2, 3],
  ],
  ['GroupNormalization', (x) => dispatch1('GroupNormalization', [x, s4, b4], { num_groups: 2 }), [2, 4, 3]],
  ['InstanceNormalization', (x) => dispatch1('InstanceNormalization', [x, s4, b4]), [2, 4, 3]],
  [
    'BatchNormalization (training)',
    (x) => dispatch('BatchNormalization', [x, ...bn], { training_mode: 1 })[0]!,
    [3, 2, 2],
  ],
  ['BatchNormalization (inference)', (x) => sq(dispatch1('BatchNormalization', [x, ...bn])), [3, 2, 2]],
  [
    'Resize (linear)',
    (x) =>
      sq(
        dispatch1(
          'Resize',
          [x, undefined, Tensor.fromData(Float32Array.from([1, 1, 1.5, 2]), [4], 'float32')],
          { mode: 'linear' },
        ),
      ),
    [1, 1, 2, 3],
  ],
];

for (const [name, f, shape] of CASES) {
  test(`second order: ${name}`, () => {
    const err = hvpError(f, shape);
    assert.ok(err < 1e-6, `relative error ${err}`);
  });
}
