/**
 * A model's config.json, in Triton's model-configuration vocabulary (the JSON form of
 * config.pbtxt: `input`, `output`, `data_type: "TYPE_FP32"`, `dims`, `max_batch_size`,
 * `dynamic_batching`, `version_policy`, `instance_group`), plus friendlier spellings
 * (`inputs`/`outputs`, `datatype: "FP32"`, `shape`) and Tessera's own `device`.
 * Inputs and outputs may be left out: they are then completed from the loaded model.
 */
import type { DType } from '../runtime/dtype.js';
import type { Device } from '../runtime/tensor.js';
import { parseAnyDatatype, toConfigType } from './datatypes.js';
import { badRequest } from './errors.js';
import { isSafeRelativePath } from './security/paths.js';

export interface TensorConfig {
  name: string;
  dtype: DType;
  /** Dimensions without the batch dimension when max_batch_size > 0; -1 for variable. */
  dims: number[];
  optional?: boolean;
  /** Class labels for the classification extension (inline `labels`, or read from `label_filename`). */
  labels?: string[];
  labelFilename?: string;
}

export type VersionPolicy =
  | { latest: { num_versions: number } }
  | { all: Record<string, never> }
  | { specific: { versions: number[] } };

export interface DynamicBatching {
  maxQueueDelayUs: number;
  preferredBatchSizes: number[];
}

export interface QueuePolicy {
  /** 0 means unbounded. */
  maxQueueSize: number;
  /** 0 means no timeout while queued. */
  defaultTimeoutUs: number;
  allowTimeoutOverride: boolean;
}

export interface ModelConfig {
  name: string;
  platform: string;
  backend: string;
  maxBatchSize: number;
  inputs?: TensorConfig[];
  outputs?: TensorConfig[];
  dynamicBatching?: DynamicBatching;
  queuePolicy: QueuePolicy;
  versionPolicy: VersionPolicy;
  device?: Device;
  /** Executions of this model that may run at once (instance_group count). */
  instanceCount?: number;
  defaultModelFilename?: string;
  parameters: Record<string, unknown>;
  /** Anything else the file held, kept so GET .../config shows it back. */
  extra: Record<string, unknown>;
}

const KNOWN = new Set([
  'name',
  'platform',
  'backend',
  'max_batch_size',
  'input',
  'inputs',
  'output',
  'outputs',
  'dynamic_batching',
  'version_policy',
  'instance_group',
  'device',
  'default_model_filename',
  'parameters',
]);

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);

/** int64 fields in protobuf JSON may be strings ("100"). */
function int(x: unknown, where: string, min = 0): number {
  const n = typeof x === 'string' && /^-?\d+$/.test(x) ? Number(x) : x;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min) {
    throw badRequest(`${where} must be an integer >= ${min}, got ${JSON.stringify(x)}`);
  }
  return n;
}

function tensorConfigs(x: unknown, where: string): TensorConfig[] {
  if (!Array.isArray(x)) throw badRequest(`${where} must be an array`);
  return x.map((t, i) => {
    if (!isObj(t) || typeof t.name !== 'string' || !t.name) throw badRequest(`${where}[${i}] needs a 'name'`);
    const spelled = t.data_type ?? t.datatype ?? t.dtype;
    const dtype = parseAnyDatatype(spelled);
    if (!dtype) throw badRequest(`${where} '${t.name}': unknown data type ${JSON.stringify(spelled)}`);
    const rawDims = t.dims ?? t.shape;
    if (!Array.isArray(rawDims)) throw badRequest(`${where} '${t.name}' needs 'dims' (an array)`);
    const dims = rawDims.map((d) => int(d, `${where} '${t.name}' dims`, -1));
    const c: TensorConfig = { name: t.name, dtype, dims };
    if (t.optional === true) c.optional = true;
    if (t.labels !== undefined) {
      if (!Array.isArray(t.labels) || !t.labels.every((l) => typeof l === 'string')) {
        throw badRequest(`${where} '${t.name}': 'labels' must be an array of strings`);
      }
      c.labels = t.labels as string[];
    }
    if (typeof t.label_filename === 'string' && t.label_filename) {
      if (!isSafeRelativePath(t.label_filename)) {
        throw badRequest(
          `${where} '${t.name}': label_filename must be a path inside the model directory, got ${JSON.stringify(t.label_filename)}`,
        );
      }
      c.labelFilename = t.label_filename;
    }
    return c;
  });
}

