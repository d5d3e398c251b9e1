/**
 * Training checkpoints: everything a Trainer needs to continue a run exactly where it stopped
 * (model state, optimizer state, position in the epoch, running sums, history, early-stopping
 * state). Stored as a safetensors file: tensors (model state under 'model/', the early-stopping
 * best weights under 'best/', optimizer buffers under 'optim/<param>/<key>' as float64) and the
 * rest as JSON in the '__metadata__'. Writes are atomic (temporary file, fsync, rename), so a
 * crash leaves the previous checkpoint intact.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../importers/tsr/atomic-write.js';
import { decodeSafetensors, encodeSafetensors } from '../importers/tsr/safetensors.js';
import type { OptimizerStateDict } from '../optim/index.js';
import { TesseraError } from '../runtime/errors.js';
import { Tensor } from '../runtime/tensor.js';
import type { MetricSum } from './metrics.js';

export const CHECKPOINT_FORMAT = 'tessera.checkpoint';

/** One epoch of the training history. */
export interface EpochLog {
  /** 1-based epoch number. */
  epoch: number;
  loss: number;
  metrics: Record<string, number>;
  valLoss?: number;
  valMetrics?: Record<string, number>;
  /** Learning rate of the first parameter group at the end of the epoch. */
  lr?: number;
  /** Global step count at the end of the epoch. */
  step: number;
  seconds: number;
}

export interface EarlyStoppingState {
  best: number;
  bestEpoch: number;
  wait: number;
}

export interface TrainingCheckpoint {
  /** Epoch (0-based) and batch within it that the run continues with. */
  epoch: number;
  batch: number;
  /** Optimizer steps done so far. */
  step: number;
  /** Sums of the epoch in progress, so the resumed epoch reports the same loss. */
  epochLossSum: number;
  epochSamples: number;
  epochMetrics: Record<string, MetricSum>;
  epochSeconds: number;
  history: EpochLog[];
  earlyStopping?: EarlyStoppingState;
  /** Model state, by name (parameters and buffers). */
  state: Map<string, Tensor>;
  /** Weights of the best epoch, when early stopping restores them. */
  bestState?: Map<string, Tensor>;
  optimizer?: OptimizerStateDict;
  /** Scheduler state, when one is used. */
  scheduler?: unknown;
  /** The run's settings: a resume with other ones would not replay the same batches. */
  seed: number;
  batchSize: number;
  trainSamples: number;
  elapsedSeconds: number;
}

interface CheckpointJson extends Omit<TrainingCheckpoint, 'state' | 'bestState' | 'optimizer'> {
  format: typeof CHECKPOINT_FORMAT;
  version: 1;
  stateNames: string[];
  bestNames?: string[];
  optimizer?: {
    paramGroups: OptimizerStateDict['paramGroups'];
    scalars: Record<string, Record<string, number>>;
    buffers: Record<string, string[]>;
  };
}

/** Serializes a checkpoint as safetensors bytes. */
export function encodeCheckpoint(c: TrainingCheckpoint): Uint8Array {
  const tensors: [string, Tensor][] = [];
  for (const [k, t] of c.state) tensors.push([`model/${k}`, t]);
  for (const [k, t] of c.bestState ?? []) tensors.push([`best/${k}`, t]);
  let optimizer: CheckpointJson['optimizer'];
  if (c.optimizer) {
    const scalars: Record<string, Record<string, number>> = {};
    const buffers: Record<string, string[]> = {};
    for (const [idx, entry] of Object.entries(c.optimizer.state)) {
      for (const [key, v] of Object.entries(entry)) {
        if (typeof v === 'number') (scalars[idx] ??= {})[key] = v;
        else {
          tensors.push([`optim/${idx}/${key}`, Tensor.fromData(Float64Array.from(v), [v.length], 'float64')]);
          (buffers[idx] ??= []).push(key);
        }
      }
    }
    optimizer = { paramGroups: c.optimizer.paramGroups, scalars, buffers };
  }
  const { state, bestState, optimizer: _o, ...rest } = c;
  const json: CheckpointJson = {
    ...rest,
    format: CHECKPOINT_FORMAT,
    version: 1,
    stateNames: [...state.keys()],
    bestNames: bestState ? [...bestState.keys()] : undefined,
    optimizer,
  };
  return encodeSafetensors(tensors, {
    format: CHECKPOINT_FORMAT,
    'tessera.checkpoint': JSON.stringify(json),
  });
}

export function decodeCheckpoint(bytes: Uint8Array, what = 'checkpoint'): TrainingCheckpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, what);
  const text = metadata['tessera.checkpoint'];
  if (!text)
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${what}: not a Tessera training checkpoint (no 'tessera.checkpoint' metadata)`,
    );
  let j: CheckpointJson;
  try {
    j = JSON.parse(text);
  } catch (e) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${what}: the checkpoint JSON does not parse: ${(e as Error).message}`,
    );
  }
  if (j.format !== CHECKPOINT_FORMAT)
    throw new TesseraError('INVALID_ARGUMENT', `${what}: format '${j.format}' is not '${CHECKPOINT_FORMAT}'`);
  const get = (key: string) => {
    const t = tensors.get(key);
    if (!t) throw new TesseraError('INVALID_ARGUMENT', `${what}: tensor '${key}' is missing`);
    return t;
  };
  const state = new Map(j.stateNames.map((k) => [k, get(`model/${k}`)] as [string, Tensor]));
  const bestState = j.bestNames
    ? new Map(j.bestNames.map((k) => [k, get(`best/${k}`)] as [string, Tensor]))
    : undefined;
  let optimizer: OptimizerStateDict | undefined;
  if (j.optimizer) {
    const st: OptimizerStateDict['state'] = {};
    for (const [idx, sc] of Object.entries(j.optimizer.scalars)) st[Number(idx)] = { ...sc };
    for (const [idx, keys] of Object.entries(j.optimizer.buffers)) {
      const entry = (st[Number(idx)] ??= {});
      for (const key of keys) entry[key] = Array.from(get(`optim/${idx}/${key}`).numbers());
    }
    optimizer = { state: st, paramGroups: j.optimizer.paramGroups };
  }
  const { format: _f, version: _v, stateNames: _s, bestNames: _b, optimizer: _o, ...rest } = j;
  return { ...rest, state, bestState, optimizer };
}

/** Writes a checkpoint atomically. */
export function saveCheckpoint(path: string, c: TrainingCheckpoint): void {
  writeFileAtomic(path, encodeCheckpoint(c));
}

export function loadCheckpoint(path: string): TrainingCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read checkpoint '${path}': ${(e as Error).message}`, {
      cause: e,
    });
  }
  return decodeCheckpoint(bytes, path);
}

const NAME = /^checkpoint-(\d+)\.safetensors$/;

export function checkpointFileName(step: number): string {
  return `checkpoint-${String(step).padStart(8, '0')}.safetensors`;
}

/** Checkpoint files of a directory, oldest first. */
export function listCheckpoints(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .filter((n) => NAME.test(n))
    .sort((a, b) => Number(NAME.exec(a)![1]) - Number(NAME.exec(b)![1]))
    .map((n) => join(dir, n));
}

/** The newest checkpoint in `dir`, or undefined. */
export function latestCheckpoint(dir: string): string | undefined {
  return listCheckpoints(dir).at(-1);
}

/** Deletes all but the newest `keep` checkpoints. */
export function pruneCheckpoints(dir: string, keep: number): void {
  const all = listCheckpoints(dir);
  for (const p of all.slice(0, Math.max(0, all.length - keep))) rmSync(p, { force: true });
}
