/**
 * The training job manager: accepts jobs, runs at most `maxJobs` at once (each in its own worker
 * thread, so training never blocks the server's event loop), queues the rest in submission order,
 * keeps every job's record on disk (job-store.ts), streams progress to subscribers, and on success
 * publishes the trained model as a new version of the model (publish.ts: temporary directory,
 * fsync, rename to the next free version number) and reloads the model, so the new version serves
 * while the old one keeps serving until it is ready (and afterwards as the model's version_policy
 * says; config.json is never changed).
 *
 * Restarts: on shutdown, running jobs checkpoint and are marked interrupted; when the server starts
 * again, every job that had not ended is queued again and resumes from its newest checkpoint. A job
 * that crashed the process midway resumes from its last periodic checkpoint. A version is written
 * whole or not at all, and each carries a `training.json` naming its job, so a job whose process
 * died after the rename is recognised as completed instead of publishing twice.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Registry } from 'prom-client';
import type { EpochLog } from '../../train/checkpoint.js';
import type { ProgressEvent } from '../../train/progress.js';
import { HttpError, messageOf, notFound } from '../errors.js';
import type { Logger } from '../logging.js';
import type { ModelVersion } from '../model-version.js';
import { publishVersion } from '../publish.js';
import type { ModelRepository } from '../repository.js';
import { JobStore } from './job-store.js';
import { TrainingMetrics } from './metrics.js';
import { datasetFile, inlineData, type ParsedTrainRequest, TARGET_TENSOR } from './request.js';
import {
  type FromJobWorker,
  JOB_STATES,
  type JobRecord,
  type JobState,
  type JobWorkerInit,
  LOSS_HISTORY_POINTS,
  TERMINAL_STATES,
} from './types.js';

const FROM_SOURCE = import.meta.url.endsWith('.ts');
const ENTRY = new URL(`./job-worker.${FROM_SOURCE ? 'ts' : 'js'}`, import.meta.url);

/** The file each version written by a job carries: which job made it, from what. */
export const PROVENANCE_FILE = 'training.json';

function startWorker(workerData: JobWorkerInit): Worker {
  if (!FROM_SOURCE) return new Worker(ENTRY, { workerData });
  // Loader hooks from `--import tsx` do not reach worker threads on Node 20: the worker registers
  // tsx itself before importing the TypeScript entry (as the model worker pool does).
  const api = import.meta.resolve('tsx/esm/api');
  const code = `import(${JSON.stringify(api)}).then((m) => { m.register(); return import(${JSON.stringify(ENTRY.href)}); });`;
  return new Worker(code, { eval: true, workerData });
}

export interface TrainingOptions {
  /** Jobs that train at once (default 1); more wait in the queue. */
  maxJobs?: number;
  /** Where job records, data and checkpoints live (default: `<model repository>/.training`). */
  dir?: string;
  /** Step progress is reported at most this often, in ms (default 100); epoch ends always are. */
  progressIntervalMs?: number;
}

export interface ManagerDeps {
  repository: ModelRepository;
  registry: Registry;
  logger: Logger;
}

/** Someone watching a job (a server-sent event stream). */
export interface JobSubscriber {
  send(event: string, data: unknown): void;
  end(): void;
}

interface Live {
  record: JobRecord;
  worker?: Worker;
  /** Why the worker is being stopped. */
  stopping?: 'cancel' | 'shutdown';
  /** The worker sent its last word (trained, cancelled, interrupted, failed). */
  settled: boolean;
  subscribers: Set<JobSubscriber>;
  /** Resolves when the job leaves running/saving (or is parked by a shutdown). */
  idle: Promise<void>;
  markIdle: () => void;
  samplesSeen: number;
  stepsSeen: number;
}

const now = () => new Date().toISOString();

/** camelCase keys -> snake_case, deeply (the API speaks snake_case, as the inference protocol does). */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (x === undefined) continue;
    out[k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = snakeKeys(x);
  }
  return out;
}

