/**
 * The training API's contract: invalid requests are 400s naming the field, unknown models and jobs
 * 404s; bad data ends a job in a clear failed state without writing a version; a data set file in
 * the model directory can stand in for request tensors; trainable/frozen choose what changes; the
 * version policy decides what serves; at most N jobs run at once and the rest queue; DELETE cancels
 * queued and running jobs.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { importOnnxBytes, Tensor } from '../../src/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { encodeDataset } from '../../src/train/data.js';
import { metricValue } from './helpers.js';
import {
  eventually,
  getJson,
  infer,
  makeRepo,
  mlpOnnx,
  postJson,
  quadrants,
  removeRepo,
  v2,
  waitForJob,
} from './training-helpers.js';

const data = quadrants(64, 5);
const good = {
  inputs: [v2('x', 'FP32', data.shape, data.x)],
  targets: [v2('y', 'INT64', [64], data.y)],
  loss: 'crossEntropy',
};

describe('training API', { timeout: 120_000 }, () => {
  let root: string;
  let server: RunningServer;
  let url: string;

  before(async () => {
    root = makeRepo({
      mlp: { onnx: mlpOnnx(3) },
      busy: { onnx: mlpOnnx(4), config: { version_policy: { all: {} } } },
    });
    server = await startServer({
      modelRepository: root,
      host: '127.0.0.1',
      port: 0,
      threads: 1,
      training: { maxJobs: 2 },
    });
    url = server.url;
  });

  after(async () => {
    await server?.close();
    if (root) removeRepo(root);
  });

  it('answers 400 naming the bad field, and 404 for unknown models and jobs', async () => {
    const cases: [string, Record<string, unknown>, RegExp][] = [
      ['no data', {}, /^inputs: .*'inputs' and 'targets'.*'dataset'/],
      ['unknown field', { ...good, epochz: 3 }, /unknown field 'epochz'/],
      ['batch_size', { ...good, batch_size: 0 }, /^batch_size must be a positive integer, got 0/],
      ['epochs', { ...good, epochs: 'ten' }, /^epochs must be a positive integer/],
      ['loss', { ...good, loss: 'hinge' }, /^loss: unknown loss 'hinge'/],
      ['loss option', { ...good, loss: { name: 'huber', delta: 'big' } }, /^loss: 'delta' must be a number/],
      ['optimizer name', { ...good, optimizer: 'adamx' }, /^optimizer: unknown optimizer 'adamx'/],
      [
        'optimizer hyper-parameter',
        { ...good, optimizer: { name: 'adam', lrr: 0.1 } },
        /^optimizer: 'lrr' is not a hyper-parameter of adam/,
      ],
      ['metrics', { ...good, metrics: ['f1'] }, /^metrics: .*unknown metric 'f1'/],
      [
        'validation_split',
        { ...good, validation_split: 1.5 },
        /^validation_split must be a number in \(0, 1\)/,
      ],
      [
        'validation_split too small',
        { ...good, validation_split: 0.001 },
        /^validation_split 0.001 of 64 samples leaves an empty/,
      ],
      ['trainable', { ...good, trainable: 5 }, /^trainable must be 'all', a list/],
      ['frozen pattern', { ...good, frozen: { pattern: '(' } }, /^frozen: .*regular expression/i],
      [
        'early_stopping',
        { ...good, early_stopping: { monitor: 'val_loss' } },
        /^early_stopping.monitor 'val_loss' needs validation data/,
      ],
      ['version taken', { ...good, version: 1 }, /^version: version 1 of model 'mlp' already exists/],
      [
        'input name',
        { ...good, inputs: [v2('z', 'FP32', data.shape, data.x)] },
        /^inputs 'z' is not an input of model 'mlp' \(its inputs: x\)/,
      ],
      [
        'input datatype',
        { ...good, inputs: [v2('x', 'INT32', data.shape, data.y.concat(data.y))] },
        /^inputs 'x': datatype INT32, the model takes FP32/,
      ],
      [
        'input shape',
        { ...good, inputs: [v2('x', 'FP32', [32, 4], data.x)] },
        /^inputs 'x': shape \[32,4\] does not fit the model's input shape \[-1,2\]/,
      ],
      [
        'input data',
        { ...good, inputs: [v2('x', 'FP32', [64, 2], data.x.subarray(1))] },
        /^inputs 'x': shape \[64,2\] needs 128 elements, got 127/,
      ],
      [
        'target samples',
        { ...good, targets: [v2('y', 'INT64', [63], data.y.slice(1))] },
        /^inputs 'x' has 64 samples \(dim 0\), the target 'y' has 63/,
      ],
      ['target missing', { inputs: good.inputs }, /^targets: /],
      [
        'two targets',
        { ...good, targets: [good.targets[0], { ...good.targets[0], name: 'y2' }] },
        /the number of targets \(2\) exceeds the limit of 1/,
      ],
      [
        'dataset and inputs',
        { ...good, dataset: 'train.safetensors' },
        /^dataset: give either a dataset file or inputs and targets/,
      ],
      [
        'dataset file',
        { dataset: 'nope.safetensors' },
        /^dataset 'nope.safetensors' is not a file in the directory of model 'mlp'/,
      ],
      [
        'dataset path',
        { dataset: '../busy/1/model.onnx' },
        /^dataset: '..\/busy\/1\/model.onnx' must be a relative path inside the model directory/,
      ],
    ];
    for (const [what, body, pattern] of cases) {
      const r = await postJson(`${url}/v2/models/mlp/train`, body);
      assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.json)}`);
      assert.match(r.json.error, pattern, what);
    }
    assert.equal((await postJson(`${url}/v2/models/nope/train`, good)).status, 404);
    assert.equal((await postJson(`${url}/v2/models/mlp/versions/9/train`, good)).status, 404);
    for (const [method, path] of [
      ['GET', '/v2/training/jobs/no-such-job'],
      ['GET', '/v2/training/jobs/no-such-job/events'],
      ['DELETE', '/v2/training/jobs/no-such-job'],
    ] as const) {
      const r = await fetch(`${url}${path}`, { method });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.match(((await r.json()) as any).error, /no training job 'no-such-job'/);
    }
    const bad = await fetch(`${url}/v2/training/jobs?state=sleeping`);
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as any).error, /^state: unknown job state 'sleeping'/);
    assert.deepEqual((await getJson(`${url}/v2/training/jobs`)).jobs, [], 'no job was created');
  });

  it('bad data ends a job in a clear failed state and writes no version', async () => {
    // Class labels past the 4 logits.
    const wrongLabels = await postJson(`${url}/v2/models/mlp/train`, {
      ...good,
      targets: [
        v2(
          'y',
          'INT64',
          [64],
          data.y.map((c) => c + 7),
        ),
      ],
    });
    assert.equal(wrongLabels.status, 202);
    // NaN inputs, which only the binary form can carry.
    const x = Float32Array.from(data.x);
    x[10] = Number.NaN;
    const header = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'x', datatype: 'FP32', shape: data.shape, parameters: { binary_data_size: x.byteLength } },
        ],
        targets: [good.targets[0]],
        loss: 'crossEntropy',
      }),
    );
    const nan = await fetch(`${url}/v2/models/mlp/train`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(header.length) },
      body: Buffer.concat([header, Buffer.from(x.buffer)]),
    });
    assert.equal(nan.status, 202);
    const nanJob = ((await nan.json()) as any).id;
    // An initializer the model does not have.
    const missing = await postJson(`${url}/v2/models/mlp/train`, { ...good, trainable: ['fc9.weight'] });

    const a = await waitForJob(url, wrongLabels.json.id);
    assert.equal(a.state, 'failed');
    assert.match(a.error, /^crossEntropy: target \d+ is out of bounds: expected 0 <= target < 4/);
    const b = await waitForJob(url, nanJob);
    assert.equal(b.state, 'failed');
    assert.match(
      b.error,
      /the loss became NaN at epoch 1, batch \d+ \(check the data and the learning rate\)/,
    );
    const c = await waitForJob(url, missing.json.id);
    assert.equal(c.state, 'failed');
    assert.match(c.error, /trainable 'fc9.weight' is not an initializer of the model/);
    assert.deepEqual(readdirSync(join(root, 'mlp')).sort(), ['1']);
    for (const j of [a, b, c]) {
      await eventually(
        () => !existsSync(join(root, '.training', j.id, 'data.safetensors')),
        'the data file is removed',
      );
    }
    const failed = await getJson(`${url}/v2/training/jobs?state=failed`);
    assert.equal(failed.jobs.length, 3);
    // The model still serves.
    await infer(url, 'mlp', 1, 'x', data);
  });

  it('trains from a data set file in the model directory; trainable picks the layers; the version policy decides what serves', async () => {
    const task = quadrants(256, 6);
    mkdirSync(join(root, 'mlp', 'data'), { recursive: true });
    writeFileSync(
      join(root, 'mlp', 'data', 'train.safetensors'),
      encodeDataset(
        {
          inputs: { x: Tensor.fromData(task.x, task.shape, 'float32') },
          target: Tensor.fromData(Int32Array.from(task.y), [256], 'int32'),
        },
        'quadrant',
      ),
    );
    const r = await postJson(`${url}/v2/models/mlp/train`, {
      dataset: 'data/train.safetensors',
      loss: 'cross_entropy',
      optimizer: { name: 'sgd', lr: 0.1, momentum: 0.9 },
      epochs: 3,
      batch_size: 64,
      trainable: { pattern: '^2\\.' },
    });
    assert.equal(r.status, 202, JSON.stringify(r.json));
    const job = await waitForJob(url, r.json.id);
    assert.equal(job.state, 'completed', job.error);
    assert.equal(job.step, 12);
    assert.equal(job.request.samples, 256);
    assert.equal(job.result.version, 2);
    assert.ok(
      existsSync(join(root, 'mlp', 'data', 'train.safetensors')),
      'a data set of the repository is kept',
    );

    const v1 = importOnnxBytes(readFileSync(join(root, 'mlp', '1', 'model.onnx'))).graph.initializers;
    const v2m = importOnnxBytes(readFileSync(join(root, 'mlp', '2', 'model.onnx'))).graph.initializers;
    assert.deepEqual(
      v2m.get('0.weight')!.toArray(),
      v1.get('0.weight')!.toArray(),
      'the first layer is frozen',
    );
    assert.notDeepEqual(
      v2m.get('2.weight')!.toArray(),
      v1.get('2.weight')!.toArray(),
      'the last layer trained',
    );

    // No config.json: Triton's default policy serves the newest version only; version 1 stays on disk.
    assert.equal(job.result.served, true);
    await infer(url, 'mlp', 2, 'x', data);
    const old = await fetch(`${url}/v2/models/mlp/versions/1/ready`);
    assert.notEqual(old.status, 200);
    assert.ok(existsSync(join(root, 'mlp', '1', 'model.onnx')));
  });

  it('runs at most N jobs at once, queues the rest, and cancels queued and running jobs', async () => {
    const long = { ...good, epochs: 100_000 };
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await postJson(`${url}/v2/models/busy/train`, long);
      assert.equal(r.status, 202);
      ids.push(r.json.id);
    }
    const [a, b, c] = ids as [string, string, string];
    await waitForJob(url, a, (j) => j.step > 0);
    await waitForJob(url, b, (j) => j.step > 0);
    const queued = await getJson(`${url}/v2/training/jobs/${c}`);
    assert.equal(queued.state, 'queued');
    assert.equal(queued.queue_position, 1);
    const running = await getJson(`${url}/v2/training/jobs?state=running&model=busy`);
    assert.deepEqual(running.jobs.map((j: any) => j.id).sort(), [a, b].sort());
    assert.ok(running.jobs.every((j: any) => j.eta_seconds > 0 && j.samples_per_second > 0));
    let metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    assert.equal(metricValue(metrics, 'tessera_training_jobs', { state: 'running' }), 2);
    assert.equal(metricValue(metrics, 'tessera_training_jobs', { state: 'queued' }), 1);
    assert.ok(metricValue(metrics, 'tessera_training_samples_per_second', { model: 'busy', job: a })! > 0);

    // Inference keeps answering while two jobs train.
    await infer(url, 'busy', 1, 'x', data);

    const cancelQueued = await fetch(`${url}/v2/training/jobs/${c}`, { method: 'DELETE' });
    assert.equal(cancelQueued.status, 200);
    assert.equal(((await cancelQueued.json()) as any).state, 'cancelled');
    const cancelRunning = await fetch(`${url}/v2/training/jobs/${a}`, { method: 'DELETE' });
    assert.equal(((await cancelRunning.json()) as any).state, 'cancelled');
    const again = await fetch(`${url}/v2/training/jobs/${a}`, { method: 'DELETE' });
    assert.equal(again.status, 409);
    assert.match(((await again.json()) as any).error, /already ended \(cancelled\)/);
    const bDone = await fetch(`${url}/v2/training/jobs/${b}`, { method: 'DELETE' }).then((r) => r.json());
    assert.equal((bDone as any).state, 'cancelled');
    assert.deepEqual(
      readdirSync(join(root, 'busy')).sort(),
      ['1', 'config.json'],
      'cancelled jobs write no version',
    );
    metrics = await fetch(`${url}/metrics`).then((r) => r.text());
    assert.equal(metricValue(metrics, 'tessera_training_jobs', { state: 'cancelled' }), 3);
    assert.equal(metricValue(metrics, 'tessera_training_jobs', { state: 'running' }), 0);
    assert.equal(
      metricValue(metrics, 'tessera_training_samples_per_second', { model: 'busy', job: a }),
      undefined,
    );
  });
});
