import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { InferenceSession, importOnnxFile } from '../../src/index.js';

const shared = process.env.TESSERA_SHARED ?? join(import.meta.dirname, '../../../shared');

test('InferenceSession.create leaves a caller-owned Model unchanged (passes run on a copy)', async () => {
  // gtzan has MatMul+Add pairs that the 'all' level fuses into Gemm.
  const model = importOnnxFile(join(shared, 'models/gtzan_genre_mlp_keras/model.onnx'));
  const before = model.graph.nodes.map((n) => n.opType).join(',');
  const session = await InferenceSession.create(model, { graphOptimizationLevel: 'all' });
  assert.ok(
    session.optimizations.some((r) => r.changes > 0),
    'the passes changed the session graph',
  );
  assert.equal(model.graph.nodes.map((n) => n.opType).join(','), before);
  assert.ok(before.includes('MatMul'));
});
