/**
 * Fine-tuning over HTTP (issue 5's "Done means"): an ONNX MLP and a small ONNX CNN, made with
 * Tessera, are fine-tuned through POST /v2/models/{m}/train on generated tasks. The loss the
 * served model gives (computed here from its logits) falls by more than 90% and held-out accuracy
 * passes 95%; the new version is written atomically beside the old one, served, and agrees with
 * onnxruntime-node running the written model.onnx; the old version keeps serving what it did.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { metricValue } from './helpers.js';
import {
  accuracy,
  assertAllClose,
  bars,
  cnnOnnx,
  crossEntropy,
  eventually,
  getJson,
  infer,
  makeRepo,
  mlpOnnx,
  ortRun,
  quadrants,
  readEvents,
  removeRepo,
  v2,
  waitForJob,
} from './training-helpers.js';

describe('fine-tuning imported ONNX models over HTTP', { timeout: 120_000 }, () => {
  let root: string;
  let server: RunningServer;
  let url: string;

  before(async () => {
    root = makeRepo({
      // Every version serves: the fine-tuned one beside the original.
      mlp: { onnx: mlpOnnx(10), config: { version_policy: { all: {} } } },
      cnn: {
        onnx: cnnOnnx(11),
        config: { max_batch_size: 128, version_policy: { latest: { num_versions: 2 } } },
      },
    });
    server = await startServer({ modelRepository: root, host: '127.0.0.1', port: 0, threads: 1 });
    url = server.url;
  });

  after(async () => {
    await server?.close();
    if (root) removeRepo(root);
  });

  it('MLP (JSON body): loss falls > 90%, held-out accuracy > 95%, v2 matches onnxruntime, v1 unchanged', async () => {
    const train = quadrants(400, 1);
    const heldOut = quadrants(200, 2);
    const lossBefore = crossEntropy(await infer(url, 'mlp', 1, 'x', train), train.y);
    const v1Before = await infer(url, 'mlp', 1, 'x', heldOut);
    const config = readFileSync(join(root, 'mlp', 'config.json'));

    const res = await fetch(`${url}/v2/models/mlp/train`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [v2('x', 'FP32', train.shape, train.x)],
        targets: [v2('quadrant', 'INT64', [400], train.y)],
        loss: 'cross_entropy',
        optimizer: { name: 'adam', lr: 0.02 },
        epochs: 12,
        batch_size: 32,
        seed: 1,
        validation_split: 0.2,
        metrics: ['accuracy'],
      }),
    });
    assert.equal(res.status, 202);
    const accepted = (await res.json()) as any;
    assert.match(accepted.id, /^[0-9a-f-]{36}$/);
    assert.equal(res.headers.get('location'), `/v2/training/jobs/${accepted.id}`);
    assert.ok(['queued', 'running'].includes(accepted.state));
    assert.equal(accepted.model, 'mlp');
    assert.equal(accepted.base_version, 1);

    // Live progress: the stream starts with the job, then the run's events, and ends with its final state.
    const stream = await readEvents(`${url}/v2/training/jobs/${accepted.id}/events`);
    assert.equal(stream.status, 200);
    assert.match(stream.contentType, /^text\/event-stream/);
    const names = stream.events.map((e) => e.event);
    assert.equal(names[0], 'job');
    assert.equal(stream.events.at(-1)!.event, 'state');
    assert.equal(stream.events.at(-1)!.data.state, 'completed');
    const epochs = stream.events.filter((e) => e.event === 'epoch');
    assert.deepEqual(
      epochs.map((e) => e.data.epoch),
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    assert.ok(epochs.every((e) => typeof e.data.val_loss === 'number' && e.data.metrics.accuracy >= 0));
    const steps = stream.events.filter((e) => e.event === 'step');
    assert.ok(steps.length > 0 && steps.at(-1)!.data.step === 120, 'the last step event is step 120');
    assert.ok(steps.every((e) => e.data.eta_seconds >= 0 && e.data.samples_per_second >= 0));

    const job = await waitForJob(url, accepted.id);
    assert.equal(job.state, 'completed', job.error);
    assert.equal(job.step, 120); // 320 training samples / 32 = 10 steps per epoch
    assert.equal(job.train_samples, 320);
    assert.equal(job.val_samples, 80);
    assert.equal(job.history.length, 12);
    assert.ok(job.loss_history.length > 0);
    assert.deepEqual(job.result.version, 2);
    assert.equal(job.result.served, true);
    assert.ok(job.history.at(-1).val_metrics.accuracy > 0.95);

    // Judged from the served models, not from what the job reports.
    const lossAfter = crossEntropy(await infer(url, 'mlp', 2, 'x', train), train.y);
    assert.ok(lossAfter < 0.1 * lossBefore, `training loss ${lossBefore} -> ${lossAfter}`);
    const v2Out = await infer(url, 'mlp', 2, 'x', heldOut);
    assert.ok(accuracy(v2Out, heldOut.y) > 0.95, `held-out accuracy ${accuracy(v2Out, heldOut.y)}`);
    assertAllClose(
      v2Out,
      await ortRun(join(root, 'mlp', '2', 'model.onnx'), 'x', heldOut),
      1e-4,
      'v2 vs onnxruntime',
    );
    assert.deepEqual(await infer(url, 'mlp', 1, 'x', heldOut), v1Before, 'version 1 serves what it did');

    // Written beside the old version, with its provenance; config.json untouched; no temporaries left.
    assert.deepEqual(readFileSync(join(root, 'mlp', 'config.json')), config);
    assert.equal(JSON.parse(readFileSync(join(root, 'mlp', '2', 'training.json'), 'utf8')).job, job.id);
    assert.deepEqual(readdirSync(join(root, 'mlp')).sort(), ['1', '2', 'config.json']);
    await eventually(
      () => !existsSync(join(root, '.training', job.id, 'data.safetensors')),
      'the uploaded data is removed',
    );
    await eventually(
      () => !existsSync(join(root, '.training', job.id, 'checkpoints')),
      'the checkpoints are removed',
    );

    const index = await fetch(`${url}/v2/repository/index`, { method: 'POST' }).then((r) => r.json());
    assert.deepEqual(
      (index as any[]).filter((e) => e.name === 'mlp').map((e) => [e.version, e.state]),
      [
        ['1', 'READY'],
        ['2', 'READY'],
      ],
    );
    const metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    assert.equal(metricValue(metrics, 'tessera_training_jobs', { state: 'completed' }), 1);
    assert.equal(metricValue(metrics, 'tessera_training_steps_total', { model: 'mlp' }), 120);
    assert.equal(metricValue(metrics, 'tessera_training_samples_total', { model: 'mlp' }), 12 * 320);
    assert.ok(metricValue(metrics, 'tessera_training_last_loss', { model: 'mlp', job: job.id })! < 0.5);
  });

  it('CNN (binary tensor body): loss falls > 90%, held-out accuracy > 95%, v2 matches onnxruntime', async () => {
    const train = bars(96, 3);
    const heldOut = bars(64, 4);
    const lossBefore = crossEntropy(await infer(url, 'cnn', 1, 'image', train), train.y);
    const labels = BigInt64Array.from(train.y, (v) => BigInt(v));
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'image',
            datatype: 'FP32',
            shape: train.shape,
            parameters: { binary_data_size: train.x.byteLength },
          },
        ],
        targets: [
          {
            name: 'label',
            datatype: 'INT64',
            shape: [96],
            parameters: { binary_data_size: labels.byteLength },
          },
        ],
        loss: 'crossEntropy',
        optimizer: { name: 'adam', lr: 0.02 },
        epochs: 8,
        batch_size: 16,
        seed: 2,
        metrics: ['accuracy'],
        checkpoint_every: 12,
      }),
    );
    const body = Buffer.concat([header, Buffer.from(train.x.buffer), Buffer.from(labels.buffer)]);
    const res = await fetch(`${url}/v2/models/cnn/train`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Inference-Header-Content-Length': String(header.length),
      },
      body,
    });
    const accepted = (await res.json()) as any;
    assert.equal(res.status, 202, JSON.stringify(accepted));

    const job = await waitForJob(url, accepted.id);
    assert.equal(job.state, 'completed', job.error);
    assert.equal(job.step, 48);
    assert.equal(job.checkpoint.step, 48);
    assert.equal(job.result.version, 2);
    assert.equal(job.result.served, true);
    const lossAfter = crossEntropy(await infer(url, 'cnn', 2, 'image', train), train.y);
    assert.ok(lossAfter < 0.1 * lossBefore, `training loss ${lossBefore} -> ${lossAfter}`);
    const out = await infer(url, 'cnn', 2, 'image', heldOut);
    assert.ok(accuracy(out, heldOut.y) > 0.95, `held-out accuracy ${accuracy(out, heldOut.y)}`);
    assertAllClose(
      out,
      await ortRun(join(root, 'cnn', '2', 'model.onnx'), 'image', heldOut),
      1e-4,
      'v2 vs onnxruntime',
    );
    // BatchNorm's running statistics were trained too: eval-mode outputs differ from version 1's.
    const v1 = await infer(url, 'cnn', 1, 'image', heldOut);
    assert.ok(accuracy(v1, heldOut.y) < 0.9, 'version 1 was not already good at the task');
    const list = await getJson(`${url}/v2/training/jobs?model=cnn`);
    assert.deepEqual(
      list.jobs.map((j: any) => [j.id, j.state]),
      [[job.id, 'completed']],
    );
  });
});
