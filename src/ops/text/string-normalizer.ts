/**
 * StringNormalizer (opset 10): drops the `stopwords` from a [C] or [1, C] string tensor (compared
 * exactly, or ignoring case when is_case_sensitive=0), then applies `case_change_action` (LOWER,
 * UPPER or NONE). When every element is dropped the output is one empty string, of shape [1] or
 * [1, 1].
 */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrString, input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { stringsOf } from './string-input.js';

const OP = 'StringNormalizer';

/** BCP 47 tag from an ONNX locale such as "en_US"; undefined keeps the runtime's default. */
function bcp47(locale: string): string | undefined {
  if (!locale) return undefined;
  const tag = locale.replace(/_/g, '-').split('.')[0]!;
  try {
    return Intl.getCanonicalLocales(tag)[0];
  } catch {
    throw new TesseraError('INVALID_ARGUMENT', `${OP}: locale '${locale}' is not a valid locale name`);
  }
}

registerOp({
  name: OP,
  since: 10,
  minInputs: 1,
  maxInputs: 1,
  defaults: { case_change_action: 'NONE', is_case_sensitive: 0, locale: '' },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, OP);
      const vals = stringsOf(OP, 'X', x);
      const twoD = x.ndim === 2;
      if (!(x.ndim === 1 || (twoD && x.shape[0] === 1))) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${OP}: X must have shape [C] or [1, C], got [${x.shape.join(', ')}]`,
        );
      }
      const action = attrString(attrs, 'case_change_action', 'NONE');
      if (action !== 'NONE' && action !== 'LOWER' && action !== 'UPPER') {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: case_change_action must be LOWER, UPPER or NONE, got '${action}'`,
        );
      }
      const locale = bcp47(attrString(attrs, 'locale', ''));
      const sensitive = attrInt(attrs, 'is_case_sensitive', 0) !== 0;
      const fold = (s: string) => (sensitive ? s : s.toLocaleLowerCase(locale));
      const stop = new Set(((attrs.stopwords as string[] | undefined) ?? []).map(fold));
      let kept = vals.filter((s) => !stop.has(fold(s)));
      if (action === 'LOWER') kept = kept.map((s) => s.toLocaleLowerCase(locale));
      if (action === 'UPPER') kept = kept.map((s) => s.toLocaleUpperCase(locale));
      if (kept.length === 0) kept = [''];
      return [Tensor.fromData(kept, twoD ? [1, kept.length] : [kept.length], 'string')];
    },
  },
});
