/**
 * One inference request against a model version: checks the request's inputs and outputs against
 * the model (names, datatypes, shapes, batch size), decodes the tensors, queues them on the
 * model's batcher, and shapes the response (classification, binary outputs).
 */

import type { BatchResult } from './batcher.js';
import { binaryElementSize, toV2Datatype } from './datatypes.js';
import { badRequest, unavailable } from './errors.js';
import type { ModelVersion } from './model-version.js';
import { decodeInput } from './protocol/request.js';
import {
  classify,
  type EncodedResponse,
  encodeInferResponse,
  type OutputToSend,
} from './protocol/response.js';
import type { ParsedInferRequest, RawInput, TensorPayload } from './protocol/types.js';
import { elementCount, limitExceeded } from './security/limits.js';

export interface InferOutcome {
  response: EncodedResponse;
  /** The request's own batch size (1 for models without a batch dimension). */
  batchSize: number;
  result: BatchResult;
}

const fmt = (s: readonly number[]) => `[${s.join(',')}]`;

/** Orders and checks the request's inputs against the model; returns them in model input order. */
export function checkInputs(
  mv: ModelVersion,
  req: ParsedInferRequest,
): { inputs: RawInput[]; batchSize: number } {
  const model = mv.name;
  const byName = new Map(req.inputs.map((i) => [i.name, i]));
  for (const i of req.inputs) {
    if (!mv.inputs.some((m) => m.name === i.name)) {
      throw badRequest(
        `unexpected inference input '${i.name}' for model '${model}'; its inputs are ${mv.inputs.map((m) => `'${m.name}'`).join(', ')}`,
      );
    }
  }
  const missing = mv.inputs.filter((m) => !m.optional && !byName.has(m.name)).map((m) => `'${m.name}'`);
  if (missing.length) {
    throw badRequest(
      `expected ${mv.inputs.length} inputs but got ${req.inputs.length} inputs for model '${model}': missing required input(s) ${missing.join(', ')}`,
    );
  }
  const batching = mv.config.maxBatchSize > 0;
  let batchSize = batching ? -1 : 1;
  const inputs: RawInput[] = [];
  for (const m of mv.inputs) {
    const i = byName.get(m.name);
    if (!i) continue;
    if (i.dtype !== m.dtype) {
      throw badRequest(
        `inference input '${i.name}' data-type is '${i.datatype}', but model '${model}' expects '${toV2Datatype(m.dtype)}'`,
      );
    }
    const expected = mv.servedShape(m);
    const ok = i.shape.length === expected.length && expected.every((d, k) => d === -1 || d === i.shape[k]);
    if (!ok) {
      throw badRequest(
        `unexpected shape for input '${i.name}' for model '${model}'. Expected ${fmt(expected)}, got ${fmt(i.shape)}`,
      );
    }
    if (batching) {
      const b = i.shape[0]!;
      if (b < 1 || b > mv.config.maxBatchSize) {
        throw badRequest(
          `inference request batch-size must be in [1, ${mv.config.maxBatchSize}] for model '${model}', input '${i.name}' has batch size ${b}`,
        );
      }
      if (batchSize !== -1 && b !== batchSize) {
        throw badRequest(
          `input '${i.name}' has batch size ${b} but the other inputs have ${batchSize}: every input of a request needs the same first dimension`,
        );
      }
      batchSize = b;
    }
    inputs.push(i);
  }
  return { inputs, batchSize: Math.max(batchSize, 1) };
}

/** The outputs to compute and how to send each (binary or JSON, classification). */
function planOutputs(mv: ModelVersion, req: ParsedInferRequest) {
  if (!req.outputs)
    return mv.outputs.map((o) => ({ name: o.name, binary: req.binaryOutput, classification: undefined }));
  return req.outputs.map((r) => {
    if (!mv.outputs.some((o) => o.name === r.name)) {
      throw badRequest(
        `unexpected inference output '${r.name}' for model '${mv.name}'; its outputs are ${mv.outputs.map((o) => `'${o.name}'`).join(', ')}`,
      );
    }
    return { name: r.name, binary: r.binary ?? req.binaryOutput, classification: r.classification };
  });
}

/** The request `timeout` parameter (microseconds), where the model allows overriding its default. */
function timeoutOf(mv: ModelVersion, req: ParsedInferRequest): number | undefined {
  const t = req.parameters.timeout;
  if (t === undefined) return undefined;
  if (!Number.isSafeInteger(t) || (t as number) < 0)
    throw badRequest("request parameter 'timeout' must be a non-negative integer (microseconds)");
  return mv.config.queuePolicy.allowTimeoutOverride ? (t as number) : undefined;
}

/**
 * The memory a request will need, estimated from shapes alone: its inputs and the outputs it asks
 * for, each held twice (decoded in the server, copied into the worker). An output dimension the
 * model leaves open (-1) is taken as the batch size for dim 0 of a batching model, else as the
 * largest size the inputs have at that position.
 */
export function estimateRequestBytes(
  mv: ModelVersion,
  inputs: RawInput[],
  outputNames: string[],
  batchSize: number,
): number {
  const size = (dtype: Parameters<typeof binaryElementSize>[0]) => binaryElementSize(dtype) || 8;
  let total = 0;
  for (const i of inputs) total += elementCount(i.shape) * size(i.dtype);
  for (const name of outputNames) {
    const o = mv.outputs.find((x) => x.name === name);
    if (!o) continue;
    const shape = mv.servedShape(o).map((d, k) => {
      if (d !== -1) return d;
      if (k === 0 && mv.config.maxBatchSize > 0) return batchSize;
      return Math.max(1, ...inputs.map((i) => i.shape[k] ?? 1));
    });
    total += elementCount(shape) * size(o.dtype);
  }
  return 2 * total;
}

export async function infer(
  mv: ModelVersion,
  req: ParsedInferRequest,
  signal?: AbortSignal,
  maxRequestMemoryBytes = Number.POSITIVE_INFINITY,
): Promise<InferOutcome> {
  const { inputs: raw, batchSize } = checkInputs(mv, req);
  const plan = planOutputs(mv, req);
  const timeoutUs = timeoutOf(mv, req);
  // The out-of-memory guard: refuse before decoding or running anything.
  const need = estimateRequestBytes(
    mv,
    raw,
    plan.map((p) => p.name),
    batchSize,
  );
  if (need > maxRequestMemoryBytes) {
    throw limitExceeded(
      'maxRequestMemoryBytes',
      413,
      `the memory this request needs for model '${mv.name}' (about ${need} bytes)`,
      maxRequestMemoryBytes,
    );
  }
  const inputs: TensorPayload[] = raw.map(decodeInput);
  if (!mv.batcher || !mv.ready) throw unavailable(`model '${mv.name}' version ${mv.version} is not ready`);
  const result = await mv.batcher.submit({ inputs, outputNames: plan.map((p) => p.name), timeoutUs, signal });
  const outputs: OutputToSend[] = plan.map((p, i) => {
    let tensor = result.outputs[i]!;
    if (p.classification !== undefined) {
      tensor = classify(tensor, p.classification, mv.outputs.find((o) => o.name === p.name)?.labels);
    }
    return { tensor, binary: p.binary };
  });
  const response = encodeInferResponse(
    { modelName: mv.name, modelVersion: mv.versionString, id: req.id },
    outputs,
  );
  return { response, batchSize, result };
}