export class TrainingManager {
  readonly maxJobs: number;
  readonly store: JobStore;
  readonly metrics: TrainingMetrics;
  private readonly jobs = new Map<string, Live>();
  private readonly queue: string[] = [];
  private readonly progressIntervalMs: number;
  private started = false;
  private closing = false;
  /** Why the training API cannot take jobs (the job store is unusable). */
  private unavailable?: string;

  constructor(
    private readonly deps: ManagerDeps,
    opts: TrainingOptions = {},
  ) {
    this.maxJobs = Math.max(1, Math.floor(opts.maxJobs ?? 1));
    this.store = new JobStore(opts.dir ?? join(deps.repository.root, '.training'));
    this.progressIntervalMs = opts.progressIntervalMs ?? 100;
    this.metrics = new TrainingMetrics(deps.registry, () => this.countByState());
  }

  private countByState(): Map<JobState, number> {
    const m = new Map<JobState, number>(JOB_STATES.map((s) => [s, 0]));
    for (const j of this.jobs.values()) m.set(j.record.state, (m.get(j.record.state) ?? 0) + 1);
    return m;
  }

  private get active(): number {
    let n = 0;
    for (const j of this.jobs.values()) if (j.record.state === 'running' || j.record.state === 'saving') n++;
    return n;
  }

  private live(record: JobRecord): Live {
    let markIdle = () => {};
    const idle = new Promise<void>((r) => {
      markIdle = r;
    });
    const j: Live = {
      record,
      settled: false,
      subscribers: new Set(),
      idle,
      markIdle,
      samplesSeen: 0,
      stepsSeen: 0,
    };
    this.jobs.set(record.id, j);
    return j;
  }

  private persist(j: Live): Promise<void> {
    return this.store.save(j.record).catch((e) => {
      this.deps.logger.error({ job: j.record.id, err: messageOf(e) }, 'cannot write the training job record');
    });
  }

  private emit(j: Live, event: string, data: unknown): void {
    for (const s of j.subscribers) {
      try {
        s.send(event, data);
      } catch {
        j.subscribers.delete(s);
      }
    }
  }

  /** Moves a job to a new state, records it, and tells subscribers (who are let go on a final state). */
  private setState(j: Live, state: JobState, extra: Partial<JobRecord> = {}): Promise<void> {
    Object.assign(j.record, extra, { state });
    if (TERMINAL_STATES.has(state)) j.record.finishedAt = now();
    if (state === 'running') j.record.startedAt ??= now();
    const saved = this.persist(j);
    this.emit(j, 'state', this.summary(j.record));
    if (TERMINAL_STATES.has(state) || state === 'interrupted') {
      this.metrics.stopped(j.record.model, j.record.id, TERMINAL_STATES.has(state));
      for (const s of j.subscribers) s.end();
      j.subscribers.clear();
    }
    if (TERMINAL_STATES.has(state)) {
      void this.store.removeWorkFiles(j.record.id, j.record.data.owned).catch(() => undefined);
    }
    return saved;
  }

  // ---- startup ---------------------------------------------------------------------------------

