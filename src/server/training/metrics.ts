/**
 * Prometheus metrics of the training jobs, in the server's registry (so /metrics shows them with
 * the inference metrics): jobs by state, optimizer steps and samples trained per model, and per
 * job the training throughput and the last batch loss. Per-job series of finished jobs are kept
 * for the newest KEEP_FINISHED jobs, so a long-running server's scrape does not grow forever.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { JOB_STATES, type JobState } from './types.js';

const KEEP_FINISHED = 50;

export class TrainingMetrics {
  readonly jobs: Gauge<'state'>;
  readonly steps: Counter<'model'>;
  readonly samples: Counter<'model'>;
  readonly samplesPerSecond: Gauge<'model' | 'job'>;
  readonly lastLoss: Gauge<'model' | 'job'>;
  private readonly finished: { model: string; job: string }[] = [];

  constructor(registry: Registry, countByState: () => Map<JobState, number>) {
    const registers = [registry];
    this.jobs = new Gauge({
      name: 'tessera_training_jobs',
      help: 'Training jobs by state (queued, running, saving, completed, failed, cancelled, interrupted)',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const counts = countByState();
        for (const s of JOB_STATES) this.set({ state: s }, counts.get(s) ?? 0);
      },
    });
    this.steps = new Counter({
      name: 'tessera_training_steps_total',
      help: 'Optimizer steps done by training jobs',
      labelNames: ['model'] as const,
      registers,
    });
    this.samples = new Counter({
      name: 'tessera_training_samples_total',
      help: 'Samples trained on by training jobs (each epoch counts every sample again)',
      labelNames: ['model'] as const,
      registers,
    });
    this.samplesPerSecond = new Gauge({
      name: 'tessera_training_samples_per_second',
      help: 'Training throughput of a running job, in samples per second',
      labelNames: ['model', 'job'] as const,
      registers,
    });
    this.lastLoss = new Gauge({
      name: 'tessera_training_last_loss',
      help: 'The loss of the last batch a training job reported',
      labelNames: ['model', 'job'] as const,
      registers,
    });
  }

  /** A job reported progress: `steps` and `samples` done since its last report. */
  progress(
    model: string,
    job: string,
    steps: number,
    samples: number,
    samplesPerSecond: number,
    loss: number,
  ): void {
    if (steps > 0) this.steps.inc({ model }, steps);
    if (samples > 0) this.samples.inc({ model }, samples);
    if (Number.isFinite(samplesPerSecond)) this.samplesPerSecond.set({ model, job }, samplesPerSecond);
    if (Number.isFinite(loss)) this.lastLoss.set({ model, job }, loss);
  }

  /** A job stopped running: its throughput series goes, its last loss stays (for a while). */
  stopped(model: string, job: string, terminal: boolean): void {
    this.samplesPerSecond.remove({ model, job });
    if (!terminal) return;
    this.finished.push({ model, job });
    while (this.finished.length > KEEP_FINISHED) this.lastLoss.remove(this.finished.shift()!);
  }
}
