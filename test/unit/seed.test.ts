import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor } from '../../src/index.js';

test('seed example: y = w*x + b', () => {
  const x = tensor(3);
  const w = tensor(4, { requiresGrad: true });
  const b = tensor(5, { requiresGrad: true });
  const y = w.mul(x).add(b);
  assert.equal(String(y), 'tensor(17., grad_fn=<AddBackward0>)');
  assert.equal(y.gradFn?.name, 'AddBackward0');
  y.backward();
  assert.equal(x.grad, null);
  assert.equal(w.grad!.item(), 3);
  assert.equal(b.grad!.item(), 1);
});
