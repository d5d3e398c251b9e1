/** The ONNX importer: model files and bytes to the Graph IR, and ONNX test-data (.pb) values. */
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { TesseraError } from '../../runtime/errors.js';
import type { OptionalValue, TensorSequence, ValueType } from '../../runtime/graph.js';
import type { Tensor } from '../../runtime/tensor.js';
import {
  decodeMessage,
  encodeMessage,
  type OptionalProto,
  type SequenceProto,
  type TensorProto,
} from './proto.js';
import {
  optionalFromProto,
  optionalToProto,
  sequenceFromProto,
  sequenceToProto,
  tensorFromProto,
  tensorToProto,
} from './tensor-proto.js';

export { FunctionInliner } from './functions.js';
export { importOnnxBytes, importOnnxFile, MAX_IR_VERSION, type OnnxLoadOptions } from './model.js';
export { decodeMessage, encodeMessage } from './proto.js';
export {
  DEFAULT_MAX_ELEMENTS,
  dtypeFromOnnx,
  onnxFromDtype,
  optionalFromProto,
  sequenceFromProto,
  tensorFromProto,
  tensorToProto,
} from './tensor-proto.js';
export { valueTypeFromProto } from './types.js';

/** Decodes a serialized TensorProto. */
export function decodeTensor(bytes: Uint8Array, baseDir?: string): Tensor {
  return tensorFromProto(decodeMessage<TensorProto>('TensorProto', bytes), { baseDir });
}
/** Serializes a tensor as a TensorProto (raw_data). */
export function encodeTensor(t: Tensor, name?: string): Uint8Array {
  return encodeMessage('TensorProto', tensorToProto(t, name));
}
export function encodeSequence(s: TensorSequence, name?: string): Uint8Array {
  return encodeMessage('SequenceProto', sequenceToProto(s, name));
}
export function encodeOptional(o: OptionalValue, name?: string): Uint8Array {
  return encodeMessage('OptionalProto', optionalToProto(o, name));
}

/**
 * Reads an ONNX test-data file (input_0.pb, output_0.pb): a TensorProto, or a SequenceProto /
 * OptionalProto when `type` says the value is a sequence or optional.
 */
export function readValueFile(path: string, type?: ValueType): Tensor | TensorSequence | OptionalValue {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`, { cause: e });
  }
  const opts = { baseDir: dirname(path) };
  if (type?.kind === 'sequence')
    return sequenceFromProto(decodeMessage<SequenceProto>('SequenceProto', bytes, path), opts);
  if (type?.kind === 'optional')
    return optionalFromProto(decodeMessage<OptionalProto>('OptionalProto', bytes, path), opts);
  return tensorFromProto(decodeMessage<TensorProto>('TensorProto', bytes, path), opts);
}
