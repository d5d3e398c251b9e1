/**
 * Model files on the command line: an .onnx or .tsr file (told apart by content, not name), or a
 * directory of the model repository layout (`models/mnist_cnn`, whose newest numbered version is
 * used, or a version directory holding model.onnx / model.tsr).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
// The op registry and tensor methods: every command that loads a model runs or checks its ops.
import '../../runtime/index.js';
import { importOnnxBytes } from '../../importers/onnx/model.js';
import { decodeTsr, isTsr } from '../../importers/tsr/index.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Model } from '../../runtime/graph.js';

export type ModelFormat = 'onnx' | 'tsr';

const MODEL_FILES = ['model.onnx', 'model.tsr'];

/** The model file a path names (a file, a version directory, or a model directory's newest version). */
export function resolveModelPath(path: string): string {
  if (!existsSync(path)) throw new TesseraError('NOT_FOUND', `model '${path}' does not exist`);
  if (!statSync(path).isDirectory()) return path;
  for (const f of MODEL_FILES) if (existsSync(join(path, f))) return join(path, f);
  const versions = readdirSync(path)
    .filter((d) => /^\d+$/.test(d) && MODEL_FILES.some((f) => existsSync(join(path, d, f))))
    .sort((a, b) => Number(b) - Number(a));
  if (!versions.length) {
    throw new TesseraError(
      'NOT_FOUND',
      `model directory '${path}' has no model.onnx or model.tsr, nor numbered version directories holding one`,
    );
  }
  const dir = join(path, versions[0]!);
  return join(dir, MODEL_FILES.find((f) => existsSync(join(dir, f)))!);
}

export interface LoadedModel {
  path: string;
  format: ModelFormat;
  bytes: number;
  model: Model;
}

export function loadModelFile(path: string): LoadedModel {
  const file = resolveModelPath(path);
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read model '${file}': ${(e as Error).message}`, { cause: e });
  }
  if (isTsr(bytes)) return { path: file, format: 'tsr', bytes: bytes.length, model: decodeTsr(bytes, file) };
  try {
    return {
      path: file,
      format: 'onnx',
      bytes: bytes.length,
      model: importOnnxBytes(bytes, { baseDir: dirname(file) }),
    };
  } catch (e) {
    if (!(e instanceof TesseraError)) throw e;
    if (!/\.onnx$/i.test(file)) {
      throw new TesseraError(
        'INVALID_MODEL',
        `'${file}' is neither a .tsr model nor an ONNX model that can be read (${e.message})`,
        { cause: e },
      );
    }
    // The importer names the part of the model; say which file it is.
    throw e.message.includes(file) ? e : new TesseraError(e.code, `${file}: ${e.message}`, { cause: e });
  }
}

/** The format an output path asks for, by extension. */
export function formatOfPath(path: string): ModelFormat | undefined {
  if (/\.onnx$/i.test(path)) return 'onnx';
  if (/\.tsr$/i.test(path)) return 'tsr';
  return undefined;
}
