/**
 * Training jobs survive the process: a server killed outright (SIGKILL) mid-job leaves no version
 * and the job resumes from its last periodic checkpoint when the server starts again; a server
 * stopped with SIGTERM checkpoints its running job, marks it interrupted and exits 0, and the job
 * resumes from exactly there. The twice-resumed job ends with the same model as the same job run
 * without interruption. A job whose process died after its version was written is recognised as
 * done instead of writing a second version.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Tensor, Trainer, TrainingSession } from '../../src/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import {
  assertAllClose,
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

const ROOT = join(import.meta.dirname, '..', '..');

interface Proc {
  child: ChildProcessWithoutNullStreams;
  url: string;
  exited: Promise<number | null>;
  output: () => string;
}

/** `tessera serve` in its own process; resolves once it listens and is ready. */
async function serve(repo: string): Promise<Proc> {
  const child = spawn(
    process.execPath,
    // No rate limit: the test polls job status every few milliseconds.
    [
      join(ROOT, 'bin', 'tessera.js'),
      'serve',
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--model-repository',
      repo,
      '--rate-limit',
      '0',
    ],
    { env: { ...process.env, TESSERA_THREADS: '1' }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', () => {
      const m = /at (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) resolve(m[1]!);
    });
    exited.then(() => reject(new Error(`serve exited early: ${out}`)));
  });
  return { child, url, exited, output: () => out };
}

const readJob = (repo: string, id: string) =>
  JSON.parse(readFileSync(join(repo, '.training', id, 'job.json'), 'utf8'));

