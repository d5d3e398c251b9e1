import { mkdirSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportModule, manualSeed, nn, randn, Generator, tensor } from './src/index.js';
import { startServer } from './src/server/index.js';

manualSeed(10);
const eager = new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 4));
const bytes = exportModule(eager, randn([1, 2]), { inputNames: ['x'], outputNames: ['logits'], dynamicBatch: true });
const root = mkdtempSync(join(tmpdir(), 'h16-'));
mkdirSync(join(root, 'mlp', '1'), { recursive: true });
writeFileSync(join(root, 'mlp', '1', 'model.onnx'), bytes);
writeFileSync(join(root, 'mlp', 'config.json'), JSON.stringify({ version_policy: { all: {} } }));
const g = new Generator(1);
const n = 400;
const x = randn([n, 2], { generator: g });
const xs = Array.from(x.dataSync() as Float32Array);
const ys = Array.from({ length: n }, (_, i) => (xs[2 * i]! > 0 ? 1 : 0) + (xs[2 * i + 1]! > 0 ? 2 : 0));
const t0 = Date.now();
const server = await startServer({ modelRepository: root, host: '127.0.0.1', port: 0, threads: 1, log: (m) => console.log('LOG', m) });
console.log('started', Date.now() - t0);
const res = await fetch(`${server.url}/v2/models/mlp/train`, {
  method: 'POST',
  body: JSON.stringify({
    inputs: [{ name: 'x', datatype: 'FP32', shape: [n, 2], data: xs }],
    targets: [{ name: 'y', datatype: 'INT64', shape: [n], data: ys }],
    loss: 'cross_entropy', optimizer: { name: 'adam', lr: 0.02 }, epochs: 12, batch_size: 32, seed: 1, metrics: ['accuracy'], validation_split: 0.2,
  }),
});
const job = await res.json() as any;
console.log(res.status, job);
const ev = await fetch(`${server.url}/v2/training/jobs/${job.id}/events`);
const reader = ev.body!.getReader();
let text = '';
for (;;) { const { done, value } = await reader.read(); if (done) break; text += new TextDecoder().decode(value); }
console.log(text.split('\n\n').length, 'events;', text.slice(0, 600), '...', text.slice(-800));
const d = await (await fetch(`${server.url}/v2/training/jobs/${job.id}`)).json() as any;
console.log(JSON.stringify({ ...d, loss_history: d.loss_history.length, history: d.history.map((h: any) => [h.loss, h.val_metrics]) }, null, 1));
const inf = await fetch(`${server.url}/v2/models/mlp/versions/2/infer`, { method: 'POST', body: JSON.stringify({ inputs: [{ name: 'x', datatype: 'FP32', shape: [2, 2], data: [1, 1, -1, -1] }] }) });
console.log(inf.status, await inf.text());
console.log((await (await fetch(`${server.url}/metrics`)).text()).split('\n').filter((l) => l.includes('training')).join('\n'));
console.log('total', Date.now() - t0);
await server.close();
