/**
 * Fuzzing the request routes with fast-check against a real server (a model worker thread, the
 * bundled MLP and a BYTES echo model): arbitrary JSON, v2-shaped requests with wrong and right
 * fields, binary-tensor bodies with random bytes and header lengths, and byte-level mutations of
 * valid requests, sent to the infer routes, and train requests near and far from valid to the
 * train route (jobs that start run two steps). Every answer must be a well-formed 2xx or 4xx (a JSON error body for 4xx), never a
 * 5xx or a dropped connection, and the server must still serve afterwards.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { V2_DATATYPES } from '../../src/server/datatypes.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { writeStringEcho } from '../server/onnx-models.js';
import { inferMlp, ROOT } from './serve-process.js';

let repo: string;
let server: RunningServer;
const RUNS = Number(process.env.TESSERA_FUZZ_RUNS ?? 120);
const SEED = Number(process.env.TESSERA_FUZZ_SEED ?? Date.now() % 2 ** 31);

before(async () => {
  repo = mkdtempSync(join(tmpdir(), 'tessera-fuzz-'));
  cpSync(join(ROOT, 'models', 'mlp'), join(repo, 'mlp'), { recursive: true });
  writeStringEcho(join(repo, 'echo', '1'));
  server = await startServer({
    modelRepository: repo,
    host: '127.0.0.1',
    port: 0,
    threads: 1,
    limits: { maxJsonDepth: 32, maxTensorElements: 1 << 20 },
    training: { maxJobs: 1 },
  });
});

after(async () => {
  await server?.close();
  rmSync(repo, { recursive: true, force: true });
});

interface Req {
  path: string;
  body: Uint8Array | string;
  headers?: Record<string, string>;
}

/** Sends and checks the answer's shape; returns the status. */
async function send(req: Req): Promise<number> {
  const r = await fetch(server.url + req.path, {
    method: 'POST',
    body: req.body,
    headers: req.headers,
  });
  const buf = Buffer.from(await r.arrayBuffer());
  const what = `${req.path} ${String(typeof req.body === 'string' ? req.body : Buffer.from(req.body).toString('latin1')).slice(0, 300)} -> ${r.status} ${buf.toString('utf8', 0, 300)}`;
  assert.ok((r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500), what);
  if (r.status >= 400) {
    const body = JSON.parse(buf.toString('utf8'));
    assert.equal(typeof body.error, 'string', what);
  } else {
    const head = r.headers.get('inference-header-content-length');
    const json = JSON.parse(buf.toString('utf8', 0, head ? Number(head) : buf.length));
    if (req.path.endsWith('/train')) assert.equal(typeof json.id, 'string', what);
    else assert.ok(Array.isArray(json.outputs), what);
  }
  return r.status;
}

const paths = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('/v2/models/mlp/infer', '/v2/models/echo/infer') },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.oneof(
          fc.constantFrom('mlp', 'echo', 'nope', '..', '%2e%2e', 'mlp%2F..'),
          fc.string({ maxLength: 8 }),
        ),
        fc.option(fc.oneof(fc.constantFrom('1', '2', '0', '-1', '01', '1e3'), fc.string({ maxLength: 4 }))),
      )
      .map(
        ([m, v]) =>
          `/v2/models/${m.includes('%') ? m : encodeURIComponent(m) || 'x'}${v === null ? '' : `/versions/${encodeURIComponent(v) || 'x'}`}/infer`,
      ),
  },
  { weight: 1, arbitrary: fc.constant('/v2/models/mlp/train') },
);

