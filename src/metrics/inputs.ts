/**
 * How metrics read their arguments: tensors (any dtype, read as numbers) or plain JS arrays
 * (nested for 2-D), and how predictions become class labels (argmax of logits/probabilities
 * over the last dim, or thresholding of binary scores).
 */
import { TesseraError } from '../runtime/errors.js';
import { Tensor } from '../runtime/tensor.js';

type Nested = number | boolean | readonly Nested[];
/** A tensor, a (nested) array of numbers or booleans, or a typed array. */
export type MetricInput = Tensor | readonly Nested[] | ArrayLike<number>;

export interface Values {
  values: ArrayLike<number>;
  shape: number[];
}

function fail(msg: string): never {
  throw new TesseraError('INVALID_ARGUMENT', msg);
}

export function readValues(x: MetricInput, who: string, what: string): Values {
  if (x instanceof Tensor) {
    if (x.dtype === 'string') fail(`${who}: ${what} must be numeric, got a string tensor`);
    return { values: x.numbers(), shape: [...x.shape] };
  }
  if (ArrayBuffer.isView(x))
    return { values: x as ArrayLike<number>, shape: [(x as ArrayLike<number>).length] };
  if (!Array.isArray(x)) fail(`${who}: ${what} must be a Tensor or an array, got ${typeof x}`);
  const shape: number[] = [];
  let cur: unknown = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    cur = cur[0];
  }
  const flat = (x as any[]).flat(shape.length) as unknown[];
  const values = new Float64Array(flat.length);
  flat.forEach((v, i) => {
    if (typeof v === 'boolean') values[i] = v ? 1 : 0;
    else if (typeof v === 'number') values[i] = v;
    else fail(`${who}: ${what} must hold numbers, got ${typeof v} at index ${i}`);
  });
  const expected = shape.reduce((a, b) => a * b, 1);
  if (values.length !== expected) fail(`${who}: ${what} is a ragged array`);
  return { values, shape };
}

function fmt(shape: number[]): string {
  return `[${shape.join(', ')}]`;
}

export interface LabelOptions {
  /** Binary scores/probabilities become label 1 where score >= threshold. */
  threshold?: number;
}

export interface Labels {
  pred: Int32Array;
  target: Int32Array;
  /** Number of classes the prediction had (logits width), when known. */
  width?: number;
}

/** Checks every value is a non-negative integer class label. */
function asLabels(v: ArrayLike<number>, who: string, what: string): Int32Array {
  const out = new Int32Array(v.length);
  for (let i = 0; i < v.length; i++) {
    const x = v[i]!;
    if (!Number.isInteger(x) || x < 0) {
      fail(`${who}: ${what} must hold class labels (integers >= 0), got ${x} at index ${i}`);
    }
    out[i] = x;
  }
  return out;
}

/**
 * Class labels from `pred` and `target`. `pred` is labels of target's shape, scores of target's
 * shape with `threshold`, or logits/probabilities with one more (last) dim, reduced by argmax.
 */
export function readLabels(
  predIn: MetricInput,
  targetIn: MetricInput,
  who: string,
  opts: LabelOptions = {},
): Labels {
  const p = readValues(predIn, who, 'pred');
  const t = readValues(targetIn, who, 'target');
  const target = asLabels(t.values, who, 'target');
  let pred: Int32Array;
  let width: number | undefined;
  const lead = p.shape.slice(0, -1);
  if (p.shape.length === t.shape.length + 1 && lead.every((d, i) => d === t.shape[i])) {
    width = p.shape[p.shape.length - 1]!;
    if (width < 2) {
      fail(
        `${who}: pred of shape ${fmt(p.shape)} has one score per sample; squeeze it to ${fmt(t.shape)} and pass a threshold`,
      );
    }
    pred = new Int32Array(target.length);
    for (let r = 0; r < target.length; r++) {
      let best = 0;
      let bestV = p.values[r * width]!;
      for (let c = 1; c < width; c++) {
        const v = p.values[r * width + c]!;
        // First maximum wins, as torch.argmax; NaN counts as the maximum, as torch.
        if (v > bestV || (Number.isNaN(v) && !Number.isNaN(bestV))) {
          best = c;
          bestV = v;
        }
      }
      pred[r] = best;
    }
  } else if (p.shape.length === t.shape.length && p.shape.every((d, i) => d === t.shape[i])) {
    if (opts.threshold !== undefined) {
      const th = opts.threshold;
      pred = Int32Array.from(p.values as ArrayLike<number>, (v) => (v >= th ? 1 : 0));
    } else pred = asLabels(p.values, who, 'pred');
  } else {
    fail(
      `${who}: pred of shape ${fmt(p.shape)} does not match target of shape ${fmt(t.shape)}; expected the same shape (labels) or ${fmt([...t.shape, -1])} (logits)`,
    );
  }
  if (target.length === 0) fail(`${who}: expected at least one sample, got none`);
  return { pred, target, width };
}
