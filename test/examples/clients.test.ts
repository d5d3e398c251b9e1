// examples/client.ts and examples/client.py (standard library only) against a running server with
// the bundled models: both send the same made-up input and print the response, whose outputs must
// be what an InferenceSession on the same model file computes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { InferenceSession, Tensor } from '../../src/index.js';
import { type RunningServer, startServer } from '../../src/server/index.js';
import { ROOT, runExample } from './run.js';

let server: RunningServer;
const MODEL = join(ROOT, 'models', 'mnist_cnn', '1', 'model.onnx');

before(async () => {
  server = await startServer({
    modelRepository: join(ROOT, 'models'),
    host: '127.0.0.1',
    port: 0,
    threads: 1,
    processMetrics: false,
    training: false,
  });
});

after(async () => {
  await server.close();
});

async function expected(): Promise<number[]> {
  const x = Array.from({ length: 784 }, (_, i) => ((i * 37) % 101) / 101);
  const s = await InferenceSession.create(MODEL);
  const out = await s.run({ image: Tensor.fromData(Float32Array.from(x), [1, 1, 28, 28], 'float32') });
  return Array.from(out.probabilities!.numbers());
}

function check(stdout: string, want: number[]) {
  const res = JSON.parse(stdout) as {
    model_name: string;
    outputs: { name: string; shape: number[]; data: number[] }[];
  };
  assert.equal(res.model_name, 'mnist_cnn');
  const o = res.outputs.find((x) => x.name === 'probabilities')!;
  assert.deepEqual(o.shape, [1, 10]);
  o.data.forEach((v, i) => {
    assert.ok(Math.abs(v - want[i]!) < 1e-5, `${v} vs ${want[i]} at ${i}`);
  });
}

test('examples/client.ts: a JSON inference round trip', async () => {
  const r = await runExample(['examples/client.ts', '--url', server.url, '--model', 'mnist_cnn', '--json']);
  assert.equal(r.code, 0, r.stderr);
  check(r.stdout, await expected());
  const text = await runExample(['examples/client.ts', '--url', server.url, '--model', 'mnist_cnn']);
  assert.match(text.stdout, /^tessera [\d.]+: model mnist_cnn version 1\nprobabilities FP32\[1, 10\]: /);
  assert.match(text.stdout, /\n {2}top: \d \([\d.]+\), \d \([\d.]+\), \d/);
  const missing = await runExample(['examples/client.ts', '--url', server.url, '--model', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /client: \/v2\/models\/nope: HTTP 404: .*nope/);
});

const python = spawnSync('python3', ['--version']).status === 0;

test('examples/client.py: the same round trip with the Python standard library', {
  skip: python ? false : 'python3 is not installed',
}, async () => {
  const r = await runExample([
    'python3',
    'examples/client.py',
    '--url',
    server.url,
    '--model',
    'mnist_cnn',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  check(r.stdout, await expected());
  const text = await runExample(['python3', 'examples/client.py', '--url', server.url]);
  assert.match(text.stdout, /^tessera [\d.]+: model mnist_cnn version 1\nprobabilities FP32\[1, 10\]: /);
  const missing = await runExample(['python3', 'examples/client.py', '--url', server.url, '--model', 'nope']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /client: \/v2\/models\/nope: HTTP 404: .*nope/);
});
