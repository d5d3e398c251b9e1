/**
 * Parses an inference request body: a JSON object, optionally followed by binary tensor data when
 * the `Inference-Header-Content-Length` header says where the JSON ends. Only the structure is
 * checked here; the model's names, datatypes and shapes are checked by the infer route.
 */
import { binaryElementSize, isV2Datatype, toDType, V2_DATATYPES } from '../datatypes.js';
import { badRequest, unsupported } from '../errors.js';
import {
  checkJsonDepth,
  DEFAULT_LIMITS,
  elementCount,
  limitExceeded,
  type ServerLimits,
} from '../security/limits.js';
import { decodeBinaryData } from './binary-codec.js';
import { decodeJsonData } from './json-codec.js';
import type { Parameters, ParsedInferRequest, RawInput, RequestedOutput, TensorPayload } from './types.js';

export const HEADER_LENGTH = 'inference-header-content-length';

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parameters(x: unknown, where: string): Parameters {
  if (x === undefined) return {};
  if (!isObject(x)) throw badRequest(`${where}: 'parameters' must be an object`);
  if (x.shared_memory_region !== undefined) {
    throw unsupported(
      `${where}: the shared-memory extension (shared_memory_region) is not supported; send the data in the request`,
    );
  }
  return x;
}

/** The limits a request body is checked against while it is parsed. */
export type RequestLimits = Pick<
  ServerLimits,
  'maxJsonDepth' | 'maxInputs' | 'maxTensorElements' | 'maxTensorBytes'
>;

/** Splits the body into the JSON header and the binary part. */
export function splitBody(
  body: Buffer,
  headerLength: string | undefined,
  limits: Pick<ServerLimits, 'maxJsonDepth'> = DEFAULT_LIMITS,
): { json: unknown; binary: Buffer } {
  let jsonEnd = body.length;
  if (headerLength !== undefined) {
    const n = Number(headerLength);
    if (!/^\d+$/.test(headerLength.trim()) || !Number.isSafeInteger(n)) {
      throw badRequest(
        `Inference-Header-Content-Length must be a non-negative integer, got '${headerLength}'`,
      );
    }
    if (n > body.length) {
      throw badRequest(
        `Inference-Header-Content-Length is ${n} but the request body has only ${body.length} bytes`,
      );
    }
    jsonEnd = n;
  }
  if (jsonEnd === 0) throw badRequest('the request body is empty: expected a JSON inference request');
  checkJsonDepth(body.subarray(0, jsonEnd), limits);
  let json: unknown;
  try {
    json = JSON.parse(body.subarray(0, jsonEnd).toString('utf8'));
  } catch (e) {
    const hint =
      headerLength === undefined ? '' : ` (the first ${jsonEnd} bytes, per Inference-Header-Content-Length)`;
    throw badRequest(`malformed JSON in the request header${hint}: ${(e as Error).message}`);
  }
  return { json, binary: body.subarray(jsonEnd) };
}

