/**
 * Tensors on the command line: `--input name=file` where the file is .npy, .npz or .json (or the
 * value is inline JSON), and `--output` to .npy/.npz files. JSON is a nested array, a v2 tensor
 * `{"shape": [...], "datatype": "FP32", "data": [...]}`, or a whole v2 request body
 * `{"inputs": [...]}`. Numbers are given the dtype the model declares; a file whose dtype differs
 * is cast, with a note.
 */
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { readNpy, readNpz, writeNpy, writeNpz } from '../../io/npy.js';
import { tensor } from '../../runtime/creation.js';
import { type DType, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { isV2Datatype, toDType } from '../../server/datatypes.js';
import { UsageError } from './errors.js';

/** What the model declares for an input. */
export interface InputSpec {
  name: string;
  dtype?: DType;
  /** Dims; -1 or a string for symbolic ones. */
  shape?: readonly (number | string)[];
}

type Note = (message: string) => void;

function castTo(t: Tensor, name: string, want: DType | undefined, note: Note): Tensor {
  if (!want || want === t.dtype) return t;
  if (t.dtype === 'string' || want === 'string') {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `input '${name}': the model expects ${want}, the file holds ${t.dtype}`,
    );
  }
  // Widening to a float or between floats keeps values; say so when precision may drop.
  if (!(isFloat(want) && !isFloat(t.dtype)))
    note(`input '${name}': ${t.dtype} values cast to ${want}, the model's input type`);
  return t.to(want);
}

function fromJsonValue(v: unknown, name: string, spec: InputSpec | undefined, where: string): Tensor {
  if (Array.isArray(v) || typeof v === 'number' || typeof v === 'boolean') {
    return tensor(v as never, { dtype: spec?.dtype ?? 'float32' });
  }
  if (v && typeof v === 'object' && 'data' in v) {
    const o = v as { data: unknown; shape?: unknown; datatype?: unknown };
    let dtype = spec?.dtype ?? 'float32';
    if (o.datatype !== undefined) {
      if (!isV2Datatype(o.datatype)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${where}: input '${name}' has an unknown datatype '${String(o.datatype)}' (expected FP32, INT64, BOOL, ...)`,
        );
      }
      dtype = toDType(o.datatype);
    }
    const flat = (Array.isArray(o.data) ? o.data.flat(Number.POSITIVE_INFINITY) : [o.data]) as never[];
    const shape = Array.isArray(o.shape) ? (o.shape as number[]) : [flat.length];
    const n = shape.reduce((a, b) => a * b, 1);
    if (n !== flat.length) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${where}: input '${name}' has shape ${fmtShape(shape)} (${n} elements) but ${flat.length} data values`,
      );
    }
    return tensor(flat, { dtype, shape }).reshape(shape);
  }
  throw new TesseraError(
    'INVALID_ARGUMENT',
    `${where}: input '${name}' must be a nested array of numbers or {"shape", "datatype", "data"}`,
  );
}

function readJson(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new TesseraError('INVALID_ARGUMENT', `'${path}' is not valid JSON: ${(e as Error).message}`);
  }
}

/** Tensors named in a JSON document without an explicit name: a v2 request body, or one tensor. */
function namedFromJson(doc: unknown, specs: readonly InputSpec[], where: string): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  if (
    doc &&
    typeof doc === 'object' &&
    !Array.isArray(doc) &&
    Array.isArray((doc as { inputs?: unknown }).inputs)
  ) {
    for (const i of (doc as { inputs: { name?: unknown }[] }).inputs) {
      if (typeof i?.name !== 'string')
        throw new TesseraError('INVALID_ARGUMENT', `${where}: every entry of "inputs" needs a "name"`);
      out.set(
        i.name,
        fromJsonValue(
          i,
          i.name,
          specs.find((s) => s.name === i.name),
          where,
        ),
      );
    }
    return out;
  }
  if (specs.length !== 1) {
    throw new UsageError(
      `${where} holds one tensor but the model has ${specs.length} inputs (${specs.map((s) => s.name).join(', ')}); write --input NAME=${where}`,
    );
  }
  out.set(specs[0]!.name, fromJsonValue(doc, specs[0]!.name, specs[0], where));
  return out;
}

/**
 * Reads `--input` values into feeds for a model whose inputs are `specs`. Each value is
 * `name=file`, `name=<inline JSON>`, or a file without a name (a .npz's arrays go by their names; a
 * .json request body by its "name"s; one .npy or tensor goes to the only input).
 */
