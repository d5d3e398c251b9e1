/**
 * The body of POST /v2/models/{m}[/versions/{v}]/train: a JSON object (optionally followed by
 * binary tensor data, as the inference protocol's binary extension: `Inference-Header-Content-Length`
 * says where the JSON ends and each tensor's `parameters.binary_data_size` how many bytes it takes,
 * inputs first, then the target).
 *
 *   {
 *     "inputs":  [{"name": "x", "datatype": "FP32", "shape": [400, 2], "data": [...]}],
 *     "targets": [{"name": "y", "datatype": "INT64", "shape": [400], "data": [...]}],
 *     // or, instead of inputs/targets, a data set file inside the model directory:
 *     "dataset": "data/train.safetensors"  |  {"path": "...", "target": "label"},
 *     "loss": "cross_entropy" | {"name": "huber", "delta": 0.5} | {"output": "loss_value"},
 *     "output": "logits",                       // the graph value the loss reads (default: first output)
 *     "optimizer": {"name": "adam", "lr": 0.01}, // default adam, lr 0.001
 *     "epochs": 10, "batch_size": 32, "shuffle": true, "seed": 0,
 *     "validation_split": 0.2, "metrics": ["accuracy"],
 *     "trainable": "all" | ["fc2.weight", "fc2.bias"] | {"pattern": "^fc2\\."},
 *     "frozen": ["fc1.weight"] | {"pattern": "..."},
 *     "early_stopping": true | {"monitor": "val_loss", "patience": 3, "min_delta": 0, "mode": "min", "restore_best_weights": true},
 *     "checkpoint_every": 100,                  // optimizer steps (default: one epoch)
 *     "max_steps": 1000, "version": 7           // the version to write (default: the next free one)
 *   }
 *
 * camelCase spellings of the fields are accepted too. Every problem is a 400 whose message starts
 * with the field at fault.
 */
import { open, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Parameter } from '../../nn/parameter.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { encodeDataset } from '../../train/data.js';
import { lossName, type NamedLoss, resolveLoss } from '../../train/loss.js';
import { checkMetrics } from '../../train/metrics.js';
import { buildOptimizer, type OptimizerConfig } from '../../train/optimizer-spec.js';
import type { EarlyStoppingOptions } from '../../train/trainer.js';
import { binaryElementSize, isV2Datatype, toDType, toV2Datatype, V2_DATATYPES } from '../datatypes.js';
import { badRequest, HttpError, messageOf } from '../errors.js';
import type { ModelVersion } from '../model-version.js';
import { decodeBinaryData } from '../protocol/binary-codec.js';
import { decodeJsonData } from '../protocol/json-codec.js';
import { splitBody } from '../protocol/request.js';
import type { TensorPayload } from '../protocol/types.js';
import { elementCount, limitExceeded, type ServerLimits } from '../security/limits.js';
import { assertInsideRoot, isSafeRelativePath } from '../security/paths.js';
import type { NameSelector, TrainSpec } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const snake = (k: string) => k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const show = (v: unknown) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
};

const FIELDS = [
  'inputs',
  'targets',
  'target',
  'dataset',
  'loss',
  'output',
  'optimizer',
  'epochs',
  'batch_size',
  'shuffle',
  'seed',
  'validation_split',
  'metrics',
  'trainable',
  'frozen',
  'early_stopping',
  'checkpoint_every',
  'max_steps',
  'version',
  'id',
  'parameters',
] as const;

/** Name of the target tensor in the data files the server writes. */
export const TARGET_TENSOR = '__target__';

export const DEFAULT_OPTIMIZER: OptimizerConfig = { name: 'adam', lr: 1e-3 };

/** A tensor of the request, still in wire form. */
interface WireTensor {
  field: string;
  name: string;
  datatype: string;
  shape: number[];
  json?: unknown;
  binary?: Uint8Array;
}

export interface ParsedTrainRequest {
  /** The spec without the defaults that depend on the data (checkpointEvery: 0 until then). */
  spec: TrainSpec;
  inputs?: WireTensor[];
  target?: WireTensor;
  dataset?: { path: string; target?: string };
}

