/**
 * `tessera train MODEL --data FILE --epochs N --lr X`: fine-tunes an ONNX or .tsr model on a data
 * set file with the Trainer (progress bar with epoch, step, loss, samples/s and ETA on stderr),
 * then writes the trained model (.onnx or .tsr by extension).
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { readNpz } from '../../io/npy.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Model } from '../../runtime/graph.js';
import type { Tensor } from '../../runtime/tensor.js';
import { decodeDataset } from '../../train/data.js';
import { LOSS_NAMES, type LossName } from '../../train/loss.js';
import { METRIC_NAMES, type MetricName } from '../../train/metrics.js';
import { OPTIMIZER_NAMES } from '../../train/optimizer-spec.js';
import type { ProgressStream } from '../../train/progress.js';
import { Trainer } from '../../train/trainer.js';
import { TrainingSession } from '../../train/training-session.js';
import { type CliIO, type Command, stdio } from '../command.js';
import { bool, intFlag, numFlag, parseFlags, positionals, str } from '../util/args.js';
import { EXIT_OK, runCommand, UsageError } from '../util/errors.js';
import { formatOfPath, loadModelFile } from '../util/model-file.js';
import { colorEnabled, style } from '../util/style.js';

export const TRAIN_USAGE = `Usage: tessera train <model> --data <file> [options]

Fine-tunes an ONNX or .tsr model on a data set and writes the trained model.

<model> is an .onnx or .tsr file, or a model repository directory (its newest version is used).

Data (--data):
  <file.npz>              NumPy arrays: one per model input, named as the input (a model with one
                          input also takes any single array), and the target named 'target'
                          (or --target <name>). Dim 0 of every array is the sample.
  <file.safetensors>      a data set written by encodeDataset (inputs by name plus 'target')

Options:
  --epochs <n>            passes over the data (default 1)
  --lr <x>                learning rate (default 0.001)
  --batch-size <n>        samples per step (default 32)
  --optimizer <name>      ${OPTIMIZER_NAMES.join(', ')} (default adam)
  --loss <name>           ${LOSS_NAMES.join(', ')} (default: crossEntropy for an
                          integer target, mse otherwise)
  --loss-input <value>    the graph value the loss reads (default: the first output; for
                          crossEntropy on a model ending in Softmax, the Softmax's input)
  --target <name>         the target array's name in the data file (default target)
  --trainable <regex>     train only the initializers whose name matches (default: all float ones)
  --frozen <regex>        keep the matching initializers fixed
  --validation-split <f>  hold out this fraction of the samples (the last ones) for validation
  --metrics <list>        comma-separated: ${METRIC_NAMES.join(', ')}
  --early-stopping <n>    stop after n epochs without improvement of the (validation) loss
  --max-steps <n>         stop after n optimizer steps in total
  --seed <n>              shuffling seed (default 0)
  --checkpoint-dir <dir>  write checkpoints here (with --checkpoint-every)
  --checkpoint-every <n>  steps between checkpoints (default 100 when --checkpoint-dir is given)
  --resume <path>         continue from a checkpoint file or the newest one in a directory
  -o, --out <file>        where to write the trained model, .onnx or .tsr
                          (default <model>.trained.onnx beside the input)
  --no-progress           no progress bar (epoch summaries only)
  -h, --help              show this help

Examples:
  tessera train models/mnist_cnn --data digits.npz --epochs 3 --lr 0.001 -o mnist_tuned.onnx
  tessera train model.onnx --data train.npz --loss mse --epochs 20 --lr 0.01 --validation-split 0.2
  tessera train model.tsr --data set.safetensors --trainable '^fc' --metrics accuracy`;

const OPTIONS = {
  data: { type: 'string' },
  epochs: { type: 'string' },
  lr: { type: 'string' },
  'batch-size': { type: 'string' },
  optimizer: { type: 'string' },
  loss: { type: 'string' },
  'loss-input': { type: 'string' },
  target: { type: 'string' },
  trainable: { type: 'string' },
  frozen: { type: 'string' },
  'validation-split': { type: 'string' },
  metrics: { type: 'string' },
  'early-stopping': { type: 'string' },
  'max-steps': { type: 'string' },
  seed: { type: 'string' },
  'checkpoint-dir': { type: 'string' },
  'checkpoint-every': { type: 'string' },
  resume: { type: 'string' },
  out: { type: 'string', short: 'o' },
  'no-progress': { type: 'boolean' },
} as const;

function regex(raw: string | undefined, flag: string): RegExp | undefined {
  if (raw === undefined) return undefined;
  try {
    return new RegExp(raw);
  } catch (e) {
    throw new UsageError(`--${flag}: '${raw}' is not a regular expression (${(e as Error).message})`);
  }
}

/** Inputs and target from a .npz or .safetensors file, keyed by the model's input names. */
export function loadTrainingData(
  file: string,
  inputNames: readonly string[],
  targetName: string,
): { inputs: Record<string, Tensor>; target: Tensor } {
  if (!existsSync(file)) throw new TesseraError('NOT_FOUND', `--data: file '${file}' does not exist`);
  const ext = extname(file).toLowerCase();
  let arrays: Map<string, Tensor>;
  if (ext === '.npz') arrays = readNpz(file);
  else if (ext === '.safetensors') {
    const d = decodeDataset(readFileSync(file), file, targetName);
    arrays = new Map(Object.entries(d.inputs as Record<string, Tensor>));
    arrays.set(targetName, d.target);
  } else
    throw new UsageError(`--data ${file}: unknown file type '${ext || '(none)'}'; use .npz or .safetensors`);
  const target = arrays.get(targetName);
  if (!target) {
    throw new TesseraError(
      'NOT_FOUND',
      `${file} has no target array '${targetName}'; it holds ${[...arrays.keys()].join(', ')} (name the target with --target)`,
    );
  }
  arrays.delete(targetName);
  const inputs: Record<string, Tensor> = {};
  if (inputNames.length === 1 && arrays.size === 1) inputs[inputNames[0]!] = [...arrays.values()][0]!;
  else {
    for (const n of inputNames) {
      const t = arrays.get(n);
      if (!t) {
        throw new TesseraError(
          'NOT_FOUND',
          `${file} has no array for the model input '${n}'; it holds ${[...arrays.keys()].join(', ')} besides the target`,
        );
      }
      inputs[n] = t;
    }
  }
  return { inputs, target };
}

