/**
 * The server's input limits. Each is configurable (flag and environment variable) and a request
 * that breaks one is refused with a 400 or 413 whose message names the limit and its flag, before
 * the server allocates anything in proportion to what the request claims.
 */
import { HttpError } from '../errors.js';

export interface ServerLimits {
  /** Largest request body accepted, in bytes (413). */
  maxBodyBytes: number;
  /** Longest an inference request may take end to end, in ms (0: no limit); also bounds receiving the body. */
  requestTimeoutMs: number;
  /** Deepest nesting of arrays and objects in a JSON body (400). */
  maxJsonDepth: number;
  /** Most inputs in one inference request (400). */
  maxInputs: number;
  /** Most elements in one input tensor (413). */
  maxTensorElements: number;
  /** Most bytes of all input tensors of one request, decoded (413). */
  maxTensorBytes: number;
  /** Most memory one request may need: inputs and outputs, in the server and in the worker (413). */
  maxRequestMemoryBytes: number;
  /** Largest model file the repository loads (the model is not ready, with the reason). */
  maxModelFileBytes: number;
  /** Deepest protobuf message nesting in a model file (the model is not ready, with the reason). */
  maxProtobufDepth: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  maxBodyBytes: 64 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  maxJsonDepth: 64,
  maxInputs: 64,
  maxTensorElements: 64 * 1024 * 1024,
  maxTensorBytes: 256 * 1024 * 1024,
  maxRequestMemoryBytes: 1024 * 1024 * 1024,
  maxModelFileBytes: 2 * 1024 * 1024 * 1024 - 1,
  maxProtobufDepth: 100,
};

/** The `tessera serve` flag that sets each limit (named in every refusal). */
export const LIMIT_FLAGS: Record<keyof ServerLimits, string> = {
  maxBodyBytes: '--max-body-size',
  requestTimeoutMs: '--request-timeout',
  maxJsonDepth: '--max-json-depth',
  maxInputs: '--max-inputs',
  maxTensorElements: '--max-tensor-elements',
  maxTensorBytes: '--max-tensor-bytes',
  maxRequestMemoryBytes: '--max-request-memory',
  maxModelFileBytes: '--max-model-file-size',
  maxProtobufDepth: '--max-protobuf-depth',
};

/** A refusal that names the limit: "<what> exceeds the limit of <n> (<flag>)". */
export function limitExceeded(
  limit: keyof ServerLimits,
  status: 400 | 413,
  what: string,
  max: number,
): HttpError {
  return new HttpError(status, `${what} exceeds the limit of ${max} (${LIMIT_FLAGS[limit]})`, 'REJECTED');
}

/**
 * The nesting depth of the JSON text in `bytes`, or -1 as soon as it passes `max` (a linear scan
 * that ignores brackets inside strings; run before JSON.parse so no parser walks a hostile tree).
 */
export function jsonDepthExceeds(bytes: Uint8Array, max: number): boolean {
  let depth = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i]!;
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

/** Throws a 400 naming --max-json-depth when the JSON in `bytes` nests deeper than allowed. */
export function checkJsonDepth(bytes: Uint8Array, limits: Pick<ServerLimits, 'maxJsonDepth'>): void {
  if (jsonDepthExceeds(bytes, limits.maxJsonDepth)) {
    throw limitExceeded(
      'maxJsonDepth',
      400,
      'the nesting of arrays and objects in the JSON body',
      limits.maxJsonDepth,
    );
  }
}

/** Elements of a shape, stopping early (Infinity) once past `cap`, so huge claimed shapes cannot overflow. */
export function elementCount(shape: readonly number[], cap = Number.MAX_SAFE_INTEGER): number {
  if (shape.includes(0)) return 0;
  let n = 1;
  for (const d of shape) {
    n *= d;
    if (n > cap) return Number.POSITIVE_INFINITY;
  }
  return n;
}
