// `tessera bench`: percentiles by nearest rank (worked by hand), and the command's JSON report.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { latencyStats, percentile } from '../../src/cli/commands/bench.js';
import { cli } from './helpers.js';

test('nearest-rank percentiles and throughput', () => {
  const v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  assert.equal(percentile(v, 50), 5);
  assert.equal(percentile(v, 90), 9);
  assert.equal(percentile(v, 95), 10);
  assert.equal(percentile(v, 99), 10);
  assert.equal(percentile([4], 50), 4);
  // 10 runs of batch 4 in 55 ms: 40 samples / 0.055 s.
  const s = latencyStats([10, 1, 9, 2, 8, 3, 7, 4, 6, 5], 4);
  assert.equal(s.min, 1);
  assert.equal(s.max, 10);
  assert.equal(s.mean, 5.5);
  assert.ok(Math.abs(s.throughput - 40 / 0.055) < 1e-6);
});

test('bench --json on made-up inputs reports ordered percentiles for the batch asked', async () => {
  const r = await cli('bench', 'models/mlp', '--batch', '8', '--warmup', '1', '--iterations', '12', '--json');
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.inputs.input, { dtype: 'float32', shape: [8, 4] });
  const t = j.tessera;
  assert.equal(t.runs, 12);
  assert.equal(t.batch, 8);
  assert.ok(t.min <= t.p50 && t.p50 <= t.p90 && t.p90 <= t.p95 && t.p95 <= t.p99 && t.p99 <= t.max);
  assert.ok(Math.abs(t.throughput - (12 * 8) / t.seconds) < 1e-6 * t.throughput);
  assert.ok(j.weightBytes > 0);
});

test('bench table with onnxruntime side by side; --shape for an unknown input is refused', async () => {
  const r = await cli('bench', 'models/mnist_cnn', '--warmup', '1', '--iterations', '3', '--compare-ort');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /image float32\[1, 1, 28, 28\]/);
  assert.match(r.out, /^tessera\s+3\s/m);
  assert.match(r.out, /^onnxruntime\s+3\s/m);
  assert.match(r.out, /p50 ratio tessera\/onnxruntime: [\d.]+x/);
  const bad = await cli('bench', 'models/mlp', '--shape', 'x=1,4');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /no input 'x'/);
});
