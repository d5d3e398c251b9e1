/**
 * TfIdfVectorizer (opset 9): counts the n-grams of the pool (pool_int64s or pool_strings) in each
 * row of X ([C] or [B, C], ints or strings), including skip-grams whose items are up to
 * max_skip_count positions apart, for n in [min_gram_length, max_gram_length]. ngram_counts[i] is
 * where the (i+1)-grams start in the pool; ngram_indexes maps the k-th pool n-gram to its output
 * column. mode TF gives the counts, IDF weights[j] (or 1) where a count is non-zero, TFIDF
 * weights[j] * count. Unigrams are counted once, whatever the skip. Output float32 [columns] or
 * [B, columns].
 */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, attrString, input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';

const OP = 'TfIdfVectorizer';

type Key = number | string;
/** A trie over pool n-grams; `id` is the 1-based pool n-gram number (0: a prefix only). */
interface Node {
  id: number;
  next?: Map<Key, Node>;
}

interface Config {
  trie: Node;
  minN: number;
  maxN: number;
  maxSkip: number;
  indexes: number[];
  columns: number;
  mode: 'TF' | 'IDF' | 'TFIDF';
  weights?: number[];
  strings: boolean;
}

function configOf(attrs: Attrs): Config {
  const minN = attrInt(attrs, 'min_gram_length', undefined, 'TfIdfVectorizer');
  const maxN = attrInt(attrs, 'max_gram_length');
  const maxSkip = attrInt(attrs, 'max_skip_count');
  const mode = attrString(attrs, 'mode');
  if (mode !== 'TF' && mode !== 'IDF' && mode !== 'TFIDF')
    throw new TesseraError('INVALID_ARGUMENT', `${OP}: mode must be TF, IDF or TFIDF, got '${mode}'`);
  if (minN < 1 || maxN < minN || maxSkip < 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: expected 1 <= min_gram_length <= max_gram_length and max_skip_count >= 0, got ${minN}, ${maxN}, ${maxSkip}`,
    );
  }
  const counts = attrInts(attrs, 'ngram_counts', []);
  const indexes = attrInts(attrs, 'ngram_indexes', []);
  const ints = attrs.pool_int64s as number[] | undefined;
  const strs = attrs.pool_strings as string[] | undefined;
  if ((ints === undefined) === (strs === undefined))
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: exactly one of pool_int64s and pool_strings is required`,
    );
  const pool: Key[] = ints ?? strs!;
  const weights = attrs.weights as number[] | undefined;
  const trie: Node = { id: 0, next: new Map() };
  let id = 1;
  for (let i = 0; i < counts.length; i++) {
    const n = i + 1;
    const start = counts[i]!;
    const end = i + 1 < counts.length ? counts[i + 1]! : pool.length;
    if (start < 0 || end > pool.length || end < start || (end - start) % n !== 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${OP}: ngram_counts[${i}] = ${start} does not delimit whole ${n}-grams in a pool of ${pool.length} items`,
      );
    }
    const grams = (end - start) / n;
    if (n < minN || n > maxN) {
      id += grams;
      continue;
    }
    for (let g = 0; g < grams; g++) {
      let node = trie;
      for (let j = 0; j < n; j++) {
        const key = pool[start + g * n + j]!;
        node.next ??= new Map();
        let child = node.next.get(key);
        if (!child) {
          child = { id: 0 };
          node.next.set(key, child);
        }
        node = child;
      }
      if (id - 1 >= indexes.length)
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: ngram_indexes has no entry for pool n-gram ${id - 1}`,
        );
      node.id = id++;
    }
  }
  const columns = indexes.length ? Math.max(...indexes) + 1 : 0;
  if (weights && weights.length < columns) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: weights has ${weights.length} entries, expected ${columns} (one per output column)`,
    );
  }
  return { trie, minN, maxN, maxSkip, indexes, columns, mode, weights, strings: strs !== undefined };
}

/** Counts pool n-grams of one row into freq[column]. */
function countRow(row: ArrayLike<Key>, cfg: Config, freq: Float64Array): void {
  const end = row.length;
  let startN = cfg.minN;
  for (let skip = 1; skip <= cfg.maxSkip + 1; skip++) {
    for (let s = 0; s < end; s++) {
      if (s + skip * (startN - 1) >= end) break;
      let node = cfg.trie;
      let n = 1;
      for (let item = s; n <= cfg.maxN && item < end; item += skip, n++) {
        const child = node.next?.get(row[item]!);
        if (!child) break;
        if (n >= startN && child.id !== 0) freq[cfg.indexes[child.id - 1]!]! += 1;
        node = child;
      }
    }
    // Unigrams do not depend on the skip: count them in the first pass only.
    if (startN === 1) {
      startN = 2;
      if (startN > cfg.maxN) break;
    }
  }
}

registerOp({
  name: OP,
  since: 9,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, OP);
      const cfg = configOf(attrs);
      const isStr = x.dtype === 'string';
      if (isStr !== cfg.strings || !(isStr || x.dtype === 'int32' || x.dtype === 'int64')) {
        throw new TesseraError(
          'DTYPE_MISMATCH',
          `${OP}: X must be ${cfg.strings ? 'a string tensor (pool_strings is set)' : 'an int32/int64 tensor (pool_int64s is set)'}, got ${x.dtype}`,
        );
      }
      if (x.ndim > 2 || (x.ndim === 2 && x.shape[0]! < 1)) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${OP}: X must have shape [C] or [B, C] with B > 0, got [${x.shape.join(', ')}]`,
        );
      }
      const rows = x.ndim === 2 ? x.shape[0]! : 1;
      const width = x.ndim === 0 ? 1 : x.shape[x.ndim - 1]!;
      const vals: ArrayLike<Key> = isStr ? (x.dataSync() as string[]) : x.numbers();
      const out = new Float32Array(rows * cfg.columns);
      const freq = new Float64Array(cfg.columns);
      for (let r = 0; r < rows; r++) {
        freq.fill(0);
        const row = Array.prototype.slice.call(vals, r * width, (r + 1) * width) as Key[];
        countRow(row, cfg, freq);
        for (let j = 0; j < cfg.columns; j++) {
          const f = freq[j]!;
          const w = cfg.weights ? cfg.weights[j]! : 1;
          out[r * cfg.columns + j] = cfg.mode === 'TF' ? f : cfg.mode === 'IDF' ? (f > 0 ? w : 0) : w * f;
        }
      }
      return [Tensor.fromData(out, x.ndim === 2 ? [rows, cfg.columns] : [cfg.columns], 'float32')];
    },
  },
});
