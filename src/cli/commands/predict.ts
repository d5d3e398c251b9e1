/**
 * `tessera predict MODEL --input name=file ...`: runs a model once on tensors from .npy, .npz or
 * JSON files (or inline JSON) and prints the outputs, or writes them as .npy/.npz.
 */

import { formatTensor } from '../../runtime/format.js';
import type { Tensor } from '../../runtime/tensor.js';
import { toV2Datatype } from '../../server/datatypes.js';
import { type CliIO, type Command, stdio } from '../command.js';
import { bool, intFlag, list, parseFlags, positionals, str } from '../util/args.js';
import { EXIT_OK, runCommand } from '../util/errors.js';
import { labelsFor, openModel, parseDevice, toCpu } from '../util/session.js';
import { colorEnabled, style } from '../util/style.js';
import { readInputs, writeOutputs } from '../util/tensor-files.js';

export const PREDICT_USAGE = `Usage: tessera predict <model> --input <name>=<file> [--input ...] [options]

Runs a model once and prints its outputs (or writes them as NumPy files).

<model> is an .onnx or .tsr file, or a model repository directory (its newest version is used).

Inputs (--input, -i; repeat for each model input):
  <name>=<file.npy>       a NumPy array (np.save); its dtype is cast to the model's if they differ
  <name>=<file.npz>       the array <name> of an archive (np.savez)
  <file.npz>              every array of the archive, by name
  <name>=<file.json>      a nested array, or {"shape": [...], "datatype": "FP32", "data": [...]}
  <file.json>             a v2 inference request body {"inputs": [{"name", "shape", "datatype", "data"}]}
  <name>='[[1, 2, 3]]'    inline JSON
  A model with one input also takes a bare <file.npy> or <file.json>.

Options:
  -o, --output <path>     write outputs: <file.npy> (a single output), <name>=<file.npy>, <file.npz>
                          (all outputs) or a directory (one <name>.npy each); repeatable
  --json                  print the outputs as a v2 inference response (JSON) instead of tables
  --top <k>               for [batch, classes] outputs, print the k largest classes of each row
                          (with labels when the model directory's config.json names a label file)
  --device <cpu|webgpu>   where to run (default cpu)
  -h, --help              show this help

Examples:
  tessera predict models/mnist_cnn -i image=digit.npy --top 3
  tessera predict model.onnx -i x='[[0.1, 0.2, 0.3, 0.4]]'
  tessera predict model.onnx -i request.json --json
  tessera predict model.onnx -i inputs.npz -o outputs.npz`;

const OPTIONS = {
  input: { type: 'string', short: 'i', multiple: true },
  output: { type: 'string', short: 'o', multiple: true },
  json: { type: 'boolean' },
  top: { type: 'string' },
  device: { type: 'string' },
} as const;

/** The k largest entries of each row of a [rows, classes] tensor: [index, value][] per row. */
export function topK(t: Tensor, k: number): [number, number][][] {
  const [rows, cols] = t.shape as [number, number];
  const v = t.numbers();
  const out: [number, number][][] = [];
  for (let r = 0; r < rows; r++) {
    const row = Array.from({ length: cols }, (_, c) => [c, v[r * cols + c]!] as [number, number]);
    row.sort((a, b) => b[1] - a[1] || a[0] - b[0]);
    out.push(row.slice(0, k));
  }
  return out;
}

/** Elements as the v2 JSON protocol writes them: numbers, booleans for BOOL, strings for BYTES. */
function jsonData(t: Tensor): (number | boolean | string)[] {
  if (t.dtype === 'string') return [...(t.dataSync() as string[])];
  if (t.dtype === 'bool') return Array.from(t.numbers(), (v) => v !== 0);
  return Array.from(t.numbers());
}

export async function predictCommand(args: string[], io: CliIO = stdio): Promise<number> {
  return runCommand('predict', io, async () => {
    const p = parseFlags(args, OPTIONS);
    const [modelPath] = positionals(p, ['model']);
    const device = parseDevice(str(p, 'device'));
    const top = intFlag(p, 'top', 0, 1);
    const s = style(colorEnabled(io === stdio ? process.stdout : undefined));
    const { loaded, session, inputs } = await openModel(modelPath!, device);
    const feeds = readInputs(list(p, 'input'), inputs, (m) => io.err(s.yellow(`note: ${m}`)));
    const started = performance.now();
    const outputs = await toCpu(await session.run(feeds));
    const ms = performance.now() - started;
    const files = writeOutputs(list(p, 'output'), outputs);

    if (bool(p, 'json')) {
      io.out(
        JSON.stringify({
          model_name: loaded.path,
          outputs: Object.entries(outputs).map(([name, t]) => ({
            name,
            datatype: toV2Datatype(t.dtype),
            shape: t.shape,
            data: jsonData(t),
          })),
        }),
      );
      return EXIT_OK;
    }
    for (const [name, t] of Object.entries(outputs)) {
      io.out(`${s.bold(name)}: ${t.dtype}[${t.shape.join(', ')}]`);
      if (top > 0 && t.ndim === 2 && t.dtype !== 'string' && t.dtype !== 'bool') {
        const labels = labelsFor(loaded.path, name);
        topK(t, top).forEach((row, r) => {
          const items = row.map(([c, v]) => `${labels?.[c] ?? c} ${s.dim(`(${v.toPrecision(4)})`)}`);
          io.out(`  row ${r}: ${items.join(', ')}`);
        });
      } else if (!files.length) {
        io.out(formatTensor(t));
      }
    }
    for (const f of files) io.out(s.dim(`wrote ${f}`));
    io.err(s.dim(`${loaded.path}: ${ms.toFixed(1)} ms on ${device}`));
    return EXIT_OK;
  });
}

const command: Command = {
  name: 'predict',
  summary: 'Run a model on tensors from .npy/.npz/JSON files and print or save the outputs',
  usage: PREDICT_USAGE,
  run: (args, io) => predictCommand(args, io),
};
export default command;
