// `tessera convert`: ONNX -> .tsr -> ONNX keeps what the model computes (onnxruntime-node runs the
// round-tripped file to the original's outputs), --check compares both sides, names the format.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { isTsr } from '../../src/importers/tsr/index.js';
import { Generator } from '../../src/index.js';
import { cli, ortRun } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tessera-convert-'));

test('onnx -> tsr -> onnx with --check; onnxruntime gives the same outputs as for the original', async () => {
  const tsr = join(dir, 'cnn.tsr');
  const back = join(dir, 'cnn.onnx');
  const a = await cli('convert', 'models/mnist_cnn', tsr, '--check');
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /\(onnx, [\d,]+ bytes\) -> .*cnn\.tsr \(tsr, [\d,]+ bytes\)/);
  assert.match(a.out, /check passed/);
  assert.ok(isTsr(readFileSync(tsr)));
  const b = await cli('convert', tsr, back, '--check', '--batch', '3', '--dynamic-batch');
  assert.equal(b.code, 0, b.err);
  const g = new Generator(5);
  const img = Float32Array.from({ length: 3 * 784 }, () => g.uniform());
  const want = await ortRun('models/mnist_cnn/1/model.onnx', {
    image: { data: img.slice(0, 784), dims: [1, 1, 28, 28] },
  });
  // The converted file has a symbolic batch dim: run 3 images at once, compare the first.
  const got = await ortRun(back, { image: { data: img, dims: [3, 1, 28, 28] } });
  assert.deepEqual(got.probabilities!.dims, [3, 10]);
  const w = want.probabilities!.data;
  for (let i = 0; i < 10; i++) assert.ok(Math.abs(got.probabilities!.data[i]! - w[i]!) < 1e-6);
});

test('the output format comes from the extension; a wrong one is a usage error', async () => {
  const r = await cli('convert', 'models/mlp', join(dir, 'out.bin'));
  assert.equal(r.code, 2);
  assert.match(r.err, /must end in \.onnx or \.tsr/);
  const t = await cli('convert', 'models/mlp', join(dir, 'x.tsr'), '--dynamic-batch');
  assert.equal(t.code, 2);
  assert.match(t.err, /--dynamic-batch applies to ONNX output only/);
  const missing = await cli('convert', 'models/mlp');
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing <output>/);
  const notModel = join(dir, 'junk.onnx');
  (await import('node:fs')).writeFileSync(notModel, 'not a model at all');
  const j = await cli('convert', notModel, join(dir, 'y.tsr'));
  assert.equal(j.code, 1);
  assert.match(j.err, /junk\.onnx/);
});
