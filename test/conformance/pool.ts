/**
 * Runs conformance cases on worker threads, each case with a wall-clock timeout: a case that hangs
 * inside a kernel (where the executor's own deadline cannot reach) gets its worker terminated and
 * replaced, so one hang cannot stall the suite.
 */
import { Worker } from 'node:worker_threads';
import type { RunCaseOptions, TestCase, TestResult } from './harness.js';

export interface PoolOptions {
  graphOptimizationLevel?: RunCaseOptions['graphOptimizationLevel'];
  workers?: number;
  /** Per-case limit in milliseconds (default 60 s). */
  caseTimeoutMs?: number;
  /** Larger limits for some cases (light/ and models/ are heavy). */
  timeoutFor?: (tc: TestCase) => number | undefined;
  onResult?: (r: TestResult, done: number, total: number) => void;
  /** Worker heap limit in MiB. */
  maxOldGenerationSizeMb?: number;
}

const ENTRY = new URL('./worker-entry.mjs', import.meta.url);

export async function runInWorkers(
  cases: readonly TestCase[],
  opts: PoolOptions = {},
): Promise<TestResult[]> {
  const results: TestResult[] = new Array(cases.length);
  const nWorkers = Math.max(1, Math.min(opts.workers ?? 2, cases.length));
  let next = 0;
  let finished = 0;

  const lane = () =>
    new Promise<void>((resolveLane) => {
      let worker: Worker;
      let current = -1;
      let timer: NodeJS.Timeout | undefined;
      let started = 0;
      const spawn = () => {
        const w = new Worker(ENTRY, {
          resourceLimits: opts.maxOldGenerationSizeMb
            ? { maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb }
            : undefined,
        });
        worker = w;
        // Events of a replaced worker (its exit after terminate) must not touch the next case.
        w.on('message', (m: TestResult | { ready: true }) => {
          if (w !== worker) return;
          if ('ready' in m) return feed();
          finish(m);
        });
        w.on('error', (e) => {
          if (w === worker && current >= 0)
            finish(
              {
                id: cases[current]!.id,
                status: 'failed',
                reason: `worker crashed: ${e.message}`,
                ms: Date.now() - started,
              },
              true,
            );
        });
        w.on('exit', () => {
          if (w === worker && current >= 0)
            finish(
              { id: cases[current]!.id, status: 'failed', reason: 'worker exited', ms: Date.now() - started },
              true,
            );
        });
      };
      const finish = (r: TestResult, respawn = false) => {
        if (current < 0) return;
        clearTimeout(timer);
        results[current] = r;
        current = -1;
        finished++;
        opts.onResult?.(r, finished, cases.length);
        if (respawn) {
          void worker.terminate();
          spawn();
        } else feed();
      };
      const feed = () => {
        if (next >= cases.length) {
          void worker.terminate();
          resolveLane();
          return;
        }
        current = next++;
        const tc = cases[current]!;
        started = Date.now();
        const limit = opts.timeoutFor?.(tc) ?? opts.caseTimeoutMs ?? 60_000;
        timer = setTimeout(() => {
          const idx = current;
          finish(
            { id: cases[idx]!.id, status: 'timeout', reason: `no result within ${limit} ms`, ms: limit },
            true,
          );
        }, limit);
        // The executor's own deadline ends a slow run cleanly; terminating the worker is the backstop.
        const runOpts: RunCaseOptions = {
          graphOptimizationLevel: opts.graphOptimizationLevel,
          timeoutMs: Math.round(limit * 0.9),
        };
        worker.postMessage({ tc, opts: runOpts });
      };
      spawn();
    });

  await Promise.all(Array.from({ length: nWorkers }, lane));
  return results;
}
