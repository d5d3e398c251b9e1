/**
 * Security: bearer tokens and scopes (401/403 with the error body, open health and metrics, no
 * spelling of a path that slips to a weaker scope), per-client rate limiting of the training and
 * repository routes, security headers and CORS, request ids, logs without tokens or tensor data,
 * and every input limit refused with a 400/413 that names it, before anything is allocated or run;
 * model names, upload paths, label files and symlinks that would leave the repository; model
 * files too large or nested too deeply.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Router } from 'express';
import request from 'supertest';
import { encodeMessage } from '../../src/importers/onnx/proto.js';
import { TesseraError } from '../../src/runtime/errors.js';
import {
  createLogger,
  createServer,
  loadTokens,
  parseRateLimit,
  parseTokens,
  scopeOf,
  type TesseraServer,
} from '../../src/server/index.js';
import { protobufDepthExceeds } from '../../src/server/security/protobuf-depth.js';
import { affineModel, FakeExecutor, TempRepo } from '../server/helpers.js';

const INFER = 'inference-token-0123456789abcdef';
const REPO = 'repository-token-0123456789abcdef';
const ADMIN = 'admin-token-0123456789abcdef0000';
const TRAIN = 'training-token-0123456789abcdef';

/** Length-delimited field `field` holding `body`, on the protobuf wire. */
function wireField(field: number, body: Uint8Array): Uint8Array {
  const head: number[] = [(field << 3) | 2];
  for (let n = body.length; ; n >>>= 7) {
    if (n < 0x80) {
      head.push(n);
      break;
    }
    head.push((n & 0x7f) | 0x80);
  }
  return Buffer.concat([Buffer.from(head), body]);
}

/**
 * A ModelProto whose graph nests `levels` If-branches (GraphProto.node = 1, NodeProto.attribute
 * = 5, AttributeProto.g = 6, ModelProto.graph = 7), written by hand: protobufjs itself refuses to
 * encode past 100 levels.
 */
function nestedModel(levels: number): Uint8Array {
  let graph: Uint8Array = new Uint8Array();
  for (let i = 0; i < levels; i++) graph = wireField(1, wireField(5, wireField(6, graph)));
  return wireField(7, graph);
}

/** A stand-in for the training API, plugged in the way the real one will be. */
function fakeTrainingRoutes(): Router {
  const r = Router();
  r.post('/v2/models/:model/train', (_req, res) => {
    res.json({ id: 'job-1' });
  });
  r.get('/v2/training/jobs/:id', (req, res) => {
    res.json({ id: req.params.id, state: 'running' });
  });
  return r;
}

let repo: TempRepo;
let outside: string;
let server: TesseraServer;
let fake: FakeExecutor;
const logLines: string[] = [];
const x = (rows = 1) => ({
  inputs: [{ name: 'x', shape: [rows, 4], datatype: 'FP32', data: new Array(rows * 4).fill(12345.678) }],
});

