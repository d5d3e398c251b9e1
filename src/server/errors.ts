/**
 * HTTP errors of the inference server. Every failure reaches the client as `{"error": "..."}` with
 * the status Triton uses for the same condition: 400 bad request, 404 unknown model or version,
 * 503 not ready / queue full / timed out, 501 unsupported, 500 internal.
 */
import type { ErrorCode } from '../runtime/errors.js';
import { TesseraError } from '../runtime/errors.js';

export class HttpError extends Error {
  readonly status: number;
  /** Failure reason for nv_inference_request_failure: REJECTED (queue), CANCELED, BACKEND, OTHER. */
  readonly reason: FailureReason;
  constructor(status: number, message: string, reason: FailureReason = 'OTHER') {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.reason = reason;
  }
}

export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

export const badRequest = (message: string): HttpError => new HttpError(400, message);
export const notFound = (message: string): HttpError => new HttpError(404, message);
export const unavailable = (message: string, reason: FailureReason = 'OTHER'): HttpError =>
  new HttpError(503, message, reason);
export const unsupported = (message: string): HttpError => new HttpError(501, message);

const STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  SHAPE_MISMATCH: 400,
  DTYPE_MISMATCH: 400,
  NOT_FOUND: 404,
  UNSUPPORTED: 501,
  INVALID_MODEL: 400,
  RESOURCE_EXHAUSTED: 503,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

/** A plain description of an error that crosses the worker boundary (Error objects lose their class). */
export interface ErrorInfo {
  code?: string;
  status?: number;
  message: string;
}

export function errorInfo(err: unknown): ErrorInfo {
  if (err instanceof HttpError) return { status: err.status, message: err.message };
  if (err instanceof TesseraError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { message: err.message };
  return { message: String(err) };
}

/** The HTTP status for any thrown value (or an ErrorInfo that came back from a worker). */
export function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err && typeof err === 'object') {
    const e = err as { status?: unknown; code?: unknown; type?: unknown };
    if (typeof e.status === 'number' && e.status >= 400 && e.status < 600) return e.status;
    if (typeof e.code === 'string' && e.code in STATUS) return STATUS[e.code as ErrorCode];
  }
  return 500;
}

/** Rebuilds an error reported by a worker, keeping its status. */
export function fromErrorInfo(info: ErrorInfo, prefix = ''): HttpError {
  const status = info.status ?? (info.code && info.code in STATUS ? STATUS[info.code as ErrorCode] : 500);
  return new HttpError(status, prefix + info.message, status >= 500 ? 'BACKEND' : 'OTHER');
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
export const internal = (message: string): HttpError => new HttpError(500, message, 'BACKEND');
