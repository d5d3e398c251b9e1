/**
 * Progress of a training run: the events the Trainer emits (a server streams them as server-sent
 * events; plain data, so they cross worker-thread boundaries), and a one-line progress bar for
 * terminals.
 */
import type { EpochLog } from './checkpoint.js';

export type TrainStatus = 'completed' | 'early_stopped' | 'stopped' | 'cancelled';

export type ProgressEvent =
  | {
      type: 'start';
      epochs: number;
      stepsPerEpoch: number;
      totalSteps: number;
      trainSamples: number;
      valSamples: number;
      workers: number;
      /** Step count the run starts from (0, or the resumed checkpoint's). */
      startStep: number;
    }
  | {
      type: 'step';
      /** 1-based epoch and batch. */
      epoch: number;
      batch: number;
      /** Optimizer steps done, of totalSteps. */
      step: number;
      totalSteps: number;
      loss: number;
      samplesPerSecond: number;
      etaSeconds: number;
      elapsedSeconds: number;
      lr?: number;
    }
  | ({ type: 'epoch'; epochs: number } & EpochLog)
  | { type: 'checkpoint'; epoch: number; step: number; path?: string }
  | { type: 'end'; status: TrainStatus; epoch: number; step: number; elapsedSeconds: number };

export type ProgressCallback = (e: ProgressEvent) => void | Promise<void>;

/** Something a progress bar can write to (process.stderr). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
}

function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

function fmtNum(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '-';
  return Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(3) : v.toFixed(4);
}

/** `epoch 2/10 [=========>          ] 45/90 loss 0.1234 850 samples/s ETA 12s`, redrawn in place on a TTY. */
export class ProgressBar {
  private epochs = 1;
  private steps = 1;
  constructor(
    private readonly out: ProgressStream,
    private readonly width = 24,
  ) {}

  /** The bar line for a step event. */
  line(e: Extract<ProgressEvent, { type: 'step' }>): string {
    const frac = Math.min(1, e.batch / this.steps);
    const filled = Math.round(frac * this.width);
    const bar = `${'='.repeat(Math.max(0, filled - 1))}${filled > 0 ? (frac >= 1 ? '=' : '>') : ''}${' '.repeat(this.width - filled)}`;
    return `epoch ${e.epoch}/${this.epochs} [${bar}] ${e.batch}/${this.steps} loss ${fmtNum(e.loss)} ${e.samplesPerSecond.toFixed(0)} samples/s ETA ${fmtSeconds(e.etaSeconds)}`;
  }

  handle = (e: ProgressEvent): void => {
    const tty = this.out.isTTY ?? false;
    switch (e.type) {
      case 'start':
        this.epochs = e.epochs;
        this.steps = e.stepsPerEpoch;
        break;
      case 'step':
        // Off a terminal, write one line per tenth of an epoch instead of redrawing.
        if (tty) this.out.write(`\r${this.line(e)}\x1b[K`);
        else if (e.batch === this.steps || e.batch % Math.max(1, Math.ceil(this.steps / 10)) === 0)
          this.out.write(`${this.line(e)}\n`);
        break;
      case 'epoch': {
        const val = e.valLoss !== undefined ? ` val_loss ${fmtNum(e.valLoss)}` : '';
        const m = Object.entries(e.metrics)
          .map(([k, v]) => ` ${k} ${fmtNum(v)}`)
          .join('');
        const vm = Object.entries(e.valMetrics ?? {})
          .map(([k, v]) => ` val_${k} ${fmtNum(v)}`)
          .join('');
        this.out.write(
          `${tty ? '\r' : ''}epoch ${e.epoch}/${e.epochs} loss ${fmtNum(e.loss)}${m}${val}${vm} (${fmtSeconds(e.seconds)})${tty ? '\x1b[K' : ''}\n`,
        );
        break;
      }
      case 'end':
        if (e.status !== 'completed')
          this.out.write(`training ${e.status.replace('_', ' ')} at epoch ${e.epoch}, step ${e.step}\n`);
        break;
      default:
        break;
    }
  };
}
