// examples/mnist-cnn.ts trains a CNN from scratch on generated digits and exports it: the test set
// accuracy it prints is high, the exported repository entry is complete, and onnxruntime-node (the
// oracle) runs the exported file to the same classes Tessera's session gives.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { digits } from '../../examples/digits.js';
import { InferenceSession } from '../../src/index.js';
import { runExample } from './run.js';

test('examples/mnist-cnn.ts: trains to > 90% on held-out digits and exports a servable model', {
  timeout: 120_000,
}, async () => {
  const out = mkdtempSync(join(tmpdir(), 'tessera-example-cnn-'));
  const r = await runExample(['examples/mnist-cnn.ts', '--out', out, '--train', '1500', '--epochs', '2']);
  assert.equal(r.code, 0, r.stderr);
  const acc = Number(/test accuracy ([\d.]+)%/.exec(r.stdout)?.[1]);
  assert.ok(acc > 90, `accuracy ${acc}%:\n${r.stdout}`);
  assert.match(r.stdout, /agree with the module's on 100\.0% of the test set/);
  const file = join(out, 'digits', '1', 'model.onnx');
  for (const f of [file, join(out, 'digits', 'config.json'), join(out, 'digits', 'labels.txt')])
    assert.ok(existsSync(f), f);

  const x = digits(16, 99).images;
  const ours = (await (await InferenceSession.create(file)).run({ image: x })).probabilities!;
  const s = await ort.InferenceSession.create(readFileSync(file), { logSeverityLevel: 3 });
  const theirs = (
    await s.run({ image: new ort.Tensor('float32', x.dataSync() as Float32Array, [16, 1, 28, 28]) })
  ).probabilities!;
  const p = theirs.data as Float32Array;
  const q = ours.numbers();
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i]! - q[i]!) < 1e-4, `${p[i]} vs ${q[i]}`);
});
