/**
 * A pool of worker threads that run WASM kernels over the shared WASM memory, driven synchronously:
 * the calling thread writes the jobs (an export index and its i32 arguments each) into a shared
 * control array, wakes the workers with Atomics.notify, and then claims jobs itself from the same
 * queue (an atomic counter) until none are left; it blocks in Atomics.wait only for jobs a worker
 * has claimed and not finished (Node allows Atomics.wait on the main thread). So a kernel split
 * across threads is still a plain synchronous function to its caller, and when the workers are
 * slow to wake (a busy machine) the caller simply runs the jobs itself instead of waiting.
 *
 * Workers are started on first use, are unref'd (they never keep the process alive) and are
 * evaluated from a string, so the pool needs no separate file in src/ or dist/.
 */
import { Worker } from 'node:worker_threads';
import { TesseraError } from '../../../runtime/errors.js';
import { NATIVE_IMPORTS, native, type WasmRuntime } from '../wasm/runtime.js';

/**
 * The functions a worker may run, by index (keep in sync with what kernels dispatch): WASM exports,
 * then the native GEMM's entry points on absolute addresses (wasm/runtime.ts NativeGemm).
 */
export const POOL_FUNCTIONS = [
  'sgemm',
  'sgemmPacked',
  'conv2dUnits',
  'depthwise2dUnits',
  'sgemmAbs',
  'sgemmPackedAbs',
  'convUnitsAbs',
  'depthwiseUnitsAbs',
  'maxPoolUnitsAbs',
  'convPackUnitsAbs',
  'copyAbs',
  'channelAffineAbs',
] as const;
export type PoolFunction = (typeof POOL_FUNCTIONS)[number];

export interface PoolJob {
  fn: PoolFunction;
  args: number[];
}