export function readInputs(
  values: readonly string[],
  specs: readonly InputSpec[],
  note: Note,
): Record<string, Tensor> {
  const feeds = new Map<string, Tensor>();
  const known = new Set(specs.map((s) => s.name));
  const put = (name: string, t: Tensor, where: string) => {
    if (!known.has(name)) {
      throw new UsageError(
        `${where}: the model has no input '${name}'; its inputs are ${specs.map((s) => s.name).join(', ')}`,
      );
    }
    if (feeds.has(name)) throw new UsageError(`input '${name}' is given twice`);
    feeds.set(name, castTo(t, name, specs.find((s) => s.name === name)?.dtype, note));
  };
  for (const raw of values) {
    const eq = raw.indexOf('=');
    const named = eq > 0 && !existsSync(raw);
    const name = named ? raw.slice(0, eq) : undefined;
    const value = named ? raw.slice(eq + 1) : raw;
    if (/^\s*[[{\d-]/.test(value) && !existsSync(value)) {
      // Inline JSON: name=[[1, 2], [3, 4]]
      let doc: unknown;
      try {
        doc = JSON.parse(value);
      } catch (e) {
        throw new UsageError(`--input ${raw}: not a file, nor valid JSON (${(e as Error).message})`);
      }
      if (name)
        put(
          name,
          fromJsonValue(
            doc,
            name,
            specs.find((s) => s.name === name),
            '--input',
          ),
          '--input',
        );
      else for (const [k, t] of namedFromJson(doc, specs, '--input')) put(k, t, '--input');
      continue;
    }
    if (!existsSync(value) || statSync(value).isDirectory()) {
      throw new TesseraError('NOT_FOUND', `--input ${raw}: file '${value}' does not exist`);
    }
    const ext = extname(value).toLowerCase();
    if (ext === '.npy') {
      const t = readNpy(value);
      if (name) put(name, t, value);
      else if (specs.length === 1) put(specs[0]!.name, t, value);
      else
        throw new UsageError(
          `${value} holds one array but the model has ${specs.length} inputs (${specs.map((s) => s.name).join(', ')}); write --input NAME=${value}`,
        );
    } else if (ext === '.npz') {
      const arrays = readNpz(value);
      if (name) {
        const t = arrays.get(name) ?? (arrays.size === 1 ? [...arrays.values()][0] : undefined);
        if (!t)
          throw new TesseraError(
            'NOT_FOUND',
            `${value} has no array '${name}'; it holds ${[...arrays.keys()].join(', ')}`,
          );
        put(name, t, value);
      } else {
        for (const [k, t] of arrays) put(k, t, value);
      }
    } else if (ext === '.json') {
      const doc = readJson(value);
      if (name)
        put(
          name,
          fromJsonValue(
            doc,
            name,
            specs.find((s) => s.name === name),
            value,
          ),
          value,
        );
      else for (const [k, t] of namedFromJson(doc, specs, value)) put(k, t, value);
    } else {
      throw new UsageError(`--input ${raw}: unknown file type '${ext || '(none)'}'; use .npy, .npz or .json`);
    }
  }
  const missing = specs.filter((s) => !feeds.has(s.name));
  if (missing.length) {
    const want = missing.map(
      (s) =>
        `${s.name} (${s.dtype ?? '?'}${s.shape ? `[${s.shape.map((d) => (typeof d === 'number' && d >= 0 ? d : typeof d === 'string' ? d : '?')).join(', ')}]` : ''})`,
    );
    throw new UsageError(
      `missing input${missing.length > 1 ? 's' : ''} ${want.join(', ')}: give --input NAME=FILE for each`,
    );
  }
  return Object.fromEntries(feeds);
}

/**
 * Writes outputs: `path.npy` (one output), `path.npz` (all), `name=path.npy` (one chosen output),
 * or a directory (one NAME.npy per output). Returns the files written.
 */
export function writeOutputs(specs: readonly string[], outputs: Record<string, Tensor>): string[] {
  const written: string[] = [];
  const names = Object.keys(outputs);
  for (const spec of specs) {
    const eq = spec.indexOf('=');
    if (eq > 0 && names.includes(spec.slice(0, eq))) {
      const file = spec.slice(eq + 1);
      writeNpy(file, outputs[spec.slice(0, eq)]!);
      written.push(file);
    } else if (/\.npz$/i.test(spec)) {
      writeNpz(spec, outputs);
      written.push(spec);
    } else if (/\.npy$/i.test(spec)) {
      if (names.length !== 1) {
        throw new UsageError(
          `--output ${spec}: the model has ${names.length} outputs (${names.join(', ')}); write NAME=${spec}, a .npz file or a directory`,
        );
      }
      writeNpy(spec, outputs[names[0]!]!);
      written.push(spec);
    } else {
      mkdirSync(spec, { recursive: true });
      for (const n of names) {
        const file = join(spec, `${n.replace(/[^\w.-]/g, '_')}.npy`);
        writeNpy(file, outputs[n]!);
        written.push(file);
      }
    }
  }
  return written;
}
