/** A decoded 8-bit image: `L` (one channel) or `RGB` (three, interleaved), rows top to bottom. */
import { TesseraError } from '../../../runtime/errors.js';

export interface Image {
  width: number;
  height: number;
  mode: 'L' | 'RGB';
  data: Uint8Array;
}

export const OP = 'ImageDecoder';

export function bad(format: string, what: string): TesseraError {
  return new TesseraError('INVALID_ARGUMENT', `${OP}: invalid ${format} data: ${what}`);
}
export function unsupported(format: string, what: string): TesseraError {
  return new TesseraError('UNSUPPORTED', `${OP}: ${format} ${what} is not supported`);
}

/** Checks a declared size against a sane bound before allocating for it. */
export function checkSize(format: string, width: number, height: number): void {
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < 1 ||
    height < 1 ||
    width * height > 1 << 28
  ) {
    throw bad(format, `image size ${width} x ${height}`);
  }
}
