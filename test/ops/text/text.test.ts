import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ops, type Tensor, tensor } from '../../../src/index.js';
import { runNodeTests } from '../misc/node-cases.js';

const run = (op: string, inputs: Tensor[], attrs = {}) => ops.dispatch(op, inputs, attrs);
const strs = (v: string[], shape?: number[]) => {
  const t = tensor(v, { dtype: 'string' });
  return shape ? t.reshape(shape) : t;
};

test('StringSplit: Python str.split semantics, padding and counts', () => {
  // Expected lists are what Python 3 prints for the same calls.
  const [y, n] = run('StringSplit', [strs(['a,,b,', '', 'c'])], { delimiter: ',' });
  assert.deepEqual(y!.shape, [3, 4]);
  assert.deepEqual(y!.toArray(), [
    ['a', '', 'b', ''], // 'a,,b,'.split(',')
    ['', '', '', ''], // ''.split(',') == ['']
    ['c', '', '', ''],
  ]);
  assert.deepEqual(n!.toArray(), [4, 1, 1]);
  assert.equal(n!.dtype, 'int64');
  // Whitespace splitting with maxsplit keeps the rest's trailing whitespace: ' a  b  c '.split(None, 1).
  const [w, wn] = run('StringSplit', [strs([' a  b  c ', '', '  x\ty\n z  '], [3, 1])], { maxsplit: 1 });
  assert.deepEqual(w!.shape, [3, 1, 2]);
  assert.deepEqual(w!.toArray(), [[['a', 'b  c ']], [['', '']], [['x', 'y\n z  ']]]);
  assert.deepEqual(wn!.toArray(), [[2], [0], [2]]);
  // A multi-character delimiter: 'a--b--c'.split('--', 1) == ['a', 'b--c'].
  assert.deepEqual(run('StringSplit', [strs(['a--b--c'])], { delimiter: '--', maxsplit: 1 })[0]!.toArray(), [
    ['a', 'b--c'],
  ]);
  assert.throws(
    () => run('StringSplit', [tensor([1, 2])]),
    /StringSplit: X must be a string tensor, got float32/,
  );
  assert.throws(
    () => run('StringSplit', [strs(['a'])], { maxsplit: -1 }),
    /StringSplit: maxsplit must be a non-negative integer/,
  );
});

test('StringConcat: broadcasting, scalars, unicode', () => {
  const y = run('StringConcat', [strs(['a', 'b'], [2, 1]), strs(['x', 'y', 'z'])])[0]!;
  assert.deepEqual(y.toArray(), [
    ['ax', 'ay', 'az'],
    ['bx', 'by', 'bz'],
  ]);
  assert.deepEqual(run('StringConcat', [strs(['é'], []), strs(['👍'], [])])[0]!.toArray(), 'é👍');
  assert.throws(() => run('StringConcat', [strs(['a', 'b']), strs(['x', 'y', 'z'])]), /StringConcat/);
});

test('StringNormalizer: stopwords (case-sensitive or not), case change, all-dropped output', () => {
  const x = strs(['Monday', 'tuesday', 'MONDAY', 'Wed']);
  assert.deepEqual(run('StringNormalizer', [x], { stopwords: ['monday'] })[0]!.toArray(), ['tuesday', 'Wed']);
  assert.deepEqual(
    run('StringNormalizer', [x], {
      stopwords: ['monday'],
      is_case_sensitive: 1,
      case_change_action: 'UPPER',
    })[0]!.toArray(),
    ['MONDAY', 'TUESDAY', 'MONDAY', 'WED'],
  );
  assert.deepEqual(run('StringNormalizer', [x], { case_change_action: 'LOWER' })[0]!.toArray(), [
    'monday',
    'tuesday',
    'monday',
    'wed',
  ]);
  const all = run('StringNormalizer', [strs(['a', 'A'], [1, 2])], { stopwords: ['a'] })[0]!;
  assert.deepEqual(all.shape, [1, 1]);
  assert.deepEqual(all.toArray(), [['']]);
  assert.throws(
    () => run('StringNormalizer', [strs(['a', 'b'], [2, 1])]),
    /StringNormalizer: X must have shape \[C\] or \[1, C\], got \[2, 1\]/,
  );
  assert.throws(
    () => run('StringNormalizer', [x], { case_change_action: 'TITLE' }),
    /case_change_action must be LOWER, UPPER or NONE/,
  );
});

test('RegexFullMatch: whole-string matches, RE2 spellings, and rejected constructs', () => {
  const x = strs(['abc123', 'abc', '123abc', 'ABC1'], [2, 2]);
  const y = run('RegexFullMatch', [x], { pattern: '[a-z]+\\d+' })[0]!;
  assert.equal(y.dtype, 'bool');
  assert.deepEqual(y.toArray(), [
    [true, false],
    [false, false],
  ]);
  // (?i) flag, a (?P<name>...) group, \A ... \z anchors and an escaped '@' (legal in RE2).
  assert.deepEqual(run('RegexFullMatch', [x], { pattern: '(?i)\\A(?P<w>[a-z]+)1\\z' })[0]!.toArray(), [
    [false, false],
    [false, true],
  ]);
  assert.deepEqual(run('RegexFullMatch', [strs(['a@b', 'ab'])], { pattern: 'a\\@b' })[0]!.toArray(), [
    true,
    false,
  ]);
  // '.' matches one code point, as RE2 on UTF-8.
  assert.deepEqual(run('RegexFullMatch', [strs(['👍'])], { pattern: '.' })[0]!.toArray(), [true]);
  assert.throws(() => run('RegexFullMatch', [x], { pattern: 'a(?=b)' }), /RE2 does not support/);
  assert.throws(() => run('RegexFullMatch', [x], { pattern: '(a' }), /RegexFullMatch: invalid pattern '\(a'/);
});

