/**
 * Learning-rate scheduler base (torch.optim.lr_scheduler.LRScheduler). Every scheduler here sets
 * each group's lr from its closed form f(epoch, baseLr) (torch's `_get_closed_form_lr`), so
 * `step(epoch)` can jump to any epoch and SequentialLR can restart one at 0. Constructing a
 * scheduler records `initialLr` in each group (once) and performs the initial step to epoch 0.
 */
import { TesseraError } from '../runtime/errors.js';
import { type BaseHyper, Optimizer } from './optimizer.js';

/** The learning rate of group `group` at `epoch`, given the group's base (initial) lr. */
export type LrFormula = (epoch: number, baseLr: number, group: number) => number;

export interface SchedulerStateDict {
  lastEpoch: number;
  baseLrs: number[];
  lastLr: number[];
}

/** What every scheduler (closed-form or SequentialLR) offers. */
export interface Scheduler {
  readonly optimizer: Optimizer<BaseHyper>;
  lastEpoch: number;
  step(epoch?: number): void;
  getLastLr(): number[];
}

export class LRScheduler implements Scheduler {
  readonly optimizer: Optimizer<BaseHyper>;
  lastEpoch: number;
  readonly baseLrs: number[];
  protected lastLr: number[] = [];
  private readonly formula: LrFormula;

  constructor(optimizer: Optimizer<any>, formula: LrFormula, lastEpoch = -1) {
    const name = new.target.name;
    if (!(optimizer instanceof Optimizer)) {
      throw new TesseraError('INVALID_ARGUMENT', `${name}: expected an Optimizer, got ${String(optimizer)}`);
    }
    if (!Number.isInteger(lastEpoch) || lastEpoch < -1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${name}: lastEpoch must be an integer >= -1, got ${lastEpoch}`,
      );
    }
    optimizer.paramGroups.forEach((g, i) => {
      if (lastEpoch === -1) g.initialLr ??= g.lr;
      else if (g.initialLr === undefined) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${name}: resuming at lastEpoch ${lastEpoch} needs initialLr in paramGroups[${i}], which has none`,
        );
      }
    });
    this.optimizer = optimizer;
    this.formula = formula;
    this.baseLrs = optimizer.paramGroups.map((g) => g.initialLr!);
    this.lastEpoch = lastEpoch;
    this.step();
  }

  /** Advances one epoch (or jumps to `epoch`) and writes the new lr into every group. */
  step(epoch?: number): void {
    if (epoch !== undefined && (!Number.isInteger(epoch) || epoch < 0)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${this.constructor.name}.step: epoch must be an integer >= 0, got ${epoch}`,
      );
    }
    this.lastEpoch = epoch ?? this.lastEpoch + 1;
    this.lastLr = this.optimizer.paramGroups.map((g, i) => {
      g.lr = this.formula(this.lastEpoch, this.baseLrs[i]!, i);
      return g.lr;
    });
  }

  /** The learning rates the last step set, one per group. */
  getLastLr(): number[] {
    return [...this.lastLr];
  }

  stateDict(): SchedulerStateDict {
    return { lastEpoch: this.lastEpoch, baseLrs: [...this.baseLrs], lastLr: [...this.lastLr] };
  }

  loadStateDict(sd: SchedulerStateDict): void {
    if (!sd || !Array.isArray(sd.baseLrs) || sd.baseLrs.length !== this.baseLrs.length) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${this.constructor.name}.loadStateDict: expected baseLrs for ${this.baseLrs.length} groups, got ${JSON.stringify(sd?.baseLrs)}`,
      );
    }
    this.lastEpoch = sd.lastEpoch;
    this.baseLrs.splice(0, this.baseLrs.length, ...sd.baseLrs);
    this.lastLr = [...sd.lastLr];
  }
}