function versionPolicy(x: unknown): VersionPolicy {
  if (x === undefined) return { latest: { num_versions: 1 } };
  if (!isObj(x)) throw badRequest('version_policy must be an object');
  if (isObj(x.latest))
    return {
      latest: { num_versions: int(x.latest.num_versions ?? 1, 'version_policy.latest.num_versions', 1) },
    };
  if (isObj(x.all)) return { all: {} };
  if (isObj(x.specific)) {
    const v = x.specific.versions;
    if (!Array.isArray(v) || !v.length)
      throw badRequest('version_policy.specific.versions must be a non-empty array');
    return { specific: { versions: v.map((n) => int(n, 'version_policy.specific.versions', 1)) } };
  }
  throw badRequest("version_policy must have one of 'latest', 'all' or 'specific'");
}

/**
 * Parses a config object; `dirName` is the model's directory (the config's `name`, when given,
 * must match it, as Triton requires). Errors are 400s that say what is wrong.
 */
export function parseModelConfig(
  raw: unknown,
  dirName: string,
  defaults: Partial<QueuePolicy> = {},
): ModelConfig {
  if (raw === undefined || raw === null) raw = {};
  if (!isObj(raw)) throw badRequest('the model configuration must be a JSON object');
  try {
    if (raw.name !== undefined && raw.name !== dirName) {
      throw badRequest(`its name '${String(raw.name)}' does not match the model name '${dirName}'`);
    }
    const cfg: ModelConfig = {
      name: dirName,
      platform: typeof raw.platform === 'string' ? raw.platform : 'tessera_onnx',
      backend: typeof raw.backend === 'string' ? raw.backend : 'tessera',
      maxBatchSize: raw.max_batch_size === undefined ? 0 : int(raw.max_batch_size, 'max_batch_size'),
      queuePolicy: {
        maxQueueSize: defaults.maxQueueSize ?? 0,
        defaultTimeoutUs: defaults.defaultTimeoutUs ?? 0,
        allowTimeoutOverride: true,
      },
      versionPolicy: versionPolicy(raw.version_policy),
      parameters: isObj(raw.parameters) ? raw.parameters : {},
      extra: Object.fromEntries(Object.entries(raw).filter(([k]) => !KNOWN.has(k))),
    };
    const inputs = raw.input ?? raw.inputs;
    if (inputs !== undefined) cfg.inputs = tensorConfigs(inputs, 'input');
    const outputs = raw.output ?? raw.outputs;
    if (outputs !== undefined) cfg.outputs = tensorConfigs(outputs, 'output');
    const db = raw.dynamic_batching;
    if (db !== undefined) {
      if (!isObj(db)) throw badRequest('dynamic_batching must be an object');
      if (cfg.maxBatchSize === 0) throw badRequest('dynamic_batching needs max_batch_size > 0');
      const preferred = db.preferred_batch_size ?? [];
      if (!Array.isArray(preferred))
        throw badRequest('dynamic_batching.preferred_batch_size must be an array');
      cfg.dynamicBatching = {
        maxQueueDelayUs: int(
          db.max_queue_delay_microseconds ?? 0,
          'dynamic_batching.max_queue_delay_microseconds',
        ),
        preferredBatchSizes: preferred.map((n) => int(n, 'dynamic_batching.preferred_batch_size', 1)),
      };
      for (const p of cfg.dynamicBatching.preferredBatchSizes) {
        if (p > cfg.maxBatchSize) {
          throw badRequest(
            `dynamic_batching.preferred_batch_size ${p} is larger than max_batch_size ${cfg.maxBatchSize}`,
          );
        }
      }
      const qp = db.default_queue_policy;
      if (qp !== undefined) {
        if (!isObj(qp)) throw badRequest('dynamic_batching.default_queue_policy must be an object');
        if (qp.max_queue_size !== undefined) {
          cfg.queuePolicy.maxQueueSize = int(qp.max_queue_size, 'default_queue_policy.max_queue_size');
        }
        if (qp.default_timeout_microseconds !== undefined) {
          cfg.queuePolicy.defaultTimeoutUs = int(
            qp.default_timeout_microseconds,
            'default_queue_policy.default_timeout_microseconds',
          );
        }
        if (qp.allow_timeout_override === false) cfg.queuePolicy.allowTimeoutOverride = false;
      }
    }
    if (raw.device !== undefined) {
      if (raw.device !== 'cpu' && raw.device !== 'webgpu') {
        throw badRequest(`device must be 'cpu' or 'webgpu', got ${JSON.stringify(raw.device)}`);
      }
      cfg.device = raw.device;
    }
    const ig = raw.instance_group;
    if (ig !== undefined) {
      if (!Array.isArray(ig)) throw badRequest('instance_group must be an array');
      let count = 0;
      for (const g of ig)
        count += isObj(g) && g.count !== undefined ? int(g.count, 'instance_group.count', 1) : 1;
      if (count > 0) cfg.instanceCount = count;
    }
    if (raw.default_model_filename !== undefined) {
      const f = raw.default_model_filename;
      if (typeof f !== 'string' || !f || f.includes('/') || f.includes('\\') || f.startsWith('.')) {
        throw badRequest('default_model_filename must be a plain file name');
      }
      cfg.defaultModelFilename = f;
    }
    return cfg;
  } catch (e) {
    if (e instanceof Error) e.message = `invalid configuration for model '${dirName}': ${e.message}`;
    throw e;
  }
}