before(async () => {
  outside = mkdtempSync(join(tmpdir(), 'tessera-outside-'));
  writeFileSync(join(outside, 'model.onnx'), JSON.stringify(affineModel()));
  writeFileSync(join(outside, 'secret.txt'), 'top secret\n');
  repo = new TempRepo()
    .add('affine', { max_batch_size: 8 }, { 1: affineModel() })
    .add(
      'big',
      { max_batch_size: 8 },
      { 1: { ...affineModel(), inputs: affineModel().inputs, pad: 'x'.repeat(4096) } as any },
    )
    .add(
      'labels',
      {
        max_batch_size: 8,
        output: [{ name: 'y', data_type: 'TYPE_FP32', dims: [4], label_filename: '../../etc/passwd' }],
      },
      { 1: affineModel() },
    );
  // A version whose model file is a symlink out of the repository, and a model directory that is one.
  mkdirSync(join(repo.root, 'linkfile', '1'), { recursive: true });
  symlinkSync(join(outside, 'model.onnx'), join(repo.root, 'linkfile', '1', 'model.onnx'));
  symlinkSync(outside, join(repo.root, 'linkdir'));
  // A protobuf nested past the depth limit: graphs inside attributes inside nodes inside graphs.
  mkdirSync(join(repo.root, 'deep', '1'), { recursive: true });
  writeFileSync(join(repo.root, 'deep', '1', 'model.onnx'), nestedModel(40));
  fake = new FakeExecutor(1);
  server = createServer({
    modelRepository: repo.root,
    executor: fake,
    processMetrics: false,
    tokens: parseTokens(`inference:${INFER}\nrepository:${REPO}\ntraining:${TRAIN}\n*:${ADMIN}`, 'test'),
    rateLimit: { limit: 3, windowMs: 60_000 },
    limits: {
      maxJsonDepth: 16,
      maxInputs: 2,
      maxTensorElements: 1000,
      maxTensorBytes: 2000,
      maxRequestMemoryBytes: 400,
      maxModelFileBytes: 1024,
    },
    logger: createLogger({ level: 'debug', write: (l) => logLines.push(l) }),
    // The real training API is tested with it; here a stand-in checks the scope plumbing.
    training: false,
    routes: () => fakeTrainingRoutes(),
  });
  await server.loadModels();
});

after(async () => {
  await server.close();
  repo.remove();
  rmSync(outside, { recursive: true, force: true });
});

const api = () => request(server.app);
const bearer = (t: string) => ({ Authorization: `Bearer ${t}` });

