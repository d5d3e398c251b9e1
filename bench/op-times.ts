/**
 * Per-op time of one benchmark workload on Tessera: `npx tsx bench/op-times.ts NAME [runs]` wraps
 * every registered CPU kernel with a timer and prints where a run's time goes, by op type (kernel
 * time only: the rest of a run is dispatch, executor and session overhead).
 */
import { resolve } from 'node:path';
import { findOp, listOps } from '../src/ops/registry.js';
import { tesseraRuntime } from './runtimes.js';
import { workloads } from './workloads.js';

const [name = 'cnn-b1', runs = '200'] = process.argv.slice(2);
const w = workloads(resolve(process.env.TESSERA_SHARED ?? '../shared')).find((x) => x.name === name);
if (!w) throw new Error(`no workload ${name}`);
const run =
  w.tessera && !w.onnx
    ? await w.tessera()
    : await (async () => {
        const m = await w.onnx!();
        return tesseraRuntime().prepare(m.bytes, m.feeds);
      })();
for (let i = 0; i < 20; i++) await run();
const spent = new Map<string, number>();
const calls = new Map<string, number>();
let depth = 0;
for (const latest of listOps()) {
  for (let opset = 1; opset <= 30; opset++) {
    const def = findOp(latest.name, opset, latest.domain);
    if (!def || (def as { timed?: boolean }).timed) continue;
    (def as { timed?: boolean }).timed = true;
    const k = def.kernels.cpu;
    const label = `${latest.domain ? `${latest.domain}::` : ''}${latest.name}`;
    def.kernels.cpu = (inputs, attrs, ctx) => {
      const outer = depth === 0;
      depth++;
      const t0 = performance.now();
      try {
        return k(inputs, attrs, ctx);
      } finally {
        depth--;
        if (outer) {
          spent.set(label, (spent.get(label) ?? 0) + performance.now() - t0);
          calls.set(label, (calls.get(label) ?? 0) + 1);
        }
      }
    };
  }
}
const n = Number(runs);
const t0 = performance.now();
for (let i = 0; i < n; i++) await run();
const total = (performance.now() - t0) / n;
let kernels = 0;
for (const t of spent.values()) kernels += t / n;
console.log(
  `${name}: ${total.toFixed(3)} ms/run, kernels ${kernels.toFixed(3)} ms, other ${(total - kernels).toFixed(3)} ms`,
);
for (const [k, t] of [...spent].sort((a, b) => b[1] - a[1]))
  console.log(`  ${k.padEnd(28)} ${(t / n).toFixed(3)} ms  ${(calls.get(k)! / n).toFixed(0)} calls`);
process.exit(0);