function posInt(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1)
    throw badRequest(`${field} must be a positive integer, got ${show(v)}`);
  return v;
}

function bool(field: string, v: unknown): boolean {
  if (typeof v !== 'boolean') throw badRequest(`${field} must be true or false, got ${show(v)}`);
  return v;
}

/** Runs a library check and turns its TesseraError into a 400 that names the field. */
function checked<T>(field: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof TesseraError || e instanceof SyntaxError) {
      const m = e.message;
      throw badRequest(m.startsWith(`${field}:`) || m.startsWith(`${field} `) ? m : `${field}: ${m}`);
    }
    throw e;
  }
}

function selector(field: string, v: unknown, allowAll: boolean): NameSelector {
  if (allowAll && v === 'all') return 'all';
  if (Array.isArray(v)) {
    if (!v.every((n) => typeof n === 'string' && n))
      throw badRequest(`${field} must be a list of initializer names`);
    return [...(v as string[])];
  }
  if (isObj(v) && typeof v.pattern === 'string' && Object.keys(v).length === 1) {
    const pattern = v.pattern;
    checked(field, () => new RegExp(pattern));
    return { pattern };
  }
  throw badRequest(
    `${field} must be ${allowAll ? "'all', " : ''}a list of initializer names or {"pattern": "<regular expression>"}, got ${show(v)}`,
  );
}

function parseLoss(v: unknown): TrainSpec['loss'] {
  if (typeof v === 'string') return checked('loss', () => lossName(v));
  if (isObj(v) && 'output' in v) {
    if (typeof v.output !== 'string' || !v.output || Object.keys(v).length !== 1)
      throw badRequest(
        'loss: {"output": "<graph value>"} names the graph value that is the loss, and nothing else',
      );
    return { output: v.output };
  }
  if (!isObj(v) || typeof v.name !== 'string')
    throw badRequest(`loss must be a loss name or {"name": ..., options}, got ${show(v)}`);
  const allowed = ['name', 'reduction', 'ignoreIndex', 'labelSmoothing', 'delta', 'beta'];
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    const key = camel(k);
    if (!allowed.includes(key))
      throw badRequest(`loss: unknown option '${k}', expected ${allowed.slice(1).map(snake).join(', ')}`);
    if (key !== 'name' && key !== 'reduction' && typeof val !== 'number')
      throw badRequest(`loss: '${k}' must be a number, got ${show(val)}`);
    out[key] = val;
  }
  const named = { ...(out as unknown as NamedLoss), name: checked('loss', () => lossName(v.name as string)) };
  checked('loss', () => resolveLoss(named));
  return named;
}

function parseOptimizer(v: unknown): OptimizerConfig {
  const config: OptimizerConfig =
    typeof v === 'string' ? { name: v } : isObj(v) ? { ...v, name: v.name as string } : { name: '' };
  if (typeof config.name !== 'string' || !config.name)
    throw badRequest(`optimizer must be a name or {"name": ..., hyper-parameters}, got ${show(v)}`);
  // Built once against a stand-in parameter, so every hyper-parameter is checked now, not in the job.
  checked('optimizer', () =>
    buildOptimizer(config, [new Parameter(Tensor.fromData(new Float32Array(1), [1], 'float32'))]),
  );
  return config;
}

function parseEarlyStopping(v: unknown): EarlyStoppingOptions | undefined {
  if (v === false || v === undefined) return undefined;
  if (v === true) return {};
  if (!isObj(v)) throw badRequest(`early_stopping must be true, false or an object, got ${show(v)}`);
  const out: EarlyStoppingOptions = {};
  for (const [k, val] of Object.entries(v)) {
    const key = camel(k);
    const f = `early_stopping.${k}`;
    if (key === 'monitor') {
      if (typeof val !== 'string' || !val) throw badRequest(`${f} must be a name such as 'val_loss'`);
      out.monitor = val;
    } else if (key === 'patience') out.patience = posInt(f, val);
    else if (key === 'minDelta') {
      if (typeof val !== 'number' || !(val >= 0))
        throw badRequest(`${f} must be a number >= 0, got ${show(val)}`);
      out.minDelta = val;
    } else if (key === 'mode') {
      if (val !== 'min' && val !== 'max') throw badRequest(`${f} must be 'min' or 'max', got ${show(val)}`);
      out.mode = val;
    } else if (key === 'restoreBestWeights') out.restoreBestWeights = bool(f, val);
    else
      throw badRequest(
        `early_stopping: unknown option '${k}', expected monitor, patience, min_delta, mode, restore_best_weights`,
      );
  }
  return out;
}

