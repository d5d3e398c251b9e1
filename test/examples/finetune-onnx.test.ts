// examples/finetune-onnx.ts fine-tunes the bundled ONNX digit classifier on inverted digits: it
// starts near chance and ends far above it; the written ONNX file, run by onnxruntime-node, scores
// what the example printed.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import ort from 'onnxruntime-node';
import { digits } from '../../examples/digits.js';
import { runExample } from './run.js';

test('examples/finetune-onnx.ts: accuracy on the shifted digits rises from near chance to > 80%', {
  timeout: 120_000,
}, async () => {
  const out = join(mkdtempSync(join(tmpdir(), 'tessera-example-ft-')), 'tuned.onnx');
  const r = await runExample(['examples/finetune-onnx.ts', '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  const before = Number(/([\d.]+)% right on inverted digits before/.exec(r.stdout)?.[1]);
  const after = Number(/examples: ([\d.]+)% right/.exec(r.stdout)?.[1]);
  assert.ok(before < 30, `before ${before}%`);
  assert.ok(after > 80, `after ${after}%:\n${r.stdout}`);

  // The oracle: onnxruntime-node on fresh inverted digits.
  const d = digits(200, 77);
  const x = Float32Array.from(d.images.dataSync() as Float32Array, (v) => 1 - v);
  const s = await ort.InferenceSession.create(readFileSync(out), { logSeverityLevel: 3 });
  const probs = (await s.run({ [s.inputNames[0]!]: new ort.Tensor('float32', x, [200, 1, 28, 28]) }))[
    s.outputNames[0]!
  ]!.data as Float32Array;
  const labels = d.labels.numbers();
  let right = 0;
  for (let i = 0; i < 200; i++) {
    const row = Array.from(probs.subarray(i * 10, i * 10 + 10));
    if (row.indexOf(Math.max(...row)) === labels[i]) right++;
  }
  assert.ok(right / 200 > 0.75, `onnxruntime: ${right}/200 right`);
});
