import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { InferenceSession, importOnnxFile, randn, saveTsr } from '../../src/index.js';

test('InferenceSession loads .tsr files as well as ONNX, with equal outputs', async () => {
  const onnxPath = join(import.meta.dirname, '../../models/mlp/1/model.onnx');
  const dir = mkdtempSync(join(tmpdir(), 'tessera-tsr-'));
  try {
    const tsrPath = join(dir, 'model.tsr');
    saveTsr(importOnnxFile(onnxPath), tsrPath);
    const a = await InferenceSession.create(onnxPath);
    const b = await InferenceSession.create(tsrPath);
    assert.deepEqual(b.inputNames, a.inputNames);
    const x = randn([5, 4]);
    const ya = (await a.run({ input: x })).probabilities!;
    const yb = (await b.run({ input: x })).probabilities!;
    assert.deepEqual(yb.dataSync(), ya.dataSync());
    await assert.rejects(InferenceSession.create(join(dir, 'missing.tsr')), /cannot read model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
