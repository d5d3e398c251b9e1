/** Argument checks shared by the layer constructors. */
import { TesseraError } from '../../runtime/errors.js';

/** An int or a list of `n` ints, as an n-tuple (torch's _single/_pair). */
export function ntuple(
  who: string,
  what: string,
  v: number | readonly number[],
  n: number,
  min = 0,
): number[] {
  const out = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (out.length !== n || out.some((x) => !Number.isInteger(x) || x < min)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: ${what} must be an integer >= ${min} or a list of ${n} such integers, got ${JSON.stringify(v)}`,
    );
  }
  return out;
}

/** A feature count: a non-negative integer. */
export function checkFeatures(who: string, n: number, what: string): void {
  if (!Number.isInteger(n) || n < 0) {
    throw new TesseraError('INVALID_ARGUMENT', `${who}: ${what} must be a non-negative integer, got ${n}`);
  }
}
