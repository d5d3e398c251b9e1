/**
 * `tessera bench MODEL`: latency percentiles and throughput of a model in this process, on given
 * or made-up inputs, after a warm-up; optionally side by side with onnxruntime-node on the same
 * inputs (the ratio is what to read: both ran on the same machine at the same time).
 */
import { exportOnnx } from '../../importers/onnx/export.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { type CliIO, type Command, stdio } from '../command.js';
import { bool, intFlag, list, numFlag, parseFlags, positionals, str } from '../util/args.js';
import { EXIT_OK, runCommand, UsageError } from '../util/errors.js';
import { parseShapes, randomInputs } from '../util/random-inputs.js';
import { openModel, parseDevice, toCpu } from '../util/session.js';
import { colorEnabled, style } from '../util/style.js';
import { readInputs } from '../util/tensor-files.js';

export const BENCH_USAGE = `Usage: tessera bench <model> [options]

Measures a model's latency (percentiles) and throughput in this process.

Inputs are random (standard normal floats, small integers) in the declared shapes, with dim 0
set by --batch and other open dims by --shape, unless given with --input.

Options:
  --batch <n>             batch size for made-up inputs (default 1)
  --shape <input>=<dims>  dims of an input the model leaves open, e.g. image=1,3,224,224; repeatable
  -i, --input <spec>      real inputs instead, as for 'tessera predict'; repeatable
  --warmup <n>            runs before measuring (default 5)
  --iterations <n>        measured runs (default 50)
  --duration <seconds>    measure for this long instead of a fixed number of runs
  --device <cpu|webgpu>   where to run (default cpu)
  --compare-ort           also run onnxruntime-node (a dev dependency) on the same inputs and print the ratio
  --json                  print the results as JSON
  -h, --help              show this help

Examples:
  tessera bench models/mnist_cnn --batch 32
  tessera bench model.onnx --shape input=1,3,224,224 --duration 10
  tessera bench models/mlp --batch 64 --compare-ort --json`;