/** The configuration as GET .../config returns it: Triton's JSON model configuration. */
export function configToJson(cfg: ModelConfig, instanceCount: number): Record<string, unknown> {
  const tensors = (ts: TensorConfig[] | undefined) =>
    (ts ?? []).map((t) => ({
      name: t.name,
      data_type: toConfigType(t.dtype),
      dims: t.dims,
      ...(t.optional ? { optional: true } : {}),
      ...(t.labelFilename ? { label_filename: t.labelFilename } : {}),
    }));
  const out: Record<string, unknown> = {
    name: cfg.name,
    platform: cfg.platform,
    backend: cfg.backend,
    version_policy: cfg.versionPolicy,
    max_batch_size: cfg.maxBatchSize,
    input: tensors(cfg.inputs),
    output: tensors(cfg.outputs),
    instance_group: [
      {
        name: `${cfg.name}_0`,
        kind: cfg.device === 'webgpu' ? 'KIND_GPU' : 'KIND_CPU',
        count: instanceCount,
      },
    ],
    default_model_filename: cfg.defaultModelFilename ?? 'model.onnx',
    parameters: cfg.parameters,
    device: cfg.device ?? 'cpu',
    ...cfg.extra,
  };
  if (cfg.dynamicBatching) {
    out.dynamic_batching = {
      preferred_batch_size: cfg.dynamicBatching.preferredBatchSizes,
      max_queue_delay_microseconds: cfg.dynamicBatching.maxQueueDelayUs,
      default_queue_policy: {
        max_queue_size: cfg.queuePolicy.maxQueueSize,
        default_timeout_microseconds: cfg.queuePolicy.defaultTimeoutUs,
        allow_timeout_override: cfg.queuePolicy.allowTimeoutOverride,
        timeout_action: 'REJECT',
      },
    };
  }
  return out;
}

/** Which version directories a policy serves, given those on disk (numbers, any order). */
export function selectVersions(policy: VersionPolicy, available: number[]): number[] {
  const sorted = [...available].sort((a, b) => b - a);
  if ('latest' in policy) return sorted.slice(0, policy.latest.num_versions);
  if ('all' in policy) return sorted;
  return sorted.filter((v) => policy.specific.versions.includes(v));
}