  /** Reads the job store: ended jobs are listed, the others queued again to resume. Then starts the queue. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    try {
      await this.restore();
    } catch (e) {
      // The inference server still starts; the training API answers 503 with the reason.
      this.unavailable = `the training job store '${this.store.dir}' is not usable: ${messageOf(e)}`;
      this.deps.logger.error({ err: messageOf(e) }, this.unavailable);
    }
    this.pump();
  }

  private async restore(): Promise<void> {
    await this.store.init();
    const records = await this.store.list((id, e) =>
      this.deps.logger.warn({ job: id, err: messageOf(e) }, 'unreadable training job record skipped'),
    );
    records.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    for (const record of records) {
      if (this.jobs.has(record.id)) continue;
      const j = this.live(record);
      if (TERMINAL_STATES.has(record.state)) {
        j.markIdle();
        continue;
      }
      const published = await this.findPublished(record.model, record.id);
      if (published !== undefined) {
        await this.setState(j, 'completed', {
          result: {
            ...(record.result ?? { status: 'completed' }),
            version: published,
            served: this.deps.repository.isReady(record.model, String(published)),
          },
        });
        j.markIdle();
        continue;
      }
      if (!existsSync(record.data.file)) {
        await this.setState(j, 'failed', {
          error: `the job's training data (${record.data.file}) is gone; it cannot resume`,
        });
        j.markIdle();
        continue;
      }
      const wasStarted = record.startedAt !== undefined;
      await this.setState(j, 'queued', { restarts: record.restarts + (wasStarted ? 1 : 0) });
      this.queue.push(record.id);
      this.deps.logger.info(
        { job: record.id, model: record.model, step: record.step },
        wasStarted ? 'training job resumes after a restart' : 'training job queued again after a restart',
      );
    }
  }

  /** The version of `model` that job `id` wrote, if one exists (its training.json names the job). */
  private async findPublished(model: string, id: string): Promise<number | undefined> {
    const dir = join(this.deps.repository.root, model);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) {
      if (!/^[1-9]\d*$/.test(n)) continue;
      try {
        const p = JSON.parse(await readFile(join(dir, n, PROVENANCE_FILE), 'utf8')) as { job?: string };
        if (p.job === id) return Number(n);
      } catch {
        // Not written by a job.
      }
    }
    return undefined;
  }

  // ---- submitting ------------------------------------------------------------------------------

  /** Checks the request against the model, stores the job and its data, and queues it. */
  async submit(mv: ModelVersion, req: ParsedTrainRequest): Promise<JobRecord> {
    if (this.closing) throw new HttpError(503, 'the server is shutting down; submit the job again later');
    if (this.unavailable) throw new HttpError(503, this.unavailable);
    const spec = req.spec;
    if (
      spec.version !== undefined &&
      existsSync(join(this.deps.repository.root, mv.name, String(spec.version)))
    ) {
      throw new HttpError(400, `version: version ${spec.version} of model '${mv.name}' already exists`);
    }
    if (!existsSync(mv.file)) {
      throw new HttpError(
        400,
        `model '${mv.name}' version ${mv.version} has no model file on disk to train from`,
      );
    }
    const id = randomUUID();
    let data: JobRecord['data'];
    let bytes: Uint8Array | undefined;
    if (req.dataset) {
      const d = await datasetFile(mv, this.deps.repository.root, req);
      data = { file: d.file, target: d.target, owned: false, samples: d.samples };
    } else {
      const inline = inlineData(mv, req);
      bytes = inline.bytes;
      data = { file: this.store.dataFile(id), target: TARGET_TENSOR, owned: true, samples: inline.samples };
    }
    const record: JobRecord = {
      id,
      model: mv.name,
      baseVersion: mv.version,
      modelFile: mv.file,
      state: 'queued',
      createdAt: now(),
      spec,
      data,
      epoch: 0,
      epochs: spec.epochs,
      step: 0,
      history: [],
      lossHistory: [],
      restarts: 0,
    };
    // Known before anything is on disk, so a restore running at startup never takes it for a job of its own.
    const j = this.live(record);
    try {
      await this.store.init();
      // The record first: a crash before the data is written leaves a job that fails on restart, not a stray file.
      await this.store.save(record);
      if (bytes) await this.store.writeData(id, bytes);
    } catch (e) {
      this.jobs.delete(id);
      await this.store.remove(id).catch(() => undefined);
      throw e;
    }
    this.queue.push(id);
    this.deps.logger.info(
      { job: id, model: mv.name, version: mv.version, samples: data.samples, epochs: spec.epochs },
      'training job queued',
    );
    this.emit(j, 'state', this.summary(record));
    this.pump();
    return record;
  }

  /** Starts queued jobs while slots are free. */
  private pump(): void {
    if (this.closing || !this.started) return;
    while (this.active < this.maxJobs && this.queue.length) {
      const id = this.queue.shift()!;
      const j = this.jobs.get(id);
      if (j && j.record.state === 'queued') this.run(j);
    }
  }

  // ---- running ---------------------------------------------------------------------------------

  private run(j: Live): void {
    const r = j.record;
    j.settled = false;
    j.stopping = undefined;
    void this.setState(j, 'running');
    let worker: Worker;
    try {
      worker = startWorker({
        jobId: r.id,
        modelFile: r.modelFile,
        data: { file: r.data.file, target: r.data.target },
        spec: r.spec,
        checkpointDir: this.store.checkpointDir(r.id),
        progressIntervalMs: this.progressIntervalMs,
      });
    } catch (e) {
      void this.setState(j, 'failed', { error: `cannot start the training worker: ${messageOf(e)}` });
      j.markIdle();
      return;
    }
    j.worker = worker;
    let crash: string | undefined;
    worker.on('message', (m: FromJobWorker) => {
      this.onMessage(j, m).catch((e) =>
        this.deps.logger.error({ job: r.id, err: messageOf(e) }, 'training job message failed'),
      );
    });
    worker.on('error', (e) => {
      crash = e.message;
    });
    worker.on('exit', (code) => {
      j.worker = undefined;
      if (!j.settled) {
        j.settled = true;
        if (j.stopping === 'shutdown') void this.setState(j, 'interrupted');
        else if (j.stopping === 'cancel') void this.setState(j, 'cancelled');
        else
          void this.setState(j, 'failed', {
            error: `the training worker stopped unexpectedly (${crash ?? `exit code ${code}`})`,
          });
        j.markIdle();
      }
      this.pump();
    });
  }

  private async onMessage(j: Live, m: FromJobWorker): Promise<void> {
    const r = j.record;
    switch (m.type) {
      case 'progress':
        this.onProgress(j, m.event);
        return;
      case 'resumed':
        r.resumedFromStep = m.step;
        this.emit(j, 'resumed', { step: m.step });
        this.deps.logger.info({ job: r.id, step: m.step }, 'training job resumed from its checkpoint');
        return;
      case 'failed':
        j.settled = true;
        await this.setState(j, 'failed', { error: m.message });
        this.deps.logger.warn({ job: r.id, model: r.model, err: m.message }, 'training job failed');
        j.markIdle();
        void j.worker?.terminate();
        return;
      case 'cancelled':
        j.settled = true;
        await this.setState(j, 'cancelled', { step: m.step });
        j.markIdle();
        void j.worker?.terminate();
        return;
      case 'interrupted':
        j.settled = true;
        if (m.checkpointed) r.lastCheckpoint = { step: m.step, at: now() };
        await this.setState(j, 'interrupted', { step: m.step });
        j.markIdle();
        void j.worker?.terminate();
        return;
      case 'trained':
        j.settled = true;
        void j.worker?.terminate();
        await this.publish(j, m);
        j.markIdle();
        this.pump();
        return;
    }
  }

  private onProgress(j: Live, e: ProgressEvent): void {
    const r = j.record;
    switch (e.type) {
      case 'start': {
        r.epochs = e.epochs;
        r.totalSteps = e.totalSteps;
        r.stepsPerEpoch = e.stepsPerEpoch;
        r.trainSamples = e.trainSamples;
        r.valSamples = e.valSamples;
        j.stepsSeen = e.startStep;
        j.samplesSeen = this.samplesAt(
          r,
          Math.floor(e.startStep / e.stepsPerEpoch) + 1,
          e.startStep % e.stepsPerEpoch,
        );
        break;
      }
      case 'step': {
        Object.assign(r, {
          epoch: e.epoch,
          step: e.step,
          totalSteps: e.totalSteps,
          loss: e.loss,
          samplesPerSecond: e.samplesPerSecond,
          etaSeconds: e.etaSeconds,
          elapsedSeconds: e.elapsedSeconds,
          lr: e.lr,
        });
        const samples = this.samplesAt(r, e.epoch, e.batch);
        this.metrics.progress(
          r.model,
          r.id,
          e.step - j.stepsSeen,
          samples - j.samplesSeen,
          e.samplesPerSecond,
          e.loss,
        );
        j.stepsSeen = e.step;
        j.samplesSeen = samples;
        r.lossHistory.push([e.step, e.loss]);
        // Thin the curve by half when it is full: a long job keeps an even sample of its whole run.
        if (r.lossHistory.length > LOSS_HISTORY_POINTS)
          r.lossHistory = r.lossHistory.filter((_, i) => i % 2 === 1);
        break;
      }
      case 'epoch': {
        const { type: _t, epochs: _e, ...log } = e;
        r.history.push(log as EpochLog);
        r.epoch = e.epoch;
        void this.persist(j);
        break;
      }
      case 'checkpoint':
        r.lastCheckpoint = { step: e.step, at: now() };
        void this.persist(j);
        break;
      default:
        return;
    }
    // The event name says the type; the checkpoint's path is the server's business.
    const { type: _t, path: _p, ...shown } = e as ProgressEvent & { path?: string };
    this.emit(j, e.type, snakeKeys(shown));
  }

  /** Samples trained from the start of the run up to (1-based epoch, batches done in it). */
  private samplesAt(r: JobRecord, epoch: number, batch: number): number {
    const n = r.trainSamples ?? r.data.samples;
    return (epoch - 1) * n + Math.min(batch * r.spec.batchSize, n);
  }

  private async publish(j: Live, m: Extract<FromJobWorker, { type: 'trained' }>): Promise<void> {
    const r = j.record;
    await this.setState(j, 'saving', { step: m.step, history: m.history });
    const last = m.history.at(-1);
    const result = {
      status: m.status,
      loss: last?.loss,
      metrics: last?.metrics,
      valLoss: last?.valLoss,
      valMetrics: last?.valMetrics,
    };
    try {
      const already = await this.findPublished(r.model, r.id);
      const provenance = {
        job: r.id,
        model: r.model,
        base_version: r.baseVersion,
        created_at: r.createdAt,
        finished_at: now(),
        status: m.status,
        steps: m.step,
        spec: snakeKeys(r.spec),
        history: snakeKeys(m.history),
      };
      const version =
        already ??
        (await publishVersion(
          this.deps.repository.root,
          r.model,
          { [m.fileName]: m.bytes, [PROVENANCE_FILE]: `${JSON.stringify(provenance, null, 1)}\n` },
          { version: r.spec.version },
        ));
      let note: string | undefined;
      await this.deps.repository.load(r.model).catch((e) => {
        note = `reloading model '${r.model}' reported: ${messageOf(e)}`;
      });
      const served = this.deps.repository.isReady(r.model, String(version));
      if (!served && !note)
        note = `version ${version} is written, but the version_policy of model '${r.model}' does not select it`;
      await this.setState(j, 'completed', { result: { ...result, version, served, note } });
      this.deps.logger.info(
        { job: r.id, model: r.model, version, served, steps: m.step },
        'training job completed',
      );
    } catch (e) {
      await this.setState(j, 'failed', {
        error: `training finished, but writing the new version failed: ${messageOf(e)}`,
      });
      this.deps.logger.error(
        { job: r.id, model: r.model, err: messageOf(e) },
        'training job could not publish',
      );
    }
  }

  // ---- API -------------------------------------------------------------------------------------

  get(id: string): JobRecord {
    const j = this.jobs.get(id);
    if (!j) throw notFound(`no training job '${id}'`);
    return j.record;
  }

  /** Jobs, newest first, optionally only one model's or in some states. */
  list(filter: { model?: string; states?: JobState[] } = {}): JobRecord[] {
    return [...this.jobs.values()]
      .map((j) => j.record)
      .filter(
        (r) =>
          (!filter.model || r.model === filter.model) && (!filter.states || filter.states.includes(r.state)),
      )
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  /** A job as GET /v2/training/jobs lists it. */
  summary(r: JobRecord): Record<string, unknown> {
    const pos = r.state === 'queued' ? this.queue.indexOf(r.id) : -1;
    return snakeKeys({
      id: r.id,
      model: r.model,
      baseVersion: r.baseVersion,
      state: r.state,
      queuePosition: pos >= 0 ? pos + 1 : undefined,
      createdAt: r.createdAt,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      epoch: r.epoch,
      epochs: r.epochs,
      step: r.step,
      totalSteps: r.totalSteps,
      loss: r.loss,
      samplesPerSecond: r.state === 'running' ? r.samplesPerSecond : undefined,
      etaSeconds: r.state === 'running' ? r.etaSeconds : undefined,
      elapsedSeconds: r.elapsedSeconds,
      error: r.error,
      result: r.result,
    }) as Record<string, unknown>;
  }

  /** A job with its whole history, as GET /v2/training/jobs/{id} shows it. */
  detail(r: JobRecord): Record<string, unknown> {
    const { checkpointEvery, ...request } = r.spec;
    return {
      ...this.summary(r),
      ...(snakeKeys({
        stepsPerEpoch: r.stepsPerEpoch,
        trainSamples: r.trainSamples ?? r.data.samples,
        valSamples: r.valSamples,
        lr: r.lr,
        history: r.history,
        lossHistory: r.lossHistory,
        checkpoint: r.lastCheckpoint,
        restarts: r.restarts,
        resumedFromStep: r.resumedFromStep,
        request: { ...request, checkpointEvery, samples: r.data.samples },
      }) as Record<string, unknown>),
    };
  }

  /** Cancels a queued or running job; resolves once it stopped (or after `waitMs`). */
  async cancel(id: string, waitMs = 10_000): Promise<JobRecord> {
    const j = this.jobs.get(id);
    if (!j) throw notFound(`no training job '${id}'`);
    const r = j.record;
    if (r.state === 'queued' || r.state === 'interrupted') {
      const i = this.queue.indexOf(id);
      if (i >= 0) this.queue.splice(i, 1);
      await this.setState(j, 'cancelled');
      j.markIdle();
      return r;
    }
    if (r.state === 'saving')
      throw new HttpError(
        409,
        `training job '${id}' finished training and is writing its version; it can no longer be cancelled`,
      );
    if (r.state !== 'running') throw new HttpError(409, `training job '${id}' already ended (${r.state})`);
    j.stopping = 'cancel';
    j.worker?.postMessage({ type: 'cancel' });
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([j.idle, new Promise((res) => (timer = setTimeout(res, waitMs)))]);
    clearTimeout(timer);
    return r;
  }

  /** Watches a job: a first 'job' event with its detail, then its progress, until it ends. */
  subscribe(id: string, s: JobSubscriber): () => void {
    const j = this.jobs.get(id);
    if (!j) throw notFound(`no training job '${id}'`);
    s.send('job', this.detail(j.record));
    if (TERMINAL_STATES.has(j.record.state) || this.closing) {
      s.end();
      return () => {};
    }
    j.subscribers.add(s);
    return () => j.subscribers.delete(s);
  }

  // ---- shutdown --------------------------------------------------------------------------------

  /**
   * Stops taking jobs; running jobs checkpoint and are marked interrupted (they resume when the
   * server starts again), queued ones stay queued on disk. Bounded by `deadline`: a worker that
   * has not checkpointed by then is stopped, and the job resumes from its last periodic checkpoint.
   */
  async shutdown(deadline?: AbortSignal): Promise<void> {
    this.closing = true;
    const busy = [...this.jobs.values()].filter(
      (j) => j.record.state === 'running' || j.record.state === 'saving',
    );
    for (const j of busy) {
      if (j.worker && j.record.state === 'running') {
        j.stopping = 'shutdown';
        j.worker.postMessage({ type: 'shutdown' });
      }
    }
    const timedOut = new Promise<void>((res) => {
      if (!deadline) return;
      if (deadline.aborted) res();
      else deadline.addEventListener('abort', () => res(), { once: true });
    });
    await Promise.race([Promise.all(busy.map((j) => j.idle)), timedOut]);
    for (const j of busy) {
      if (j.worker) {
        j.stopping = 'shutdown';
        await j.worker.terminate();
      }
    }
    for (const j of this.jobs.values()) {
      for (const s of j.subscribers) s.end();
      j.subscribers.clear();
    }
    await this.store.flush();
    if (busy.length)
      this.deps.logger.info({ jobs: busy.map((j) => j.record.id) }, 'training jobs interrupted for shutdown');
  }

  /** Shuts down (if that has not happened) without waiting for checkpoints. */
  async close(): Promise<void> {
    if (!this.closing) await this.shutdown(AbortSignal.timeout(1));
    else await this.store.flush();
  }
}
