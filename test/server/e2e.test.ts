/**
 * End to end: a real listening server with worker threads serving the bundled models (copied to a
 * temporary repository, with a broken model, a deliberately slow one and a string model added).
 * Concurrent clients over HTTP; outputs compared with onnxruntime-node on the same inputs; dynamic
 * batching proven from the statistics; health answered while a model runs.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { Generator } from '../../src/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { metricValue } from './helpers.js';
import { writeMatmulChain, writeStringEcho } from './onnx-models.js';

const BUNDLED = join(import.meta.dirname, '..', '..', 'models');
const HAS_CNN = existsSync(join(BUNDLED, 'mnist_cnn', '1', 'model.onnx'));

let root: string;
let server: RunningServer;
const g = new Generator(7);

async function post(path: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(server.url + path, { method: 'POST', body: JSON.stringify(body) });
  return { status: r.status, json: await r.json() };
}
async function get(path: string): Promise<any> {
  return (await fetch(server.url + path)).json();
}

function assertNear(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: length`);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i]! - expected[i]!) <= tol,
      `${what}: element ${i} is ${actual[i]}, expected ${expected[i]}`,
    );
  }
}

async function ortRun(
  model: string,
  input: string,
  data: Float32Array,
  shape: number[],
): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(join(root, model, '1', 'model.onnx'));
  const out = await s.run({ [input]: new ort.Tensor('float32', data, shape) });
  return out[s.outputNames[0]!]!.data as Float32Array;
}

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'tessera-e2e-'));
  cpSync(BUNDLED, root, { recursive: true });
  writeMatmulChain(join(root, 'chain', '1'), 512, 8);
  writeFileSync(join(root, 'chain', 'config.json'), JSON.stringify({ max_batch_size: 128 }));
  // 384 MatMuls of 512 x 512: a [64, 512] request is 13 GFLOP, tens of milliseconds even on the
  // native GEMM, so health checks can be seen answering while it runs.
  writeMatmulChain(join(root, 'slow', '1'), 512, 384);
  writeFileSync(join(root, 'slow', 'config.json'), JSON.stringify({ max_batch_size: 128 }));
  writeStringEcho(join(root, 'echo', '1'));
  mkdirSync(join(root, 'broken', '1'), { recursive: true });
  writeFileSync(join(root, 'broken', '1', 'model.onnx'), 'this is not a protobuf');
  server = await startServer({ modelRepository: root, host: '127.0.0.1', port: 0, threads: 2 });
});

after(async () => {
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('served over HTTP by worker threads', () => {
  it('one broken model never stops the others from serving', async () => {
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    const index = (await (
      await fetch(`${server.url}/v2/repository/index`, { method: 'POST' })
    ).json()) as any[];
    const broken = index.find((e: any) => e.name === 'broken');
    assert.equal(broken.state, 'UNAVAILABLE');
    assert.match(broken.reason, /ONNX|protobuf|invalid/i);
    assert.equal(index.find((e: any) => e.name === 'mlp').state, 'READY');
    const r = await post('/v2/models/broken/infer', { inputs: [] });
    assert.equal(r.status, 503);
  });

  it('concurrent clients get the outputs onnxruntime-node computes', async () => {
    const rows = Array.from({ length: 24 }, () => Array.from({ length: 4 }, () => 2 * g.normal()));
    const rs = await Promise.all(
      rows.map((row) =>
        post('/v2/models/mlp/infer', {
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: row }],
        }),
      ),
    );
    const expected = await ortRun('mlp', 'input', new Float32Array(rows.flat()), [rows.length, 4]);
    rs.forEach((r, i) => {
      assert.equal(r.status, 200, JSON.stringify(r.json));
      assert.deepEqual(r.json.outputs[0].shape, [1, 3]);
      assertNear(r.json.outputs[0].data, expected.subarray(i * 3, i * 3 + 3), 1e-5, `mlp request ${i}`);
    });
  });

  it('the CNN matches onnxruntime-node, with binary tensors in and out', {
    skip: !HAS_CNN && 'models/mnist_cnn not built',
  }, async () => {
    const n = 3;
    const images = Float32Array.from({ length: n * 784 }, () =>
      Math.max(0, Math.min(1, 0.5 + 0.3 * g.normal())),
    );
    const head = Buffer.from(
      JSON.stringify({
        inputs: [
          {
            name: 'image',
            shape: [n, 1, 28, 28],
            datatype: 'FP32',
            parameters: { binary_data_size: images.byteLength },
          },
        ],
        outputs: [{ name: 'probabilities', parameters: { binary_data: true } }],
      }),
    );
    const r = await fetch(`${server.url}/v2/models/mnist_cnn/infer`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/octet-stream',
        'Inference-Header-Content-Length': String(head.length),
      },
      body: Buffer.concat([head, Buffer.from(images.buffer)]),
    });
    assert.equal(r.status, 200);
    const body = Buffer.from(await r.arrayBuffer());
    const len = Number(r.headers.get('inference-header-content-length'));
    const json = JSON.parse(body.subarray(0, len).toString());
    assert.deepEqual(json.outputs[0], {
      name: 'probabilities',
      datatype: 'FP32',
      shape: [n, 10],
      parameters: { binary_data_size: n * 40 },
    });
    const got = new Float32Array(body.buffer.slice(body.byteOffset + len, body.byteOffset + body.length));
    assertNear(got, await ortRun('mnist_cnn', 'image', images, [n, 1, 28, 28]), 1e-5, 'mnist_cnn');
    const top = await post('/v2/models/mnist_cnn/infer', {
      inputs: [
        { name: 'image', shape: [1, 1, 28, 28], datatype: 'FP32', data: Array.from(images.subarray(0, 784)) },
      ],
      outputs: [{ name: 'probabilities', parameters: { classification: 3 } }],
    });
    assert.equal(top.status, 200);
    assert.match(top.json.outputs[0].data[0], /^[\d.e-]+:\d:\d$/);
  });

  it('batches concurrent requests, and batched outputs equal unbatched ones', async () => {
    const stats = async () => (await get('/v2/models/mlp/versions/1/stats')).model_stats[0];
    const rows = Array.from({ length: 32 }, () => Array.from({ length: 4 }, () => g.normal()));
    const req = (row: number[]) =>
      post('/v2/models/mlp/infer', {
        inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: row }],
      });
    const s0 = await stats();
    const batched = await Promise.all(rows.map(req));
    const s1 = await stats();
    const executions = s1.execution_count - s0.execution_count;
    assert.equal(s1.inference_count - s0.inference_count, rows.length);
    assert.ok(executions < rows.length, `${executions} executions for ${rows.length} concurrent requests`);
    assert.ok(s1.batch_stats.some((b: any) => b.batch_size > 1));
    for (const [i, row] of rows.entries()) {
      const alone = await req(row);
      assertNear(batched[i]!.json.outputs[0].data, alone.json.outputs[0].data, 1e-6, `row ${i}`);
    }
  });

  it('health checks answer while a model is running', async () => {
    const n = 64;
    const x = new Float32Array(n * 512).fill(0.5);
    const head = Buffer.from(
      JSON.stringify({
        inputs: [
          { name: 'x', shape: [n, 512], datatype: 'FP32', parameters: { binary_data_size: x.byteLength } },
        ],
        outputs: [{ name: 'y', parameters: { binary_data: true } }],
      }),
    );
    const order: string[] = [];
    const inference = fetch(`${server.url}/v2/models/slow/infer`, {
      method: 'POST',
      headers: { 'Inference-Header-Content-Length': String(head.length) },
      body: Buffer.concat([head, Buffer.from(x.buffer)]),
    }).then(async (r) => {
      await r.arrayBuffer();
      order.push(`infer ${r.status}`);
    });
    // Wait until the request is executing in a worker thread.
    const batcher = server.context.repository.resolve('slow').batcher!;
    const started = Date.now();
    while (batcher.executing === 0 && order.length === 0 && Date.now() - started < 5000) {
      await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(batcher.executing, 1, 'the slow model should be running');
    const live = await fetch(`${server.url}/v2/health/live`);
    const ready = await fetch(`${server.url}/v2/health/ready`);
    order.push(`health ${live.status} ${ready.status}`);
    await inference;
    assert.deepEqual(order, ['health 200 200', 'infer 200']);
  });

  it('BYTES tensors through a model that takes strings', async () => {
    const r = await post('/v2/models/echo/infer', {
      inputs: [{ name: 'text', shape: [3], datatype: 'BYTES', data: ['héllo', '', 'wörld'] }],
    });
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.outputs, [
      { name: 'echo', datatype: 'BYTES', shape: [3], data: ['héllo', '', 'wörld'] },
    ]);
  });

  it('/metrics carries the Triton counters and process metrics', async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    assert.ok((metricValue(text, 'nv_inference_count', { model: 'mlp', version: '1' }) ?? 0) >= 24);
    assert.ok((metricValue(text, 'nv_inference_exec_count', { model: 'mlp', version: '1' }) ?? 0) >= 1);
    assert.ok(text.includes('process_cpu_user_seconds_total'));
    assert.ok(text.includes('tessera_model_load_duration_seconds_bucket'));
  });
});
