/**
 * The one fast GEMM every CPU matrix product goes through (MatMul, Gemm, Einsum via matmulCpu;
 * Conv, ConvTranspose and the conv weight gradient via nn/gemm): float32 operands are copied into
 * the WASM memory, multiplied by the SIMD kernel (assembly/gemm.ts), split across the worker pool
 * when the product is large, and copied back. Callers keep their plain TypeScript loop for other
 * dtypes and for when the WASM build is not loaded (`sgemm` returns false).
 */
import { getNumThreads, MAX_THREADS } from '../threads/config.js';
import { type PoolJob, WorkerPool } from '../threads/pool.js';
import { arena, wasm } from './runtime.js';

/** Multiply-adds below which a product stays on one thread: waking workers costs tens of microseconds. */
export const PARALLEL_MIN_MACS = 1 << 21;
/** Each extra thread should get at least this many multiply-adds. */
const MACS_PER_THREAD = 1 << 20;
const MR = 6;
const NR = 8;

let pool: WorkerPool | null = null;

/** The worker pool, started on first use. */
export function workerPool(): WorkerPool | null {
  if (!wasm) return null;
  pool ??= new WorkerPool(wasm, MAX_THREADS - 1);
  return pool;
}

/** Stops the pool's workers (they restart on the next large product). */
export async function shutdownThreads(): Promise<void> {
  await pool?.close();
}

/** Threads a product of this size uses. */
export function threadsFor(M: number, N: number, K: number): number {
  const macs = M * N * K;
  const t = getNumThreads();
  if (t <= 1 || macs < PARALLEL_MIN_MACS) return 1;
  // Blocks of C must not be thinner than one micro-tile.
  const maxParts = Math.max(Math.ceil(M / MR), Math.ceil(N / NR));
  return Math.max(1, Math.min(t, Math.floor(macs / MACS_PER_THREAD), maxParts));
}

/** Splits [0, n) into `parts` ranges whose starts are multiples of `unit`. */
function split(n: number, parts: number, unit: number): [number, number][] {
  const units = Math.ceil(n / unit);
  const out: [number, number][] = [];
  let u0 = 0;
  for (let p = 0; p < parts; p++) {
    const u1 = Math.round(((p + 1) * units) / parts);
    if (u1 > u0) out.push([u0 * unit, Math.min(u1 * unit, n)]);
    u0 = u1;
  }
  return out;
}

/**
 * C[M, N] = op(A) op(B) (+ C when `accumulate`), float32, with the layout of nn/gemm.ts: op(A) is
 * [M, K] (A stored [K, M] when transA), op(B) is [K, N] (B stored [N, K] when transB), C dense
 * row-major at cOff. Returns false (and does nothing) when the WASM kernels are not loaded.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  aOff: number,
  B: Float32Array,
  bOff: number,
  C: Float32Array,
  cOff: number,
  accumulate: boolean,
): boolean {
  if (!wasm || !arena) return false;
  if (M === 0 || N === 0) return true;
  const ex = wasm.exports;
  arena.reset();
  const pa = arena.alloc(M * K * 4);
  const pb = arena.alloc(K * N * 4);
  const pc = arena.alloc(M * N * 4);
  arena.f32(pa, M * K).set(A.subarray(aOff, aOff + M * K));
  arena.f32(pb, K * N).set(B.subarray(bOff, bOff + K * N));
  if (accumulate) arena.f32(pc, M * N).set(C.subarray(cOff, cOff + M * N));
  const [rsA, csA] = transA ? [1, M] : [K, 1];
  const [rsB, csB] = transB ? [1, K] : [N, 1];
  const acc = accumulate ? 1 : 0;
  const threads = threadsFor(M, N, K);
  const scratchBytes = ex.sgemmScratchBytes();
  if (threads === 1) {
    ex.sgemm(M, N, K, pa, rsA, csA, pb, rsB, csB, pc, N, acc, arena.alloc(scratchBytes));
  } else {
    const jobs: PoolJob[] = [];
    if (M >= N) {
      for (const [i0, i1] of split(M, threads, MR)) {
        const args = [i1 - i0, N, K, pa + i0 * rsA * 4, rsA, csA, pb, rsB, csB, pc + i0 * N * 4, N, acc];
        jobs.push({ fn: 'sgemm', args: [...args, arena.alloc(scratchBytes)] });
      }
    } else {
      for (const [j0, j1] of split(N, threads, NR)) {
        const args = [M, j1 - j0, K, pa, rsA, csA, pb + j0 * csB * 4, rsB, csB, pc + j0 * 4, N, acc];
        jobs.push({ fn: 'sgemm', args: [...args, arena.alloc(scratchBytes)] });
      }
    }
    workerPool()!.run(jobs);
  }
  C.set(arena.f32(pc, M * N), cOff);
  return true;
}
