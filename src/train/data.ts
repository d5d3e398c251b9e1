/**
 * Training data for the Trainer: model inputs (one tensor, a list in forward's argument order, or
 * a record keyed by graph input name) and a target, all with the sample count as dim 0. Batches
 * are copies of rows (no autograd), epochs are seeded permutations, and the validation split takes
 * the last fraction of the samples before any shuffling (as Keras' validation_split).
 */
import { readFileSync } from 'node:fs';
import { decodeSafetensors, encodeSafetensors } from '../importers/tsr/safetensors.js';
import { allocate, type DataArray } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { Generator } from '../runtime/random.js';
import { fmtShape } from '../runtime/shape.js';
import { Tensor } from '../runtime/tensor.js';

export interface TrainData {
  inputs: Tensor | Tensor[] | Record<string, Tensor>;
  target: Tensor;
}

/** Normalized data: inputs in order (with their names when given as a record). */
export interface Dataset {
  names: string[] | null;
  inputs: Tensor[];
  target: Tensor;
  size: number;
}

export function toDataset(d: TrainData, who = 'Trainer'): Dataset {
  if (!d || typeof d !== 'object' || !('inputs' in d) || !('target' in d)) {
    throw new TesseraError('INVALID_ARGUMENT', `${who}: data must be { inputs, target }`);
  }
  let names: string[] | null = null;
  let inputs: Tensor[];
  if (d.inputs instanceof Tensor) inputs = [d.inputs];
  else if (Array.isArray(d.inputs)) inputs = [...d.inputs];
  else if (d.inputs && typeof d.inputs === 'object') {
    names = Object.keys(d.inputs);
    inputs = Object.values(d.inputs);
  } else
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${who}: inputs must be a tensor, a list or a record of tensors`,
    );
  if (inputs.length === 0) throw new TesseraError('INVALID_ARGUMENT', `${who}: no inputs given`);
  const all = [...inputs, d.target];
  all.forEach((t, i) => {
    const what = i === inputs.length ? 'target' : names ? `input '${names[i]}'` : `input ${i}`;
    if (!(t instanceof Tensor))
      throw new TesseraError('INVALID_ARGUMENT', `${who}: ${what} must be a Tensor, got ${typeof t}`);
    if (t.ndim === 0)
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${who}: ${what} must have a sample dim (dim 0), got a 0-d tensor`,
      );
    if (t.device !== 'cpu')
      throw new TesseraError(
        'UNSUPPORTED',
        `${who}: ${what} is on ${t.device}; training data must be on cpu`,
      );
  });
  const size = d.target.shape[0]!;
  inputs.forEach((t, i) => {
    if (t.shape[0] !== size) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${who}: ${names ? `input '${names[i]}'` : `input ${i}`} has ${t.shape[0]} samples (shape ${fmtShape(t.shape)}), the target has ${size}`,
      );
    }
  });
  if (size === 0) throw new TesseraError('INVALID_ARGUMENT', `${who}: the data has no samples`);
  return { names, inputs, target: d.target, size };
}

/** Rows `idx` of `t` (dim 0), copied into a new contiguous tensor of the same dtype. */
export function takeRows(t: Tensor, idx: ArrayLike<number>): Tensor {
  const src = t.dataSync();
  const row = t.shape.slice(1).reduce((a, b) => a * b, 1);
  const out = allocate(t.dtype, idx.length * row) as any;
  for (let k = 0; k < idx.length; k++) {
    const r = idx[k]!;
    const from = r * row;
    if (Array.isArray(src)) for (let j = 0; j < row; j++) out[k * row + j] = src[from + j];
    else out.set((src as Exclude<DataArray, string[]>).subarray(from, from + row), k * row);
  }
  return Tensor.fromData(out, [idx.length, ...t.shape.slice(1)], t.dtype);
}

export function subset(d: Dataset, idx: ArrayLike<number>): Dataset {
  return {
    names: d.names,
    inputs: d.inputs.map((t) => takeRows(t, idx)),
    target: takeRows(d.target, idx),
    size: idx.length,
  };
}

/** The sample order of an epoch: a Fisher-Yates shuffle from a generator seeded by (seed, epoch), so a resumed run replays it. */
export function permutation(n: number, seed: number, epoch: number): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  const g = new Generator((Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(0, i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}

/** Splits off the last `fraction` of the samples for validation. */
export function splitValidation(d: Dataset, fraction: number): { train: Dataset; val: Dataset } {
  if (!(fraction > 0 && fraction < 1)) {
    throw new TesseraError('INVALID_ARGUMENT', `Trainer: validationSplit must be in (0, 1), got ${fraction}`);
  }
  const nVal = Math.floor(d.size * fraction);
  if (nVal < 1 || nVal >= d.size) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Trainer: validationSplit ${fraction} of ${d.size} samples leaves an empty train or validation set`,
    );
  }
  const nTrain = d.size - nVal;
  const range = (a: number, b: number) => Int32Array.from({ length: b - a }, (_, i) => a + i);
  return { train: subset(d, range(0, nTrain)), val: subset(d, range(nTrain, d.size)) };
}

/** Index lists of the batches of one epoch. */
export function batches(order: Int32Array, batchSize: number): Int32Array[] {
  const out: Int32Array[] = [];
  for (let i = 0; i < order.length; i += batchSize)
    out.push(order.subarray(i, Math.min(order.length, i + batchSize)));
  return out;
}

const INPUTS_KEY = 'tessera.inputs';

/**
 * A data set as a safetensors file: the target under `targetName` (default 'target'), every
 * input under its name (graph input names for imported models), and the input order in the
 * metadata for Modules, which take them positionally. A training job can refer to such a file.
 */
export function encodeDataset(d: TrainData, targetName = 'target'): Uint8Array {
  const ds = toDataset(d, 'encodeDataset');
  const names = ds.names ?? ds.inputs.map((_, i) => (ds.inputs.length === 1 ? 'input' : `input_${i}`));
  if (names.includes(targetName)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `encodeDataset: an input is named '${targetName}', like the target`,
    );
  }
  const entries: [string, Tensor][] = names.map((n, i) => [n, ds.inputs[i]!]);
  entries.push([targetName, ds.target]);
  return encodeSafetensors(entries, { [INPUTS_KEY]: JSON.stringify(names), 'tessera.target': targetName });
}

export function decodeDataset(bytes: Uint8Array, what = 'data set', targetName?: string): TrainData {
  const { tensors, metadata } = decodeSafetensors(bytes, what);
  const target = targetName ?? metadata['tessera.target'] ?? 'target';
  const t = tensors.get(target);
  if (!t) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${what}: no target tensor '${target}'; it holds ${[...tensors.keys()].join(', ')}`,
    );
  }
  let order: string[] = [...tensors.keys()].filter((k) => k !== target);
  const listed = metadata[INPUTS_KEY];
  if (listed) {
    try {
      const parsed = JSON.parse(listed) as unknown;
      if (Array.isArray(parsed) && parsed.every((n) => typeof n === 'string' && tensors.has(n)))
        order = parsed as string[];
    } catch {
      // No usable order: header order.
    }
  }
  if (order.length === 0)
    throw new TesseraError('INVALID_ARGUMENT', `${what}: no input tensors besides the target '${target}'`);
  const inputs: Record<string, Tensor> = {};
  for (const n of order) inputs[n] = tensors.get(n)!;
  return { inputs, target: t };
}

export function loadDatasetFile(path: string, targetName?: string): TrainData {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read data set '${path}': ${(e as Error).message}`, {
      cause: e,
    });
  }
  return decodeDataset(bytes, path, targetName);
}
