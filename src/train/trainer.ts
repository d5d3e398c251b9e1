/**
 * Trainer: the training loop for eager Modules and imported graphs alike (Keras' fit with
 * PyTorch's parts). Epochs of seeded shuffled batches, a validation split and metrics, early
 * stopping, checkpoints every N steps (and resuming from one replays the same batches, so a
 * resumed run ends where an uninterrupted one would), progress events and a terminal progress
 * bar, cancellation through an AbortSignal, and data parallelism over worker threads.
 *
 *   const trainer = new Trainer(model, { loss: 'crossEntropy', optimizer: { name: 'adam', lr: 1e-3 }, epochs: 10, batchSize: 32 });
 *   const result = await trainer.fit({ inputs: x, target: y });
 *
 * fit() is async and yields to the event loop between steps, so a server running it in a worker
 * thread stays responsive to cancel messages and progress subscribers.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/index.js';
import { noGrad } from '../runtime/autograd.js';
import { TesseraError } from '../runtime/errors.js';
import { Tensor } from '../runtime/tensor.js';
import {
  checkpointFileName,
  type EarlyStoppingState,
  type EpochLog,
  latestCheckpoint,
  loadCheckpoint,
  pruneCheckpoints,
  saveCheckpoint,
  type TrainingCheckpoint,
} from './checkpoint.js';
import {
  batches,
  type Dataset,
  permutation,
  splitValidation,
  subset,
  type TrainData,
  toDataset,
} from './data.js';
import { isSerializableLoss, type LossSpec, resolveLoss } from './loss.js';
import { addSums, checkMetrics, type MetricName, type MetricSum, means, metricSum } from './metrics.js';
import { buildOptimizer, type OptimizerSpec } from './optimizer-spec.js';
import type { DataParallelGroup, ModuleFactory } from './parallel/data-parallel.js';
import {
  ProgressBar,
  type ProgressCallback,
  type ProgressEvent,
  type ProgressStream,
  type TrainStatus,
} from './progress.js';
import { ModuleTarget, SessionTarget, type TrainTarget } from './target.js';
import { TrainingSession } from './training-session.js';

export interface EarlyStoppingOptions {
  /** 'loss', 'valLoss' (default when there is validation data), or a metric ('accuracy', 'valAccuracy', 'valMae'...). */
  monitor?: string;
  /** Epochs without improvement before stopping (default 3). */
  patience?: number;
  /** Smallest change that counts as an improvement (default 0). */
  minDelta?: number;
  /** 'min' or 'max'; default from the monitored name (accuracy: max, others: min). */
  mode?: 'min' | 'max';
  /** Put back the best epoch's weights when stopping (default false). */
  restoreBestWeights?: boolean;
}

export interface CheckpointOptions {
  /** Save every N optimizer steps. */
  everySteps: number;
  /** Directory for checkpoint-<step>.safetensors files (written atomically). */
  dir?: string;
  /** How many checkpoint files to keep (default 2). */
  keep?: number;
  /** Called with each checkpoint (and its path when written to `dir`). */
  onCheckpoint?: (c: TrainingCheckpoint, path?: string) => void | Promise<void>;
}

export interface TrainerOptions {
  epochs?: number;
  batchSize?: number;
  /** Shuffle the samples every epoch (default true), seeded by `seed`. */
  shuffle?: boolean;
  seed?: number;
  /** Fraction of the samples (the last ones) held out for validation. */
  validationSplit?: number;
  validationData?: TrainData;
  metrics?: MetricName[];
  /** Modules: the loss (default 'mse'). A TrainingSession brings its own. */
  loss?: LossSpec;
  /** Modules: the optimizer (default Adam, lr 1e-3). A TrainingSession brings its own. */
  optimizer?: OptimizerSpec;
  /** An LR scheduler over the optimizer, stepped at the end of every epoch. */
  scheduler?: (optimizer: Optimizer<any>) => {
    step(): void;
    stateDict?(): unknown;
    loadStateDict?(s: unknown): void;
  };
  earlyStopping?: EarlyStoppingOptions | boolean;
  checkpoint?: CheckpointOptions;
  /** Stop after this many optimizer steps in total. */
  maxSteps?: number;
  onProgress?: ProgressCallback;
  /** Draw a progress bar (true: on stderr). */
  progressBar?: boolean | ProgressStream;
  /** Cancels the run between steps; fit() then resolves with status 'cancelled'. */
  signal?: AbortSignal;
  /** Data-parallel replicas in worker threads (default 1: train in this thread). */
  workers?: number;
  /** Modules with workers > 1: how a worker builds the same module (module file URL or path, export name, arguments). */
  workerModule?: ModuleFactory;
}

