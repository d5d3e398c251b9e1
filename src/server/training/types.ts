/**
 * The training API's data: a job's specification (plain JSON, stored on disk and sent to the
 * worker thread), its record as the job store keeps it, and the messages between the job manager
 * and a job's worker thread.
 */
import type { EpochLog } from '../../train/checkpoint.js';
import type { LossName, NamedLoss } from '../../train/loss.js';
import type { MetricName } from '../../train/metrics.js';
import type { OptimizerConfig } from '../../train/optimizer-spec.js';
import type { ProgressEvent, TrainStatus } from '../../train/progress.js';
import type { EarlyStoppingOptions } from '../../train/trainer.js';

/**
 * queued -> running -> saving -> completed, or failed / cancelled. `interrupted`: the server shut
 * down while the job ran (it checkpointed); the job resumes when the server starts again.
 */
export type JobState = 'queued' | 'running' | 'saving' | 'completed' | 'failed' | 'cancelled' | 'interrupted';
export const JOB_STATES: readonly JobState[] = [
  'queued',
  'running',
  'saving',
  'completed',
  'failed',
  'cancelled',
  'interrupted',
];
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['completed', 'failed', 'cancelled']);

/** A selection of initializers: every float one, a list of names, or a regular expression. */
export type NameSelector = 'all' | string[] | { pattern: string };

/** What to train and how: the validated request, in the library's vocabulary. */
export interface TrainSpec {
  loss: LossName | NamedLoss | { output: string };
  /** The graph value the loss reads (default: the first output). */
  output?: string;
  optimizer: OptimizerConfig;
  epochs: number;
  batchSize: number;
  shuffle: boolean;
  seed: number;
  validationSplit?: number;
  metrics: MetricName[];
  trainable: NameSelector;
  frozen?: Exclude<NameSelector, 'all'>;
  earlyStopping?: EarlyStoppingOptions;
  /** Checkpoint every this many optimizer steps. */
  checkpointEvery: number;
  maxSteps?: number;
  /** The version number to write (default: the next free one). */
  version?: number;
}

/** Where a job's training data is: a file it owns (the request's tensors) or a data set in the repository. */
export interface JobData {
  /** Absolute path of a safetensors data set (train/data.ts layout). */
  file: string;
  /** Name of the target tensor in the file. */
  target: string;
  /** Whether the job wrote the file (and removes it when it ends). */
  owned: boolean;
  samples: number;
}

export interface JobResult {
  /** The version written. */
  version: number;
  /** Whether the repository serves it now (the model's version_policy decides). */
  served: boolean;
  /** How training ended: completed, or early_stopped. */
  status: TrainStatus;
  /** Loss (and metrics) of the last epoch. */
  loss?: number;
  metrics?: Record<string, number>;
  valLoss?: number;
  valMetrics?: Record<string, number>;
  /** A note, e.g. why the new version is not served. */
  note?: string;
}

/** A job as the store keeps it (job.json) and the API reports it. */
export interface JobRecord {
  id: string;
  model: string;
  /** The version trained from, and its model file. */
  baseVersion: number;
  modelFile: string;
  state: JobState;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  spec: TrainSpec;
  data: JobData;
  /** Progress: 1-based epoch in progress, optimizer steps done. */
  epoch: number;
  epochs: number;
  step: number;
  totalSteps?: number;
  stepsPerEpoch?: number;
  trainSamples?: number;
  valSamples?: number;
  loss?: number;
  samplesPerSecond?: number;
  etaSeconds?: number;
  elapsedSeconds?: number;
  lr?: number;
  history: EpochLog[];
  /** [step, batch loss], thinned to at most LOSS_HISTORY_POINTS. */
  lossHistory: [number, number][];
  lastCheckpoint?: { step: number; at: string };
  /** Times the job was resumed after a server restart, and the step it last resumed from. */
  restarts: number;
  resumedFromStep?: number;
  error?: string;
  result?: JobResult;
}

export const LOSS_HISTORY_POINTS = 500;

/** Sent to a job's worker thread at start. */
export interface JobWorkerInit {
  jobId: string;
  modelFile: string;
  data: Pick<JobData, 'file' | 'target'>;
  spec: TrainSpec;
  checkpointDir: string;
  /** Step events are sent at most this often (ms); epoch ends always are. */
  progressIntervalMs: number;
}

export type ToJobWorker =
  /** Stop after the current step and discard the run. */
  | { type: 'cancel' }
  /** Stop after the current step, write a checkpoint, and report 'interrupted'. */
  | { type: 'shutdown' };

export type FromJobWorker =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'resumed'; step: number }
  /** Training finished: the model file's bytes for the new version. */
  | {
      type: 'trained';
      status: TrainStatus;
      fileName: string;
      bytes: Uint8Array;
      history: EpochLog[];
      step: number;
    }
  | { type: 'cancelled'; step: number }
  | { type: 'interrupted'; step: number; checkpointed: boolean }
  | { type: 'failed'; message: string; code?: string };
