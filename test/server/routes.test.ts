/**
 * Every endpoint through supertest, with an in-process fake executor (no worker threads): health,
 * metadata, config, infer (JSON and binary), errors and their statuses, statistics, the repository
 * extension and /metrics.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createServer, type TesseraServer } from '../../src/server/index.js';
import {
  affineModel,
  FakeExecutor,
  type FakeModel,
  metricValue,
  splitBinaryResponse,
  TempRepo,
} from './helpers.js';

const echo: FakeModel = {
  fn: 'identity',
  inputs: [
    { name: 'in_text', dtype: 'string', shape: [-1] },
    { name: 'in_ids', dtype: 'int64', shape: [-1] },
  ],
  outputs: [
    { name: 'out_text', dtype: 'string', shape: [-1] },
    { name: 'out_ids', dtype: 'int64', shape: [-1] },
  ],
};

let repo: TempRepo;
let server: TesseraServer;
let fake: FakeExecutor;
let api: ReturnType<typeof request>;

/** Binary request body: JSON header then the given bytes. */
function binary(json: object, ...blobs: Uint8Array[]): { body: Buffer; length: number } {
  const head = Buffer.from(JSON.stringify(json));
  return { body: Buffer.concat([head, ...blobs]), length: head.length };
}

const binaryParser = (res: any, cb: (e: Error | null, body: Buffer) => void) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => cb(null, Buffer.concat(chunks)));
};

before(async () => {
  repo = new TempRepo()
    .add(
      'affine',
      { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 1000 } },
      { 1: affineModel(), 2: affineModel() },
    )
    .add('multi', { max_batch_size: 4, version_policy: { all: {} } }, { 1: affineModel(), 3: affineModel() })
    .add('echo', undefined, { 1: echo })
    .add('broken', { max_batch_size: 2 }, { 1: { ...affineModel(), failLoad: 'corrupt model file' } })
    .add(
      'slow',
      {
        max_batch_size: 1,
        instance_group: [{ count: 1 }],
        dynamic_batching: { default_queue_policy: { max_queue_size: 1 } },
      },
      { 1: affineModel(40) },
    )
    .add('empty', { max_batch_size: 1 }, {});
  repo.add('badjson', undefined, { 1: affineModel() });
  const { writeFileSync } = await import('node:fs');
  writeFileSync(`${repo.root}/badjson/config.json`, '{"max_batch_size": ');
  fake = new FakeExecutor(2);
  server = createServer({
    modelRepository: repo.root,
    executor: fake,
    processMetrics: false,
    maxBodyBytes: 64 * 1024,
  });
  await server.loadModels();
  api = request(server.app);
});

after(async () => {
  await server.close();
  repo.remove();
});

describe('health and server metadata', () => {
  it('answers live and ready, and lists its extensions', async () => {
    await api.get('/v2/health/live').expect(200, { live: true });
    await api.get('/v2/health/ready').expect(200, { ready: true });
    const meta = await api.get('/v2').expect(200);
    assert.equal(meta.body.name, 'tessera');
    assert.match(meta.body.version, /^\d+\.\d+\.\d+/);
    for (const ext of ['binary_tensor_data', 'model_repository', 'statistics'])
      assert.ok(meta.body.extensions.includes(ext));
  });

  it('unknown paths are a 404 with an error body', async () => {
    const r = await api.get('/v3/nothing').expect(404);
    assert.match(r.body.error, /no endpoint/);
  });
});