/** A list of v2 tensors in wire form; binary ones take their bytes from `binary` at `offset`. */
function wireTensors(
  field: string,
  list: unknown,
  binary: Buffer,
  at: { offset: number; bytes: number },
  limits: Pick<ServerLimits, 'maxInputs' | 'maxTensorElements' | 'maxTensorBytes'>,
): WireTensor[] {
  if (!Array.isArray(list) || list.length === 0)
    throw badRequest(`${field} must be a non-empty array of tensors`);
  if (list.length > limits.maxInputs)
    throw limitExceeded('maxInputs', 400, `the number of ${field} (${list.length})`, limits.maxInputs);
  const seen = new Set<string>();
  return list.map((x, i) => {
    if (!isObj(x)) throw badRequest(`${field}[${i}] must be a tensor object`);
    const name = x.name;
    if (typeof name !== 'string' || !name) throw badRequest(`${field}[${i}] needs a 'name' string`);
    const where = `${field} '${name}'`;
    if (seen.has(name)) throw badRequest(`${where} appears more than once`);
    seen.add(name);
    if (!isV2Datatype(x.datatype))
      throw badRequest(
        `${where}: unknown datatype ${show(x.datatype)}, expected one of ${V2_DATATYPES.join(', ')}`,
      );
    const shape = x.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0))
      throw badRequest(`${where}: 'shape' must be an array of non-negative integers, got ${show(shape)}`);
    const n = elementCount(shape as number[], limits.maxTensorElements);
    if (n > limits.maxTensorElements)
      throw limitExceeded(
        'maxTensorElements',
        413,
        `${where}: the element count of shape ${show(shape)}`,
        limits.maxTensorElements,
      );
    at.bytes += n * (binaryElementSize(toDType(x.datatype)) || 8);
    if (at.bytes > limits.maxTensorBytes)
      throw limitExceeded(
        'maxTensorBytes',
        413,
        `${where}: the request's tensors (${at.bytes} bytes so far)`,
        limits.maxTensorBytes,
      );
    const t: WireTensor = { field, name, datatype: x.datatype, shape: shape as number[] };
    const params = x.parameters;
    const size = isObj(params) ? params.binary_data_size : undefined;
    if (size !== undefined) {
      if (!Number.isSafeInteger(size) || (size as number) < 0)
        throw badRequest(`${where}: 'binary_data_size' must be a non-negative integer`);
      if (x.data !== undefined) throw badRequest(`${where} has both 'data' and 'binary_data_size'`);
      if (at.offset + (size as number) > binary.length)
        throw badRequest(
          `${where}: binary_data_size ${size} goes past the end of the binary data (${binary.length - at.offset} bytes left)`,
        );
      t.binary = binary.subarray(at.offset, at.offset + (size as number));
      at.offset += size as number;
    } else {
      if (x.data === undefined) throw badRequest(`${where} has no 'data' (and no 'binary_data_size')`);
      t.json = x.data;
    }
    return t;
  });
}

