/**
 * SequentialLR (torch.optim.lr_scheduler.SequentialLR): runs schedulers one after another,
 * switching at each milestone and restarting the next scheduler at its epoch 0 (e.g. a LinearLR
 * warm-up followed by CosineAnnealingLR).
 */
import { TesseraError } from '../runtime/errors.js';
import type { LRScheduler, Scheduler } from './lr-scheduler.js';
import type { BaseHyper, Optimizer } from './optimizer.js';

export class SequentialLR implements Scheduler {
  readonly optimizer: Optimizer<BaseHyper>;
  lastEpoch: number;
  private readonly schedulers: LRScheduler[];
  private readonly milestones: number[];
  private lastLr: number[];

  constructor(optimizer: Optimizer<any>, schedulers: LRScheduler[], milestones: number[], lastEpoch = -1) {
    if (!Array.isArray(schedulers) || schedulers.length === 0) {
      throw new TesseraError('INVALID_ARGUMENT', 'SequentialLR: expected at least one scheduler, got none');
    }
    schedulers.forEach((s, i) => {
      if (s.optimizer !== optimizer) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `SequentialLR: scheduler ${i} (${s.constructor.name}) drives a different optimizer than the one given`,
        );
      }
    });
    if (!Array.isArray(milestones) || milestones.length !== schedulers.length - 1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `SequentialLR: expected ${schedulers.length - 1} milestones for ${schedulers.length} schedulers, got ${JSON.stringify(milestones)}`,
      );
    }
    for (let i = 1; i < milestones.length; i++) {
      if (!(milestones[i]! > milestones[i - 1]!)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `SequentialLR: milestones must increase, got ${JSON.stringify(milestones)}`,
        );
      }
    }
    this.optimizer = optimizer;
    this.schedulers = schedulers;
    this.milestones = [...milestones];
    this.lastEpoch = lastEpoch + 1;
    // Undo the initial steps the schedulers took when they were built, then start the first one.
    for (const g of optimizer.paramGroups) g.lr = g.initialLr ?? g.lr;
    for (const s of schedulers) s.lastEpoch -= 1;
    schedulers[0]!.step();
    this.lastLr = schedulers[0]!.getLastLr();
  }

  step(): void {
    this.lastEpoch += 1;
    let idx = 0;
    while (idx < this.milestones.length && this.milestones[idx]! <= this.lastEpoch) idx++;
    const s = this.schedulers[idx]!;
    if (idx > 0 && this.milestones[idx - 1] === this.lastEpoch) s.step(0);
    else s.step();
    this.lastLr = s.getLastLr();
  }

  getLastLr(): number[] {
    return [...this.lastLr];
  }
}