describe('model metadata', () => {
  it('reports inputs and outputs with -1 for the batch dimension', async () => {
    const r = await api.get('/v2/models/affine').expect(200);
    assert.deepEqual(r.body, {
      name: 'affine',
      versions: ['2'],
      platform: 'tessera_onnx',
      inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }],
      outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 4] }],
    });
    const v = await api.get('/v2/models/multi/versions/1').expect(200);
    assert.deepEqual(v.body.versions, ['1']);
    const all = await api.get('/v2/models/multi').expect(200);
    assert.deepEqual(all.body.versions, ['1', '3']);
    const e = await api.get('/v2/models/echo').expect(200);
    assert.deepEqual(e.body.inputs[0], { name: 'in_text', datatype: 'BYTES', shape: [-1] });
  });

  it('404 for unknown models and versions, 503 for models that failed to load', async () => {
    assert.match((await api.get('/v2/models/nope').expect(404)).body.error, /unknown model: 'nope'/);
    assert.match((await api.get('/v2/models/affine/versions/1').expect(404)).body.error, /version 1/);
    assert.match(
      (await api.get('/v2/models/affine/versions/x').expect(400)).body.error,
      /invalid model version/,
    );
    assert.match((await api.get('/v2/models/broken').expect(503)).body.error, /corrupt model file/);
    assert.match((await api.get('/v2/models/badjson').expect(503)).body.error, /config\.json/);
    assert.match((await api.get('/v2/models/empty').expect(503)).body.error, /no version directories/);
  });

  it('ready endpoints', async () => {
    await api.get('/v2/models/affine/ready').expect(200);
    await api.get('/v2/models/affine/versions/2/ready').expect(200);
    await api.get('/v2/models/broken/ready').expect(503);
    await api.get('/v2/models/nope/ready').expect(404);
  });

  it('config shows the resolved Triton configuration', async () => {
    const r = await api.get('/v2/models/affine/config').expect(200);
    assert.equal(r.body.name, 'affine');
    assert.equal(r.body.max_batch_size, 8);
    assert.deepEqual(r.body.input, [{ name: 'x', data_type: 'TYPE_FP32', dims: [4] }]);
    assert.equal(r.body.dynamic_batching.max_queue_delay_microseconds, 1000);
    assert.equal(r.body.instance_group[0].count, 2);
  });
});

