/**
 * Worker-thread entry of one training job (started by the job manager): loads the base model into
 * a TrainingSession and the data set, runs the Trainer (resuming from the newest checkpoint in the
 * job's checkpoint directory when there is one), streams progress to the server, and on success
 * sends back the trained model file's bytes for the new version. Training never runs on the
 * server's event loop.
 *
 * Messages in: 'cancel' (stop after the current step, discard) and 'shutdown' (stop after the
 * current step, write a checkpoint, report 'interrupted'). Out: see FromJobWorker.
 */
import { basename, join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import '../../runtime/index.js';
import { exportOnnx } from '../../importers/onnx/export.js';
import { encodeTsr } from '../../importers/tsr/index.js';
import { TesseraError } from '../../runtime/errors.js';
import {
  checkpointFileName,
  listCheckpoints,
  loadCheckpoint,
  saveCheckpoint,
  type TrainingCheckpoint,
} from '../../train/checkpoint.js';
import { loadDatasetFile } from '../../train/data.js';
import type { ProgressEvent } from '../../train/progress.js';
import { Trainer } from '../../train/trainer.js';
import { type ParameterSelector, TrainingSession } from '../../train/training-session.js';
import type { FromJobWorker, JobWorkerInit, NameSelector, ToJobWorker } from './types.js';

const port = parentPort!;
const init = workerData as JobWorkerInit;
const abort = new AbortController();
let shutdownRequested = false;

const send = (m: FromJobWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

port.on('message', (m: ToJobWorker) => {
  if (m.type === 'shutdown') shutdownRequested = true;
  abort.abort();
});

function selector(s: NameSelector | undefined): ParameterSelector | undefined {
  if (s === undefined || s === 'all' || Array.isArray(s)) return s;
  return new RegExp(s.pattern);
}

/** The newest checkpoint that reads back (an unreadable one is skipped: the one before it still resumes). */
function newestCheckpoint(dir: string): TrainingCheckpoint | undefined {
  for (const path of listCheckpoints(dir).reverse()) {
    try {
      return loadCheckpoint(path);
    } catch {
      // Try the previous one.
    }
  }
  return undefined;
}

function saveNow(trainer: Trainer): boolean {
  const c = trainer.checkpoint();
  if (!c) return false;
  saveCheckpoint(join(init.checkpointDir, checkpointFileName(c.step)), c);
  return true;
}

async function run(): Promise<void> {
  const { spec } = init;
  const data = loadDatasetFile(init.data.file, init.data.target);
  const session = await TrainingSession.create(init.modelFile, {
    loss: spec.loss,
    output: spec.output,
    optimizer: spec.optimizer,
    trainable: selector(spec.trainable),
    frozen: selector(spec.frozen) as readonly string[] | RegExp | undefined,
  });
  let lastStepSent = 0;
  let stepsPerEpoch = 0;
  const trainer = new Trainer(session, {
    epochs: spec.epochs,
    batchSize: spec.batchSize,
    shuffle: spec.shuffle,
    seed: spec.seed,
    validationSplit: spec.validationSplit,
    metrics: spec.metrics,
    earlyStopping: spec.earlyStopping,
    maxSteps: spec.maxSteps,
    checkpoint: { everySteps: spec.checkpointEvery, dir: init.checkpointDir, keep: 2 },
    signal: abort.signal,
    onProgress: (event: ProgressEvent) => {
      if (event.type === 'end') return;
      if (event.type === 'start') stepsPerEpoch = event.stepsPerEpoch;
      if (event.type === 'step') {
        // Thin the step events of fast models; the last step of an epoch and of the run always goes.
        const now = Date.now();
        const last = event.step === event.totalSteps || event.batch === stepsPerEpoch;
        if (!last && now - lastStepSent < init.progressIntervalMs) return;
        lastStepSent = now;
      }
      if (event.type === 'step') {
        // Rates and times to a sensible precision for people reading them.
        event = {
          ...event,
          samplesPerSecond: Math.round(event.samplesPerSecond * 10) / 10,
          etaSeconds: Math.round(event.etaSeconds * 1000) / 1000,
          elapsedSeconds: Math.round(event.elapsedSeconds * 1000) / 1000,
        };
      }
      send({ type: 'progress', event });
    },
  });
  const resume = newestCheckpoint(init.checkpointDir);
  if (resume) send({ type: 'resumed', step: resume.step });
  const r = await trainer.fit(data, { resumeFrom: resume });
  if (r.status === 'cancelled') {
    if (shutdownRequested) send({ type: 'interrupted', step: r.steps, checkpointed: saveNow(trainer) });
    else send({ type: 'cancelled', step: r.steps });
    return;
  }
  // A checkpoint of the finished run: a crash while the version is written resumes straight to writing it.
  saveNow(trainer);
  const model = session.toModel();
  const fileName = basename(init.modelFile);
  const bytes = fileName.endsWith('.tsr') ? encodeTsr(model) : exportOnnx(model);
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
  send({ type: 'trained', status: r.status, fileName, bytes: own, history: r.history, step: r.steps }, [
    own.buffer as ArrayBuffer,
  ]);
}

run().catch((e: unknown) => {
  const message = (e as Error)?.message ?? String(e);
  send({ type: 'failed', message, code: e instanceof TesseraError ? e.code : undefined });
});
