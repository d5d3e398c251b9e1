/**
 * Builds inference responses: plain JSON, or (when any output is asked for as binary) the JSON
 * header followed by the binary outputs, with `Inference-Header-Content-Length` giving its size.
 */
import { toNumbers } from '../../runtime/dtype.js';
import { toV2Datatype } from '../datatypes.js';
import { badRequest } from '../errors.js';
import { encodeBinaryData } from './binary-codec.js';
import { encodeJsonData } from './json-codec.js';
import type { InferResponse, Parameters, ResponseOutput, TensorPayload } from './types.js';

export interface OutputToSend {
  tensor: TensorPayload;
  binary: boolean;
}

export interface EncodedResponse {
  body: Buffer;
  contentType: string;
  /** Set when binary outputs follow the JSON: the value of Inference-Header-Content-Length. */
  headerLength?: number;
}

export function encodeInferResponse(
  head: { modelName: string; modelVersion: string; id?: string; parameters?: Parameters },
  outputs: OutputToSend[],
): EncodedResponse {
  const blobs: Uint8Array[] = [];
  const out: ResponseOutput[] = outputs.map(({ tensor, binary }) => {
    const o: ResponseOutput = {
      name: tensor.name,
      datatype: toV2Datatype(tensor.dtype),
      shape: tensor.shape,
    };
    if (binary) {
      const bytes = encodeBinaryData(tensor.dtype, tensor.data);
      blobs.push(bytes);
      o.parameters = { binary_data_size: bytes.length };
    } else {
      o.data = encodeJsonData(tensor.dtype, tensor.data);
    }
    return o;
  });
  const response: InferResponse = {
    model_name: head.modelName,
    model_version: head.modelVersion,
    ...(head.id !== undefined ? { id: head.id } : {}),
    ...(head.parameters && Object.keys(head.parameters).length ? { parameters: head.parameters } : {}),
    outputs: out,
  };
  const json = Buffer.from(JSON.stringify(response), 'utf8');
  if (!blobs.length) return { body: json, contentType: 'application/json' };
  return {
    body: Buffer.concat([json, ...blobs]),
    contentType: 'application/octet-stream',
    headerLength: json.length,
  };
}

/**
 * The classification extension: the top `k` entries along the last dimension (per batch item),
 * as BYTES "score:index" (or "score:index:label" when the output has labels).
 */
export function classify(t: TensorPayload, k: number, labels?: readonly string[]): TensorPayload {
  if (t.dtype === 'string')
    throw badRequest(`output '${t.name}': classification needs a numeric output, got BYTES`);
  const values = toNumbers(t.dtype, t.data);
  const classes = t.shape.length ? t.shape[t.shape.length - 1]! : 1;
  const rows = classes ? values.length / classes : 0;
  const kk = Math.min(k, classes);
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    const idx = Array.from({ length: classes }, (_, i) => i);
    const base = r * classes;
    idx.sort((a, b) => values[base + b]! - values[base + a]! || a - b);
    for (let j = 0; j < kk; j++) {
      const i = idx[j]!;
      const label = labels?.[i];
      out.push(`${values[base + i]}:${i}${label !== undefined ? `:${label}` : ''}`);
    }
  }
  const shape = t.shape.length ? [...t.shape.slice(0, -1), kk] : [kk];
  return { name: t.name, dtype: 'string', shape, data: out };
}
