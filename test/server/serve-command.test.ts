/** `tessera serve`: flags and environment variables, and a real server process started by bin/tessera.js. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseServeArgs, parseSize } from '../../src/cli/commands/serve.js';
import { TesseraError } from '../../src/runtime/errors.js';

const ROOT = join(import.meta.dirname, '..', '..');
const invalid = (pattern: RegExp) => (e: unknown) =>
  e instanceof TesseraError && e.code === 'INVALID_ARGUMENT' && pattern.test(e.message);

describe('serve arguments', () => {
  it('defaults, environment variables, and flags that win over them', () => {
    assert.deepEqual(parseServeArgs(['--model-repository', 'models'], {}), {
      modelRepository: 'models',
      host: '0.0.0.0',
      port: 8000,
      device: 'cpu',
      gpuFallback: 'cpu',
      threads: undefined,
      maxBodyBytes: 64 * 1024 * 1024,
      requestTimeoutMs: 60_000,
      maxQueueSize: 0,
      drainTimeoutMs: 30_000,
      repositoryPollIntervalMs: 0,
      logLevel: 'info',
      authTokens: undefined,
      authTokenFile: undefined,
      rateLimit: { limit: 60, windowMs: 60_000 },
      corsOrigins: [],
      trustProxy: undefined,
      maxJsonDepth: 64,
      maxInputs: 64,
      maxTensorElements: 64 * 1024 * 1024,
      maxTensorBytes: 256 * 1024 * 1024,
      maxRequestMemoryBytes: 1024 * 1024 * 1024,
      maxModelFileBytes: 2 * 1024 * 1024 * 1024 - 1,
      maxProtobufDepth: 100,
      maxTrainingJobs: 1,
      trainingDir: undefined,
    });
    const env = {
      TESSERA_MODEL_REPOSITORY: '/srv/models',
      TESSERA_PORT: '9000',
      TESSERA_HOST: '127.0.0.1',
      TESSERA_DEVICE: 'webgpu',
      TESSERA_THREADS: '3',
      TESSERA_MAX_BODY_SIZE: '1mb',
      TESSERA_REQUEST_TIMEOUT_MS: '500',
      TESSERA_MAX_QUEUE_SIZE: '10',
      TESSERA_GPU_FALLBACK: 'none',
    };
    const fromEnv = parseServeArgs([], env);
    assert.equal(fromEnv.modelRepository, '/srv/models');
    assert.equal(fromEnv.port, 9000);
    assert.equal(fromEnv.device, 'webgpu');
    assert.equal(fromEnv.threads, 3);
    assert.equal(fromEnv.maxBodyBytes, 1024 * 1024);
    assert.equal(fromEnv.requestTimeoutMs, 500);
    assert.equal(fromEnv.maxQueueSize, 10);
    assert.equal(fromEnv.gpuFallback, 'none');
    const flags = parseServeArgs(['--port=8100', '--threads', '1', '--device', 'cpu'], env);
    assert.equal(flags.port, 8100);
    assert.equal(flags.threads, 1);
    assert.equal(flags.device, 'cpu');
  });

  it('rejects bad values with a message naming the flag', () => {
    assert.throws(() => parseServeArgs([], {}), invalid(/--model-repository is required/));
    assert.throws(
      () => parseServeArgs(['--model-repository', 'm', '--gpu-fallback', 'gpu'], {}),
      invalid(/--gpu-fallback expects cpu or none/),
    );
    assert.throws(
      () => parseServeArgs(['--model-repository', 'm', '--port', '70000'], {}),
      invalid(/--port/),
    );
    assert.throws(
      () => parseServeArgs(['--model-repository', 'm', '--threads', '0'], {}),
      invalid(/--threads/),
    );
    assert.throws(
      () => parseServeArgs(['--model-repository', 'm', '--device', 'tpu'], {}),
      invalid(/--device/),
    );
    assert.throws(() => parseServeArgs(['--model-repository', 'm', '--bogus', '1'], {}), invalid(/bogus/));
    assert.throws(() => parseSize('lots', 'max-body-size'), invalid(/--max-body-size/));
    assert.equal(parseSize('512kb', 'x'), 512 * 1024);
    assert.equal(parseSize('2048', 'x'), 2048);
  });
});

describe('bin/tessera.js serve', () => {
  it('serves, answers requests, and exits 0 on SIGTERM', { timeout: 30_000 }, async () => {
    const repo = mkdtempSync(join(tmpdir(), 'tessera-serve-'));
    cpSync(join(ROOT, 'models', 'mlp'), join(repo, 'mlp'), { recursive: true });
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'tessera.js'), 'serve', '--port', '0', '--host', '127.0.0.1'],
      {
        env: { ...process.env, TESSERA_MODEL_REPOSITORY: repo, TESSERA_THREADS: '1' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          const m = /at (http:\/\/[\d.]+:\d+)/.exec(out);
          if (m) resolve(m[1]!);
        });
        exited.then(() => reject(new Error(`serve exited early: ${out}${err}`)));
      });
      assert.match(out, /serving 1 model version/);
      assert.equal((await fetch(`${url}/v2/health/ready`)).status, 200);
      const r = await fetch(`${url}/v2/models/mlp/infer`, {
        method: 'POST',
        body: JSON.stringify({
          inputs: [{ name: 'input', shape: [1, 4], datatype: 'FP32', data: [0, 0, 0, 0] }],
        }),
      });
      assert.equal(r.status, 200);
      const probs = ((await r.json()) as any).outputs[0].data as number[];
      assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5);
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
      // Logs are JSON lines on stdout.
      assert.match(out, /SIGTERM: draining/);
      for (const line of out.trim().split('\n')) assert.equal(typeof JSON.parse(line).msg, 'string');
    } finally {
      child.kill('SIGKILL');
      rmSync(repo, { recursive: true, force: true });
    }
  });
});
