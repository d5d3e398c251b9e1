/**
 * Profiles one benchmark workload on Tessera alone: `npx tsx --cpu-prof bench/profile-model.ts NAME [runs]`
 * (NAME as in the bench table). Prints per-run latency; the V8 profile shows where the time goes.
 */
import { resolve } from 'node:path';
import { tesseraRuntime } from './runtimes.js';
import { workloads } from './workloads.js';

const [name = 'cnn-b1', runs = '20'] = process.argv.slice(2);
const w = workloads(resolve(process.env.TESSERA_SHARED ?? '../shared')).find((x) => x.name === name);
if (!w) throw new Error(`no workload ${name}`);
const run =
  w.tessera && !w.onnx
    ? await w.tessera()
    : await (async () => {
        const m = await w.onnx!();
        return tesseraRuntime().prepare(m.bytes, m.feeds);
      })();
const times: number[] = [];
for (let i = 0; i < Number(runs); i++) {
  const t0 = performance.now();
  await run();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
console.log(`${name}: median ${times[times.length >> 1]!.toFixed(3)} ms, min ${times[0]!.toFixed(3)} ms`);
process.exit(0);