describe('infer', () => {
  const body = {
    id: 'req-7',
    inputs: [
      {
        name: 'x',
        shape: [2, 4],
        datatype: 'FP32',
        data: [
          [1, 2, 3, 4],
          [5, 6, 7, 8],
        ],
      },
    ],
  };

  it('runs a JSON request and echoes the id', async () => {
    const r = await api.post('/v2/models/affine/infer').send(body).expect(200);
    assert.deepEqual(r.body, {
      model_name: 'affine',
      model_version: '2',
      id: 'req-7',
      outputs: [{ name: 'y', datatype: 'FP32', shape: [2, 4], data: [3, 5, 7, 9, 11, 13, 15, 17] }],
    });
    // A versioned URL, and a body sent without a content type.
    const v = await api
      .post('/v2/models/multi/versions/1/infer')
      .set('Content-Type', '')
      .send(JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }] }))
      .expect(200);
    assert.equal(v.body.model_version, '1');
    assert.deepEqual(v.body.outputs[0].data, [1, 1, 1, 1]);
  });

  it('binary tensor data in and out', async () => {
    const x = new Float32Array([1, 2, 3, 4]);
    const { body: b, length } = binary(
      {
        inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', parameters: { binary_data_size: 16 } }],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      },
      new Uint8Array(x.buffer),
    );
    const r = await api
      .post('/v2/models/affine/infer')
      .set('Content-Type', 'application/octet-stream')
      .set('Inference-Header-Content-Length', String(length))
      .send(b)
      .buffer(true)
      .parse(binaryParser)
      .expect(200);
    const n = Number(r.headers['inference-header-content-length']);
    const { json, binary: bytes } = splitBinaryResponse(r.body, n);
    assert.deepEqual(json.outputs, [
      { name: 'y', datatype: 'FP32', shape: [1, 4], parameters: { binary_data_size: 16 } },
    ]);
    assert.deepEqual(
      [...new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + 16))],
      [3, 5, 7, 9],
    );
  });

  it('BYTES and INT64 tensors, JSON and binary (binary_data_output)', async () => {
    const r = await api
      .post('/v2/models/echo/infer')
      .send({
        inputs: [
          { name: 'in_text', shape: [2], datatype: 'BYTES', data: ['héllo', 'wörld'] },
          { name: 'in_ids', shape: [2], datatype: 'INT64', data: [7, -3] },
        ],
      })
      .expect(200);
    assert.deepEqual(r.body.outputs, [
      { name: 'out_text', datatype: 'BYTES', shape: [2], data: ['héllo', 'wörld'] },
      { name: 'out_ids', datatype: 'INT64', shape: [2], data: [7, -3] },
    ]);
    const text = Buffer.concat([Buffer.from([2, 0, 0, 0]), Buffer.from('ab'), Buffer.from([0, 0, 0, 0])]);
    const { body: b, length } = binary(
      {
        inputs: [
          { name: 'in_text', shape: [2], datatype: 'BYTES', parameters: { binary_data_size: text.length } },
          { name: 'in_ids', shape: [1], datatype: 'INT64', data: [1] },
        ],
        outputs: [{ name: 'out_text' }],
        parameters: { binary_data_output: true },
      },
      text,
    );
    const rb = await api
      .post('/v2/models/echo/infer')
      .set('Inference-Header-Content-Length', String(length))
      .send(b)
      .buffer(true)
      .parse(binaryParser)
      .expect(200);
    const { json, binary: bytes } = splitBinaryResponse(
      rb.body,
      Number(rb.headers['inference-header-content-length']),
    );
    assert.deepEqual(json.outputs, [
      { name: 'out_text', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: text.length } },
    ]);
    assert.deepEqual(bytes, text);
  });

  it('classification extension', async () => {
    const r = await api
      .post('/v2/models/affine/infer')
      .send({
        inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [0, 3, 1, 2] }],
        outputs: [{ name: 'y', parameters: { classification: 2 } }],
      })
      .expect(200);
    assert.deepEqual(r.body.outputs[0], {
      name: 'y',
      datatype: 'BYTES',
      shape: [1, 2],
      data: ['7:1', '5:3'],
    });
  });

  it('each bad request is a 400 that names the input and the problem', async () => {
    const cases: [object | string, RegExp][] = [
      [
        { inputs: [{ name: 'z', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] },
        /unexpected inference input 'z'.*'x'/,
      ],
      [
        { inputs: [{ name: 'x', shape: [1, 4], datatype: 'INT32', data: [1, 2, 3, 4] }] },
        /input 'x' data-type is 'INT32'.*expects 'FP32'/,
      ],
      [
        { inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] },
        /shape for input 'x'.*Expected \[-1,4\], got \[1,5\]/,
      ],
      [{ inputs: [{ name: 'x', shape: [4], datatype: 'FP32', data: [1, 2, 3, 4] }] }, /shape for input 'x'/],
      [
        { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3] }] },
        /input 'x'.*needs 4 elements, got 3/,
      ],
      [
        { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 'three', 4] }] },
        /input 'x'.*element 2.*"three"/,
      ],
      [{ inputs: [] }, /missing required input\(s\) 'x'/],
      [
        { inputs: [{ name: 'x', shape: [9, 4], datatype: 'FP32', data: new Array(36).fill(0) }] },
        /batch-size must be in \[1, 8\].*'x'/,
      ],
      [
        {
          inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }],
          outputs: [{ name: 'q' }],
        },
        /unexpected inference output 'q'/,
      ],
      ['{"inputs": [', /malformed JSON/],
      ['', /empty/],
    ];
    for (const [b, pattern] of cases) {
      const r = await api
        .post('/v2/models/affine/infer')
        .set('Content-Type', 'application/json')
        .send(typeof b === 'string' ? b : JSON.stringify(b));
      assert.equal(r.status, 400, `${JSON.stringify(b)} -> ${r.status} ${JSON.stringify(r.body)}`);
      assert.match(r.body.error, pattern);
      assert.deepEqual(Object.keys(r.body), ['error']);
    }
    const big = {
      inputs: [{ name: 'x', shape: [8, 4], datatype: 'FP32', data: new Array(32).fill(1.23456789e-30) }],
      pad: 'x'.repeat(70_000),
    };
    const r = await api.post('/v2/models/affine/infer').send(big).expect(413);
    assert.match(r.body.error, /larger than the limit of 65536 bytes \(--max-body-size\)/);
    const h = await api
      .post('/v2/models/affine/infer')
      .set('Inference-Header-Content-Length', 'abc')
      .send(body)
      .expect(400);
    assert.match(h.body.error, /Inference-Header-Content-Length/);
  });

  it('404 for unknown models or versions, 503 for unavailable ones', async () => {
    const x = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    await api.post('/v2/models/nope/infer').send(x).expect(404);
    await api.post('/v2/models/affine/versions/9/infer').send(x).expect(404);
    const r = await api.post('/v2/models/broken/infer').send(x).expect(503);
    assert.match(r.body.error, /not ready.*corrupt model file/);
  });

  it('a full queue answers 503', async () => {
    const x = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    // One instance runs, one request may wait (max queue size 1), the rest are rejected.
    const rs = await Promise.all(Array.from({ length: 5 }, () => api.post('/v2/models/slow/infer').send(x)));
    const codes = rs.map((r) => r.status).sort();
    assert.deepEqual(codes, [200, 200, 503, 503, 503]);
    const rejected = rs.find((r) => r.status === 503)!;
    assert.match(rejected.body.error, /Exceeds maximum queue size/);
  });

  it("a request's timeout parameter bounds its wait in the queue (503)", async () => {
    const x = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    const [first, second] = await Promise.all([
      api.post('/v2/models/slow/infer').send(x),
      api.post('/v2/models/slow/infer').send({ ...x, parameters: { timeout: 5000 } }),
    ]);
    assert.equal(first.status, 200);
    assert.equal(second.status, 503);
    assert.match(second.body.error, /Request timeout expired/);
    await api
      .post('/v2/models/slow/infer')
      .send({ ...x, parameters: { timeout: -1 } })
      .expect(400);
  });

  it('concurrent requests are batched, with the same outputs as unbatched ones', async () => {
    const before = fake.executions.length;
    const rows = Array.from({ length: 16 }, (_, i) => [i, i + 0.5, -i, 2]);
    const rs = await Promise.all(
      rows.map((row) =>
        api
          .post('/v2/models/affine/infer')
          .send({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: row }] }),
      ),
    );
    const execs = fake.executions.slice(before);
    assert.ok(execs.length < rows.length, `${execs.length} executions for ${rows.length} requests`);
    for (const [i, r] of rs.entries()) {
      assert.equal(r.status, 200);
      assert.deepEqual(
        r.body.outputs[0].data,
        rows[i]!.map((v) => 2 * v + 1),
      );
    }
  });
});

