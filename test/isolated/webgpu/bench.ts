/**
 * MatMul and Conv throughput on WebGPU next to the CPU kernels in the same run (ratios, no absolute
 * thresholds). On a machine with a real GPU:
 *
 *   node --import tsx test/isolated/webgpu/bench.ts [--software deny] [--reps 10]
 *
 * Each case runs once to compile its pipelines, then `reps` times; the GPU time includes waiting for
 * the result (one readback per batch of reps), so it is end-to-end per call.
 */
import { disposeWebGPU, initWebGPU, webgpuStats } from '../../../src/backends/webgpu/index.js';
import { randn, type Tensor } from '../../../src/index.js';
import { dispatch1 } from '../../../src/ops/registry.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const reps = Number(arg('reps', '10'));
const info = await initWebGPU({ software: arg('software', 'allow') as 'allow' | 'deny', log: () => {} });
console.log(
  `adapter: ${info.device || info.description} (${info.backend}, ${info.featureLevel}${info.software ? ', software' : ''})`,
);

interface Case {
  name: string;
  flops: number;
  run: (inputs: Tensor[]) => Tensor;
  inputs: Tensor[];
}

const mm = (n: number, k: number, m: number): Case => ({
  name: `MatMul ${n}x${k} @ ${k}x${m}`,
  flops: 2 * n * k * m,
  run: ([a, b]) => dispatch1('MatMul', [a!, b!]),
  inputs: [randn([n, k]), randn([k, m])],
});
const conv = (n: number, c: number, hw: number, m: number, k: number): Case => ({
  name: `Conv ${n}x${c}x${hw}x${hw} * ${m}x${c}x${k}x${k}`,
  flops: 2 * n * m * hw * hw * c * k * k,
  run: ([x, w]) => dispatch1('Conv', [x!, w!], { pads: [k >> 1, k >> 1, k >> 1, k >> 1] }),
  inputs: [randn([n, c, hw, hw]), randn([m, c, k, k])],
});

const cases = [
  mm(256, 256, 256),
  mm(1024, 1024, 1024),
  mm(1, 4096, 4096),
  conv(1, 64, 56, 64, 3),
  conv(8, 128, 28, 128, 3),
  conv(1, 256, 14, 256, 1),
];

async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

const rows: string[][] = [['case', 'cpu ms', 'webgpu ms', 'webgpu GFLOP/s', 'cpu/webgpu']];
for (const c of cases) {
  const gpuIn = c.inputs.map((t) => t.to('webgpu'));
  await c.run(gpuIn).data(); // compile
  const cpuMs =
    (await time(async () => {
      for (let i = 0; i < Math.max(1, reps >> 2); i++) c.run(c.inputs);
    })) / Math.max(1, reps >> 2);
  const gpuMs =
    (await time(async () => {
      let y: Tensor | undefined;
      for (let i = 0; i < reps; i++) y = c.run(gpuIn);
      await y!.data();
    })) / reps;
  rows.push([
    c.name,
    cpuMs.toFixed(2),
    gpuMs.toFixed(2),
    (c.flops / gpuMs / 1e6).toFixed(1),
    (cpuMs / gpuMs).toFixed(2),
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows)
  console.log(r.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  '));
console.log(`pipelines compiled: ${webgpuStats().pipelines}`);
await disposeWebGPU();
