/**
 * Faults, on a real server with a model worker thread: corrupted model files on disk (that model
 * is not ready, with a reason; the others serve), a slow client and clients that disconnect
 * mid-body or mid-request (no request, queue entry or connection left behind, no stuck worker),
 * the out-of-memory guard (a request whose shapes would exceed the memory limit is refused before
 * anything is allocated or run), and kill -9 while a version is being published (nothing
 * half-written is ever served, before or after a restart).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RunningServer, removeStaleTemporaries, startServer } from '../../src/server/index.js';
import { metricValue } from '../server/helpers.js';
import { writeMatmulChain } from '../server/onnx-models.js';
import { inferMlp, ROOT, startServe, waitFor } from './serve-process.js';

let repo: string;
let server: RunningServer;
const MLP = readFileSync(join(ROOT, 'models', 'mlp', '1', 'model.onnx'));

before(async () => {
  repo = mkdtempSync(join(tmpdir(), 'tessera-faults-'));
  cpSync(join(ROOT, 'models', 'mlp'), join(repo, 'mlp'), { recursive: true });
  // 128 MatMuls of 256 x 256: a [256, 256] request is 4.3 GFLOP, tens of milliseconds even on the
  // native GEMM, so requests are still running or queued when their clients go away.
  writeMatmulChain(join(repo, 'chain', '1'), 256, 128);
  writeFileSync(join(repo, 'chain', 'config.json'), JSON.stringify({ max_batch_size: 0 }));
  // Corrupted on disk: a truncated protobuf, and a config that is not JSON.
  mkdirSync(join(repo, 'truncated', '1'), { recursive: true });
  writeFileSync(join(repo, 'truncated', '1', 'model.onnx'), MLP.subarray(0, MLP.length >> 1));
  cpSync(join(ROOT, 'models', 'mlp'), join(repo, 'badconfig'), { recursive: true });
  writeFileSync(join(repo, 'badconfig', 'config.json'), '{"max_batch_size": 8,');
  server = await startServer({
    modelRepository: repo,
    host: '127.0.0.1',
    port: 0,
    threads: 1,
    requestTimeoutMs: 1500,
    limits: { maxRequestMemoryBytes: 64 * 1024 * 1024 },
  });
});

after(async () => {
  await server?.close();
  rmSync(repo, { recursive: true, force: true });
});

const connections = () => new Promise<number>((r) => server.http.getConnections((_e, n) => r(n)));
const quiet = async () => {
  await waitFor(() => server.context.lifecycle.inFlight === 0, 10_000, 'no request in flight');
  const metrics = (await server.context.metrics.text()).body;
  for (const m of ['mlp', 'chain']) {
    assert.equal(metricValue(metrics, 'nv_inference_pending_request_count', { model: m }), 0, `${m} queue`);
  }
  // Idle keep-alive connections (this test's own fetches) are closed; one stuck mid-request would stay.
  await waitFor(
    async () => {
      server.http.closeIdleConnections();
      return (await connections()) === 0;
    },
    10_000,
    'no open connection',
  );
};

/** A raw HTTP request whose body is sent only in part. */
function partialPost(path: string, declared: number, sent: string): Socket {
  const s = connect(server.port, '127.0.0.1');
  s.on('error', () => {});
  s.write(
    `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n${sent}`,
  );
  return s;
}

describe('corrupted model files', () => {
  it('the broken models are not ready, with their reasons; the others serve', async () => {
    const idx = (await (
      await fetch(`${server.url}/v2/repository/index`, { method: 'POST' })
    ).json()) as any[];
    const state = (n: string) => idx.find((e) => e.name === n);
    assert.equal(state('truncated').state, 'UNAVAILABLE');
    assert.match(state('truncated').reason, /\S/);
    assert.equal(state('badconfig').state, 'UNAVAILABLE');
    assert.match(state('badconfig').reason, /config\.json/);
    for (const m of ['truncated', 'badconfig']) {
      const r = await fetch(`${server.url}/v2/models/${m}/ready`);
      assert.equal(r.status, 503);
      assert.match(((await r.json()) as { error: string }).error, /not ready \(.+\)/);
    }
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
    assert.equal((await inferMlp(server.url)).status, 200);
  });
});

