/**
 * `tessera demo` (what `npm start` runs): trains a small MLP on a generated task, three
 * interleaved spirals in the plane, and prints the loss falling epoch by epoch. It exercises the
 * whole training stack: nn layers, autograd, cross-entropy, Adam with a cosine schedule, metrics.
 */
import { parseArgs } from 'node:util';
import { Generator, manualSeed, metrics, nn, noGrad, optim, Tensor, TesseraError } from '../../index.js';
import type { CliIO, Command } from '../command.js';

export interface DemoOptions {
  epochs: number;
  classes: number;
  /** Points per class. */
  points: number;
  hidden: number;
  batchSize: number;
  lr: number;
  seed: number;
}

export const DEMO_DEFAULTS: DemoOptions = {
  epochs: 30,
  classes: 3,
  points: 100,
  hidden: 48,
  batchSize: 50,
  lr: 0.02,
  seed: 0,
};

export interface DemoResult {
  /** Mean training loss of each epoch. */
  losses: number[];
  accuracy: number;
  f1: number;
  seconds: number;
}

/** `classes` spiral arms (as CS231n's toy data): arm c is r(cos t, sin t), t = 4r + 2pi c/k + noise. */
export function spirals(
  classes: number,
  points: number,
  g: Generator,
): { x: Float32Array; y: BigInt64Array } {
  const n = classes * points;
  const x = new Float32Array(n * 2);
  const y = new BigInt64Array(n);
  for (let c = 0; c < classes; c++) {
    for (let i = 0; i < points; i++) {
      const k = c * points + i;
      const r = (i + 1) / points;
      const t = 4 * r + (2 * Math.PI * c) / classes + 0.2 * g.normal();
      x[2 * k] = r * Math.cos(t);
      x[2 * k + 1] = r * Math.sin(t);
      y[k] = BigInt(c);
    }
  }
  return { x, y };
}

/** Trains the demo model and reports each epoch through `io`; returns the losses and final scores. */
export function runDemo(opts: Partial<DemoOptions> = {}, io?: CliIO): DemoResult {
  const o = { ...DEMO_DEFAULTS, ...opts };
  const started = performance.now();
  manualSeed(o.seed);
  const data = spirals(o.classes, o.points, new Generator(o.seed + 1));
  const n = o.classes * o.points;
  const model = new nn.Sequential(
    new nn.Linear(2, o.hidden),
    new nn.ReLU(),
    new nn.Linear(o.hidden, o.hidden),
    new nn.ReLU(),
    new nn.Linear(o.hidden, o.classes),
  );
  const opt = new optim.Adam(model.parameters(), { lr: o.lr });
  const criterion = new nn.CrossEntropyLoss();
  const sched = new optim.CosineAnnealingLR(opt, o.epochs, o.lr / 20);
  io?.out(
    `tessera demo: an MLP 2-${o.hidden}-${o.hidden}-${o.classes} learns ${o.classes} interleaved spirals ` +
      `(${n} points), Adam lr ${o.lr} with a cosine schedule, batches of ${o.batchSize}`,
  );
  const shuffle = new Generator(o.seed + 2);
  const order = Array.from({ length: n }, (_, i) => i);
  const losses: number[] = [];
  for (let epoch = 1; epoch <= o.epochs; epoch++) {
    // Fisher-Yates with the seeded generator, so every run sees the same batches.
    for (let i = n - 1; i > 0; i--) {
      const j = shuffle.int(0, i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    let total = 0;
    for (let start = 0; start < n; start += o.batchSize) {
      const idx = order.slice(start, start + o.batchSize);
      const bx = new Float32Array(idx.length * 2);
      const by = new BigInt64Array(idx.length);
      idx.forEach((k, r) => {
        bx[2 * r] = data.x[2 * k]!;
        bx[2 * r + 1] = data.x[2 * k + 1]!;
        by[r] = data.y[k]!;
      });
      opt.zeroGrad();
      const logits = model.forward(Tensor.fromData(bx, [idx.length, 2], 'float32'));
      const loss = criterion.forward(logits, Tensor.fromData(by, [idx.length], 'int64'));
      loss.backward();
      opt.step();
      total += Number(loss.item()) * idx.length;
    }
    sched.step();
    losses.push(total / n);
    io?.out(
      `epoch ${String(epoch).padStart(3)}/${o.epochs}  loss ${(total / n).toFixed(4)}  ${bar(total / n, losses[0]!)}`,
    );
  }
  const xAll = Tensor.fromData(data.x, [n, 2], 'float32');
  const yAll = Tensor.fromData(data.y, [n], 'int64');
  const logits = noGrad(() => model.forward(xAll) as Tensor);
  const acc = metrics.accuracy(logits, yAll);
  const macroF1 = metrics.f1(logits, yAll, { average: 'macro' });
  const seconds = (performance.now() - started) / 1000;
  io?.out(
    `done in ${seconds.toFixed(1)}s: training accuracy ${(100 * acc).toFixed(1)}%, macro F1 ${macroF1.toFixed(3)}`,
  );
  return { losses, accuracy: acc, f1: macroF1, seconds };
}

/** A bar whose length is the loss relative to the first epoch's. */
function bar(loss: number, first: number): string {
  const width = 40;
  const k = Math.max(0, Math.min(width, Math.round((loss / first) * width)));
  return '#'.repeat(k);
}

const USAGE = `Usage: tessera demo [options]

Trains a small MLP on generated spirals and prints the loss epoch by epoch.

Options:
  --epochs <n>      training epochs (default ${DEMO_DEFAULTS.epochs})
  --classes <n>     spiral arms / classes (default ${DEMO_DEFAULTS.classes})
  --points <n>      points per class (default ${DEMO_DEFAULTS.points})
  --hidden <n>      hidden layer width (default ${DEMO_DEFAULTS.hidden})
  --batch-size <n>  minibatch size (default ${DEMO_DEFAULTS.batchSize})
  --lr <x>          Adam learning rate (default ${DEMO_DEFAULTS.lr})
  --seed <n>        random seed (default ${DEMO_DEFAULTS.seed})`;

function parseDemoArgs(args: string[]): Partial<DemoOptions> {
  let values: Record<string, string | undefined>;
  try {
    values = parseArgs({
      args,
      options: {
        epochs: { type: 'string' },
        classes: { type: 'string' },
        points: { type: 'string' },
        hidden: { type: 'string' },
        'batch-size': { type: 'string' },
        lr: { type: 'string' },
        seed: { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    }).values as Record<string, string | undefined>;
  } catch (e) {
    throw new TesseraError('INVALID_ARGUMENT', (e as Error).message);
  }
  const out: Partial<DemoOptions> = {};
  const num = (flag: string, key: keyof DemoOptions, integer: boolean, min: number) => {
    const raw = values[flag];
    if (raw === undefined) return;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `--${flag} expects ${integer ? 'an integer' : 'a number'} >= ${min}, got '${raw}'`,
      );
    }
    out[key] = v;
  };
  num('epochs', 'epochs', true, 1);
  num('classes', 'classes', true, 2);
  num('points', 'points', true, 1);
  num('hidden', 'hidden', true, 1);
  num('batch-size', 'batchSize', true, 1);
  num('lr', 'lr', false, 0);
  num('seed', 'seed', true, 0);
  return out;
}

const demo: Command = {
  name: 'demo',
  summary: 'Train a small MLP on generated spirals and watch the loss fall',
  usage: USAGE,
  run(args, io) {
    runDemo(parseDemoArgs(args), io);
    return 0;
  },
};
export default demo;