export interface FitOptions {
  /** A checkpoint, a checkpoint file, or a directory whose newest checkpoint is used. */
  resumeFrom?: TrainingCheckpoint | string;
}

export interface TrainResult {
  status: TrainStatus;
  history: EpochLog[];
  /** Optimizer steps done in total. */
  steps: number;
  /** Epochs completed. */
  epochs: number;
  /** The newest checkpoint path written, when checkpoints go to a directory. */
  lastCheckpoint?: string;
  elapsedSeconds: number;
}

function isNum(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export class Trainer {
  readonly target: TrainTarget;
  readonly options: TrainerOptions;
  readonly metrics: MetricName[];
  private readonly lossSpec: LossSpec;
  private scheduler?: ReturnType<NonNullable<TrainerOptions['scheduler']>>;
  private stopRequested = false;
  private current?: () => TrainingCheckpoint;

  constructor(model: Module | TrainingSession, opts: TrainerOptions = {}) {
    this.options = opts;
    this.metrics = checkMetrics(opts.metrics);
    for (const [k, v] of [
      ['epochs', opts.epochs],
      ['batchSize', opts.batchSize],
      ['workers', opts.workers],
    ] as const) {
      if (v !== undefined && !(Number.isInteger(v) && v > 0)) {
        throw new TesseraError('INVALID_ARGUMENT', `Trainer: ${k} must be a positive integer, got ${v}`);
      }
    }
    if (
      opts.checkpoint &&
      !(Number.isInteger(opts.checkpoint.everySteps) && opts.checkpoint.everySteps > 0)
    ) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Trainer: checkpoint.everySteps must be a positive integer, got ${opts.checkpoint.everySteps}`,
      );
    }
    if (model instanceof TrainingSession) {
      if (opts.loss !== undefined || opts.optimizer !== undefined) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          'Trainer: a TrainingSession has its own loss and optimizer; set them in TrainingSession.create',
        );
      }
      if (!model.optimizer)
        throw new TesseraError('INVALID_ARGUMENT', 'Trainer: the TrainingSession has no optimizer');
      this.target = new SessionTarget(model);
      this.lossSpec = model.lossSpec;
    } else if (model instanceof Module) {
      this.lossSpec = opts.loss ?? 'mse';
      if (typeof this.lossSpec === 'object' && this.lossSpec !== null && 'output' in this.lossSpec) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          "Trainer: a Module's loss cannot be { output }: give a loss name or function",
        );
      }
      const loss = resolveLoss(this.lossSpec as Exclude<LossSpec, { output: string }>);
      const params = model.parameters().filter((p) => p.requiresGrad);
      const optimizer = buildOptimizer(opts.optimizer ?? { name: 'adam', lr: 1e-3 }, params);
      this.target = new ModuleTarget(model, loss, optimizer);
    } else {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Trainer: expected an nn.Module or a TrainingSession, got ${String(model)}`,
      );
    }
    if ((opts.workers ?? 1) > 1) {
      if (!isSerializableLoss(this.lossSpec)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          'Trainer: with workers > 1 the loss must be a name or options, not a function (workers rebuild it)',
        );
      }
      if (model instanceof Module && !opts.workerModule) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          'Trainer: with workers > 1 a Module needs workerModule ({ module, export, args }) so each worker can build it',
        );
      }
    }
    if (opts.scheduler) this.scheduler = opts.scheduler(this.optimizer);
  }

  get optimizer(): Optimizer<any> {
    return this.target.optimizer!;
  }

  /** Asks a running fit() to stop after the current step (status 'stopped'). */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * A checkpoint of the run as it stands (during fit(), between steps, or after it returned,
   * cancelled runs included): resuming from it continues with the next batch.
   */
  checkpoint(): TrainingCheckpoint | undefined {
    return this.current?.();
  }

  /** Loss and metrics over `data` in eval mode. */
  evaluate(
    data: TrainData | Dataset,
    batchSize = this.options.batchSize ?? 32,
  ): { loss: number; metrics: Record<string, number> } {
    const ds = 'size' in data ? data : toDataset(data);
    let lossSum = 0;
    const sums: Record<string, MetricSum> = {};
    const all = Int32Array.from({ length: ds.size }, (_, i) => i);
    for (const idx of batches(all, batchSize)) {
      const b = subset(ds, idx);
      const r = this.target.evalBatch(b);
      lossSum += r.loss * b.size;
      for (const m of this.metrics) addSums(sums, { [m]: metricSum(m, r.output, b.target) });
    }
    return { loss: lossSum / ds.size, metrics: means(sums) };
  }

  /** The model's outputs for `inputs` in eval mode. */
  predict(inputs: TrainData['inputs']): Tensor {
    const ds = toDataset({ inputs, target: firstOf(inputs) }, 'Trainer.predict');
    if (this.target instanceof SessionTarget) {
      const s = this.target.session;
      const names = ds.names ?? s.inputNames;
      const feeds: Record<string, Tensor> = {};
      names.forEach((n, i) => {
        feeds[n] = ds.inputs[i]!;
      });
      return s.runEvalStepSync(feeds).outputs[s.lossInput]!;
    }
    const m = (this.target as ModuleTarget).module;
    m.train(false);
    const out = noGrad(() => m.forward(...ds.inputs));
    return out instanceof Tensor ? out : (Object.values(out as object)[0] as Tensor);
  }

  private lr(): number | undefined {
    const g = this.optimizer.paramGroups[0] as { lr?: number } | undefined;
    return g?.lr;
  }

  private async emit(e: ProgressEvent, bar?: ProgressBar): Promise<void> {
    bar?.handle(e);
    await this.options.onProgress?.(e);
  }

  private resolveResume(r: FitOptions['resumeFrom']): TrainingCheckpoint | undefined {
    if (r === undefined) return undefined;
    if (typeof r !== 'string') return r;
    if (r.endsWith('.safetensors')) return loadCheckpoint(r);
    const latest = latestCheckpoint(r);
    if (!latest) throw new TesseraError('NOT_FOUND', `Trainer: no checkpoint in '${r}' to resume from`);
    return loadCheckpoint(latest);
  }

  private snapshot(
    pos: Omit<
      TrainingCheckpoint,
      'state' | 'optimizer' | 'seed' | 'batchSize' | 'trainSamples' | 'scheduler'
    >,
    trainSamples: number,
  ): TrainingCheckpoint {
    const state = new Map<string, Tensor>();
    for (const [k, t] of this.target.stateDict()) state.set(k, copyOf(t));
    return {
      ...pos,
      state,
      optimizer: this.optimizer.stateDict(),
      scheduler: this.scheduler?.stateDict?.(),
      seed: this.options.seed ?? 0,
      batchSize: this.options.batchSize ?? 32,
      trainSamples,
    };
  }

  /** Trains on `data`; resolves when the run completes, stops early, or is cancelled. */
  async fit(data: TrainData, fitOpts: FitOptions = {}): Promise<TrainResult> {
    const o = this.options;
    const epochs = o.epochs ?? 1;
    const batchSize = o.batchSize ?? 32;
    const seed = o.seed ?? 0;
    const workers = o.workers ?? 1;
    this.stopRequested = false;
    let train = toDataset(data);
    let val: Dataset | undefined;
    if (o.validationData) val = toDataset(o.validationData, 'Trainer: validationData');
    else if (o.validationSplit !== undefined) ({ train, val } = splitValidation(train, o.validationSplit));
    const stepsPerEpoch = Math.ceil(train.size / batchSize);
    const totalSteps = Math.min(epochs * stepsPerEpoch, o.maxSteps ?? Number.POSITIVE_INFINITY);

    const es = o.earlyStopping ? (o.earlyStopping === true ? {} : o.earlyStopping) : undefined;
    const monitor = es?.monitor ?? (val ? 'valLoss' : 'loss');
    if (es && monitor.startsWith('val') && !val) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Trainer: earlyStopping monitors '${monitor}', but there is no validation data`,
      );
    }
    const mode = es?.mode ?? (/accuracy/i.test(monitor) ? 'max' : 'min');
    const patience = es?.patience ?? 3;
    const minDelta = es?.minDelta ?? 0;

    // ---- resume ----
    const resume = this.resolveResume(fitOpts.resumeFrom);
    let epoch = 0;
    let batch = 0;
    let step = 0;
    let history: EpochLog[] = [];
    let esState: EarlyStoppingState | undefined = es
      ? { best: mode === 'min' ? Infinity : -Infinity, bestEpoch: 0, wait: 0 }
      : undefined;
    let bestState: Map<string, Tensor> | undefined;
    let epochLossSum = 0;
    let epochSamples = 0;
    let epochMetrics: Record<string, MetricSum> = {};
    let epochSeconds = 0;
    let elapsedBefore = 0;
    if (resume) {
      const mismatch = [
        ['seed', resume.seed, seed],
        ['batchSize', resume.batchSize, batchSize],
        ['train samples', resume.trainSamples, train.size],
      ].find(([, a, b]) => a !== b);
      if (mismatch) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Trainer: the checkpoint was made with ${mismatch[0]} ${mismatch[1]}, this run has ${mismatch[2]}; resuming would not replay the same batches`,
        );
      }
      this.target.loadStateDict(resume.state);
      if (resume.optimizer) this.optimizer.loadStateDict(resume.optimizer);
      if (resume.scheduler !== undefined) this.scheduler?.loadStateDict?.(resume.scheduler);
      ({ epoch, batch, step, epochLossSum, epochSamples, epochSeconds } = resume);
      epochMetrics = structuredClone(resume.epochMetrics);
      history = structuredClone(resume.history);
      if (resume.earlyStopping) esState = { ...resume.earlyStopping };
      bestState = resume.bestState;
      elapsedBefore = resume.elapsedSeconds;
    }

    const bar = o.progressBar
      ? new ProgressBar(o.progressBar === true ? process.stderr : o.progressBar)
      : undefined;
    let group: DataParallelGroup | undefined;
    if (workers > 1) {
      const { DataParallelGroup } = await import('./parallel/data-parallel.js');
      group = await DataParallelGroup.start({
        target: this.target,
        data: train,
        workers,
        loss: this.lossSpec,
        metrics: this.metrics,
        module: o.workerModule,
        seed,
      });
    }
    const started = Date.now();
    const elapsed = () => elapsedBefore + (Date.now() - started) / 1000;
    const startStep = step;
    let status: TrainStatus = 'completed';
    let lastPath: string | undefined;
    const ckpt = o.checkpoint;
    if (ckpt?.dir) mkdirSync(ckpt.dir, { recursive: true });
    await this.emit(
      {
        type: 'start',
        epochs,
        stepsPerEpoch,
        totalSteps,
        trainSamples: train.size,
        valSamples: val?.size ?? 0,
        workers,
        startStep,
      },
      bar,
    );

    const stateAt = (nextEpoch: number, nextBatch: number) =>
      this.snapshot(
        {
          epoch: nextEpoch,
          batch: nextBatch,
          step,
          epochLossSum,
          epochSamples,
          epochMetrics: structuredClone(epochMetrics),
          epochSeconds,
          history: structuredClone(history),
          earlyStopping: esState ? { ...esState } : undefined,
          bestState,
          elapsedSeconds: elapsed(),
        },
        train.size,
      );
    // What checkpoint() returns: the run as of now, positioned at the next batch to train.
    this.current = () => stateAt(epoch, batch);
    const saveAt = async (nextEpoch: number, nextBatch: number) => {
      const c = stateAt(nextEpoch, nextBatch);
      let path: string | undefined;
      if (ckpt?.dir) {
        path = join(ckpt.dir, checkpointFileName(step));
        saveCheckpoint(path, c);
        pruneCheckpoints(ckpt.dir, ckpt.keep ?? 2);
        lastPath = path;
      }
      await ckpt?.onCheckpoint?.(c, path);
      await this.emit({ type: 'checkpoint', epoch: nextEpoch + 1, step, path }, bar);
    };

    try {
      outer: for (; epoch < epochs; epoch++) {
        const order =
          o.shuffle === false
            ? Int32Array.from({ length: train.size }, (_, i) => i)
            : permutation(train.size, seed, epoch);
        const list = batches(order, batchSize);
        const epochStart = Date.now() - epochSeconds * 1000;
        for (; batch < list.length; batch++) {
          if (o.signal?.aborted) {
            status = 'cancelled';
            break outer;
          }
          if (this.stopRequested || step >= totalSteps) {
            status = this.stopRequested ? 'stopped' : 'completed';
            break outer;
          }
          const idx = list[batch]!;
          let lossSum: number;
          let sums: Record<string, MetricSum>;
          if (group) {
            const r = await group.step(idx);
            lossSum = r.lossSum;
            sums = r.metrics;
          } else {
            const b = subset(train, idx);
            this.target.zeroGrad();
            const r = this.target.trainBatch(b);
            lossSum = r.loss * b.size;
            sums = {};
            for (const m of this.metrics) addSums(sums, { [m]: metricSum(m, r.output, b.target) });
          }
          if (!Number.isFinite(lossSum)) {
            throw new TesseraError(
              'INVALID_ARGUMENT',
              `Trainer: the loss became ${lossSum / idx.length} at epoch ${epoch + 1}, batch ${batch + 1} (check the data and the learning rate)`,
            );
          }
          this.optimizer.step();
          step++;
          epochLossSum += lossSum;
          epochSamples += idx.length;
          addSums(epochMetrics, sums);
          epochSeconds = (Date.now() - epochStart) / 1000;
          const secs = elapsed();
          const done = step - startStep;
          const rate = done > 0 ? (Date.now() - started) / 1000 / done : 0;
          await this.emit(
            {
              type: 'step',
              epoch: epoch + 1,
              batch: batch + 1,
              step,
              totalSteps,
              loss: lossSum / idx.length,
              samplesPerSecond: rate > 0 ? batchSize / rate : 0,
              etaSeconds: rate * (totalSteps - step),
              elapsedSeconds: secs,
              lr: this.lr(),
            },
            bar,
          );
          if (ckpt && step % ckpt.everySteps === 0) await saveAt(epoch, batch + 1);
          await yieldToEventLoop();
        }
        // ---- end of epoch ----
        const log: EpochLog = {
          epoch: epoch + 1,
          loss: epochLossSum / epochSamples,
          metrics: means(epochMetrics),
          step,
          seconds: epochSeconds,
        };
        if (val) {
          const v = this.evaluate(val, batchSize);
          log.valLoss = v.loss;
          log.valMetrics = v.metrics;
        }
        this.scheduler?.step();
        log.lr = this.lr();
        history.push(log);
        epochLossSum = 0;
        epochSamples = 0;
        epochMetrics = {};
        epochSeconds = 0;
        batch = 0;
        await this.emit({ type: 'epoch', epochs, ...log }, bar);
        if (esState && es) {
          const value = monitorValue(log, monitor);
          if (!isNum(value))
            throw new TesseraError(
              'INVALID_ARGUMENT',
              `Trainer: earlyStopping monitors '${monitor}', which the run does not report`,
            );
          const better = mode === 'min' ? value < esState.best - minDelta : value > esState.best + minDelta;
          if (better) {
            esState = { best: value, bestEpoch: epoch + 1, wait: 0 };
            if (es.restoreBestWeights)
              bestState = new Map([...this.target.stateDict()].map(([k, t]) => [k, copyOf(t)]));
          } else if (++esState.wait >= patience) {
            status = 'early_stopped';
            if (es.restoreBestWeights && bestState) this.target.loadStateDict(bestState);
            epoch++;
            break;
          }
        }
      }
    } finally {
      await group?.close();
    }
    const result: TrainResult = {
      status,
      history,
      steps: step,
      epochs: history.length,
      lastCheckpoint: lastPath,
      elapsedSeconds: elapsed(),
    };
    await this.emit(
      { type: 'end', status, epoch: Math.min(epoch, epochs), step, elapsedSeconds: result.elapsedSeconds },
      bar,
    );
    return result;
  }
}

function monitorValue(log: EpochLog, monitor: string): number | undefined {
  if (monitor === 'loss') return log.loss;
  if (monitor === 'valLoss' || monitor === 'val_loss') return log.valLoss;
  const m = /^val_?(.+)$/i.exec(monitor);
  if (m) {
    const key = m[1]!.charAt(0).toLowerCase() + m[1]!.slice(1);
    return log.valMetrics?.[key];
  }
  return log.metrics[monitor];
}

function copyOf(t: Tensor): Tensor {
  const d = t.dataSync();
  return Tensor.fromData(d.slice() as typeof d, t.shape, t.dtype);
}

function firstOf(inputs: TrainData['inputs']): Tensor {
  if (inputs instanceof Tensor) return inputs;
  if (Array.isArray(inputs)) return inputs[0]!;
  return Object.values(inputs)[0]!;
}
