/** Shared checks for the string ops: a string tensor's elements in row-major order. */
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';

export function stringsOf(op: string, what: string, t: Tensor): string[] {
  if (t.dtype !== 'string')
    throw new TesseraError('DTYPE_MISMATCH', `${op}: ${what} must be a string tensor, got ${t.dtype}`);
  return t.dataSync() as string[];
}