// Control layout (Int32Array): a header, then one slot of SLOT ints per job: function index,
// argument count, arguments.
const PENDING = 0; // jobs not yet finished
const FAILED = 1; // set when a kernel threw in a worker
const NEXT = 2; // the next job index to claim
const COUNT = 3; // jobs in this round
const GEN = 4; // bumped to wake the workers; -1 tells them to exit
const HEADER = 8;
const SLOT = 24;
const MAX_ARGS = SLOT - 2;
/** Jobs one round can hold. */
export const MAX_JOBS = 128;
const CLOSED = 1 << 30;
/** Polls of the round counter a worker makes before it sleeps (about 50-100 us). */
const SPIN = 20000;

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
const { module, memory, control, names, generation, nativeFile, nativeImports } = workerData;
// The native GEMM's entry points for this memory (the same addon and base as the main thread's),
// or stubs: the module imports them either way (wasm/assembly/native.ts).
const bound = nativeFile ? require(nativeFile).bind(new Float32Array(memory.buffer, 0, 1)) : null;
const env = { memory };
for (const [name, fn] of Object.entries(nativeImports)) {
  env[name] = bound ? bound[fn] : () => { throw new Error(name + ': the native GEMM is not loaded'); };
}
const ex = new WebAssembly.Instance(module, { env }).exports;
const fns = names.map((n) => ex[n] ?? (bound && bound[n]));
const ctl = new Int32Array(control);
// The generation when this worker was made: a round posted before it booted is still seen.
let gen = generation;
for (;;) {
  // Spin a little before sleeping: a model's products come back to back, and waking a sleeping
  // thread (futex) costs tens of microseconds, more than a layer's share of work at batch 1.
  for (let i = 0; i < ${SPIN} && Atomics.load(ctl, ${GEN}) === gen; i++);
  Atomics.wait(ctl, ${GEN}, gen);
  gen = Atomics.load(ctl, ${GEN});
  if (gen < 0) break;
  for (;;) {
    const j = Atomics.add(ctl, ${NEXT}, 1);
    if (j >= Atomics.load(ctl, ${COUNT})) break;
    const base = ${HEADER} + j * ${SLOT};
    try {
      fns[ctl[base]](...ctl.slice(base + 2, base + 2 + ctl[base + 1]));
    } catch (e) {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    if (Atomics.sub(ctl, ${PENDING}, 1) === 1) Atomics.notify(ctl, ${PENDING});
  }
}
`;

export class WorkerPool {
  private readonly workers: Worker[] = [];
  private readonly ctl: Int32Array;

  constructor(
    private readonly rt: WasmRuntime,
    private readonly maxWorkers: number,
  ) {
    this.ctl = new Int32Array(new SharedArrayBuffer((HEADER + SLOT * MAX_JOBS) * 4));
    Atomics.store(this.ctl, NEXT, CLOSED);
  }

  get size(): number {
    return this.workers.length;
  }

  private ensure(n: number): void {
    while (this.workers.length < Math.min(n, this.maxWorkers)) {
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        execArgv: [],
        workerData: {
          module: this.rt.module,
          memory: this.rt.memory,
          control: this.ctl.buffer,
          names: [...POOL_FUNCTIONS],
          generation: Atomics.load(this.ctl, GEN),
          nativeFile: native?.file ?? null,
          nativeImports: NATIVE_IMPORTS,
        },
      });
      w.unref();
      this.workers.push(w);
    }
  }

  /**
   * Runs the jobs on `workers` worker threads and the calling thread, which also takes jobs;
   * returns when all are done.
   */
  run(jobs: readonly PoolJob[], workers = jobs.length - 1): void {
    const ctl = this.ctl;
    if (jobs.length > MAX_JOBS)
      throw new TesseraError('INTERNAL', `worker pool: ${jobs.length} jobs, at most ${MAX_JOBS}`);
    this.ensure(workers);
    // Claims are closed (NEXT past any count) while the table is written.
    Atomics.store(ctl, NEXT, CLOSED);
    jobs.forEach((job, j) => {
      if (job.args.length > MAX_ARGS)
        throw new TesseraError('INTERNAL', `worker pool: too many arguments for ${job.fn}`);
      const base = HEADER + j * SLOT;
      ctl[base] = POOL_FUNCTIONS.indexOf(job.fn);
      ctl[base + 1] = job.args.length;
      ctl.set(job.args, base + 2);
    });
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, COUNT, jobs.length);
    Atomics.store(ctl, PENDING, jobs.length);
    Atomics.store(ctl, NEXT, 0);
    Atomics.add(ctl, GEN, 1);
    Atomics.notify(ctl, GEN, Math.min(workers, this.workers.length));
    const ex = this.rt.exports as unknown as Record<string, ((...a: number[]) => void) | undefined>;
    const nat = this.rt.nativeGemm as unknown as Record<string, (...a: number[]) => void> | null;
    for (let j = Atomics.add(ctl, NEXT, 1); j < jobs.length; j = Atomics.add(ctl, NEXT, 1)) {
      const { fn, args } = jobs[j]!;
      (ex[fn] ?? nat![fn]!)(...args);
      Atomics.sub(ctl, PENDING, 1);
    }
    // Spin before sleeping here too: the workers' last jobs end within microseconds of this
    // thread's, and a futex wake-up would add tens of them to every split kernel.
    for (let i = 0; i < SPIN && Atomics.load(ctl, PENDING) !== 0; i++);
    for (let p = Atomics.load(ctl, PENDING); p !== 0; p = Atomics.load(ctl, PENDING)) {
      Atomics.wait(ctl, PENDING, p);
    }
    Atomics.store(ctl, NEXT, CLOSED);
    if (Atomics.load(ctl, FAILED))
      throw new TesseraError('INTERNAL', 'worker pool: a kernel failed in a worker thread');
  }

  /** Stops every worker (the pool starts them again on next use). */
  async close(): Promise<void> {
    const ws = this.workers.splice(0);
    if (ws.length === 0) return;
    Atomics.store(this.ctl, GEN, -1);
    Atomics.notify(this.ctl, GEN);
    await Promise.all(ws.map((w) => w.terminate()));
    Atomics.store(this.ctl, GEN, 0);
  }
}
