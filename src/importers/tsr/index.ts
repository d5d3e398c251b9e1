/**
 * Tessera's own model format, `.tsr`: one safetensors file whose `__metadata__` holds the graph
 * as JSON (key "tessera.graph") and whose tensors are the weights, top-level initializers under
 * their own names. Any safetensors reader can load the weights; Tessera loads the whole model
 * back to the same Graph IR, so ONNX -> .tsr -> ONNX is lossless.
 */
import { readFileSync } from 'node:fs';
import { TesseraError } from '../../runtime/errors.js';
import type { Model } from '../../runtime/graph.js';
import { writeFileAtomic } from './atomic-write.js';
import {
  type ModelJson,
  modelFromJson,
  modelToJson,
  TensorReader,
  TensorWriter,
  TSR_FORMAT,
} from './graph-json.js';
import { decodeSafetensors, encodeSafetensors } from './safetensors.js';

export { fsyncDir, writeFileAtomic } from './atomic-write.js';
export { type GraphJson, type ModelJson, TSR_FORMAT, TSR_VERSION } from './graph-json.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  isSafetensorsDType,
  type SafetensorsContents,
} from './safetensors.js';

const GRAPH_KEY = 'tessera.graph';

/** Serializes a model as .tsr bytes. */
export function encodeTsr(model: Model): Uint8Array {
  const w = new TensorWriter();
  const json = modelToJson(model, w);
  return encodeSafetensors(w.entries, { format: TSR_FORMAT, [GRAPH_KEY]: JSON.stringify(json) });
}

/** Whether bytes look like a .tsr file (a safetensors header naming the format). */
export function isTsr(bytes: Uint8Array): boolean {
  if (bytes.length < 10) return false;
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(0, true));
  if (n > bytes.length - 8) return false;
  const head = new TextDecoder().decode(bytes.subarray(8, 8 + Math.min(n, 4096)));
  return head.startsWith('{') && head.includes(`"${TSR_FORMAT}"`);
}

/** Reads a model from .tsr bytes. */
export function decodeTsr(bytes: Uint8Array, what = 'model.tsr'): Model {
  const { tensors, metadata } = decodeSafetensors(bytes, what);
  const text = metadata[GRAPH_KEY];
  if (text === undefined) {
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: a safetensors file without a graph ('${GRAPH_KEY}' metadata): not a .tsr model`,
    );
  }
  let json: ModelJson;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: the graph JSON does not parse: ${(e as Error).message}`,
    );
  }
  const reader = new TensorReader(tensors, what);
  const model = modelFromJson(json, reader, what);
  const unused = reader.unused();
  if (unused.length) {
    throw new TesseraError(
      'INVALID_MODEL',
      `${what}: tensors ${unused.slice(0, 5).join(', ')} are in the file but not in the graph`,
    );
  }
  return model;
}

/** Writes a model as a .tsr file, atomically (temporary file, fsync, rename). */
export function saveTsr(model: Model, path: string): void {
  writeFileAtomic(path, encodeTsr(model));
}

/** Reads a .tsr file. */
export function loadTsr(path: string): Model {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read model '${path}': ${(e as Error).message}`, { cause: e });
  }
  return decodeTsr(bytes, path);
}