/** Parses and checks the request body (everything that does not need the model or the disk). */
export function parseTrainRequest(
  body: Buffer,
  headerLength: string | undefined,
  limits: Pick<ServerLimits, 'maxJsonDepth' | 'maxInputs' | 'maxTensorElements' | 'maxTensorBytes'>,
): ParsedTrainRequest {
  const { json, binary } = splitBody(body, headerLength, limits);
  if (!isObj(json)) throw badRequest('the training request must be a JSON object');
  const f: Obj = {};
  for (const [k, v] of Object.entries(json)) {
    const key = snake(k);
    if (!(FIELDS as readonly string[]).includes(key))
      throw badRequest(
        `unknown field '${k}'; a training request takes ${FIELDS.filter((x) => x !== 'id' && x !== 'parameters').join(', ')}`,
      );
    if (key in f) throw badRequest(`field '${key}' is given twice (as '${k}' too)`);
    f[key] = v;
  }
  const out: ParsedTrainRequest = {
    spec: {
      loss: f.loss === undefined ? 'mse' : parseLoss(f.loss),
      optimizer: f.optimizer === undefined ? { ...DEFAULT_OPTIMIZER } : parseOptimizer(f.optimizer),
      epochs: f.epochs === undefined ? 1 : posInt('epochs', f.epochs),
      batchSize: f.batch_size === undefined ? 32 : posInt('batch_size', f.batch_size),
      shuffle: f.shuffle === undefined ? true : bool('shuffle', f.shuffle),
      seed: 0,
      metrics:
        f.metrics === undefined
          ? []
          : checked('metrics', () => {
              if (!Array.isArray(f.metrics))
                throw badRequest(`metrics must be a list of names, got ${show(f.metrics)}`);
              return checkMetrics(f.metrics as string[]);
            }),
      trainable: f.trainable === undefined ? 'all' : selector('trainable', f.trainable, true),
      checkpointEvery: 0,
    },
  };
  const spec = out.spec;
  if (f.seed !== undefined) {
    if (typeof f.seed !== 'number' || !Number.isSafeInteger(f.seed))
      throw badRequest(`seed must be an integer, got ${show(f.seed)}`);
    spec.seed = f.seed;
  }
  if (f.output !== undefined) {
    if (typeof f.output !== 'string' || !f.output)
      throw badRequest(`output must be the name of a graph value, got ${show(f.output)}`);
    spec.output = f.output;
  }
  if (f.validation_split !== undefined) {
    const v = f.validation_split;
    if (typeof v !== 'number' || !(v > 0 && v < 1))
      throw badRequest(`validation_split must be a number in (0, 1), got ${show(v)}`);
    spec.validationSplit = v;
  }
  if (f.frozen !== undefined)
    spec.frozen = selector('frozen', f.frozen, false) as Exclude<NameSelector, 'all'>;
  const es = parseEarlyStopping(f.early_stopping);
  if (es) {
    if (es.monitor?.startsWith('val') && spec.validationSplit === undefined)
      throw badRequest(`early_stopping.monitor '${es.monitor}' needs validation data: set validation_split`);
    spec.earlyStopping = es;
  }
  if (f.checkpoint_every !== undefined) spec.checkpointEvery = posInt('checkpoint_every', f.checkpoint_every);
  if (f.max_steps !== undefined) spec.maxSteps = posInt('max_steps', f.max_steps);
  if (f.version !== undefined) spec.version = posInt('version', f.version);

  const hasTensors = f.inputs !== undefined || f.targets !== undefined || f.target !== undefined;
  if (f.dataset !== undefined) {
    if (hasTensors) throw badRequest('dataset: give either a dataset file or inputs and targets, not both');
    if (binary.length)
      throw badRequest('dataset: a request with a dataset file carries no binary tensor data');
    const d = f.dataset;
    const path = typeof d === 'string' ? d : isObj(d) ? d.path : undefined;
    if (typeof path !== 'string' || !path)
      throw badRequest(
        `dataset must be a file path inside the model directory or {"path": ..., "target": ...}, got ${show(d)}`,
      );
    if (!isSafeRelativePath(path))
      throw badRequest(`dataset: '${path}' must be a relative path inside the model directory`);
    const target = isObj(d) ? d.target : undefined;
    if (target !== undefined && (typeof target !== 'string' || !target))
      throw badRequest('dataset.target must be the name of the target tensor');
    out.dataset = { path, target: target as string | undefined };
    return out;
  }
  if (f.inputs === undefined)
    throw badRequest(
      "inputs: the request needs training 'inputs' and 'targets' (v2 tensors), or a 'dataset' file",
    );
  if (f.targets !== undefined && f.target !== undefined)
    throw badRequest("targets: give 'targets' or 'target', not both");
  const at = { offset: 0, bytes: 0 };
  out.inputs = wireTensors('inputs', f.inputs, binary, at, limits);
  if (f.targets === undefined && f.target === undefined)
    throw badRequest("targets: the request needs the training targets ('targets': [one v2 tensor])");
  const targets = wireTensors('targets', f.targets ?? [f.target], binary, at, { ...limits, maxInputs: 1 });
  out.target = targets[0];
  if (at.offset !== binary.length)
    throw badRequest(
      `the request carries ${binary.length} bytes of binary data but its tensors' binary_data_size add up to ${at.offset}`,
    );
  return out;
}