describe('training jobs across restarts', () => {
  it('resume after SIGKILL (from the periodic checkpoint) and after SIGTERM (from the shutdown checkpoint), ending as an uninterrupted run does', {
    timeout: 90_000,
  }, async () => {
    const repo = makeRepo({ mlp: { onnx: mlpOnnx(21), config: { version_policy: { all: {} } } } });
    const task = quadrants(400, 7);
    const request = {
      inputs: [v2('x', 'FP32', task.shape, task.x)],
      targets: [v2('y', 'INT64', [400], task.y)],
      loss: 'crossEntropy',
      optimizer: { name: 'adam', lr: 0.005 },
      epochs: 12,
      batch_size: 32, // 13 steps per epoch, 156 in all
      seed: 3,
      checkpoint_every: 10,
    };
    const procs: Proc[] = [];
    let inProcess: RunningServer | undefined;
    try {
      // 1. Killed outright after its first checkpoints.
      const p1 = await serve(repo);
      procs.push(p1);
      const submitted = await postJson(`${p1.url}/v2/models/mlp/train`, request);
      assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
      const id = submitted.json.id as string;
      await waitForJob(p1.url, id, (j) => (j.checkpoint?.step ?? 0) >= 20);
      p1.child.kill('SIGKILL');
      await p1.exited;
      assert.equal(readJob(repo, id).state, 'running');
      assert.deepEqual(
        readdirSync(join(repo, 'mlp')).sort(),
        ['1', 'config.json'],
        'no version after the kill',
      );

      // 2. Resumes from the newest checkpoint on disk, then is stopped with SIGTERM.
      const p2 = await serve(repo);
      procs.push(p2);
      const resumed = await waitForJob(p2.url, id, (j) => j.resumed_from_step !== undefined && j.step > 0);
      assert.equal(resumed.restarts, 1);
      assert.ok(
        resumed.resumed_from_step >= 20 && resumed.resumed_from_step % 10 === 0,
        `${resumed.resumed_from_step}`,
      );
      await waitForJob(p2.url, id, (j) => j.step >= resumed.resumed_from_step + 20);
      p2.child.kill('SIGTERM');
      assert.equal(await p2.exited, 0, p2.output());
      const stopped = readJob(repo, id);
      assert.equal(stopped.state, 'interrupted');
      assert.equal(stopped.lastCheckpoint.step, stopped.step, 'checkpointed where it stopped');
      assert.ok(stopped.step < 156);
      assert.ok(existsSync(join(repo, '.training', id, 'checkpoints')));
      assert.deepEqual(
        readdirSync(join(repo, 'mlp')).sort(),
        ['1', 'config.json'],
        'no version after SIGTERM',
      );

      // 3. Resumes from the shutdown checkpoint and completes (in this process, which starts faster).
      inProcess = await startServer({ modelRepository: repo, host: '127.0.0.1', port: 0, threads: 1 });
      const base = inProcess.url;
      const done = await waitForJob(base, id);
      assert.equal(done.state, 'completed', done.error);
      assert.equal(done.restarts, 2);
      assert.equal(done.resumed_from_step, stopped.step);
      assert.equal(done.step, 156);
      assert.equal(done.history.length, 12);
      assert.equal(done.result.version, 2);

      // The same training without interruptions, run here with the library, ends with the same model.
      const session = await TrainingSession.create(join(repo, 'mlp', '1', 'model.onnx'), {
        loss: 'crossEntropy',
        optimizer: { name: 'adam', lr: 0.005 },
      });
      const trainer = new Trainer(session, { epochs: 12, batchSize: 32, seed: 3 });
      const target = Tensor.fromData(
        BigInt64Array.from(task.y, (v) => BigInt(v)),
        [400],
        'int64',
      );
      const reference = await trainer.fit({
        inputs: { x: Tensor.fromData(task.x, task.shape, 'float32') },
        target,
      });
      assertAllClose(
        done.history.map((h: any) => h.loss),
        reference.history.map((h) => h.loss),
        1e-6,
        'epoch losses',
      );
      const heldOut = quadrants(100, 8);
      assertAllClose(
        await infer(base, 'mlp', 2, 'x', heldOut),
        trainer.predict({ x: Tensor.fromData(heldOut.x, heldOut.shape, 'float32') }).numbers(),
        1e-5,
        'resumed vs uninterrupted',
      );
    } finally {
      for (const p of procs) p.child.kill('SIGKILL');
      await inProcess?.close();
      removeRepo(repo);
    }
  });

  it('a job that died after writing its version completes without writing another; one whose data is gone fails', async () => {
    const repo = makeRepo({ mlp: { onnx: mlpOnnx(22), config: { version_policy: { all: {} } } } });
    const store = join(repo, '.training');
    const record = (id: string, state: string, dataFile: string) => ({
      id,
      model: 'mlp',
      baseVersion: 1,
      modelFile: join(repo, 'mlp', '1', 'model.onnx'),
      state,
      createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      spec: {
        loss: 'mse',
        optimizer: { name: 'adam', lr: 0.001 },
        epochs: 1,
        batchSize: 4,
        shuffle: true,
        seed: 0,
        metrics: [],
        trainable: 'all',
        checkpointEvery: 1,
      },
      data: { file: dataFile, target: '__target__', owned: true, samples: 4 },
      epoch: 1,
      epochs: 1,
      step: 1,
      history: [],
      lossHistory: [],
      restarts: 0,
    });
    const saved = 'aaaaaaaa-0000-0000-0000-000000000001';
    const lost = 'aaaaaaaa-0000-0000-0000-000000000002';
    for (const [id, state] of [
      [saved, 'saving'],
      [lost, 'running'],
    ] as const) {
      mkdirSync(join(store, id), { recursive: true });
      writeFileSync(
        join(store, id, 'job.json'),
        JSON.stringify(record(id, state, join(store, id, 'data.safetensors'))),
      );
    }
    // The version the first job wrote before its process died.
    mkdirSync(join(repo, 'mlp', '2'));
    writeFileSync(join(repo, 'mlp', '2', 'model.onnx'), readFileSync(join(repo, 'mlp', '1', 'model.onnx')));
    writeFileSync(join(repo, 'mlp', '2', 'training.json'), JSON.stringify({ job: saved }));
    const server = await startServer({ modelRepository: repo, host: '127.0.0.1', port: 0, threads: 1 });
    try {
      const a = await getJson(`${server.url}/v2/training/jobs/${saved}`);
      assert.equal(a.state, 'completed');
      assert.equal(a.result.version, 2);
      assert.equal(a.result.served, true);
      const b = await getJson(`${server.url}/v2/training/jobs/${lost}`);
      assert.equal(b.state, 'failed');
      assert.match(b.error, /training data .* is gone; it cannot resume/);
      assert.deepEqual(readdirSync(join(repo, 'mlp')).sort(), ['1', '2', 'config.json']);
      assert.equal(readJob(repo, saved).state, 'completed');
    } finally {
      await server.close();
      removeRepo(repo);
    }
  });
});
