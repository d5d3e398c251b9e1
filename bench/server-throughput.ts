/**
 * Server throughput, side by side: Tessera's server (the command `npm start` runs, default
 * settings) against a plain express + onnxruntime-node server on the same ONNX models, both in
 * their own process on 127.0.0.1, driven by autocannon with the same request bodies in
 * alternating runs. Reports the median requests/second, p50 and p99 for each, and Tessera's ratio
 * to the peer.
 *
 *   npx tsx bench/server-throughput.ts [--seconds 10] [--connections 64] [--rounds 3]
 *
 * The peer is this same file run with `--peer`: express.json(), one onnxruntime-node session per
 * model, a v2-shaped JSON answer. It has no batching, limits, auth or metrics.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type LoadResult, mlpBody, runLoad } from '../test/production/load.js';
import { ROOT, startServe } from '../test/production/serve-process.js';

const { values } = parseArgs({
  options: {
    peer: { type: 'boolean', default: false },
    seconds: { type: 'string', default: '10' },
    connections: { type: 'string', default: '64' },
    rounds: { type: 'string', default: '3' },
  },
});

/** The peer: express + onnxruntime-node, nothing else. */
async function peerServer(): Promise<void> {
  const { default: express } = await import('express');
  const ort = await import('onnxruntime-node');
  const sessions: Record<string, import('onnxruntime-node').InferenceSession> = {};
  for (const m of ['mlp', 'mnist_cnn'])
    sessions[m] = await ort.InferenceSession.create(join(ROOT, 'models', m, '1', 'model.onnx'));
  const app = express();
  app.use(express.json({ limit: '64mb', type: () => true }));
  app.post('/v2/models/:model/infer', async (req, res) => {
    const s = sessions[req.params.model];
    if (!s) return void res.status(404).json({ error: 'unknown model' });
    try {
      const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const i of req.body.inputs)
        feeds[i.name] = new ort.Tensor('float32', Float32Array.from(i.data.flat(Infinity)), i.shape);
      const out = await s.run(feeds);
      res.json({
        model_name: req.params.model,
        model_version: '1',
        outputs: Object.entries(out).map(([name, t]) => ({
          name,
          datatype: 'FP32',
          shape: t.dims,
          data: Array.from(t.data as Float32Array),
        })),
      });
    } catch (e) {
      res.status(400).json({ error: (e as Error).message });
    }
  });
  const http = app.listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({ url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` }));
  });
  process.on('SIGTERM', () => http.close(() => process.exit(0)));
}

async function startPeer(): Promise<{ url: string; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', import.meta.filename, '--peer'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /"url":"([^"]+)"/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.on('exit', (c) => reject(new Error(`the peer exited ${c}`)));
  });
  return {
    url,
    stop: () =>
      new Promise((resolve) => {
        child.on('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

function cnnJsonBody(): string {
  const image = Array.from({ length: 784 }, (_, i) => ((i * 13) % 17) / 17);
  return JSON.stringify({
    inputs: [{ name: 'image', shape: [1, 1, 28, 28], datatype: 'FP32', data: image }],
  });
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const rounds = Number(values.rounds);
  const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  const cases = [
    { model: 'mlp', body: mlpBody(1) },
    { model: 'mnist_cnn', body: cnnJsonBody() },
  ];
  // Both servers up at once (an idle one costs nothing); runs alternate so a busy machine slows both alike.
  const tessera = await startServe([], { TESSERA_THREADS: '' }, start.split(/\s+/).slice(1));
  const peer = await startPeer().catch(async (e) => {
    await tessera.stop();
    throw e;
  });
  const servers = [
    { name: 'tessera', url: tessera.url },
    { name: 'express+onnxruntime-node', url: peer.url },
  ];
  const results = new Map<string, LoadResult[]>();
  try {
    for (const c of cases) {
      const only = { path: `/v2/models/${c.model}/infer`, body: c.body };
      for (const s of servers) await runLoad({ url: s.url, connections, seconds: 2, only });
      for (let round = 0; round < rounds; round++) {
        for (const s of servers) {
          const r = await runLoad({ url: s.url, connections, seconds, only });
          if (r.non2xx || r.errors)
            throw new Error(`${s.name} ${c.model}: ${r.non2xx} non-2xx, ${r.errors} errors`);
          const key = `${c.model}|${s.name}`;
          results.set(key, [...(results.get(key) ?? []), r]);
        }
      }
    }
  } finally {
    await tessera.stop();
    await peer.stop();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `\nserver throughput: ${connections} connections, ${rounds} alternating runs of ${seconds} s per server and model, medians\n`,
  );
  console.log('model      server                      req/s    p50 ms  p99 ms');
  for (const c of cases) {
    const rps: number[] = [];
    for (const s of servers) {
      const rs = results.get(`${c.model}|${s.name}`)!;
      const m = median(rs.map((r) => r.rps));
      rps.push(m);
      console.log(
        `${c.model.padEnd(11)}${s.name.padEnd(26)}${String(Math.round(m)).padStart(7)}${String(median(rs.map((r) => r.p50))).padStart(10)}${String(median(rs.map((r) => r.p99))).padStart(8)}`,
      );
    }
    console.log(
      `${''.padEnd(11)}tessera / express+onnxruntime-node: ${(rps[0]! / rps[1]!).toFixed(2)}x requests/s\n`,
    );
  }
}

if (values.peer) await peerServer();
else await main();
