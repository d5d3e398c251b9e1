/**
 * What the Trainer trains, behind one interface: an eager nn.Module (with a loss and an
 * optimizer the Trainer builds) or a TrainingSession over an imported graph (which has its own).
 * Data-parallel replicas in worker threads use the same adapters.
 */
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/index.js';
import { enableGrad, noGrad } from '../runtime/autograd.js';
import { TesseraError } from '../runtime/errors.js';
import { Tensor } from '../runtime/tensor.js';
import type { Dataset } from './data.js';
import type { LossFn } from './loss.js';
import type { TrainingFeed, TrainingSession } from './training-session.js';

export interface BatchResult {
  /** The loss of the batch (its mean when the loss reduces by mean). */
  loss: number;
  /** The model output the loss read, detached. */
  output: Tensor;
}

export interface TrainTarget {
  /** Trainable parameters by name, in a stable order (replicas list them alike). */
  namedParameters(): [string, Tensor][];
  /** Everything to checkpoint: parameters and state (running statistics, frozen weights). */
  stateDict(): Map<string, Tensor>;
  loadStateDict(state: Map<string, Tensor>): void;
  /** Float state other than parameters that training changes (BatchNorm running statistics). */
  namedBuffers(): [string, Tensor][];
  readonly optimizer: Optimizer<any> | null;
  /** Forward in training mode, loss, backward (gradients accumulate; scaled by `lossScale`). */
  trainBatch(batch: Dataset, lossScale?: number): BatchResult;
  /** Forward in eval mode without the tape; the loss too. */
  evalBatch(batch: Dataset): BatchResult;
  zeroGrad(): void;
}

function firstTensor(out: unknown, who: string): Tensor {
  if (out instanceof Tensor) return out;
  if (Array.isArray(out) && out[0] instanceof Tensor) return out[0];
  if (out && typeof out === 'object') {
    const v = Object.values(out)[0];
    if (v instanceof Tensor) return v;
  }
  throw new TesseraError(
    'INVALID_ARGUMENT',
    `${who}: forward() must return a tensor (or a list/record whose first entry is one), got ${typeof out}`,
  );
}

export class ModuleTarget implements TrainTarget {
  constructor(
    readonly module: Module,
    private readonly loss: LossFn,
    readonly optimizer: Optimizer<any> | null,
  ) {}

  namedParameters(): [string, Tensor][] {
    return this.module.namedParameters().filter(([, p]) => p.requiresGrad);
  }
  namedBuffers(): [string, Tensor][] {
    const params = new Set(this.namedParameters().map(([, p]) => p as Tensor));
    return [...this.module.stateDict({ keepVars: true })].filter(
      ([, t]) => !params.has(t) && t.dtype.startsWith('float'),
    );
  }
  stateDict(): Map<string, Tensor> {
    return this.module.stateDict();
  }
  loadStateDict(state: Map<string, Tensor>): void {
    this.module.loadStateDict(state, true);
  }
  trainBatch(batch: Dataset, lossScale = 1): BatchResult {
    this.module.train(true);
    return enableGrad(() => {
      const out = firstTensor(this.module.forward(...batch.inputs), 'Trainer');
      const loss = this.loss(out, batch.target);
      (lossScale === 1 ? loss : loss.mul(lossScale)).backward();
      return { loss: Number(loss.item()), output: out.detach() };
    });
  }
  evalBatch(batch: Dataset): BatchResult {
    this.module.train(false);
    return noGrad(() => {
      const out = firstTensor(this.module.forward(...batch.inputs), 'Trainer');
      return { loss: Number(this.loss(out, batch.target).item()), output: out };
    });
  }
  zeroGrad(): void {
    for (const [, p] of this.namedParameters()) p.grad = null;
  }
}

export class SessionTarget implements TrainTarget {
  constructor(readonly session: TrainingSession) {}

  get optimizer(): Optimizer<any> | null {
    return this.session.optimizer;
  }
  namedParameters(): [string, Tensor][] {
    return this.session.namedParameters();
  }
  namedBuffers(): [string, Tensor][] {
    const params = new Set(this.namedParameters().map(([k]) => k));
    return [...this.session.stateDict()].filter(([k]) => !params.has(k));
  }
  stateDict(): Map<string, Tensor> {
    return this.session.stateDict();
  }
  loadStateDict(state: Map<string, Tensor>): void {
    this.session.loadStateDict(state, true);
  }
  private feeds(batch: Dataset): Record<string, TrainingFeed> {
    const s = this.session;
    const names = batch.names ?? s.inputNames;
    if (batch.inputs.length !== names.length) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Trainer: ${batch.inputs.length} inputs given, the model takes ${s.inputNames.length} (${s.inputNames.join(', ')})`,
      );
    }
    const feeds: Record<string, TrainingFeed> = {};
    names.forEach((n, i) => {
      feeds[n] = batch.inputs[i]!;
    });
    feeds[s.targetName] = batch.target;
    return feeds;
  }
  trainBatch(batch: Dataset, lossScale = 1): BatchResult {
    const r = this.session.runTrainStepSync(this.feeds(batch), { lossScale });
    return { loss: Number(r.loss.item()), output: r.outputs[this.session.lossInput]! };
  }
  evalBatch(batch: Dataset): BatchResult {
    const r = this.session.runEvalStepSync(this.feeds(batch));
    return { loss: r.loss ? Number(r.loss.item()) : Number.NaN, output: r.outputs[this.session.lossInput]! };
  }
  zeroGrad(): void {
    this.session.zeroGrad();
  }
}
