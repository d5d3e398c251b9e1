/**
 * A pool of worker threads that run models (the ModelExecutor the server uses). Sized from
 * os.availableParallelism(), which respects container CPU limits, or --threads. Each worker loads a
 * model on first use; a run goes to an idle worker that already has the model when there is one.
 * A worker that dies fails only its own requests and is replaced.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { fromErrorInfo, HttpError } from './errors.js';
import type { LoadSpec, ModelExecutor, ModelSignature, RunResult } from './executor.js';
import type { TensorPayload } from './protocol/types.js';
import type { FromWorker, ToWorker } from './worker/messages.js';

// Running from the TypeScript sources (tsx) or from dist: the worker entry has the same extension.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./worker/model-worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

interface Call {
  resolve(m: FromWorker): void;
  reject(e: unknown): void;
}

interface Slot {
  worker: Worker;
  busy: boolean;
  loaded: Set<string>;
  calls: Map<number, Call>;
}

interface Job {
  key: string;
  inputs: TensorPayload[];
  outputs: string[];
  resolve(r: RunResult): void;
  reject(e: unknown): void;
}

function startWorker(): Worker {
  if (!FROM_SOURCE) return new Worker(ENTRY);
  // Loader hooks from `--import tsx` do not reach worker threads on Node 20, so the worker
  // registers tsx itself before importing the TypeScript entry.
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`;
  return new Worker(code, { eval: true });
}

export class WorkerPool implements ModelExecutor {
  readonly concurrency: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly specs = new Map<string, LoadSpec>();
  private nextId = 1;
  private closed = false;

  constructor(opts: { threads?: number; log?: (m: string) => void } = {}) {
    this.concurrency = Math.max(1, Math.floor(opts.threads ?? availableParallelism()));
    this.log = opts.log ?? (() => {});
    for (let i = 0; i < this.concurrency; i++) this.slots.push(this.spawn());
  }

  private readonly log: (m: string) => void;

  private spawn(): Slot {
    const slot: Slot = { worker: startWorker(), busy: false, loaded: new Set(), calls: new Map() };
    slot.worker.on('message', (m: FromWorker) => {
      const call = slot.calls.get(m.id);
      slot.calls.delete(m.id);
      call?.resolve(m);
    });
    slot.worker.on('error', (e) => this.log(`model worker failed: ${e.stack ?? e.message}`));
    slot.worker.on('exit', (code) => {
      const err = new HttpError(
        500,
        `the model worker thread exited (code ${code}) while running this request`,
        'BACKEND',
      );
      for (const c of slot.calls.values()) c.reject(err);
      slot.calls.clear();
      const i = this.slots.indexOf(slot);
      if (i < 0 || this.closed) return;
      this.log(`model worker exited with code ${code}; starting a new one`);
      this.slots[i] = this.spawn();
      this.dispatch();
    });
    return slot;
  }

  private call(slot: Slot, msg: ToWorker): Promise<FromWorker> {
    return new Promise((resolve, reject) => {
      slot.calls.set(msg.id, { resolve, reject });
      slot.worker.postMessage(msg);
    });
  }

  async load(key: string, spec: LoadSpec): Promise<ModelSignature> {
    if (this.closed) throw new HttpError(503, 'the server is shutting down');
    // Load on the least busy worker; the others load it when they first run it.
    const slot = [...this.slots].sort(
      (a, b) => Number(a.busy) - Number(b.busy) || a.calls.size - b.calls.size,
    )[0]!;
    const reply = await this.call(slot, { type: 'load', id: this.nextId++, key, spec });
    if (!reply.ok) throw fromErrorInfo(reply.error);
    slot.loaded.add(key);
    this.specs.set(key, spec);
    return reply.signature!;
  }

  run(key: string, inputs: TensorPayload[], outputs: string[]): Promise<RunResult> {
    if (this.closed) return Promise.reject(new HttpError(503, 'the server is shutting down'));
    if (!this.specs.has(key)) return Promise.reject(new HttpError(503, `model '${key}' is not loaded`));
    return new Promise((resolve, reject) => {
      this.queue.push({ key, inputs, outputs, resolve, reject });
      this.dispatch();
    });
  }

  private dispatch(): void {
    while (this.queue.length) {
      const idle = this.slots.filter((s) => !s.busy);
      if (!idle.length) return;
      const job = this.queue.shift()!;
      const slot = idle.find((s) => s.loaded.has(job.key)) ?? idle[0]!;
      const spec = this.specs.get(job.key);
      if (!spec) {
        job.reject(new HttpError(503, `model '${job.key}' was unloaded`));
        continue;
      }
      slot.busy = true;
      slot.loaded.add(job.key);
      const msg: ToWorker = {
        type: 'run',
        id: this.nextId++,
        key: job.key,
        spec,
        inputs: job.inputs,
        outputs: job.outputs,
      };
      this.call(slot, msg)
        .then((reply) => {
          if (!reply.ok) throw fromErrorInfo(reply.error);
          job.resolve({ outputs: reply.outputs!, timing: reply.timing! });
        })
        .catch(job.reject)
        .finally(() => {
          slot.busy = false;
          this.dispatch();
        });
    }
  }

  async unload(key: string): Promise<void> {
    this.specs.delete(key);
    // Every worker, not just those known to hold it: a failed first run may have left a session behind.
    await Promise.all(
      this.slots.map((s) => {
        s.loaded.delete(key);
        return this.call(s, { type: 'unload', id: this.nextId++, key }).catch(() => undefined);
      }),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) j.reject(new HttpError(503, 'the server is shutting down'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }
}
