/**
 * Server throughput, side by side: Tessera's server (the command `npm start` runs, default
 * settings) against a plain express + onnxruntime-node server on the same ONNX models, both in
 * their own process on 127.0.0.1, driven one after the other by autocannon with the same request
 * bodies. Reports requests/second, p50 and p99 for each, and Tessera's ratio to the peer.
 *
 *   npx tsx bench/server-throughput.ts [--seconds 10] [--connections 64]
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
  },
});

/** The peer: express + onnxruntime-node, nothing else. */
async function peerServer(): Promise<void> {
  const { default: express } = await import('express');
  const ort = await import('onnxruntime-node');
  const sessions: Record<string, import('onnxruntime-node').InferenceSession> = {};
  for (const m of ['mlp', 'mnist_cnn']) sessions[m] = await ort.InferenceSession.create(join(ROOT, 'models', m, '1', 'model.onnx'));
  const app = express();
  app.use(express.json({ limit: '64mb', type: () => true }));
  app.post('/v2/models/:model/infer', async (req, res) => {
    const s = sessions[req.params.model];
    if (!s) return void res.status(404).json({ error: 'unknown model' });
    try {
      const feeds: Record<string, import('onnxruntime-node').Tensor> = {};
      for (const i of req.body.inputs) feeds[i.name] = new ort.Tensor('float32', Float32Array.from(i.data.flat(Infinity)), i.shape);
      const out = await s.run(feeds);
      res.json({
        model_name: req.params.model,
        model_version: '1',
        outputs: Object.entries(out).map(([name, t]) => ({ name, datatype: 'FP32', shape: t.dims, data: Array.from(t.data as Float32Array) })),
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
  return JSON.stringify({ inputs: [{ name: 'image', shape: [1, 1, 28, 28], datatype: 'FP32', data: image }] });
}

async function main(): Promise<void> {
  const seconds = Number(values.seconds);
  const connections = Number(values.connections);
  const start = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts.start as string;
  const cases = [
    { model: 'mlp', body: mlpBody(1) },
    { model: 'mnist_cnn', body: cnnJsonBody() },
  ];
  const rows: { model: string; server: string; r: LoadResult }[] = [];
  const measure = async (server: string, url: string) => {
    for (const c of cases) {
      const only = { path: `/v2/models/${c.model}/infer`, body: c.body };
      await runLoad({ url, connections, seconds: Math.min(3, seconds), only });
      const r = await runLoad({ url, connections, seconds, only });
      if (r.non2xx || r.errors) throw new Error(`${server} ${c.model}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      rows.push({ model: c.model, server, r });
    }
  };
  const tessera = await startServe([], { TESSERA_THREADS: '' }, start.split(/\s+/).slice(1));
  try {
    await measure('tessera', tessera.url);
  } finally {
    await tessera.stop();
  }
  const peer = await startPeer();
  try {
    await measure('express+onnxruntime-node', peer.url);
  } finally {
    await peer.stop();
  }
  console.log(`\nserver throughput, ${connections} connections, ${seconds} s per run, same bodies, one after the other\n`);
  console.log('model      server                      req/s    p50 ms  p99 ms');
  for (const row of rows) {
    console.log(
      `${row.model.padEnd(11)}${row.server.padEnd(26)}${String(Math.round(row.r.rps)).padStart(7)}${String(row.r.p50).padStart(10)}${String(row.r.p99).padStart(8)}`,
    );
  }
  for (const c of cases) {
    const t = rows.find((r) => r.model === c.model && r.server === 'tessera')!.r;
    const p = rows.find((r) => r.model === c.model && r.server !== 'tessera')!.r;
    console.log(`${c.model}: tessera / express+onnxruntime-node = ${(t.rps / p.rps).toFixed(2)}x requests/s`);
  }
}

if (values.peer) await peerServer();
else await main();