/** The value a cross-entropy loss should read: a final Softmax's input (logits), else the output. */
export function logitsOf(model: Model): string | undefined {
  const out = model.graph.outputs[0]?.name;
  const producer = model.graph.nodes.find((n) => n.outputs.includes(out ?? ''));
  if (
    producer &&
    (producer.opType === 'Softmax' || producer.opType === 'LogSoftmax') &&
    producer.domain === ''
  ) {
    return producer.inputs[0];
  }
  return undefined;
}

/** Line-buffers a progress bar's writes into CliIO lines (tests, or a non-terminal stderr). */
function lineStream(io: CliIO): ProgressStream {
  let buf = '';
  return {
    isTTY: false,
    write(s: string) {
      buf += s;
      let i = buf.indexOf('\n');
      while (i >= 0) {
        io.err(buf.slice(0, i).replace(/^\r/, ''));
        buf = buf.slice(i + 1);
        i = buf.indexOf('\n');
      }
      return true;
    },
  };
}

export async function trainCommand(args: string[], io: CliIO = stdio): Promise<number> {
  return runCommand('train', io, async () => {
    const p = parseFlags(args, OPTIONS);
    const [modelPath] = positionals(p, ['model']);
    const dataFile = str(p, 'data');
    if (!dataFile) throw new UsageError('--data <file.npz|file.safetensors> is required');
    const epochs = intFlag(p, 'epochs', 1, 1);
    const lr = numFlag(p, 'lr', 0.001, 0, true)!;
    const batchSize = intFlag(p, 'batch-size', 32, 1);
    const optimizer = str(p, 'optimizer') ?? 'adam';
    if (!(OPTIMIZER_NAMES as readonly string[]).includes(optimizer)) {
      throw new UsageError(`--optimizer expects one of ${OPTIMIZER_NAMES.join(', ')}, got '${optimizer}'`);
    }
    const lossRaw = str(p, 'loss');
    const loss =
      lossRaw === undefined ? undefined : LOSS_NAMES.find((n) => n.toLowerCase() === lossRaw.toLowerCase());
    if (lossRaw !== undefined && !loss)
      throw new UsageError(`--loss expects one of ${LOSS_NAMES.join(', ')}, got '${lossRaw}'`);
    const metrics = (str(p, 'metrics') ?? '')
      .split(',')
      .map((m) => m.trim())
      .filter(Boolean);
    for (const m of metrics) {
      if (!(METRIC_NAMES as readonly string[]).includes(m))
        throw new UsageError(`--metrics: unknown metric '${m}', expected ${METRIC_NAMES.join(', ')}`);
    }
    const validationSplit = numFlag(p, 'validation-split', undefined, 0, true);
    if (validationSplit !== undefined && validationSplit >= 1)
      throw new UsageError(`--validation-split expects a fraction in (0, 1), got ${validationSplit}`);
    const patience = str(p, 'early-stopping') === undefined ? undefined : intFlag(p, 'early-stopping', 3, 1);
    const maxSteps = str(p, 'max-steps') === undefined ? undefined : intFlag(p, 'max-steps', 0, 1);
    const seed = intFlag(p, 'seed', 0, 0);
    const ckptDir = str(p, 'checkpoint-dir');
    const ckptEvery = intFlag(p, 'checkpoint-every', 100, 1);
    const targetName = str(p, 'target') ?? 'target';
    const trainable = regex(str(p, 'trainable'), 'trainable');
    const frozen = regex(str(p, 'frozen'), 'frozen');
    const out = str(p, 'out');
    if (out !== undefined && !formatOfPath(out))
      throw new UsageError(`--out ${out}: the file name must end in .onnx or .tsr`);
    const s = style(colorEnabled(process.stderr));

    const loaded = loadModelFile(modelPath!);
    const inits = loaded.model.graph.initializers;
    const inputNames = loaded.model.graph.inputs.map((i) => i.name).filter((n) => !inits.has(n));
    const data = loadTrainingData(dataFile, inputNames, targetName);
    const intTarget = /int/.test(data.target.dtype);
    const lossName: LossName = loss ?? (intTarget ? 'crossEntropy' : 'mse');
    let lossInput = str(p, 'loss-input');
    if (lossInput === undefined && (lossName === 'crossEntropy' || lossName === 'nll')) {
      const logits = logitsOf(loaded.model);
      if (logits && lossName === 'crossEntropy') {
        lossInput = logits;
        io.err(
          s.dim(
            `note: the model ends in Softmax; the cross-entropy loss reads its input '${logits}' (set --loss-input to change)`,
          ),
        );
      }
    }
    const session = TrainingSession.fromModel(loaded.model, {
      loss: lossName,
      optimizer: { name: optimizer, lr },
      ...(lossInput ? { output: lossInput } : {}),
      ...(trainable ? { trainable } : {}),
      ...(frozen ? { frozen } : {}),
    });
    const params = session.getParametersSize(true);
    io.err(
      `${s.bold('tessera train')} ${loaded.path}: ${params.toLocaleString('en-US')} trainable parameters, ` +
        `${data.target.shape[0]} samples, ${epochs} epoch(s), batch ${batchSize}, ${optimizer} lr ${lr}, loss ${lossName}`,
    );
    const abort = new AbortController();
    const onSigint = () => abort.abort();
    process.once('SIGINT', onSigint);
    const trainer = new Trainer(session, {
      epochs,
      batchSize,
      seed,
      metrics: metrics as MetricName[],
      ...(validationSplit !== undefined ? { validationSplit } : {}),
      ...(patience !== undefined ? { earlyStopping: { patience } } : {}),
      ...(maxSteps !== undefined ? { maxSteps } : {}),
      ...(ckptDir ? { checkpoint: { everySteps: ckptEvery, dir: ckptDir } } : {}),
      progressBar: bool(p, 'no-progress')
        ? false
        : io === stdio && process.stderr.isTTY
          ? process.stderr
          : lineStream(io),
      signal: abort.signal,
    });
    let result: Awaited<ReturnType<Trainer['fit']>>;
    try {
      const resume = str(p, 'resume');
      result = await trainer.fit(data, resume ? { resumeFrom: resume } : {});
    } finally {
      process.off('SIGINT', onSigint);
    }
    const last = result.history.at(-1);
    const file =
      out ??
      join(dirname(loaded.path), `${basename(loaded.path, extname(loaded.path))}.trained.${loaded.format}`);
    await session.exportModelForInferencing(file);
    const summary = last
      ? `loss ${last.loss.toFixed(4)}${last.valLoss !== undefined ? `, val_loss ${last.valLoss.toFixed(4)}` : ''}${Object.entries(
          last.metrics,
        )
          .map(([k, v]) => `, ${k} ${v.toFixed(4)}`)
          .join('')}`
      : 'no epoch completed';
    const status =
      result.status === 'completed' ? s.green(result.status) : s.yellow(result.status.replace('_', ' '));
    io.out(
      `${status}: ${result.epochs} epoch(s), ${result.steps} steps in ${result.elapsedSeconds.toFixed(1)}s; ${summary}`,
    );
    io.out(`wrote ${file}`);
    return result.status === 'cancelled' ? 130 : EXIT_OK;
  });
}

const command: Command = {
  name: 'train',
  summary: 'Fine-tune an ONNX or .tsr model on a .npz/.safetensors data set, with a progress bar',
  usage: TRAIN_USAGE,
  run: (args, io) => trainCommand(args, io),
};
export default command;
