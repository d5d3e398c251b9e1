/**
 * Reading a model for a session: a path or bytes of either format (ONNX protobuf or Tessera's
 * .tsr, told apart by content), with a NOT_FOUND error naming the path. Inference and training
 * sessions both load through here.
 */
import { readFile } from 'node:fs/promises';
import { TesseraError } from '../runtime/errors.js';
import type { Model } from '../runtime/graph.js';
import { importOnnxBytes } from './onnx/model.js';
import { decodeTsr, isTsr } from './tsr/index.js';

export interface ModelBytesOptions {
  /** Folder of external tensor data (ONNX). */
  baseDir?: string;
  /** Largest tensor accepted while importing. */
  maxElements?: number;
}

export async function readModelFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read model '${path}': ${(e as Error).message}`, { cause: e });
  }
}

/** Imports ONNX or .tsr bytes into the Graph IR. */
export function importModelBytes(bytes: Uint8Array | ArrayBuffer, opts: ModelBytesOptions = {}): Model {
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  return isTsr(u8)
    ? decodeTsr(u8)
    : importOnnxBytes(u8, { baseDir: opts.baseDir, maxElements: opts.maxElements });
}
