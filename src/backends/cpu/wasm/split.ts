/**
 * Streaming kernels split across the worker pool: block copies (a large Concat) and the per-channel
 * affine (BatchNormalization chains), on the native kernels at the arrays' own addresses. One core
 * copies at about half of what two reach on the development machine, and these ops move megabytes
 * between every pair of convolutions in densenet121 and squeezenet. Each returns false (the caller
 * does the work itself) when the native kernels are off, the work is small, or one thread is set.
 */
import { getNumThreads } from '../threads/config.js';
import type { PoolJob } from '../threads/pool.js';
import { native, nativeGemmOn } from './runtime.js';
import { half, workerPool } from './sgemm.js';

/** Floats below which a streaming kernel stays on the calling thread (waking a worker costs more). */
const SPLIT_MIN_FLOATS = 1 << 16;
/** Jobs per thread: the pool hands them out as threads come free. */
const JOBS_PER_THREAD = 2;

function threads(n: number): number {
  if (!nativeGemmOn() || n < SPLIT_MIN_FLOATS) return 1;
  return Math.min(getNumThreads(), Math.floor(n / (SPLIT_MIN_FLOATS / 2)));
}

/** Splits [0, n) into `jobs` even ranges, rounded to multiples of `unit`. */
function ranges(n: number, jobs: number, unit = 1): [number, number][] {
  const out: [number, number][] = [];
  for (let j = 0; j < jobs; j++) {
    const a = Math.round((j * n) / jobs / unit) * unit;
    const b = j === jobs - 1 ? n : Math.round(((j + 1) * n) / jobs / unit) * unit;
    if (b > a) out.push([a, b]);
  }
  return out;
}

/** dst[dstOff, +n) = src[srcOff, +n) across the worker pool; false when not worth it (copy yourself). */
export function copySplit(
  dst: Float32Array,
  dstOff: number,
  src: Float32Array,
  srcOff: number,
  n: number,
): boolean {
  const t = threads(n);
  // (A job's byte count is an int32.)
  if (t <= 1 || n * 4 > 0x7fffffff) return false;
  const g = native!.gemm;
  const d = g.address(dst) + dstOff * 4;
  const s = g.address(src) + srcOff * 4;
  // 16 floats (a cache line) a unit, so two jobs never write one line.
  const jobs: PoolJob[] = ranges(n, t * JOBS_PER_THREAD, 16).map(([a, b]) => ({
    fn: 'copyAbs',
    args: [...half(d + a * 4), ...half(s + a * 4), (b - a) * 4],
  }));
  workerPool()!.run(jobs, t - 1);
  return true;
}

/**
 * out = x * scale[channel] + shift[channel] (then Relu) for x of P planes of L floats across the
 * worker pool, planes split; false when not worth it.
 */
export function channelAffineSplit(
  x: Float32Array,
  out: Float32Array,
  C: number,
  L: number,
  scale: Float32Array,
  shift: Float32Array,
  relu: boolean,
): boolean {
  const P = L === 0 ? 0 : out.length / L;
  const t = threads(out.length);
  if (t <= 1 || P < 2) return false;
  const g = native!.gemm;
  const addr = [g.address(x), g.address(out), g.address(scale), g.address(shift)].flatMap((a) => half(a));
  const jobs: PoolJob[] = ranges(P, Math.min(P, t * JOBS_PER_THREAD)).map(([p0, p1]) => ({
    fn: 'channelAffineAbs',
    args: [...addr, C, L, relu ? 1 : 0, p0, p1],
  }));
  workerPool()!.run(jobs, t - 1);
  return true;
}
