/**
 * How many threads CPU kernels may use: TESSERA_THREADS when set, else os.availableParallelism() on
 * the main thread and 1 inside worker threads (a worker that runs Tessera, e.g. a data-parallel
 * trainer or a test pool, must not start its own pool and oversubscribe the cores).
 */
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import { TesseraError } from '../../../runtime/errors.js';

/** Upper bound on the pool size, whatever is asked. */
export const MAX_THREADS = 64;

function fromEnv(): number {
  const v = process.env.TESSERA_THREADS;
  if (v !== undefined && v !== '') {
    const n = Number(v);
    if (Number.isInteger(n) && n >= 1) return Math.min(n, MAX_THREADS);
    process.emitWarning(`TESSERA_THREADS=${v} is not a positive integer: ignored`, 'TesseraThreads');
  }
  return isMainThread ? Math.min(availableParallelism(), MAX_THREADS) : 1;
}

let numThreads = fromEnv();

/** Threads a large CPU kernel may split across (1 = the calling thread only). */
export function getNumThreads(): number {
  return numThreads;
}

/** Sets the number of threads large CPU kernels split across (as torch.set_num_threads). */
export function setNumThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) {
    throw new TesseraError('INVALID_ARGUMENT', `setNumThreads: expected a positive integer, got ${n}`);
  }
  numThreads = Math.min(n, MAX_THREADS);
}