describe('statistics and metrics', () => {
  it("statistics have Triton's shape and count successes, failures and executions", async () => {
    const x = { inputs: [{ name: 'x', shape: [3, 4], datatype: 'FP32', data: new Array(12).fill(1) }] };
    const before = (await api.get('/v2/models/multi/versions/3/stats').expect(200)).body.model_stats[0];
    await api.post('/v2/models/multi/infer').send(x).expect(200);
    await api.post('/v2/models/multi/infer').send({ inputs: [] }).expect(400);
    const r = await api.get('/v2/models/multi/versions/3/stats').expect(200);
    assert.equal(r.body.model_stats.length, 1);
    const s = r.body.model_stats[0];
    assert.equal(s.name, 'multi');
    assert.equal(s.version, '3');
    assert.equal(s.inference_count - before.inference_count, 3);
    assert.equal(s.execution_count - before.execution_count, 1);
    assert.equal(s.inference_stats.success.count - before.inference_stats.success.count, 1);
    assert.equal(s.inference_stats.fail.count - before.inference_stats.fail.count, 1);
    assert.ok(s.inference_stats.success.ns > 0);
    assert.ok(s.inference_stats.compute_infer.ns > 0);
    for (const k of ['queue', 'compute_input', 'compute_output', 'cache_hit', 'cache_miss'])
      assert.ok(k in s.inference_stats);
    assert.ok(s.last_inference > 0);
    assert.deepEqual(s.batch_stats.find((b: any) => b.batch_size === 3).compute_infer.count, 1);
    const all = await api.get('/v2/models/stats').expect(200);
    assert.ok(all.body.model_stats.some((m: any) => m.name === 'affine'));
    await api.get('/v2/models/multi/versions/7/stats').expect(404);
    await api.get('/v2/models/nope/stats').expect(404);
  });

  it('/metrics has the Triton counters, and they move as requests succeed and fail', async () => {
    const scrape = async () =>
      (
        await api
          .get('/metrics')
          .expect(200)
          .expect('Content-Type', /text\/plain/)
      ).text;
    const labels = { model: 'affine', version: '2' };
    const m0 = await scrape();
    const ok = { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: new Array(8).fill(1) }] };
    await api.post('/v2/models/affine/infer').send(ok).expect(200);
    await api.post('/v2/models/affine/infer').send(ok).expect(200);
    await api
      .post('/v2/models/affine/infer')
      .send({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1] }] })
      .expect(400);
    const m1 = await scrape();
    const delta = (name: string, l: Record<string, string> = labels) =>
      (metricValue(m1, name, l) ?? 0) - (metricValue(m0, name, l) ?? 0);
    assert.equal(delta('nv_inference_request_success'), 2);
    assert.equal(delta('nv_inference_request_failure'), 1);
    assert.equal(delta('nv_inference_count'), 4);
    assert.ok(delta('nv_inference_exec_count') >= 1 && delta('nv_inference_exec_count') <= 2);
    for (const name of [
      'nv_inference_request_duration_us',
      'nv_inference_queue_duration_us',
      'nv_inference_compute_input_duration_us',
      'nv_inference_compute_infer_duration_us',
      'nv_inference_compute_output_duration_us',
    ]) {
      assert.ok(delta(name) > 0, name);
    }
    assert.equal(metricValue(m1, 'nv_inference_pending_request_count', labels), 0);
    assert.ok(delta('tessera_inference_request_duration_seconds_count') === 2);
    assert.ok(
      (metricValue(m1, 'tessera_model_load_duration_seconds_count', {
        model: 'affine',
        outcome: 'success',
      }) ?? 0) >= 1,
    );
    assert.ok(
      (metricValue(m1, 'tessera_model_load_duration_seconds_count', {
        model: 'broken',
        outcome: 'failure',
      }) ?? 0) >= 1,
    );
  });
});