const scalar = fc.oneof(
  fc.double({ noNaN: true }),
  fc.integer(),
  fc.boolean(),
  fc.string({ maxLength: 6 }),
  fc.constant(null),
);
const PARAM_KEYS = [
  'binary_data_output',
  'binary_data',
  'classification',
  'timeout',
  'binary_data_size',
  'priority',
];
const params = fc.dictionary(
  fc.oneof(fc.constantFrom(...PARAM_KEYS), fc.string({ maxLength: 6 })),
  fc.oneof(fc.boolean(), fc.integer({ min: -3, max: 100_000 }), fc.double(), fc.string({ maxLength: 4 })),
  { maxKeys: 3 },
);
const input = fc.record(
  {
    name: fc.oneof(fc.constantFrom('input', 'text'), fc.string({ maxLength: 6 })),
    datatype: fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...V2_DATATYPES) },
      fc.string({ maxLength: 5 }),
    ),
    shape: fc.oneof(
      { weight: 4, arbitrary: fc.array(fc.integer({ min: -1, max: 70 }), { maxLength: 4 }) },
      fc.array(fc.oneof(fc.integer(), fc.double(), fc.string()), { maxLength: 3 }),
      fc.jsonValue({ maxDepth: 2 }),
    ),
    data: fc.oneof(
      fc.array(scalar, { maxLength: 48 }),
      fc.array(fc.array(scalar, { maxLength: 6 }), { maxLength: 8 }),
      scalar,
      fc.jsonValue({ maxDepth: 3 }),
    ),
    parameters: params,
  },
  { requiredKeys: [] },
);
const v2Request = fc.record(
  {
    id: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
    inputs: fc.oneof(
      { weight: 5, arbitrary: fc.array(input, { maxLength: 3 }) },
      fc.jsonValue({ maxDepth: 2 }),
    ),
    outputs: fc.array(
      fc.record(
        {
          name: fc.oneof(fc.constantFrom('probabilities', 'echo'), fc.string({ maxLength: 6 })),
          parameters: params,
        },
        { requiredKeys: [] },
      ),
      { maxLength: 2 },
    ),
    parameters: params,
  },
  { requiredKeys: [] },
);

/** Mostly valid MLP requests: right names and types, batch sizes around the limit, data near the right length. */
const nearlyValid = fc
  .record({
    batch: fc.integer({ min: 0, max: 66 }),
    extra: fc.integer({ min: -1, max: 1 }),
    binaryOut: fc.boolean(),
    k: fc.option(fc.integer({ min: -1, max: 5 })),
    timeout: fc.option(fc.integer({ min: 0, max: 5000 })),
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
  })
  .map(({ batch, extra, binaryOut, k, timeout, value }) => ({
    inputs: [
      {
        name: 'input',
        datatype: 'FP32',
        shape: [batch, 4],
        data: new Array(Math.max(0, batch * 4 + extra)).fill(value),
      },
    ],
    outputs: [
      {
        name: 'probabilities',
        parameters: { binary_data: binaryOut, ...(k === null ? {} : { classification: k }) },
      },
    ],
    ...(timeout === null ? {} : { parameters: { timeout } }),
  }));

