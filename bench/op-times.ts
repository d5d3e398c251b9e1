/**
 * Per-op time of one benchmark workload on Tessera: `npx tsx bench/op-times.ts NAME [runs] [--shapes]`
 * wraps every registered CPU kernel with a timer and prints where a run's time goes, by op type
 * (kernel time only: the rest of a run is dispatch, executor and session overhead). `--shapes` splits
 * each op type by its inputs' shapes, and gives convolutions' and products' GFLOP/s.
 */
import { resolve } from 'node:path';
import { findOp, listOps } from '../src/ops/registry.js';
import { tesseraRuntime } from './runtimes.js';
import { workloads } from './workloads.js';

const args = process.argv.slice(2);
const byShape = args.includes('--shapes');
const [name = 'cnn-b1', runs = '200'] = args.filter((a) => a !== '--shapes');
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
const flops = new Map<string, number>();
let depth = 0;

/** Floating-point operations of one call of a convolution or product (2 per multiply-add), else 0. */
function productFlops(
  op: string,
  inputs: readonly ({ shape: readonly number[] } | undefined)[],
  attrs: unknown,
): number {
  const [x, w] = inputs;
  if (!x || !w) return 0;
  const count = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
  if (op === 'Conv' || op === 'FusedConv') {
    // Output positions from the kernel's strides and pads as the op resolved them: read them back
    // from the attrs when present, else assume "same" spatial size.
    const a = attrs as { strides?: number[] };
    const strides = a.strides ?? [1, 1];
    const spatial = x.shape.slice(2).map((d, i) => Math.ceil(d / (strides[i] ?? 1)));
    return 2 * x.shape[0]! * count(spatial) * count(w.shape);
  }
  if (op === 'Gemm' || op === 'MatMul' || op === 'FusedGemm')
    return 2 * count(x.shape) * w.shape[w.shape.length - 1]!;
  return 0;
}
for (const latest of listOps()) {
  for (let opset = 1; opset <= 30; opset++) {
    const def = findOp(latest.name, opset, latest.domain);
    if (!def || (def as { timed?: boolean }).timed) continue;
    (def as { timed?: boolean }).timed = true;
    const k = def.kernels.cpu;
    const label = `${latest.domain ? `${latest.domain}::` : ''}${latest.name}`;
    def.kernels.cpu = (inputs, attrs, ctx) => {
      const key = byShape
        ? `${label} ${inputs.map((t) => (t ? `[${t.shape.join(',')}]` : '-')).join(' ')}`
        : label;
      const outer = depth === 0;
      depth++;
      const t0 = performance.now();
      try {
        return k(inputs, attrs, ctx);
      } finally {
        depth--;
        if (outer) {
          spent.set(key, (spent.get(key) ?? 0) + performance.now() - t0);
          calls.set(key, (calls.get(key) ?? 0) + 1);
          if (byShape && !flops.has(key)) flops.set(key, productFlops(latest.name, inputs, attrs));
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
for (const [k, t] of [...spent].sort((a, b) => b[1] - a[1])) {
  const c = calls.get(k)! / n;
  const f = flops.get(k) ? `  ${((flops.get(k)! * c) / (t / n) / 1e6).toFixed(0)} GFLOP/s` : '';
  console.log(`  ${k.padEnd(28)} ${(t / n).toFixed(3)} ms  ${c.toFixed(0)} calls${f}`);
}
process.exit(0);