describe('repository extension', () => {
  it('index lists every model with its state and reason', async () => {
    const r = await api.post('/v2/repository/index').expect(200);
    const byName = (n: string) => r.body.filter((e: any) => e.name === n);
    assert.deepEqual(byName('affine'), [{ name: 'affine', version: '2', state: 'READY', reason: '' }]);
    assert.equal(byName('multi').length, 2);
    assert.equal(byName('broken')[0].state, 'UNAVAILABLE');
    assert.match(byName('broken')[0].reason, /corrupt model file/);
    const ready = await api.post('/v2/repository/index').send({ ready: true }).expect(200);
    assert.ok(ready.body.every((e: any) => e.state === 'READY'));
    await api.post('/v2/repository/index').send({ ready: 'yes' }).expect(400);
  });

  it('unload and load again; a broken load leaves the others serving', async () => {
    const x = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
    await api.post('/v2/repository/models/multi/unload').expect(200);
    await api.get('/v2/models/multi/ready').expect(503);
    await api.post('/v2/models/multi/infer').send(x).expect(503);
    const idx = await api.post('/v2/repository/index').expect(200);
    assert.ok(
      idx.body
        .filter((e: any) => e.name === 'multi')
        .every((e: any) => e.state === 'UNAVAILABLE' && e.reason === 'unloaded'),
    );
    await api.post('/v2/repository/models/multi/load').expect(200);
    await api.post('/v2/models/multi/infer').send(x).expect(200);

    const r = await api.post('/v2/repository/models/broken/load').expect(400);
    assert.match(r.body.error, /failed to load 'broken'.*corrupt model file/);
    await api.post('/v2/models/affine/infer').send(x).expect(200);
    await api.get('/v2/health/ready').expect(200);
    await api.post('/v2/repository/models/nope/load').expect(404);
    await api.post('/v2/repository/models/nope/unload').expect(404);
    await api
      .post('/v2/repository/models/..%2Fetc/load')
      .expect((res) => assert.ok(res.status === 400 || res.status === 404));
  });

  it('load with an inline config, and with uploaded model files', async () => {
    const config = JSON.stringify({ max_batch_size: 2 });
    await api.post('/v2/repository/models/affine/load').send({ parameters: { config } }).expect(200);
    const meta = await api.get('/v2/models/affine/config').expect(200);
    assert.equal(meta.body.max_batch_size, 2);
    const x = { inputs: [{ name: 'x', shape: [3, 4], datatype: 'FP32', data: new Array(12).fill(0) }] };
    await api.post('/v2/models/affine/infer').send(x).expect(400);

    const file = Buffer.from(JSON.stringify(affineModel())).toString('base64');
    await api
      .post('/v2/repository/models/uploaded/load')
      .send({ parameters: { config: JSON.stringify({ max_batch_size: 4 }), 'file:1/model.onnx': file } })
      .expect(200);
    const r = await api.post('/v2/models/uploaded/infer').send(x).expect(200);
    assert.deepEqual(r.body.outputs[0].data, new Array(12).fill(1));
    await api
      .post('/v2/repository/models/up2/load')
      .send({ parameters: { 'file:1/model.onnx': file } })
      .expect(400);
    await api
      .post('/v2/repository/models/up3/load')
      .send({ parameters: { config: '{}', 'file:../../escape.onnx': file } })
      .expect(400);
    await api
      .post('/v2/repository/models/affine/load')
      .send({ parameters: { config: '{nope' } })
      .expect(400);
    await api
      .post('/v2/repository/models/affine/load')
      .send('not json')
      .set('Content-Type', 'application/json')
      .expect(400);
    await api.post('/v2/repository/models/uploaded/unload').expect(200);
  });
});