interface DataMeta {
  name: string;
  dtype: string;
  shape: number[];
}

/** Checks the training inputs against the served model's inputs; returns the sample count. */
function checkAgainstModel(mv: ModelVersion, what: string, inputs: DataMeta[], target: DataMeta): number {
  const known = mv.inputs.map((t) => t.name);
  for (const t of inputs) {
    const c = mv.inputs.find((x) => x.name === t.name);
    if (!c)
      throw badRequest(
        `${what} '${t.name}' is not an input of model '${mv.name}' (its inputs: ${known.join(', ')})`,
      );
    if (c.dtype !== t.dtype)
      throw badRequest(
        `${what} '${t.name}': datatype ${toV2Datatype(t.dtype as never) ?? t.dtype}, the model takes ${toV2Datatype(c.dtype)}`,
      );
    const full = mv.config.maxBatchSize > 0 ? [-1, ...c.dims] : c.dims;
    const fmt = (s: readonly number[]) => `[${s.join(',')}]`;
    if (t.shape.length !== full.length || full.some((d, i) => i > 0 && d !== -1 && d !== t.shape[i]))
      throw badRequest(
        `${what} '${t.name}': shape ${fmt(t.shape)} does not fit the model's input shape ${fmt(full)} (dim 0 counts the samples)`,
      );
  }
  for (const c of mv.inputs) {
    if (!c.optional && !inputs.some((t) => t.name === c.name))
      throw badRequest(`${what}: the model's input '${c.name}' is missing (its inputs: ${known.join(', ')})`);
  }
  if (target.dtype === 'string' || target.dtype === 'bool')
    throw badRequest(
      `targets '${target.name}': the target must be numeric, got ${toV2Datatype(target.dtype as never) ?? target.dtype}`,
    );
  if (!target.shape.length)
    throw badRequest(`targets '${target.name}': the target needs a sample dimension (dim 0)`);
  const n = target.shape[0]!;
  for (const t of inputs) {
    if (t.shape[0] !== n)
      throw badRequest(
        `${what} '${t.name}' has ${t.shape[0]} samples (dim 0), the target '${target.name}' has ${n}`,
      );
  }
  if (n < 1) throw badRequest(`targets '${target.name}': the data has no samples`);
  return n;
}

function checkSplit(spec: TrainSpec, samples: number): void {
  if (spec.validationSplit === undefined) return;
  const nVal = Math.floor(samples * spec.validationSplit);
  if (nVal < 1 || nVal >= samples)
    throw badRequest(
      `validation_split ${spec.validationSplit} of ${samples} samples leaves an empty training or validation set`,
    );
}

/** Fills in the defaults that depend on the sample count. */
function finishSpec(spec: TrainSpec, samples: number): void {
  checkSplit(spec, samples);
  const train = samples - (spec.validationSplit ? Math.floor(samples * spec.validationSplit) : 0);
  if (!spec.checkpointEvery) spec.checkpointEvery = Math.max(1, Math.ceil(train / spec.batchSize));
}

