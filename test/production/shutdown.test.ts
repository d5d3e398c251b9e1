/**
 * Graceful shutdown. A `tessera serve` process with requests running gets SIGTERM: readiness
 * turns false, new requests get 503 (with Connection: close) while liveness still answers, every
 * request already in flight finishes with 200, and the process exits 0. In process: shutdown
 * hooks (what the training API registers to checkpoint and mark its jobs interrupted) run while
 * draining, and the drain timeout bounds both them and the requests in flight.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Router } from 'express';
import request from 'supertest';
import { createServer } from '../../src/server/index.js';
import { affineModel, FakeExecutor, TempRepo } from '../server/helpers.js';
import { writeMatmulChain } from '../server/onnx-models.js';
import { startServe, waitFor } from './serve-process.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('SIGTERM', () => {
  it('drains: not ready, new requests 503, requests in flight finish, exit 0', {
    timeout: 60_000,
  }, async () => {
    const repo = mkdtempSync(join(tmpdir(), 'tessera-drain-'));
    dirs.push(repo);
    writeMatmulChain(join(repo, 'chain', '1'), 256, 96);
    writeFileSync(join(repo, 'chain', 'config.json'), JSON.stringify({ max_batch_size: 0 }));
    const server = await startServe(['--model-repository', repo, '--drain-timeout', '20000']);
    const body = JSON.stringify({
      inputs: [{ name: 'x', shape: [512, 256], datatype: 'FP32', data: new Array(512 * 256).fill(0.5) }],
    });
    const infer = () => fetch(`${server.url}/v2/models/chain/infer`, { method: 'POST', body });
    try {
      // Time one execution, then keep four in flight (one worker thread: one runs, three queue).
      // 512 rows through 96 layers (6.4 GFLOP a run, ~40 ms on the native GEMM) keep them in flight
      // long enough to watch the drain; with 64 rows they could finish before SIGTERM was seen.
      const t0 = Date.now();
      assert.equal((await infer()).status, 200);
      const oneMs = Date.now() - t0;
      const inflight = [0, 1, 2, 3].map(() => infer());
      await waitFor(
        async () =>
          /nv_inference_pending_request_count\{[^}]*\} [1-9]/.test(
            await (await fetch(`${server.url}/metrics`)).text(),
          ),
        10_000,
        'queued requests',
      );
      server.child.kill('SIGTERM');
      await waitFor(
        async () => (await fetch(`${server.url}/v2/health/ready`)).status === 503,
        5000,
        'not ready',
      );
      const late = await infer();
      assert.equal(late.status, 503);
      assert.equal(late.headers.get('connection'), 'close');
      assert.match(((await late.json()) as { error: string }).error, /shutting down/);
      assert.equal((await fetch(`${server.url}/v2/health/live`)).status, 200);
      const done = await Promise.all(inflight);
      assert.deepEqual(
        done.map((r) => r.status),
        [200, 200, 200, 200],
      );
      assert.equal(await server.exited, 0);
      const drained = server.logs.find((l) => l.msg === 'drained');
      assert.ok(drained, 'a drained log line');
      assert.equal(drained.abandoned, 0);
      assert.ok(oneMs > 0);
    } finally {
      await server.stop('SIGKILL');
    }
  });
});

describe('shutdown hooks and the drain timeout', () => {
  it('hooks run while draining (a training job checkpoints and is marked interrupted)', async () => {
    const repo = new TempRepo().add('affine', { max_batch_size: 8 }, { 1: affineModel() });
    const ckpt = mkdtempSync(join(tmpdir(), 'tessera-ckpt-'));
    dirs.push(repo.root, ckpt);
    // A stand-in for the training API: one running job, a hook that checkpoints and interrupts it.
    const job = { id: 'job-1', state: 'running', step: 0, checkpoint: '' };
    const timer = setInterval(() => job.step++, 5);
    const server = createServer({
      modelRepository: repo.root,
      executor: new FakeExecutor(1),
      processMetrics: false,
      drainTimeoutMs: 2000,
      // A stand-in for the training API (tested with it), to check the hook plumbing.
      training: false,
      routes: (ctx) => {
        ctx.lifecycle.onShutdown('training', async (deadline) => {
          assert.equal(deadline.aborted, false);
          clearInterval(timer);
          job.checkpoint = join(ckpt, `${job.id}-step${job.step}.json`);
          mkdirSync(ckpt, { recursive: true });
          writeFileSync(job.checkpoint, JSON.stringify(job));
          job.state = 'interrupted';
        });
        const r = Router();
        r.get('/v2/training/jobs/:id', (_req, res) => {
          res.json(job);
        });
        return r;
      },
    });
    await server.loadModels();
    await request(server.app).get('/v2/training/jobs/job-1').expect(200);
    await server.close();
    assert.equal(job.state, 'interrupted');
    assert.ok(job.checkpoint.endsWith('.json'));
    await request(server.app).get('/v2/training/jobs/job-1').expect(503);
    repo.remove();
  });

  it('the drain timeout bounds requests that do not finish and hooks that hang', async () => {
    const repo = new TempRepo().add('slow', { max_batch_size: 8 }, { 1: affineModel(3000) });
    dirs.push(repo.root);
    const server = createServer({
      modelRepository: repo.root,
      executor: new FakeExecutor(1),
      processMetrics: false,
      drainTimeoutMs: 300,
    });
    server.context.lifecycle.onShutdown('hangs', () => new Promise(() => {}));
    await server.loadModels();
    const http = server.app.listen(0, '127.0.0.1');
    await new Promise((r) => http.once('listening', r));
    const port = (http.address() as { port: number }).port;
    const slow = fetch(`http://127.0.0.1:${port}/v2/models/slow/infer`, {
      method: 'POST',
      body: JSON.stringify({ inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }),
    }).catch((e: Error) => e);
    await waitFor(() => server.context.lifecycle.inFlight === 1, 2000, 'a request in flight');
    const t0 = Date.now();
    await server.close();
    const took = Date.now() - t0;
    assert.ok(took < 2500, `close took ${took} ms with a 300 ms drain timeout`);
    http.closeAllConnections();
    http.close();
    await slow;
    repo.remove();
  });
});
