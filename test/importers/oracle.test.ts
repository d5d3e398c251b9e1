/**
 * ONNX Runtime as an oracle: conformance models and real models run through both Tessera and
 * onnxruntime-node on the same random inputs (float inputs randomized with a fixed seed; integer
 * and bool inputs, which steer control flow and indexing, kept from the test data), and their
 * outputs must agree within float32 accumulation error.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { importOnnxFile, readValueFile } from '../../src/importers/onnx/index.js';
import {
  fromNumbers,
  Generator,
  InferenceSession,
  isFloat,
  isTensorValue,
  Tensor,
  TensorSequence,
  type Value,
} from '../../src/index.js';
import { sharedDir } from '../conformance/harness.js';

const NODE_TESTS = [
  'node/test_conv_with_strides_padding',
  'node/test_convtranspose_pads',
  'node/test_gemm_all_attributes',
  'node/test_matmul_4d',
  'node/test_einsum_batch_matmul',
  'node/test_softmax_axis_1',
  'node/test_logsoftmax_axis_1',
  'node/test_hardmax_axis_1',
  'node/test_averagepool_2d_pads',
  'node/test_maxpool_2d_pads',
  'node/test_globalaveragepool',
  'node/test_batchnorm_example',
  'node/test_instancenorm_example',
  'node/test_layer_normalization_4d_axis1',
  'node/test_lrn',
  'node/test_gelu_tanh_1',
  'node/test_elu',
  'node/test_selu',
  'node/test_erf',
  'node/test_prelu_broadcast',
  'node/test_mul_bcast',
  'node/test_where_example',
  'node/test_reduce_log_sum_exp_keepdims_random',
  'node/test_cumsum_2d_axis_1',
  'node/test_transpose_all_permutations_3',
  'node/test_tile',
  'node/test_loop11',
  'node/test_scan9_sum',
  'pytorch-converted/test_Conv2d_groups',
  'simple/test_sequence_model1',
];
const MODELS = ['mnist8_cntk', 'mnist_mlp_batchnorm', 'gtzan_genre_mlp_keras', 'ultraface_rfb320'];

const gen = new Generator(7);

/** A random tensor like `t` for floats (variances positive), `t` itself otherwise. */
function randomLike(name: string, t: Tensor): Tensor {
  if (!isFloat(t.dtype)) return t;
  const positive = /var/i.test(name);
  const vals = Array.from({ length: t.numel() }, () =>
    positive ? 0.1 + 2 * gen.uniform() : 4 * gen.uniform() - 2,
  );
  return Tensor.fromData(fromNumbers(t.dtype, vals), [...t.shape], t.dtype);
}

function toOrt(t: Tensor): ort.Tensor {
  return new ort.Tensor(t.dtype as 'float32', t.dataSync() as Float32Array, [...t.shape]);
}

function fromOrt(v: ort.Tensor): Tensor {
  return Tensor.fromData(v.data as Float32Array, [...v.dims], v.type as 'float32');
}

function compare(id: string, name: string, got: Value, want: Tensor): void {
  assert.ok(isTensorValue(got), `${id} ${name}: not a tensor`);
  assert.equal(got.dtype, want.dtype, `${id} ${name}: dtype`);
  assert.deepEqual([...got.shape], [...want.shape], `${id} ${name}: shape`);
  const a = got.numbers();
  const e = want.numbers();
  for (let i = 0; i < e.length; i++) {
    const tol = 1e-4 + 1e-3 * Math.abs(e[i]!);
    if (Number.isNaN(e[i]!) && Number.isNaN(a[i]!)) continue;
    assert.ok(Math.abs(a[i]! - e[i]!) <= tol, `${id} ${name}[${i}]: tessera ${a[i]}, onnxruntime ${e[i]}`);
  }
}

async function check(id: string, modelPath: string, dataSet: string): Promise<void> {
  const m = importOnnxFile(modelPath);
  const inits = new Set(m.graph.initializers.keys());
  const feeds: Record<string, Tensor> = {};
  m.graph.inputs
    .filter((i) => !inits.has(i.name))
    .forEach((vi, i) => {
      const f = join(dataSet, `input_${i}.pb`);
      if (!existsSync(f)) return;
      const v = readValueFile(f, vi.type);
      assert.ok(isTensorValue(v), `${id}: oracle inputs must be tensors`);
      feeds[vi.name] = randomLike(vi.name, v);
    });
  const ours = InferenceSession.fromModel(m).runValues(feeds);
  const session = await ort.InferenceSession.create(modelPath, { logSeverityLevel: 3 });
  const theirs = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, toOrt(t)])));
  for (const name of session.outputNames) {
    const mine = ours[name]!;
    const ref = theirs[name]!;
    if (mine instanceof TensorSequence) {
      // onnxruntime-node returns sequences as arrays of tensors.
      const list = ref as unknown as ort.Tensor[];
      assert.equal(mine.length, list.length, `${id} ${name}: sequence length`);
      for (const [k, t] of mine.items.entries()) compare(id, `${name}[${k}]`, t, fromOrt(list[k]!));
    } else compare(id, name, mine, fromOrt(ref as ort.Tensor));
  }
  await session.release();
}

test(`onnxruntime-node agrees with Tessera on ${NODE_TESTS.length} conformance models with random inputs`, {
  timeout: 120_000,
}, async () => {
  for (const id of NODE_TESTS) {
    const dir = join(sharedDir(), 'onnx-tests', id);
    await check(id, join(dir, 'model.onnx'), join(dir, 'test_data_set_0'));
  }
});

test(`onnxruntime-node agrees with Tessera on the real models (${MODELS.join(', ')})`, {
  timeout: 300_000,
}, async () => {
  for (const name of MODELS) {
    const dir = join(sharedDir(), 'models', name);
    await check(`models/${name}`, join(dir, 'model.onnx'), join(dir, 'test_data_set_0'));
  }
});