/** The request's tensors, decoded and checked against the model, as data set bytes for the job's data file. */
export function inlineData(
  mv: ModelVersion,
  req: ParsedTrainRequest,
): { bytes: Uint8Array; samples: number } {
  const decode = (t: WireTensor): TensorPayload => {
    const dtype = toDType(t.datatype as never);
    const label = `${t.field} '${t.name}'`;
    try {
      return t.binary
        ? decodeBinaryData(t.name, t.datatype, dtype, t.shape, t.binary)
        : decodeJsonData(t.name, t.datatype, dtype, t.shape, t.json);
    } catch (e) {
      // The codecs say "input 'x'"; say which list the tensor is in.
      throw e instanceof HttpError ? badRequest(messageOf(e).replace(/^input '[^']*'/, label)) : e;
    }
  };
  const inputs = req.inputs!.map(decode);
  const target = decode(req.target!);
  const samples = checkAgainstModel(mv, 'inputs', inputs, target);
  finishSpec(req.spec, samples);
  const toTensor = (p: TensorPayload) => Tensor.fromData(p.data as never, p.shape, p.dtype);
  const record: Record<string, Tensor> = {};
  for (const p of inputs) record[p.name] = toTensor(p);
  const bytes = checked('inputs', () =>
    encodeDataset({ inputs: record, target: toTensor(target) }, TARGET_TENSOR),
  );
  return { bytes, samples };
}

const ST_DTYPES: Record<string, string> = {
  F64: 'float64',
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  I64: 'int64',
  I32: 'int32',
  I16: 'int16',
  I8: 'int8',
  U64: 'uint64',
  U32: 'uint32',
  U16: 'uint16',
  U8: 'uint8',
  BOOL: 'bool',
};

/** Reads only the header of a safetensors file: tensor names, dtypes and shapes, and the metadata. */
async function safetensorsHeader(
  file: string,
  what: string,
): Promise<{ tensors: DataMeta[]; metadata: Obj }> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(8);
    const { size } = await fh.stat();
    if (size < 8 || (await fh.read(head, 0, 8, 0)).bytesRead < 8)
      throw badRequest(`${what}: not a safetensors file`);
    const n = Number(head.readBigUInt64LE(0));
    if (n > Math.min(size - 8, 100 * 1024 * 1024))
      throw badRequest(`${what}: not a safetensors file (header length ${n})`);
    const text = Buffer.alloc(n);
    await fh.read(text, 0, n, 8);
    let header: unknown;
    try {
      header = JSON.parse(text.toString('utf8'));
    } catch {
      throw badRequest(`${what}: the safetensors header is not valid JSON`);
    }
    if (!isObj(header)) throw badRequest(`${what}: the safetensors header is not an object`);
    const tensors: DataMeta[] = [];
    for (const [name, v] of Object.entries(header)) {
      if (name === '__metadata__') continue;
      if (!isObj(v) || !Array.isArray(v.shape)) throw badRequest(`${what}: tensor '${name}' has no shape`);
      tensors.push({
        name,
        dtype: ST_DTYPES[String(v.dtype)] ?? String(v.dtype),
        shape: v.shape as number[],
      });
    }
    return { tensors, metadata: isObj(header.__metadata__) ? header.__metadata__ : {} };
  } finally {
    await fh.close();
  }
}

/** A data set file of the model directory, checked against the model; returns its path, target name and sample count. */
export async function datasetFile(
  mv: ModelVersion,
  root: string,
  req: ParsedTrainRequest,
): Promise<{ file: string; target: string; samples: number }> {
  const { path, target: wanted } = req.dataset!;
  const modelDir = join(root, mv.name);
  const file = join(modelDir, path);
  const what = `dataset '${path}'`;
  await assertInsideRoot(modelDir, file, what);
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) throw badRequest(`${what} is not a file in the directory of model '${mv.name}'`);
  const { tensors, metadata } = await safetensorsHeader(file, what);
  const target =
    wanted ?? (typeof metadata['tessera.target'] === 'string' ? metadata['tessera.target'] : 'target');
  const t = tensors.find((x) => x.name === target);
  if (!t)
    throw badRequest(
      `${what} has no target tensor '${target}' (it holds ${tensors.map((x) => x.name).join(', ')}); name it with dataset.target`,
    );
  // The input order the data set lists (encodeDataset writes it), else every tensor but the target.
  let names: string[] | undefined;
  try {
    const listed = JSON.parse(String(metadata['tessera.inputs'] ?? 'null')) as unknown;
    if (Array.isArray(listed) && listed.every((n) => tensors.some((x) => x.name === n)))
      names = listed as string[];
  } catch {
    // No usable list.
  }
  const inputs = tensors.filter((x) => x.name !== target && (!names || names.includes(x.name)));
  const samples = checkAgainstModel(mv, what, inputs, t);
  finishSpec(req.spec, samples);
  return { file, target, samples };
}
