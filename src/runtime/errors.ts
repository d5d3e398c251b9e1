/**
 * Errors a user can cause. `code` is stable and machine-readable; the server maps
 * codes to HTTP statuses (INVALID_ARGUMENT -> 400, NOT_FOUND -> 404, ...).
 */
export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'SHAPE_MISMATCH'
  | 'DTYPE_MISMATCH'
  | 'NOT_FOUND'
  | 'UNSUPPORTED'
  | 'INVALID_MODEL'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class TesseraError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TesseraError';
    this.code = code;
  }
}

/** Throws INVALID_ARGUMENT with `message` when `cond` is false. */
export function check(
  cond: unknown,
  message: string | (() => string),
  code: ErrorCode = 'INVALID_ARGUMENT',
): asserts cond {
  if (!cond) throw new TesseraError(code, typeof message === 'string' ? message : message());
}
