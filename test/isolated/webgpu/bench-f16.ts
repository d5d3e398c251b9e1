/**
 * float16 on WebGPU, native f16 storage against the emulated path (f32 storage, rounded) on the
 * same adapter in the same process: the backend is restarted between the two modes, and the modes
 * alternate for `rounds` rounds so that load on the machine hits both alike. Needs an adapter with
 * shader-f16 (Vulkan lavapipe, a GPU):
 *
 *   node --import tsx test/isolated/webgpu/bench-f16.ts [--reps 10] [--rounds 3] [--software deny]
 *
 * Prints per case the median ms per call of each mode (end to end: one readback per batch of reps)
 * and emulated/native (above 1: native is faster), and the GPU bytes the inputs take.
 */
import { disposeWebGPU, initWebGPU, webgpuStats } from '../../../src/backends/webgpu/index.js';
import { randn, type Tensor } from '../../../src/index.js';
import { dispatch1 } from '../../../src/ops/registry.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1]! : def;
};
const reps = Number(arg('reps', '10'));
const rounds = Number(arg('rounds', '3'));
const software = arg('software', 'allow') as 'allow' | 'deny';

interface Case {
  name: string;
  inputs: Tensor[];
  run: (xs: Tensor[]) => Tensor;
}
const h = (shape: number[]) => randn(shape).to('float16');
const cases: Case[] = [
  { name: 'Add 4M', inputs: [h([1 << 22]), h([1 << 22])], run: ([a, b]) => dispatch1('Add', [a!, b!]) },
  { name: 'Gelu 4M', inputs: [h([1 << 22])], run: ([a]) => dispatch1('Gelu', [a!]) },
  {
    name: 'Cast f16->f32 4M',
    inputs: [h([1 << 22])],
    run: ([a]) => dispatch1('Cast', [a!], { to: 'float32' }),
  },
  {
    name: 'Softmax 2048x1000',
    inputs: [h([2048, 1000])],
    run: ([a]) => dispatch1('Softmax', [a!], { axis: -1 }),
  },
  {
    name: 'ReduceSum 4096x1024 (rows)',
    inputs: [h([4096, 1024])],
    run: ([a]) => dispatch1('ReduceSum', [a!], { axes: [1], keepdims: 0 }, { opset: 13 }),
  },
  {
    name: 'LayerNorm 2048x768',
    inputs: [h([2048, 768]), h([768]), h([768])],
    run: ([x, s, b]) => dispatch1('LayerNormalization', [x!, s!, b!], { axis: -1 }),
  },
  {
    name: 'MatMul 512x512 @ 512x512',
    inputs: [h([512, 512]), h([512, 512])],
    run: ([a, b]) => dispatch1('MatMul', [a!, b!]),
  },
  {
    name: 'MatMul 1x4096 @ 4096x4096',
    inputs: [h([1, 4096]), h([4096, 4096])],
    run: ([a, b]) => dispatch1('MatMul', [a!, b!]),
  },
  {
    name: 'Conv 1x64x56x56 * 64x64x3x3',
    inputs: [h([1, 64, 56, 56]), h([64, 64, 3, 3])],
    run: ([x, w]) => dispatch1('Conv', [x!, w!], { pads: [1, 1, 1, 1] }),
  },
  {
    name: 'Transpose+pack 1024x4096',
    inputs: [h([1024, 4096])],
    run: ([a]) => dispatch1('Identity', [dispatch1('Transpose', [a!], { perm: [1, 0] })], { copy: true }),
  },
];

async function measure(
  mode: 'auto' | 'emulated',
): Promise<{ ms: number[]; bytes: number[]; float16: string }> {
  const info = await initWebGPU({ software, log: () => {}, float16: mode });
  const ms: number[] = [];
  const bytes: number[] = [];
  for (const c of cases) {
    const before = webgpuStats().liveBytes;
    const gpuIn = c.inputs.map((t) => t.to('webgpu'));
    bytes.push(webgpuStats().liveBytes - before);
    await c.run(gpuIn).data(); // compile
    const t0 = performance.now();
    let y: Tensor | undefined;
    for (let i = 0; i < reps; i++) y = c.run(gpuIn);
    await y!.data();
    ms.push((performance.now() - t0) / reps);
  }
  const float16 = info.float16 ?? 'emulated';
  await disposeWebGPU();
  return { ms, bytes, float16 };
}

const native: number[][] = [];
const emulated: number[][] = [];
let bytes: { native: number[]; emulated: number[] } = { native: [], emulated: [] };
let adapter = '';
for (let r = 0; r < rounds; r++) {
  const n = await measure('auto');
  if (n.float16 !== 'native') {
    console.error('this adapter lacks shader-f16: float16 is emulated, there is nothing to compare');
    process.exit(1);
  }
  const e = await measure('emulated');
  native.push(n.ms);
  emulated.push(e.ms);
  bytes = { native: n.bytes, emulated: e.bytes };
}
{
  const info = await initWebGPU({ software, log: () => {} });
  adapter = `${info.device || info.description} (${info.backend}, ${info.featureLevel}${info.software ? ', software' : ''})`;
  await disposeWebGPU();
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(`adapter: ${adapter}; ${rounds} rounds of ${reps} reps, modes alternating`);
const rows = [['case', 'native ms', 'emulated ms', 'emulated/native', 'input MiB native/emulated']];
cases.forEach((c, i) => {
  const n = median(native.map((r) => r[i]!));
  const e = median(emulated.map((r) => r[i]!));
  rows.push([
    c.name,
    n.toFixed(2),
    e.toFixed(2),
    (e / n).toFixed(2),
    `${(bytes.native[i]! / 2 ** 20).toFixed(1)} / ${(bytes.emulated[i]! / 2 ** 20).toFixed(1)}`,
  ]);
});
const w = rows[0]!.map((_, j) => Math.max(...rows.map((r) => r[j]!.length)));
for (const r of rows)
  console.log(r.map((v, j) => (j === 0 ? v.padEnd(w[j]!) : v.padStart(w[j]!))).join('  '));