describe('fuzzing the infer and train routes', () => {
  const run = (name: string, arb: fc.Arbitrary<Req>) =>
    it(name, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          await send(req);
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
    });

  run(
    'arbitrary JSON bodies',
    fc.record({ path: paths, body: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v) ?? 'null') }),
  );
  run(
    'v2-shaped requests with wrong and right fields',
    fc.record({ path: paths, body: v2Request.map((v) => JSON.stringify(v)) }),
  );
  run(
    'nearly valid MLP requests (binary outputs, classification, timeouts)',
    fc.record({ path: fc.constant('/v2/models/mlp/infer'), body: nearlyValid.map((v) => JSON.stringify(v)) }),
  );

  run(
    'train requests: nearly valid, and with wrong fields',
    fc
      .record(
        {
          n: fc.integer({ min: 0, max: 9 }),
          skew: fc.integer({ min: -1, max: 1 }),
          targetType: fc.constantFrom('INT64', 'FP32', 'INT32', 'BYTES'),
          loss: fc.oneof(
            fc.constantFrom('cross_entropy', 'mse', 'huber', 'nope'),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          optimizer: fc.oneof(
            fc.record({
              name: fc.constantFrom('adam', 'sgd', 'adamw', 'x'),
              lr: fc.double({ min: -1, max: 1, noNaN: true }),
            }),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          epochs: fc.oneof(fc.integer({ min: -1, max: 2 }), fc.jsonValue({ maxDepth: 0 })),
          extra: fc.dictionary(
            fc.constantFrom(
              'batch_size',
              'shuffle',
              'seed',
              'validation_split',
              'metrics',
              'trainable',
              'frozen',
              'early_stopping',
              'dataset',
              'version',
              'output',
            ),
            fc.jsonValue({ maxDepth: 2 }),
            { maxKeys: 3 },
          ),
        },
        { requiredKeys: ['n', 'skew', 'targetType'] },
      )
      .map(({ n, skew, targetType, extra, ...rest }) => ({
        path: '/v2/models/mlp/train',
        body: JSON.stringify({
          inputs: [
            {
              name: 'input',
              datatype: 'FP32',
              shape: [n, 4],
              data: new Array(Math.max(0, n * 4 + skew)).fill(0.5),
            },
          ],
          targets: [
            {
              name: 'y',
              datatype: targetType,
              shape: [n],
              data: new Array(n).fill(targetType === 'BYTES' ? 'a' : 1),
            },
          ],
          max_steps: 2,
          ...rest,
          ...extra,
        }),
      })),
  );

  run(
    'binary tensor bodies with random bytes and header lengths',
    fc
      .record({
        path: paths,
        header: v2Request,
        sizes: fc.array(fc.integer({ min: -2, max: 80 }), { maxLength: 3 }),
        bytes: fc.uint8Array({ maxLength: 200 }),
        headerLength: fc.oneof(
          fc.constant('exact'),
          fc.constant(undefined),
          fc.integer({ min: -5, max: 400 }).map(String),
          fc.string({ maxLength: 4 }),
        ),
      })
      .map(({ path, header, sizes, bytes, headerLength }) => {
        // A copy: fast-check reuses generated values while shrinking.
        const head = structuredClone(header) as Record<string, unknown>;
        const inputs = Array.isArray(head.inputs) ? (head.inputs as unknown[]) : [];
        inputs.forEach((inp, i) => {
          if (typeof inp !== 'object' || inp === null || Array.isArray(inp)) return;
          const o = inp as Record<string, unknown>;
          delete o.data;
          o.parameters = { ...(o.parameters as object), binary_data_size: sizes[i] ?? bytes.length };
        });
        const json = Buffer.from(JSON.stringify(head));
        const length = headerLength === 'exact' ? String(json.length) : headerLength;
        return {
          path,
          body: Buffer.concat([json, bytes]),
          headers: length === undefined ? {} : { 'Inference-Header-Content-Length': length },
        } as Req;
      }),
  );

  run(
    'byte-level mutations of valid requests',
    fc
      .record({
        which: fc.constantFrom(0, 1),
        edits: fc.array(
          fc.record({
            at: fc.nat(),
            op: fc.constantFrom('set', 'insert', 'delete'),
            byte: fc.integer({ min: 0, max: 255 }),
          }),
          { minLength: 1, maxLength: 6 },
        ),
      })
      .map(({ which, edits }) => {
        const valid = [
          {
            path: '/v2/models/mlp/infer',
            body: {
              inputs: [{ name: 'input', datatype: 'FP32', shape: [2, 4], data: [1, 2, 3, 4, 5, 6, 7, 8] }],
            },
          },
          {
            path: '/v2/models/echo/infer',
            body: { inputs: [{ name: 'text', datatype: 'BYTES', shape: [2], data: ['a', 'bc'] }] },
          },
        ][which]!;
        const bytes = [...Buffer.from(JSON.stringify(valid.body))];
        for (const e of edits) {
          const at = e.at % (bytes.length + 1);
          if (e.op === 'set' && at < bytes.length) bytes[at] = e.byte;
          else if (e.op === 'insert') bytes.splice(at, 0, e.byte);
          else if (e.op === 'delete') bytes.splice(at, 1);
        }
        return { path: valid.path, body: Uint8Array.from(bytes) };
      }),
  );

  it('the server still serves after all of it', async () => {
    const r = await inferMlp(server.url);
    assert.equal(r.status, 200, `seed ${SEED}: ${JSON.stringify(r.body)}`);
    assert.equal((await fetch(`${server.url}/v2/health/ready`)).status, 200);
  });
});