test('TfIdfVectorizer: counts by hand, skip-grams, IDF and TFIDF weights, string pools', () => {
  // Pool: unigrams [1, 2] then bigrams (1, 2), (2, 3); columns 0..3 in that order.
  const base = {
    min_gram_length: 1,
    max_gram_length: 2,
    max_skip_count: 0,
    mode: 'TF',
    ngram_counts: [0, 2],
    ngram_indexes: [0, 1, 2, 3],
    pool_int64s: [1, 2, 1, 2, 2, 3],
  };
  // Row [1, 2, 3, 1, 2]: unigram 1 x2, 2 x2; bigram (1,2) x2 (positions 0-1, 3-4), (2,3) x1.
  const x = tensor([1, 2, 3, 1, 2], { dtype: 'int64' });
  assert.deepEqual(run('TfIdfVectorizer', [x], base)[0]!.toArray(), [2, 2, 2, 1]);
  // One skip adds the item pairs two apart: (1, 3), (2, 1), (3, 2), none in the pool; in [1, 9, 2] the
  // bigram (1, 2) is found only with one item skipped.
  assert.deepEqual(run('TfIdfVectorizer', [x], { ...base, max_skip_count: 1 })[0]!.toArray(), [2, 2, 2, 1]);
  const skip = tensor([1, 9, 2], { dtype: 'int32' });
  assert.deepEqual(run('TfIdfVectorizer', [skip], base)[0]!.toArray(), [1, 1, 0, 0]);
  assert.deepEqual(
    run('TfIdfVectorizer', [skip], { ...base, max_skip_count: 1 })[0]!.toArray(),
    [1, 1, 1, 0],
  );
  // Bigrams only, batched: rows are counted separately.
  const rows = tensor([1, 2, 3, 2, 3, 3], { dtype: 'int64' }).reshape([2, 3]);
  assert.deepEqual(run('TfIdfVectorizer', [rows], { ...base, min_gram_length: 2 })[0]!.toArray(), [
    [0, 0, 1, 1],
    [0, 0, 0, 1],
  ]);
  const weights = [0.5, 2, 3, 4];
  assert.deepEqual(
    run('TfIdfVectorizer', [x], { ...base, mode: 'IDF', weights })[0]!.toArray(),
    [0.5, 2, 3, 4],
  );
  assert.deepEqual(
    run('TfIdfVectorizer', [x], { ...base, mode: 'TFIDF', weights })[0]!.toArray(),
    [1, 4, 6, 4],
  );
  assert.deepEqual(run('TfIdfVectorizer', [x], { ...base, mode: 'IDF' })[0]!.toArray(), [1, 1, 1, 1]);
  // String pool.
  const s = strs(['the', 'cat', 'the', 'dog']);
  const sp = { ...base, pool_int64s: undefined, pool_strings: ['the', 'dog', 'the', 'cat', 'cat', 'the'] };
  assert.deepEqual(run('TfIdfVectorizer', [s], sp)[0]!.toArray(), [2, 1, 1, 1]);
  assert.throws(
    () => run('TfIdfVectorizer', [s], base),
    /TfIdfVectorizer: X must be an int32\/int64 tensor \(pool_int64s is set\), got string/,
  );
  assert.throws(
    () => run('TfIdfVectorizer', [x], { ...base, mode: 'BM25' }),
    /TfIdfVectorizer: mode must be TF, IDF or TFIDF/,
  );
});

test('ONNX conformance: string and TfIdfVectorizer node tests', () => {
  runNodeTests([
    'test_string_concat',
    'test_string_concat_broadcasting',
    'test_string_concat_empty_string',
    'test_string_concat_utf8',
    'test_string_concat_zero_dimensional',
    'test_string_split_basic',
    'test_string_split_consecutive_delimiters',
    'test_string_split_empty_string_delimiter',
    'test_string_split_empty_tensor',
    'test_string_split_maxsplit',
    'test_string_split_no_delimiter',
    'test_strnormalizer_export_monday_casesensintive_lower',
    'test_strnormalizer_export_monday_casesensintive_nochangecase',
    'test_strnormalizer_export_monday_casesensintive_upper',
    'test_strnormalizer_export_monday_empty_output',
    'test_strnormalizer_export_monday_insensintive_upper_twodim',
    'test_strnormalizer_nostopwords_nochangecase',
    'test_regex_full_match_basic',
    'test_regex_full_match_email_domain',
    'test_regex_full_match_empty',
    'test_tfidfvectorizer_tf_batch_onlybigrams_skip0',
    'test_tfidfvectorizer_tf_batch_onlybigrams_skip5',
    'test_tfidfvectorizer_tf_batch_uniandbigrams_skip5',
    'test_tfidfvectorizer_tf_only_bigrams_skip0',
    'test_tfidfvectorizer_tf_onlybigrams_levelempty',
    'test_tfidfvectorizer_tf_onlybigrams_skip5',
    'test_tfidfvectorizer_tf_uniandbigrams_skip5',
  ]);
});
