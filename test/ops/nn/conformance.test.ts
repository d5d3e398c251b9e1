/**
 * The ONNX backend conformance node tests for the nn ops (../shared/onnx-tests), run through the
 * registry at each model's opset and compared with the stored outputs.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';
import { loadNodeCase, ONNX_TESTS, supported } from './onnx-node.js';

const OPS = new Set([
  'Conv',
  'ConvTranspose',
  'MaxPool',
  'AveragePool',
  'GlobalAveragePool',
  'GlobalMaxPool',
  'LpPool',
  'MaxUnpool',
  'BatchNormalization',
  'LayerNormalization',
  'InstanceNormalization',
  'GroupNormalization',
  'LpNormalization',
  'MeanVarianceNormalization',
  'LRN',
  'Dropout',
  'Resize',
  'Upsample',
]);

// Outputs drawn from NumPy's random generator cannot be reproduced; only their shapes are checked.
const RANDOM = new Set([
  'test_training_dropout',
  'test_training_dropout_default',
  'test_training_dropout_default_mask',
  'test_training_dropout_mask',
]);

const SUITES = ['node', 'pytorch-converted', 'pytorch-operator'];
const cases: string[] = [];
for (const suite of SUITES) {
  const dir = join(ONNX_TESTS, suite);
  if (!existsSync(dir)) continue;
  for (const name of readdirSync(dir).sort()) {
    const c = loadNodeCase(join(dir, name));
    if (
      c.opTypes.some((t) => OPS.has(t)) &&
      !c.opTypes.some((t) => !OPS.has(t) && !['Unsqueeze', 'Squeeze'].includes(t))
    )
      cases.push(join(dir, name));
  }
}

for (const dir of cases) {
  const c = loadNodeCase(dir);
  test(`${dir.split('/').slice(-2).join('/')} (opset ${c.opset})`, {
    skip: !supported(c) && 'op not registered',
  }, () => {
    for (const { expected, actual } of c.run()) {
      assert.equal(actual.length, expected.length);
      expected.forEach((e, i) => {
        const a = actual[i]!;
        assert.ok(a, `output ${i} missing`);
        assert.deepEqual([...a.shape], [...e.shape], `output ${i} shape`);
        assert.equal(a.dtype, e.dtype, `output ${i} dtype`);
        if (RANDOM.has(c.name)) return;
        assertClose(a, e, { rtol: 1e-3, atol: 1e-4 });
      });
    }
  });
}
