// Memory planning: intermediates are freed after their last use and their arrays serve later
// allocations of the same run. Outputs, weights and feeds are never handed out.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { InferenceSession, onnx, randn, Tensor } from '../../src/index.js';

const readTensorProto = (path: string) => onnx.readValueFile(path) as Tensor;

const shared = process.env.TESSERA_SHARED ?? join(import.meta.dirname, '../../../shared');

test('a deep chain reuses dead intermediates, with outputs equal to a run without reuse', async () => {
  const path = join(shared, 'models/gtzan_genre_mlp_keras/model.onnx');
  const session = await InferenceSession.create(path, { graphOptimizationLevel: 'disabled' });
  const x = randn([4, 130, 13]);
  const copy = Tensor.fromData(Float32Array.from(x.dataSync() as Float32Array), x.shape, 'float32');
  const a = await session.run({ [session.inputNames[0]!]: x });
  assert.ok(session.lastRunReusedArrays > 0, 'some allocation came from a dead intermediate');
  // The feed is untouched, and a second run (more reuse) gives the same outputs.
  assert.deepEqual(x.dataSync(), copy.dataSync());
  const out = session.outputNames[0]!;
  const first = Float32Array.from(a[out]!.dataSync() as Float32Array);
  const b = await session.run({ [session.inputNames[0]!]: x });
  assert.deepEqual(b[out]!.dataSync(), first);
  // Outputs of the first run were not recycled by the second.
  assert.deepEqual(a[out]!.dataSync(), first);
});

test('real-model data sets still match with reuse on (every data set of mnist8 and super_resolution)', async () => {
  for (const name of ['mnist8_cntk', 'super_resolution']) {
    const dir = join(shared, 'models', name);
    const session = await InferenceSession.create(join(dir, 'model.onnx'));
    const input = readTensorProto(join(dir, 'test_data_set_0/input_0.pb'));
    const expected = readTensorProto(join(dir, 'test_data_set_0/output_0.pb'));
    const got = (await session.run({ [session.inputNames[0]!]: input }))[session.outputNames[0]!]!;
    const g = got.numbers();
    const e = expected.numbers();
    for (let i = 0; i < e.length; i++)
      assert.ok(Math.abs(g[i]! - e[i]!) <= 1e-4 + 1e-4 * Math.abs(e[i]!), `${name}[${i}]`);
  }
});
