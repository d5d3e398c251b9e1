/**
 * Many replicas on one shared model repository: two `tessera serve` processes poll the same
 * folder (--repository-poll-interval). A version published on disk (atomically, as a training job
 * publishes it) is served by both; a new model appears on both; a broken new version never takes
 * the serving one down and is reported with its reason, and once fixed it is served; a removed
 * model is unloaded by both.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { publishVersion } from '../../src/server/index.js';
import { inferMlp, ROOT, type ServeProcess, startServe, waitFor } from './serve-process.js';

let repo: string;
const replicas: ServeProcess[] = [];
const MLP = readFileSync(join(ROOT, 'models', 'mlp', '1', 'model.onnx'));

before(async () => {
  repo = mkdtempSync(join(tmpdir(), 'tessera-shared-'));
  cpSync(join(ROOT, 'models', 'mlp'), join(repo, 'mlp'), { recursive: true });
  const started = await Promise.all(
    [0, 1].map(() => startServe(['--model-repository', repo, '--repository-poll-interval', '100'])),
  );
  replicas.push(...started);
});

after(async () => {
  await Promise.all(replicas.map((r) => r.stop()));
  rmSync(repo, { recursive: true, force: true });
});

const versionsOf = async (url: string, model: string): Promise<string[] | undefined> => {
  const r = await fetch(`${url}/v2/models/${model}`);
  return r.status === 200 ? ((await r.json()) as { versions: string[] }).versions : undefined;
};
const onAll = (what: string, check: (url: string) => Promise<boolean>) =>
  Promise.all(replicas.map((r) => waitFor(() => check(r.url), 15_000, `${what} on ${r.url}`)));

describe('replicas sharing a model repository (poll mode)', () => {
  it('a version published on disk is served by every replica', async () => {
    for (const r of replicas) assert.deepEqual(await versionsOf(r.url, 'mlp'), ['1']);
    const v = await publishVersion(repo, 'mlp', { 'model.onnx': MLP });
    assert.equal(v, 2);
    await onAll('mlp version 2', async (url) => (await versionsOf(url, 'mlp'))?.includes('2') === true);
    for (const r of replicas) {
      const out = await inferMlp(r.url);
      assert.equal(out.status, 200);
      assert.equal(out.body.model_version, '2');
    }
  });

  it('a new model appears on every replica', async () => {
    // Assembled beside the repository and moved in with one rename, as publishVersion does for versions.
    const staging = join(repo, '.staging-echo');
    cpSync(join(ROOT, 'models', 'mlp'), staging, { recursive: true });
    writeFileSync(join(staging, 'config.json'), JSON.stringify({ max_batch_size: 4 }));
    renameSync(staging, join(repo, 'mlp_copy'));
    await onAll('mlp_copy', async (url) => (await fetch(`${url}/v2/models/mlp_copy/ready`)).status === 200);
  });

  it('a broken new version leaves the serving one up, with the reason; fixed, it is served', async () => {
    mkdirSync(join(repo, 'mlp', '3'));
    writeFileSync(join(repo, 'mlp', '3', 'model.onnx'), MLP.subarray(0, 100));
    await onAll('version 3 failing', async (url) => {
      const idx = (await (await fetch(`${url}/v2/repository/index`, { method: 'POST' })).json()) as any[];
      return idx.some((e) => e.name === 'mlp' && e.version === '3' && e.state === 'UNAVAILABLE' && e.reason);
    });
    for (const r of replicas) {
      const out = await inferMlp(r.url);
      assert.equal(out.status, 200, JSON.stringify(out.body));
      assert.equal(out.body.model_version, '2');
      const v3 = await inferMlp(r.url, '3');
      assert.equal(v3.status, 503);
      assert.match(v3.body.error, /version 3 is not ready/);
    }
    writeFileSync(join(repo, 'mlp', '3', 'model.onnx'), MLP);
    await onAll('version 3 fixed', async (url) => (await inferMlp(url)).body.model_version === '3');
  });

  it('a model removed from the repository is unloaded by every replica', async () => {
    rmSync(join(repo, 'mlp_copy'), { recursive: true });
    await onAll(
      'mlp_copy gone',
      async (url) => (await fetch(`${url}/v2/models/mlp_copy/ready`)).status === 404,
    );
    for (const r of replicas) assert.equal((await inferMlp(r.url)).status, 200);
  });
});