describe('slow and vanishing clients', () => {
  it('a client that stalls mid-body gets a 408 after the request timeout, and nothing is left behind', async () => {
    const s = partialPost('/v2/models/mlp/infer', 1000, '{"inputs": [');
    let answer = '';
    s.on('data', (d) => (answer += d));
    const closed = new Promise((r) => s.on('close', r));
    // Others are served meanwhile.
    assert.equal((await inferMlp(server.url)).status, 200);
    await closed;
    assert.match(answer, /^HTTP\/1\.1 408/);
    await quiet();
  });

  it('clients that disconnect mid-body, or while their request runs, leave no leak and no stuck worker', async () => {
    for (let i = 0; i < 5; i++)
      partialPost('/v2/models/mlp/infer', 5000, '{"inputs": [{"name": "input"').destroy();
    // Requests that are running or queued on the worker when their clients go away.
    const body = JSON.stringify({
      inputs: [{ name: 'x', shape: [256, 256], datatype: 'FP32', data: new Array(256 * 256).fill(0.25) }],
    });
    for (let i = 0; i < 4; i++) {
      const s = connect(server.port, '127.0.0.1');
      s.on('error', () => {});
      s.write(
        `POST /v2/models/chain/infer HTTP/1.1\r\nHost: x\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
      );
      setTimeout(() => s.destroy(), 30);
    }
    await new Promise((r) => setTimeout(r, 100));
    await quiet();
    const t0 = Date.now();
    const r = await fetch(`${server.url}/v2/models/chain/infer`, { method: 'POST', body });
    assert.equal(r.status, 200);
    assert.ok(Date.now() - t0 < 10_000, 'the worker is free');
    const stats = (await (await fetch(`${server.url}/v2/models/chain/stats`)).json()) as any;
    assert.ok(stats.model_stats[0].inference_stats.fail.count >= 1, 'abandoned requests counted as failures');
  });
});

describe('out-of-memory guard', () => {
  it('a request whose shapes would exceed the memory limit is refused before anything is allocated or run', async () => {
    const before = (await (await fetch(`${server.url}/v2/models/chain/stats`)).json()) as any;
    const rss = process.memoryUsage().rss;
    // 200000 x 256 float32 = 205 MB in, as much out, held twice: past the 64 MiB limit. The body is tiny.
    const r = await fetch(`${server.url}/v2/models/chain/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [200_000, 256], datatype: 'FP32', data: [0] }] }),
    });
    assert.equal(r.status, 413);
    assert.match(
      ((await r.json()) as { error: string }).error,
      /exceeds the limit of 67108864 \(--max-request-memory\)/,
    );
    const afterStats = (await (await fetch(`${server.url}/v2/models/chain/stats`)).json()) as any;
    assert.equal(afterStats.model_stats[0].execution_count, before.model_stats[0].execution_count);
    assert.ok(
      process.memoryUsage().rss - rss < 100 * 1024 * 1024,
      'no allocation in proportion to the shape',
    );
    // Within the limit, the same model answers.
    const ok = await fetch(`${server.url}/v2/models/chain/infer`, {
      method: 'POST',
      body: JSON.stringify({
        inputs: [{ name: 'x', shape: [2, 256], datatype: 'FP32', data: new Array(512).fill(1) }],
      }),
    });
    assert.equal(ok.status, 200);
  });
});

describe('kill -9 while publishing a version', () => {
  it('leaves no half-written version: replicas and a restarted server never serve it', {
    timeout: 60_000,
  }, async () => {
    const shared = mkdtempSync(join(tmpdir(), 'tessera-kill9-'));
    cpSync(join(ROOT, 'models', 'mlp'), join(shared, 'mlp'), { recursive: true });
    const replica = await startServe(['--model-repository', shared, '--repository-poll-interval', '100']);
    try {
      // A publisher (as a training job's) killed after writing the files, before the rename.
      const script = `
        import { publishVersion } from ${JSON.stringify(join(ROOT, 'src', 'server', 'publish.ts'))};
        import { readFileSync } from 'node:fs';
        await publishVersion(process.argv[1], 'mlp', { 'model.onnx': readFileSync(process.argv[2]) }, {
          beforeRename: () => { process.stdout.write('written\\n'); return new Promise(() => {}); },
        });`;
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
          shared,
          join(ROOT, 'models', 'mlp', '1', 'model.onnx'),
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
      );
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => String(d).includes('written') && resolve());
        child.on('exit', (c) => reject(new Error(`publisher exited ${c}`)));
      });
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      const entries = readdirSync(join(shared, 'mlp'));
      assert.deepEqual(
        entries.filter((e) => /^\d+$/.test(e)),
        ['1'],
        'no new version directory',
      );
      assert.equal(
        entries.filter((e) => e.startsWith('.tmp-')).length,
        1,
        'the hidden temporary is all that is left',
      );
      await new Promise((r) => setTimeout(r, 400));
      assert.equal((await inferMlp(replica.url)).body.model_version, '1');
      // Restart: the replica comes back serving version 1 only; the leftover is cleaned once stale.
      assert.equal(await replica.stop(), 0);
      const again = await startServe(['--model-repository', shared]);
      try {
        const idx = (await (
          await fetch(`${again.url}/v2/repository/index`, { method: 'POST' })
        ).json()) as any[];
        assert.deepEqual(
          idx.map((e) => `${e.name}/${e.version}/${e.state}`),
          ['mlp/1/READY'],
        );
      } finally {
        assert.equal(await again.stop(), 0);
      }
      assert.equal((await removeStaleTemporaries(join(shared, 'mlp'), 0)).length, 1);
      assert.ok(!readdirSync(join(shared, 'mlp')).some((e) => e.startsWith('.tmp-')));
      assert.ok(existsSync(join(shared, 'mlp', '1', 'model.onnx')));
    } finally {
      await replica.stop('SIGKILL');
      rmSync(shared, { recursive: true, force: true });
    }
  });
});
