import assert from 'node:assert/strict';
import { test } from 'node:test';
import { full, Generator, gradcheck, manualSeed, randn, tensor } from '../../../src/index.js';
import { dispatch } from '../../../src/ops/registry.js';
import { assertClose } from '../../helpers/close.js';

const ratio = (p: number) => full([], p);
const yes = full([], true);

test('Dropout inference returns a copy of X and an all-true mask', () => {
  const x = tensor([
    [1, -2],
    [3, 4],
  ]);
  const [y, mask] = dispatch('Dropout', [x]);
  assertClose(y!, [1, -2, 3, 4]);
  assert.notEqual(y!.storage, x.storage);
  assert.equal(mask!.dtype, 'bool');
  assert.deepEqual(mask!.toArray(), [
    [true, true],
    [true, true],
  ]);
  // training_mode false, or ratio 0 in training: the same.
  const [y2] = dispatch('Dropout', [x, ratio(0.5), full([], false)]);
  assertClose(y2!, [1, -2, 3, 4]);
  const [y3, m3] = dispatch('Dropout', [x, ratio(0), yes]);
  assertClose(y3!, [1, -2, 3, 4]);
  assert.ok((m3!.toArray() as boolean[][]).flat().every((v) => v));
  // A graph node with one output (the executor passes the count): a view of X, and no mask made.
  const one = dispatch('Dropout', [x], {}, { numOutputs: 1 });
  assert.equal(one.length, 1);
  assert.equal(one[0]!.storage, x.storage);
  assertClose(one[0]!, [1, -2, 3, 4]);
  const two = dispatch('Dropout', [x], {}, { numOutputs: 2 });
  assert.deepEqual(two[1]!.toArray(), mask!.toArray());
});

test('Dropout before opset 12 is inference whatever is_test says; the mask is X-typed before opset 10', () => {
  const x = tensor([1, 2, 3]);
  const [y, mask] = dispatch('Dropout', [x], { ratio: 0.5, is_test: 0 }, { opset: 6 });
  assertClose(y!, [1, 2, 3]);
  assert.equal(mask!.dtype, 'float32');
  assertClose(mask!, [1, 1, 1]);
  assert.equal(dispatch('Dropout', [x], { ratio: 0.2 }, { opset: 10 })[1]!.dtype, 'bool');
});

test('Dropout training keeps about 1 - ratio of the elements, scaled by 1 / (1 - ratio)', () => {
  const n = 4000;
  const x = randn([n], { generator: new Generator(3) });
  const [y, mask] = dispatch('Dropout', [x, ratio(0.25), yes], { seed: 42 });
  const xs = x.numbers();
  const ys = y!.numbers();
  const ms = mask!.numbers();
  let kept = 0;
  for (let i = 0; i < n; i++) {
    if (ms[i]) {
      kept++;
      assert.ok(Math.abs(ys[i]! - xs[i]! / 0.75) < 1e-5);
    } else assert.equal(ys[i], 0);
  }
  // Binomial(4000, 0.75): standard deviation sqrt(4000 * 0.75 * 0.25) ~ 27; allow 5 of them.
  assert.ok(Math.abs(kept - 3000) < 140, `kept ${kept}`);
});

test('Dropout seed makes the mask reproducible; the default generator follows manualSeed', () => {
  const x = randn([64], { generator: new Generator(1) });
  const a = dispatch('Dropout', [x, ratio(0.5), yes], { seed: 7 })[1]!.toArray();
  const b = dispatch('Dropout', [x, ratio(0.5), yes], { seed: 7 })[1]!.toArray();
  const c = dispatch('Dropout', [x, ratio(0.5), yes], { seed: 8 })[1]!.toArray();
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  manualSeed(99);
  const d = dispatch('Dropout', [x, ratio(0.5), yes])[1]!.toArray();
  manualSeed(99);
  assert.deepEqual(dispatch('Dropout', [x, ratio(0.5), yes])[1]!.toArray(), d);
});

test('Dropout rejects a ratio outside [0, 1] and a non-scalar ratio', () => {
  const x = tensor([1, 2]);
  assert.throws(
    () => dispatch('Dropout', [x, ratio(1.5), yes]),
    /Dropout: ratio must be in \[0, 1\], got 1.5/,
  );
  assert.throws(
    () => dispatch('Dropout', [x, tensor([0.1, 0.2]), yes]),
    /Dropout: ratio must be a scalar, got 2 elements/,
  );
});

test('gradcheck: Dropout in training (a seeded mask) and in inference', () => {
  const x = randn([3, 4], { dtype: 'float64', requiresGrad: true, generator: new Generator(2) });
  const r = full([], 0.3, { dtype: 'float64' });
  assert.equal(
    gradcheck((x) => dispatch('Dropout', [x, r, yes], { seed: 5 })[0]!, [x]),
    true,
  );
  assert.equal(
    gradcheck((x) => dispatch('Dropout', [x])[0]!, [x]),
    true,
  );
});