describe('authentication and scopes', () => {
  it('health and /metrics are open; everything else needs a token (401 with the error body)', async () => {
    await api().get('/v2/health/live').expect(200);
    await api().get('/v2/health/ready').expect(200);
    await api().get('/metrics').expect(200);
    for (const [method, path] of [
      ['get', '/v2'],
      ['get', '/v2/models/affine'],
      ['post', '/v2/models/affine/infer'],
      ['post', '/v2/repository/index'],
      ['post', '/v2/models/affine/train'],
      ['get', '/v2/training/jobs/1'],
      ['get', '/v2/nothing-here'],
    ] as const) {
      const r = await api()[method](path).expect(401);
      assert.deepEqual(Object.keys(r.body), ['error'], path);
      assert.match(r.headers['www-authenticate'], /^Bearer/);
    }
    const bad = await api()
      .get('/v2/models/affine')
      .set(bearer('not-a-real-token-at-all-000000'))
      .expect(401);
    assert.match(bad.body.error, /not valid/);
    await api()
      .get('/v2/models/affine')
      .set({ Authorization: `Basic ${INFER}` })
      .expect(401);
  });

  it('each token reaches only its scopes (403 names the scope)', async () => {
    await api().post('/v2/models/affine/infer').set(bearer(INFER)).send(x()).expect(200);
    await api().get('/v2/models/affine').set(bearer(INFER)).expect(200);
    const f = await api().post('/v2/repository/index').set(bearer(INFER)).expect(403);
    assert.match(f.body.error, /'repository' scope/);
    await api().post('/v2/models/affine/train').set(bearer(INFER)).expect(403);
    await api().post('/v2/models/affine/infer').set(bearer(REPO)).send(x()).expect(403);
    await api().post('/v2/repository/index').set(bearer(REPO)).expect(200);
    await api().get('/v2/training/jobs/7').set(bearer(TRAIN)).expect(200, { id: '7', state: 'running' });
    await api().post('/v2/models/affine/train').set(bearer(ADMIN)).expect(200);
    await api().post('/v2/models/affine/infer').set(bearer(ADMIN)).send(x()).expect(200);
  });

  it('no spelling of a path reaches a route under a weaker scope', async () => {
    for (const p of ['/V2/REPOSITORY/index', '/v2/Repository/index/', '/v2/repository/index/']) {
      const r = await api().post(p).set(bearer(INFER));
      assert.ok(r.status === 403 || r.status === 404, `${p}: ${r.status}`);
    }
    assert.equal(scopeOf('/v2/models/m/versions/3/train'), 'training');
    assert.equal(scopeOf('/V2/TRAINING/jobs'), 'training');
    assert.equal(scopeOf('//v2//repository/index'), 'repository');
    assert.equal(scopeOf('/v2/models/train/infer'), 'inference');
    assert.equal(scopeOf('/v2/health/../repository/index'), 'inference');
  });

  it('token entries: scopes, files, and refusals that never echo the token', () => {
    const [e] = parseTokens(`training+repository:${REPO}`, 'env');
    assert.deepEqual([...e!.scopes].sort(), ['repository', 'training']);
    assert.equal(parseTokens(ADMIN, 'env')[0]!.scopes.size, 3);
    assert.throws(
      () => parseTokens('inference:tinysecret', 'TESSERA_AUTH_TOKENS'),
      (err: unknown) =>
        err instanceof TesseraError &&
        /TESSERA_AUTH_TOKENS/.test(err.message) &&
        !err.message.includes('tinysecret'),
    );
    const dir = mkdtempSync(join(tmpdir(), 'tessera-tokens-'));
    try {
      writeFileSync(join(dir, 'tokens'), `# comment\ninference:${INFER}\n\n${ADMIN}\n`);
      assert.equal(loadTokens({ tokenFile: join(dir, 'tokens') }).length, 2);
      assert.throws(() => loadTokens({ tokenFile: join(dir, 'missing') }), /cannot read the token file/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('rate limiting', () => {
  it('limits training and repository requests per client with a 429 and Retry-After; inference is not limited', async () => {
    // The repository token has made one repository request above; two more fit in the bucket of 3.
    for (let i = 0; i < 2; i++) await api().post('/v2/repository/index').set(bearer(REPO)).expect(200);
    const r = await api().post('/v2/repository/index').set(bearer(REPO)).expect(429);
    assert.match(r.body.error, /rate limit exceeded for 'repository' requests: 3 per minute/);
    assert.ok(Number(r.headers['retry-after']) >= 1);
    // Reads are not limited (status polls and event streams): the exhausted bucket still lets GETs through.
    for (let i = 0; i < 5; i++) {
      const g = await api().get('/v2/training/jobs').set(bearer(ADMIN));
      assert.notEqual(g.status, 429);
    }
    // Another client has its own bucket; training has its own scope bucket.
    await api().post('/v2/repository/index').set(bearer(ADMIN)).expect(200);
    for (let i = 0; i < 10; i++) await api().get('/v2/models/affine/ready').set(bearer(REPO)).expect(403);
    for (let i = 0; i < 10; i++)
      await api().post('/v2/models/affine/infer').set(bearer(INFER)).send(x()).expect(200);
    const metrics = (await api().get('/metrics')).text;
    assert.match(metrics, /tessera_http_requests_rejected_total\{reason="rate_limited"\} [1-9]/);
    assert.match(metrics, /tessera_http_requests_rejected_total\{reason="unauthenticated"\} [1-9]/);
    assert.deepEqual(parseRateLimit('5/s'), { limit: 5, windowMs: 1000 });
    assert.throws(() => parseRateLimit('lots'), /--rate-limit/);
  });
});

describe('headers, request ids and logs', () => {
  it('security headers, no CORS unless configured, a request id on every answer', async () => {
    const r = await api().get('/v2/health/live').set('Origin', 'https://evil.example');
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
    assert.match(r.headers['content-security-policy'], /default-src 'none'/);
    assert.equal(r.headers['x-powered-by'], undefined);
    assert.equal(r.headers['access-control-allow-origin'], undefined);
    assert.match(r.headers['x-request-id'], /^[0-9a-f-]{36}$/);
    const mine = await api().get('/v2/health/live').set('X-Request-Id', 'lb-1234.abc');
    assert.equal(mine.headers['x-request-id'], 'lb-1234.abc');
    const hostile = await api().get('/v2/health/live').set('X-Request-Id', 'a b\tc{}');
    assert.match(hostile.headers['x-request-id'], /^[0-9a-f-]{36}$/);
  });

  it('CORS answers the configured origins only', async () => {
    const s = createServer({
      modelRepository: repo.root,
      executor: new FakeExecutor(1),
      processMetrics: false,
      corsOrigins: ['https://app.example'],
    });
    try {
      const pre = await request(s.app)
        .options('/v2/models/affine/infer')
        .set('Origin', 'https://app.example')
        .set('Access-Control-Request-Method', 'POST')
        .expect(204);
      assert.equal(pre.headers['access-control-allow-origin'], 'https://app.example');
      assert.match(pre.headers['access-control-allow-headers'], /Authorization/);
      const other = await request(s.app).get('/v2/health/live').set('Origin', 'https://evil.example');
      assert.equal(other.headers['access-control-allow-origin'], undefined);
    } finally {
      await s.close();
    }
  });

  it('logs are JSON with the request id, and hold no token and no tensor data', async () => {
    logLines.length = 0;
    const r = await api()
      .post('/v2/models/affine/infer')
      .set(bearer(INFER))
      .set('X-Request-Id', 'trace-42')
      .send(x(2))
      .expect(200);
    assert.equal(r.headers['x-request-id'], 'trace-42');
    const secretish = `{"inputs": [{"name": "x", "data": [98765.4321, 98765.4321, 98765.4321, oops]}]}`;
    await api()
      .post('/v2/models/affine/infer')
      .set(bearer(INFER))
      .set('Content-Type', 'application/json')
      .send(secretish)
      .expect(400);
    await api().get('/v2/models/affine').set(bearer('wrong-token-but-long-enough-0000')).expect(401);
    const entries = logLines.map((l) => JSON.parse(l));
    const line = entries.find((e) => e.reqId === 'trace-42');
    assert.ok(line, 'an access line with the request id');
    assert.equal(line.status, 200);
    const all = logLines.join('\n');
    for (const secret of [INFER, 'wrong-token-but-long-enough', '12345.678', '98765.4321']) {
      assert.ok(!all.includes(secret), `the logs hold '${secret}'`);
    }
  });
});

describe('input limits, each named in its refusal', () => {
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    api()
      .post('/v2/models/affine/infer')
      .set(bearer(INFER))
      .set(headers)
      .set('Content-Type', 'application/json')
      .send(typeof body === 'string' ? body : JSON.stringify(body));

  it('JSON depth, inputs, tensor elements, tensor bytes and request memory, refused before running', async () => {
    const runs = fake.executions.length;
    const deep = `{"inputs": ${'['.repeat(40)}${']'.repeat(40)}}`;
    let r = await post(deep).expect(400);
    assert.match(r.body.error, /--max-json-depth/);
    const three = {
      inputs: [0, 1, 2].map((i) => ({ name: `x${i}`, shape: [1], datatype: 'FP32', data: [1] })),
    };
    r = await post(three).expect(400);
    assert.match(r.body.error, /number of inputs \(3\) exceeds the limit of 2 \(--max-inputs\)/);
    r = await post({
      inputs: [{ name: 'x', shape: [1_000_000_000, 1_000_000_000], datatype: 'FP32', data: [1] }],
    }).expect(413);
    assert.match(r.body.error, /--max-tensor-elements/);
    r = await post({ inputs: [{ name: 'x', shape: [600], datatype: 'FP64', data: [1] }] }).expect(413);
    assert.match(r.body.error, /exceeds the limit of 2000 \(--max-tensor-bytes\)/);
    // Rows x 4 floats in and out, each held twice: 2 rows need 128 bytes, 8 rows 512, over the limit of 400.
    await post(x(2)).expect(200);
    r = await post({
      inputs: [{ name: 'x', shape: [8, 4], datatype: 'FP32', data: new Array(32).fill(0) }],
    }).expect(413);
    assert.match(
      r.body.error,
      /memory this request needs .* exceeds the limit of 400 \(--max-request-memory\)/,
    );
    assert.equal(fake.executions.length, runs + 1, 'only the valid request ran');
    const repoDeep = await api()
      .post('/v2/repository/models/affine/load')
      .set(bearer(ADMIN))
      .set('Content-Type', 'application/json')
      .send(`{"parameters": ${'{"a":'.repeat(30)}1${'}'.repeat(30)}}`)
      .expect(400);
    assert.match(repoDeep.body.error, /--max-json-depth/);
  });
});

describe('the repository stays inside its folder', () => {
  // The same repository and limits, without tokens or rate limits (those are tested above).
  let open: TesseraServer;
  before(async () => {
    open = createServer({
      modelRepository: repo.root,
      executor: new FakeExecutor(1),
      processMetrics: false,
      limits: { maxModelFileBytes: 1024 },
    });
    await open.loadModels();
  });
  after(() => open.close());
  const api = () => request(open.app);
  const index = async () =>
    (await api().post('/v2/repository/index').set(bearer(ADMIN)).expect(200)).body as {
      name: string;
      state?: string;
      reason?: string;
    }[];

  it('symlinks out of the repository, traversing label files, too large or too deeply nested files: not ready, with the reason', async () => {
    const idx = await index();
    const reason = (n: string) => idx.find((e) => e.name === n)?.reason ?? '';
    assert.match(reason('linkfile'), /outside the model repository/);
    assert.match(reason('linkdir'), /outside the model repository/);
    assert.match(reason('labels'), /label_filename must be a path inside the model directory/);
    assert.match(reason('big'), /exceeds the limit of 1024 \(--max-model-file-size\)/);
    assert.match(reason('deep'), /exceeds the limit of 100 \(--max-protobuf-depth\)/);
    await api().post('/v2/models/affine/infer').set(bearer(INFER)).send(x()).expect(200);
  });

  it('model names, versions and uploaded file paths cannot name anything outside', async () => {
    for (const name of ['..%2F..%2Fetc', '%2Fetc%2Fpasswd', '.hidden', '..']) {
      const r = await api().post(`/v2/repository/models/${name}/load`).set(bearer(ADMIN));
      assert.ok([400, 404].includes(r.status), `${name}: ${r.status}`);
    }
    const r = await api().post('/v2/models/affine/versions/..%2F1/infer').set(bearer(INFER)).send(x());
    assert.equal(r.status, 400);
    const file = Buffer.from(JSON.stringify(affineModel())).toString('base64');
    for (const path of ['/tmp/abs.onnx', '../1/model.onnx', '1/../../x.onnx', 'C:/x.onnx']) {
      const u = await api()
        .post('/v2/repository/models/upl/load')
        .set(bearer(ADMIN))
        .send({ parameters: { config: '{}', [`file:${path}`]: file } });
      assert.equal(u.status, 400, `${path}: ${u.status} ${JSON.stringify(u.body)}`);
    }
  });

  it('the protobuf depth walk follows the ONNX schema on the wire', () => {
    let graph: object = { name: 'leaf' };
    for (let i = 0; i < 5; i++)
      graph = { node: [{ op_type: 'If', attribute: [{ name: 'b', type: 5, g: graph }] }] };
    const bytes = encodeMessage('ModelProto', { ir_version: 8, graph });
    // ModelProto > 6 x (GraphProto > NodeProto > AttributeProto) ... = 1 + 5*3 + 1 levels.
    assert.equal(protobufDepthExceeds(bytes, 17), false);
    assert.equal(protobufDepthExceeds(bytes, 16), true);
    assert.equal(protobufDepthExceeds(Buffer.from('not protobuf at all'), 2), false);
    // ModelProto > GraphProto > n x (NodeProto > AttributeProto > GraphProto): 2 + 3n levels.
    assert.equal(protobufDepthExceeds(nestedModel(32), 98), false);
    assert.equal(protobufDepthExceeds(nestedModel(32), 97), true);
  });
});
