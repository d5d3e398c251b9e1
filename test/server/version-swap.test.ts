/**
 * A reload that replaces a model's serving version (a training job's new version, a model-control
 * load) while requests wait in the old version's queue: requests that named no version run on the
 * new one, as a rolling update should, and requests pinned to a version the reload keeps run on its
 * fresh instance; requests pinned to a version it dropped get a 503 naming why (and later ones a
 * 404: the version is no longer served).
 */
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import request from 'supertest';
import { createServer, type TesseraServer } from '../../src/server/index.js';
import { affineModel, FakeExecutor, TempRepo } from './helpers.js';

let repo: TempRepo;
let server: TesseraServer;
let api: ReturnType<typeof request>;

before(async () => {
  // Requests wait up to 300 ms in the queue for a batch to fill: long enough to reload under them.
  repo = new TempRepo().add(
    'swap',
    { max_batch_size: 8, dynamic_batching: { max_queue_delay_microseconds: 300_000 } },
    { 1: affineModel() },
  );
  server = createServer({ modelRepository: repo.root, executor: new FakeExecutor(2), processMetrics: false });
  await server.loadModels();
  api = request(server.app);
});

after(async () => {
  await server.close();
  repo.remove();
});

const x = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends infer requests to `paths`, lets them reach the batch queue, runs `control`, then returns their answers. */
async function queuedThrough(paths: string[], control: () => Promise<unknown>) {
  const sent = paths.map((path) =>
    api
      .post(path)
      .send(x)
      .then((r) => r),
  );
  // Until the batch queue holds them all (its pending-request gauge), not a fixed sleep: on a busy
  // machine a request could still be on its way when the control call runs.
  for (let waited = 0; (await pending('swap')) < paths.length; waited += 5) {
    if (waited > 5000) throw new Error('the requests never reached the batch queue');
    await sleep(5);
  }
  await control();
  return Promise.all(sent);
}

/** Requests waiting in a model's batch queues (all versions), from /metrics. */
async function pending(model: string): Promise<number> {
  return metric('nv_inference_pending_request_count', `model="${model}"`);
}

/** The sum of a metric's samples whose labels include `label`, from /metrics. */
async function metric(name: string, label: string): Promise<number> {
  const text = (await api.get('/metrics').expect(200)).text;
  let n = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) && line.includes(label))
      n += Number(line.slice(line.lastIndexOf(' ') + 1));
  return n;
}

it('a request queued on a version that a reload replaces runs on the new version', async () => {
  const before = await api.post('/v2/models/swap/infer').send(x).expect(200);
  assert.equal(before.body.model_version, '1');

  const [r, p] = await queuedThrough(['/v2/models/swap/infer', '/v2/models/swap/versions/1/infer'], () => {
    repo.add('swap', undefined, { 2: affineModel() });
    return api.post('/v2/repository/models/swap/load').expect(200);
  });
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.model_version, '2');
  assert.deepEqual(r.body.outputs[0].data, [3, 5, 7, 9]);

  // Pinned to version 1, which the latest-1 policy no longer serves: refused, naming why.
  assert.equal(p.status, 503);
  assert.match(p.body.error, /unloaded while the request was queued/);
  await api.post('/v2/models/swap/versions/1/infer').send(x).expect(404);
  const after = await api.post('/v2/models/swap/infer').send(x).expect(200);
  assert.equal(after.body.model_version, '2');
  assert.equal(await metric('tessera_model_ready', 'version="1"'), 0);
  assert.equal(await metric('tessera_model_ready', 'version="2"'), 1);
  assert.equal(await pending('swap'), 0);
});

it('a request pinned to a version that a reload keeps runs on its fresh instance', async () => {
  // A load with nothing changed still loads version 2 afresh and retires the old instance.
  const [r] = await queuedThrough(['/v2/models/swap/versions/2/infer'], () =>
    api.post('/v2/repository/models/swap/load').expect(200),
  );
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.equal(r.body.model_version, '2');
  // The retired instance neither marks the version not ready nor leaves the pending gauge off.
  assert.equal(await metric('tessera_model_ready', 'version="2"'), 1);
  assert.equal(await pending('swap'), 0);
});

it('a model unloaded outright still fails its queued requests with a 503', async () => {
  const [r] = await queuedThrough(['/v2/models/swap/infer'], () =>
    api.post('/v2/repository/models/swap/unload').expect(200),
  );
  assert.equal(r.status, 503);
  assert.match(r.body.error, /unloaded/);
  assert.equal(await metric('tessera_model_ready', 'version="2"'), 0);
  assert.equal(await pending('swap'), 0);
});