const OPTIONS = {
  batch: { type: 'string' },
  shape: { type: 'string', multiple: true },
  input: { type: 'string', short: 'i', multiple: true },
  warmup: { type: 'string' },
  iterations: { type: 'string' },
  duration: { type: 'string' },
  device: { type: 'string' },
  'compare-ort': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

export interface LatencyStats {
  runs: number;
  batch: number;
  seconds: number;
  /** Milliseconds. */
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  max: number;
  /** Samples per second (runs x batch / seconds). */
  throughput: number;
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: readonly number[], q: number): number {
  if (!sorted.length) return Number.NaN;
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function latencyStats(ms: readonly number[], batch: number): LatencyStats {
  const sorted = [...ms].sort((a, b) => a - b);
  const total = ms.reduce((a, b) => a + b, 0);
  return {
    runs: ms.length,
    batch,
    seconds: total / 1000,
    min: sorted[0] ?? Number.NaN,
    mean: total / Math.max(1, ms.length),
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p95: percentile(sorted, 95),
    p99: percentile(sorted, 99),
    max: sorted.at(-1) ?? Number.NaN,
    throughput: total > 0 ? (ms.length * batch) / (total / 1000) : Number.NaN,
  };
}

/** Runs `once` `warmup` times, then `iterations` times or for `durationS` seconds; returns each run's ms. */
export async function measure(
  once: () => Promise<unknown>,
  o: { warmup: number; iterations: number; durationS?: number },
): Promise<number[]> {
  for (let i = 0; i < o.warmup; i++) await once();
  const times: number[] = [];
  const until = o.durationS !== undefined ? performance.now() + o.durationS * 1000 : Number.POSITIVE_INFINITY;
  while (o.durationS !== undefined ? performance.now() < until : times.length < o.iterations) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  return times;
}

async function ortRunner(
  modelBytes: Uint8Array,
  feeds: Record<string, Tensor>,
): Promise<() => Promise<unknown>> {
  let ort: typeof import('onnxruntime-node');
  try {
    const mod = (await import('onnxruntime-node')) as typeof import('onnxruntime-node') & {
      default?: typeof import('onnxruntime-node');
    };
    ort = mod.default ?? mod;
  } catch {
    throw new TesseraError(
      'UNAVAILABLE',
      '--compare-ort needs onnxruntime-node: npm install --save-dev onnxruntime-node',
    );
  }
  const session = await ort.InferenceSession.create(modelBytes, { logSeverityLevel: 3 });
  const ortFeeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
  for (const [k, t] of Object.entries(feeds)) {
    const type = t.dtype === 'float32' ? 'float32' : t.dtype;
    ortFeeds[k] = new ort.Tensor(type as 'float32', t.dataSync() as Float32Array, [...t.shape]);
  }
  return () => session.run(ortFeeds);
}

const fmt = (v: number) => (v >= 100 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3));

export async function benchCommand(args: string[], io: CliIO = stdio): Promise<number> {
  return runCommand('bench', io, async () => {
    const p = parseFlags(args, OPTIONS);
    const [modelPath] = positionals(p, ['model']);
    const device = parseDevice(str(p, 'device'));
    const batch = intFlag(p, 'batch', 1, 1);
    const warmup = intFlag(p, 'warmup', 5, 0);
    const iterations = intFlag(p, 'iterations', 50, 1);
    const durationS = numFlag(p, 'duration', undefined, 0, true);
    const inputSpecs = list(p, 'input');
    if (inputSpecs.length && (str(p, 'batch') !== undefined || list(p, 'shape').length)) {
      throw new UsageError('--input gives real inputs; --batch and --shape apply to made-up inputs only');
    }
    const s = style(colorEnabled(io === stdio ? process.stdout : undefined));
    const { loaded, session, inputs } = await openModel(modelPath!, device);
    const feeds = inputSpecs.length
      ? readInputs(inputSpecs, inputs, (m) => io.err(s.yellow(`note: ${m}`)))
      : randomInputs(inputs, batch, parseShapes(list(p, 'shape')), 0);
    const effBatch = Object.values(feeds)[0]?.shape[0] ?? 1;
    const o = { warmup, iterations, durationS };
    const tessera = latencyStats(await measure(async () => toCpu(await session.run(feeds)), o), effBatch);
    const plan = session.planFor(Object.fromEntries(Object.entries(feeds).map(([k, t]) => [k, t.shape])));
    let ort: LatencyStats | undefined;
    if (bool(p, 'compare-ort')) {
      const bytes =
        loaded.format === 'onnx'
          ? new Uint8Array((await import('node:fs')).readFileSync(loaded.path))
          : exportOnnx(loaded.model);
      ort = latencyStats(await measure(await ortRunner(bytes, feeds), o), effBatch);
    }
    if (bool(p, 'json')) {
      io.out(
        JSON.stringify({
          model: loaded.path,
          device,
          inputs: Object.fromEntries(
            Object.entries(feeds).map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape }]),
          ),
          weightBytes: session.weightBytes,
          plannedPeakBytes: plan.peakBytes,
          tessera,
          ...(ort ? { onnxruntime: ort, ratio: tessera.p50 / ort.p50 } : {}),
        }),
      );
      return EXIT_OK;
    }
    const shapes = Object.entries(feeds)
      .map(([k, t]) => `${k} ${t.dtype}[${t.shape.join(', ')}]`)
      .join(', ');
    io.out(`${s.bold(loaded.path)} on ${device}: ${shapes}`);
    io.out(
      s.dim(
        `weights ${session.weightBytes.toLocaleString('en-US')} bytes, planned peak of intermediates ${plan.peakBytes.toLocaleString('en-US')} bytes${plan.complete ? '' : ' (lower bound)'}`,
      ),
    );
    const head = `${''.padEnd(12)}${['runs', 'mean', 'p50', 'p90', 'p95', 'p99', 'min', 'max'].map((h) => h.padStart(9)).join('')}  samples/s`;
    io.out(head);
    const row = (name: string, r: LatencyStats) =>
      `${name.padEnd(12)}${String(r.runs).padStart(9)}${[r.mean, r.p50, r.p90, r.p95, r.p99, r.min, r.max].map((v) => fmt(v).padStart(9)).join('')}  ${r.throughput.toFixed(1)}`;
    io.out(row('tessera', tessera));
    if (ort) {
      io.out(row('onnxruntime', ort));
      io.out(`p50 ratio tessera/onnxruntime: ${(tessera.p50 / ort.p50).toFixed(2)}x`);
    }
    io.out(s.dim('latencies in ms'));
    return EXIT_OK;
  });
}

const command: Command = {
  name: 'bench',
  summary: 'Measure a model: latency percentiles and throughput (optionally against onnxruntime)',
  usage: BENCH_USAGE,
  run: (args, io) => benchCommand(args, io),
};
export default command;