export function parseInferRequest(
  body: Buffer,
  headerLength?: string,
  limits: RequestLimits = DEFAULT_LIMITS,
): ParsedInferRequest {
  const { json, binary } = splitBody(body, headerLength, limits);
  if (!isObject(json)) throw badRequest('the inference request must be a JSON object');
  const id = json.id;
  if (id !== undefined && typeof id !== 'string') throw badRequest(`'id' must be a string, got ${typeof id}`);
  const params = parameters(json.parameters, 'request');
  const binaryOutput = params.binary_data_output;
  if (binaryOutput !== undefined && typeof binaryOutput !== 'boolean') {
    throw badRequest("request parameter 'binary_data_output' must be a boolean");
  }
  if (!Array.isArray(json.inputs)) throw badRequest("the request needs an 'inputs' array");
  if (json.inputs.length > limits.maxInputs) {
    throw limitExceeded('maxInputs', 400, `the number of inputs (${json.inputs.length})`, limits.maxInputs);
  }

  let offset = 0;
  let totalBytes = 0;
  const seen = new Set<string>();
  const inputs: RawInput[] = json.inputs.map((x, i) => {
    if (!isObject(x)) throw badRequest(`inputs[${i}] must be an object`);
    const name = x.name;
    if (typeof name !== 'string' || !name) throw badRequest(`inputs[${i}] needs a 'name' string`);
    if (seen.has(name)) throw badRequest(`input '${name}' appears more than once`);
    seen.add(name);
    const datatype = x.datatype;
    if (!isV2Datatype(datatype)) {
      throw badRequest(
        `input '${name}': unknown datatype ${JSON.stringify(datatype)}, expected one of ${V2_DATATYPES.join(', ')}`,
      );
    }
    const shape = x.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw badRequest(
        `input '${name}': 'shape' must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
      );
    }
    // Refuse claimed sizes before anything is allocated for them.
    const elements = elementCount(shape as number[], limits.maxTensorElements);
    if (elements > limits.maxTensorElements) {
      throw limitExceeded(
        'maxTensorElements',
        413,
        `input '${name}': the element count of shape ${JSON.stringify(shape)}`,
        limits.maxTensorElements,
      );
    }
    // BYTES elements: their wire size when binary, else a pointer-sized estimate each.
    const elementBytes = binaryElementSize(toDType(datatype)) || 8;
    totalBytes += elements * elementBytes;
    if (totalBytes > limits.maxTensorBytes) {
      throw limitExceeded(
        'maxTensorBytes',
        413,
        `input '${name}': the request's input tensors (${totalBytes} bytes so far)`,
        limits.maxTensorBytes,
      );
    }
    const p = parameters(x.parameters, `input '${name}'`);
    const raw: RawInput = {
      name,
      datatype,
      dtype: toDType(datatype),
      shape: shape as number[],
      parameters: p,
    };
    const size = p.binary_data_size;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0) {
        throw badRequest(`input '${name}': 'binary_data_size' must be a non-negative integer`);
      }
      if (x.data !== undefined) throw badRequest(`input '${name}' has both 'data' and 'binary_data_size'`);
      if (offset + (size as number) > binary.length) {
        throw badRequest(
          `input '${name}': binary_data_size ${size} goes past the end of the binary data (${binary.length - offset} bytes left)`,
        );
      }
      raw.binary = binary.subarray(offset, offset + (size as number));
      offset += size as number;
    } else {
      if (x.data === undefined) throw badRequest(`input '${name}' has no 'data' (and no 'binary_data_size')`);
      raw.json = x.data;
    }
    return raw;
  });
  if (offset !== binary.length) {
    throw badRequest(
      `the request carries ${binary.length} bytes of binary data but its inputs' binary_data_size add up to ${offset}`,
    );
  }

  let outputs: RequestedOutput[] | undefined;
  if (json.outputs !== undefined) {
    if (!Array.isArray(json.outputs)) throw badRequest("'outputs' must be an array");
    const names = new Set<string>();
    outputs = json.outputs.map((x, i) => {
      if (!isObject(x) || typeof x.name !== 'string' || !x.name) {
        throw badRequest(`outputs[${i}] needs a 'name' string`);
      }
      if (names.has(x.name)) throw badRequest(`output '${x.name}' is requested more than once`);
      names.add(x.name);
      const p = parameters(x.parameters, `output '${x.name}'`);
      if (p.binary_data !== undefined && typeof p.binary_data !== 'boolean') {
        throw badRequest(`output '${x.name}': 'binary_data' must be a boolean`);
      }
      const k = p.classification;
      if (k !== undefined && (!Number.isSafeInteger(k) || (k as number) < 1)) {
        throw badRequest(`output '${x.name}': 'classification' must be a positive integer`);
      }
      return {
        name: x.name,
        binary: p.binary_data as boolean | undefined,
        classification: k as number | undefined,
        parameters: p,
      };
    });
  }
  return { id, parameters: params, inputs, outputs, binaryOutput: binaryOutput === true };
}

/** Turns an input's wire data into storage (after the model has accepted its name, datatype and shape). */
export function decodeInput(raw: RawInput): TensorPayload {
  if (raw.binary) return decodeBinaryData(raw.name, raw.datatype, raw.dtype, raw.shape, raw.binary);
  return decodeJsonData(raw.name, raw.datatype, raw.dtype, raw.shape, raw.json);
}
