/**
 * `tessera convert A B`: ONNX <-> .tsr (Tessera's own format: a safetensors file with the graph
 * as JSON), either way, the format of each side told by content (A) and extension (B). With
 * --check, both models run on the same made-up inputs and their outputs must agree.
 */
import { statSync } from 'node:fs';
import { saveOnnx } from '../../importers/onnx/export.js';
import { saveTsr } from '../../importers/tsr/index.js';
import { TesseraError } from '../../runtime/errors.js';
import { InferenceSession } from '../../runtime/index.js';
import { type CliIO, type Command, stdio } from '../command.js';
import { bool, intFlag, list, parseFlags, positionals } from '../util/args.js';
import { EXIT_FAILURE, EXIT_OK, runCommand, UsageError } from '../util/errors.js';
import { formatOfPath, loadModelFile } from '../util/model-file.js';
import { parseShapes, randomInputs } from '../util/random-inputs.js';
import { colorEnabled, style } from '../util/style.js';

export const CONVERT_USAGE = `Usage: tessera convert <input> <output> [options]

Converts a model between ONNX (.onnx) and Tessera's own format (.tsr), either way.
The input's format is read from its content; the output's from its extension.

Options:
  --dynamic-batch         make dim 0 of every input and output symbolic (ONNX output only)
  --check                 run both models on the same random inputs and compare the outputs
  --batch <n>             batch size of the --check inputs (default 1)
  --shape <input>=<dims>  dims of an input for --check where the model leaves them open; repeatable
  -h, --help              show this help

Examples:
  tessera convert model.onnx model.tsr
  tessera convert model.tsr model.onnx --check
  tessera convert models/mnist_cnn mnist.tsr
  tessera convert model.onnx model-any-batch.onnx --dynamic-batch`;

const OPTIONS = {
  'dynamic-batch': { type: 'boolean' },
  check: { type: 'boolean' },
  batch: { type: 'string' },
  shape: { type: 'string', multiple: true },
} as const;

export async function convertCommand(args: string[], io: CliIO = stdio): Promise<number> {
  return runCommand('convert', io, async () => {
    const p = parseFlags(args, OPTIONS);
    const [src, dst] = positionals(p, ['input', 'output']);
    const format = formatOfPath(dst!);
    if (!format) throw new UsageError(`<output> '${dst}' must end in .onnx or .tsr (that picks the format)`);
    const dynamicBatch = bool(p, 'dynamic-batch');
    if (dynamicBatch && format !== 'onnx')
      throw new UsageError('--dynamic-batch applies to ONNX output only');
    const batch = intFlag(p, 'batch', 1, 1);
    const shapes = parseShapes(list(p, 'shape'));
    const s = style(colorEnabled(io === stdio ? process.stdout : undefined));

    const loaded = loadModelFile(src!);
    if (format === 'onnx') saveOnnx(loaded.model, dst!, dynamicBatch ? { dynamicBatch: true } : {});
    else saveTsr(loaded.model, dst!);
    const size = statSync(dst!).size;
    io.out(
      `${loaded.path} (${loaded.format}, ${loaded.bytes.toLocaleString('en-US')} bytes) -> ${dst} (${format}, ${size.toLocaleString('en-US')} bytes)`,
    );
    if (!bool(p, 'check')) return EXIT_OK;

    const a = InferenceSession.fromModel(loaded.model);
    const b = InferenceSession.fromModel(loadModelFile(dst!).model);
    const specs = a.inputMetadata.map((m) =>
      m.isTensor ? { name: m.name, dtype: m.type, shape: m.shape } : { name: m.name },
    );
    const feeds = randomInputs(specs, batch, shapes, 1);
    const ra = await a.run(feeds);
    const rb = await b.run(feeds);
    let worst = 0;
    for (const [name, ta] of Object.entries(ra)) {
      const tb = rb[name];
      if (!tb)
        throw new TesseraError('INTERNAL', `convert --check: output '${name}' is missing after conversion`);
      if (ta.shape.join() !== tb.shape.join()) {
        io.err(s.red(`output '${name}': shape [${ta.shape}] before, [${tb.shape}] after`));
        return EXIT_FAILURE;
      }
      if (ta.dtype === 'string') continue;
      const x = ta.numbers();
      const y = tb.numbers();
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(x[i]!) && Number.isNaN(y[i]!)) continue;
        const d = Math.abs(x[i]! - y[i]!);
        // NaN against a number, or different infinities, counts as infinitely far.
        if (!(d <= worst)) worst = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
      }
    }
    if (worst > 0) {
      io.err(s.red(`check failed: outputs differ by up to ${worst} on the same inputs`));
      return EXIT_FAILURE;
    }
    io.out(
      s.green(
        `check passed: ${Object.keys(ra).length} output(s) identical on random inputs (batch ${batch})`,
      ),
    );
    return EXIT_OK;
  });
}

const command: Command = {
  name: 'convert',
  summary: 'Convert a model between ONNX and .tsr, optionally checking both give the same outputs',
  usage: CONVERT_USAGE,
  run: (args, io) => convertCommand(args, io),
};
export default command;
