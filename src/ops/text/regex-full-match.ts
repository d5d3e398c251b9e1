/**
 * RegexFullMatch (opset 20): true where the whole string matches `pattern`, an RE2 expression. The
 * pattern runs as a JavaScript RegExp (unicode mode, anchored at both ends): RE2's own spellings
 * are translated ((?P<name>...), \A, \z, leading (?i)/(?s)/(?m) flags) and the constructs RE2 has
 * not (look-around, back-references) are rejected, as RE2 rejects them.
 */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrString, input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { stringsOf } from './string-input.js';

const OP = 'RegexFullMatch';

const SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));

/**
 * RE2 lets any ASCII punctuation be escaped; unicode-mode RegExps only the syntax characters (and
 * '-' inside a class), so the other escapes become the plain character.
 */
function unescapePunctuation(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      const d = p[i + 1]!;
      const punct = /[!-/:-@[-`{-~]/.test(d);
      out += punct && !SYNTAX.has(d) && !(d === '-' && inClass) ? d : c + d;
      i++;
      continue;
    }
    if (c === '[' && !inClass) inClass = true;
    else if (c === ']' && inClass) inClass = false;
    out += c;
  }
  return out;
}

/** A RegExp that fully matches what RE2 `pattern` fully matches. */
export function re2ToRegExp(pattern: string): RegExp {
  let flags = 'u';
  let p = pattern;
  const lead = /^\(\?([imsU]+)\)/.exec(p);
  if (lead) {
    for (const f of lead[1]!) {
      if (f === 'U')
        throw new TesseraError('UNSUPPORTED', `${OP}: the RE2 flag U (ungreedy) is not supported`);
      if (!flags.includes(f)) flags += f;
    }
    p = p.slice(lead[0].length);
  }
  if (/\(\?<?[=!]/.test(p) || /\\[1-9]/.test(p)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: pattern '${pattern}' uses look-around or back-references, which RE2 does not support`,
    );
  }
  p = unescapePunctuation(
    p
      .replace(/\(\?P</g, '(?<')
      .replace(/\\A/g, '^')
      .replace(/\\z/g, '$'),
  );
  try {
    return new RegExp(`^(?:${p})$`, flags);
  } catch (e) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: invalid pattern '${pattern}': ${(e as Error).message}`,
    );
  }
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
      const re = re2ToRegExp(attrString(attrs, 'pattern', undefined, 'RegexFullMatch'));
      const out = new Uint8Array(vals.length);
      for (let i = 0; i < vals.length; i++) out[i] = re.test(vals[i]!) ? 1 : 0;
      return [Tensor.fromData(out, [...x.shape], 'bool')];
    },
  },
});
