/**
 * StringSplit (opset 20): splits every string of X by `delimiter` as Python's str.split does (no
 * delimiter, or an empty one, splits on runs of whitespace and drops leading/trailing whitespace),
 * at most `maxsplit` times. Outputs the substrings, shape X.shape + [max count] padded with empty
 * strings, and the int64 count per element.
 */
import { allocate } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { stringsOf } from './string-input.js';

const OP = 'StringSplit';
const WS = /\s/;

/** Python's s.split(sep, maxsplit); sep undefined splits on whitespace runs. */
export function pySplit(s: string, sep: string | undefined, maxsplit: number): string[] {
  const out: string[] = [];
  if (sep === undefined) {
    let i = 0;
    const n = s.length;
    while (i < n) {
      while (i < n && WS.test(s[i]!)) i++;
      if (i >= n) break;
      if (maxsplit >= 0 && out.length === maxsplit) {
        // The rest, with leading whitespace already skipped and trailing whitespace kept.
        out.push(s.slice(i));
        break;
      }
      let j = i;
      while (j < n && !WS.test(s[j]!)) j++;
      out.push(s.slice(i, j));
      i = j;
    }
    return out;
  }
  let start = 0;
  while (maxsplit < 0 || out.length < maxsplit) {
    const k = s.indexOf(sep, start);
    if (k < 0) break;
    out.push(s.slice(start, k));
    start = k + sep.length;
  }
  out.push(s.slice(start));
  return out;
}

registerOp({
  name: OP,
  since: 20,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, OP);
      const vals = stringsOf(OP, 'X', x);
      const d = attrs.delimiter;
      if (d !== undefined && typeof d !== 'string')
        throw new TesseraError('INVALID_ARGUMENT', `${OP}: delimiter must be a string`);
      const m = attrs.maxsplit;
      if (m !== undefined && (typeof m !== 'number' || !Number.isInteger(m) || m < 0)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: maxsplit must be a non-negative integer, got ${String(m)}`,
        );
      }
      const parts = vals.map((s) => pySplit(s, d === '' ? undefined : d, m ?? -1));
      const width = parts.reduce((w, p) => Math.max(w, p.length), 0);
      const out = allocate('string', parts.length * width) as string[];
      const counts = new BigInt64Array(parts.length);
      parts.forEach((p, i) => {
        counts[i] = BigInt(p.length);
        for (let j = 0; j < p.length; j++) out[i * width + j] = p[j]!;
      });
      return [
        Tensor.fromData(out, [...x.shape, width], 'string'),
        Tensor.fromData(counts, [...x.shape], 'int64'),
      ];
    },
  },
});
