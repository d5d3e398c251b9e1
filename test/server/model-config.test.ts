/** config.json parsing (Triton's JSON model configuration and friendlier spellings) and version policies. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HttpError } from '../../src/server/errors.js';
import { configToJson, parseModelConfig, selectVersions } from '../../src/server/model-config.js';
import { resolveSignature } from '../../src/server/repository.js';

const bad = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof HttpError && e.status === 400 && pattern.test(e.message));

describe('model config', () => {
  it("reads Triton's JSON model configuration", () => {
    const cfg = parseModelConfig(
      {
        name: 'cnn',
        max_batch_size: 8,
        input: [{ name: 'x', data_type: 'TYPE_FP32', dims: ['1', 28, 28] }],
        output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [10], label_filename: 'labels.txt' }],
        dynamic_batching: {
          max_queue_delay_microseconds: '500',
          preferred_batch_size: [4],
          default_queue_policy: { max_queue_size: 16, default_timeout_microseconds: 1000 },
        },
        version_policy: { all: {} },
        instance_group: [{ count: 2, kind: 'KIND_CPU' }],
      },
      'cnn',
    );
    assert.equal(cfg.maxBatchSize, 8);
    assert.deepEqual(cfg.inputs, [{ name: 'x', dtype: 'float32', dims: [1, 28, 28] }]);
    assert.equal(cfg.outputs![0]!.labelFilename, 'labels.txt');
    assert.deepEqual(cfg.dynamicBatching, { maxQueueDelayUs: 500, preferredBatchSizes: [4] });
    assert.deepEqual(cfg.queuePolicy, {
      maxQueueSize: 16,
      defaultTimeoutUs: 1000,
      allowTimeoutOverride: true,
    });
    assert.deepEqual(cfg.versionPolicy, { all: {} });
    assert.equal(cfg.instanceCount, 2);
    const json = configToJson(cfg, 2) as any;
    assert.equal(json.input[0].data_type, 'TYPE_FP32');
    assert.equal(json.dynamic_batching.max_queue_delay_microseconds, 500);
    assert.equal(json.dynamic_batching.default_queue_policy.max_queue_size, 16);
  });

  it('accepts inputs/outputs with datatype and shape, and an empty config', () => {
    const cfg = parseModelConfig(
      { inputs: [{ name: 'x', datatype: 'INT64', shape: [-1] }], device: 'webgpu' },
      'm',
    );
    assert.deepEqual(cfg.inputs, [{ name: 'x', dtype: 'int64', dims: [-1] }]);
    assert.equal(cfg.device, 'webgpu');
    const empty = parseModelConfig(undefined, 'm');
    assert.equal(empty.maxBatchSize, 0);
    assert.equal(empty.inputs, undefined);
    assert.deepEqual(empty.versionPolicy, { latest: { num_versions: 1 } });
  });

  it('rejects bad configurations, naming the model and the field', () => {
    bad(() => parseModelConfig({ name: 'other' }, 'm'), /model 'm'.*'other' does not match/);
    bad(() => parseModelConfig({ max_batch_size: -1 }, 'm'), /max_batch_size must be an integer/);
    bad(
      () => parseModelConfig({ input: [{ name: 'x', data_type: 'TYPE_FOO', dims: [1] }] }, 'm'),
      /unknown data type/,
    );
    bad(() => parseModelConfig({ dynamic_batching: {} }, 'm'), /needs max_batch_size > 0/);
    bad(
      () => parseModelConfig({ max_batch_size: 2, dynamic_batching: { preferred_batch_size: [4] } }, 'm'),
      /larger than max_batch_size/,
    );
    bad(() => parseModelConfig({ version_policy: { newest: {} } }, 'm'), /version_policy/);
    bad(() => parseModelConfig({ device: 'tpu' }, 'm'), /device/);
    bad(() => parseModelConfig({ default_model_filename: '../x.onnx' }, 'm'), /plain file name/);
    bad(() => parseModelConfig([], 'm'), /JSON object/);
  });

  it('selects versions by policy', () => {
    assert.deepEqual(selectVersions({ latest: { num_versions: 1 } }, [1, 3, 2]), [3]);
    assert.deepEqual(selectVersions({ latest: { num_versions: 2 } }, [1, 3, 2]), [3, 2]);
    assert.deepEqual(selectVersions({ all: {} }, [1, 3, 2]), [3, 2, 1]);
    assert.deepEqual(selectVersions({ specific: { versions: [1, 4] } }, [1, 3, 2]), [1]);
  });

  it('completes inputs and outputs from the model, or checks them against it', () => {
    const sig = {
      inputs: [{ name: 'x', dtype: 'float32' as const, shape: [-1, 4] }],
      outputs: [{ name: 'y', dtype: 'float32' as const, shape: [-1, 3] }],
    };
    const auto = resolveSignature(parseModelConfig({ max_batch_size: 4 }, 'm'), sig);
    assert.deepEqual(auto.inputs, [{ name: 'x', dtype: 'float32', dims: [4] }]);
    assert.deepEqual(auto.outputs, [{ name: 'y', dtype: 'float32', dims: [3] }]);
    const noBatch = resolveSignature(parseModelConfig({}, 'm'), sig);
    assert.deepEqual(noBatch.inputs[0]!.dims, [-1, 4]);
    bad(
      () =>
        resolveSignature(
          parseModelConfig(
            { input: [{ name: 'q', data_type: 'TYPE_FP32', dims: [4] }], max_batch_size: 2 },
            'm',
          ),
          sig,
        ),
      /'q' is not an input/,
    );
    bad(
      () =>
        resolveSignature(
          parseModelConfig(
            { input: [{ name: 'x', data_type: 'TYPE_INT32', dims: [4] }], max_batch_size: 2 },
            'm',
          ),
          sig,
        ),
      /int32 but the model's is float32/,
    );
    bad(
      () =>
        resolveSignature(
          parseModelConfig(
            { input: [{ name: 'x', data_type: 'TYPE_FP32', dims: [5] }], max_batch_size: 2 },
            'm',
          ),
          sig,
        ),
      /shape \[-1,5\].*\[-1,4\]/,
    );
    const fixed = { ...sig, inputs: [{ name: 'x', dtype: 'float32' as const, shape: [1, 4] }] };
    bad(
      () => resolveSignature(parseModelConfig({ max_batch_size: 4 }, 'm'), fixed),
      /first dimension is fixed/,
    );
  });
});
