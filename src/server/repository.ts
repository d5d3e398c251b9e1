/**
 * The model repository: DIR/<model>/config.json and DIR/<model>/<version>/model.onnx (or
 * model.tsr). Loads every model at startup, and loads, reloads and unloads models on request
 * (Triton's model repository extension). A model that fails to load is marked UNAVAILABLE with
 * its reason and never affects the others.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import type { Device } from '../runtime/tensor.js';
import { badRequest, HttpError, messageOf, notFound, unavailable } from './errors.js';
import type { ModelExecutor, ModelSignature, TensorSignature } from './executor.js';
import type { ServerMetrics } from './metrics.js';
import {
  type ModelConfig,
  parseModelConfig,
  type QueuePolicy,
  selectVersions,
  type TensorConfig,
} from './model-config.js';
import { type ModelState, ModelVersion } from './model-version.js';
import { DEFAULT_LIMITS, limitExceeded, type ServerLimits } from './security/limits.js';
import { assertInsideRoot, isSafeRelativePath } from './security/paths.js';
import { protobufDepthExceeds } from './security/protobuf-depth.js';

export interface RepositoryOptions {
  root: string;
  executor: ModelExecutor;
  metrics: ServerMetrics;
  /** Device for models whose config does not name one. */
  device: Device;
  /** Queue policy for models whose config does not set one. */
  queueDefaults?: Partial<QueuePolicy>;
  /** Model file limits (default DEFAULT_LIMITS). */
  limits?: Pick<ServerLimits, 'maxModelFileBytes' | 'maxProtobufDepth'>;
  log?: (message: string) => void;
}

/** A load request's extras (repository extension): an inline config and/or model files. */
export interface LoadOverride {
  config?: unknown;
  /** Relative path inside the model directory ("1/model.onnx") -> contents. */
  files?: Record<string, Buffer>;
}

export interface IndexEntry {
  name: string;
  version?: string;
  state?: ModelState;
  reason?: string;
}

interface ModelEntry {
  name: string;
  versions: Map<number, ModelVersion>;
  /** A model-level failure (bad config, no versions), shown in the index. */
  error?: string;
  unloaded?: boolean;
  config?: ModelConfig;
  /** Directory holding files uploaded with a load request, removed on unload. */
  tempDir?: string;
  lock: Promise<unknown>;
}

const MODEL_FILES = ['model.onnx', 'model.tsr'];
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export function checkModelName(name: string): void {
  if (!NAME.test(name) || name.includes('..')) {
    throw badRequest(`invalid model name '${name}': use letters, digits, '_', '-' and '.'`);
  }
}

export class ModelRepository {
  private readonly models = new Map<string, ModelEntry>();
  private generation = 0;
  readonly root: string;
  /** Poll mode: each model directory's fingerprint when it was last loaded from disk. */
  private readonly seen = new Map<string, string>();
  private pollTimer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: RepositoryOptions) {
    this.root = resolve(opts.root);
  }

  private log(msg: string): void {
    this.opts.log?.(msg);
  }

  /** Model directories in the repository (sorted). */
  async listDirectories(): Promise<string[]> {
    let names: string[];
    try {
      names = await readdir(this.root);
    } catch (e) {
      throw new HttpError(500, `cannot read the model repository '${this.root}': ${messageOf(e)}`);
    }
    const out: string[] = [];
    for (const n of names.sort()) {
      if (n.startsWith('.') || !NAME.test(n)) continue;
      if ((await stat(join(this.root, n)).catch(() => null))?.isDirectory()) out.push(n);
    }
    return out;
  }

  /** Loads every model in the repository; failures are logged and recorded, never thrown. */
  async loadAll(): Promise<void> {
    const names = await this.listDirectories();
    await Promise.all(names.map((n) => this.loadFromDisk(n)));
  }

  /** Loads a model directory, remembering its fingerprint for poll mode; logs, never throws. */
  private async loadFromDisk(name: string, why = ''): Promise<void> {
    this.seen.set(name, await this.fingerprint(name));
    await this.load(name).then(
      () => this.log(`loaded model '${name}'${why}`),
      (e) => this.log(`failed to load model '${name}'${why}: ${messageOf(e)}`),
    );
  }

  /**
   * What poll mode compares: the names, sizes and modification times of a model directory's
   * files and of the files in its version directories (hidden entries, such as a version still
   * being written under a temporary name, are left out).
   */
  async fingerprint(name: string): Promise<string> {
    const dir = join(this.root, name);
    const parts: string[] = [];
    const list = async (d: string, prefix: string, depth: number) => {
      const entries = await readdir(d, { withFileTypes: true }).catch(() => []);
      for (const ent of entries.sort((a, b) => a.name.localeCompare(b.name))) {
        if (ent.name.startsWith('.')) continue;
        const p = join(d, ent.name);
        const st = await stat(p).catch(() => null);
        if (!st) continue;
        if (st.isDirectory()) {
          if (depth === 0 && !/^[1-9]\d*$/.test(ent.name)) continue;
          parts.push(`${prefix}${ent.name}/`);
          if (depth < 2) await list(p, `${prefix}${ent.name}/`, depth + 1);
        } else parts.push(`${prefix}${ent.name}:${st.size}:${st.mtimeMs}`);
      }
    };
    await list(dir, '', 0);
    return parts.join('|');
  }

  /**
   * One poll of the repository (Triton's poll mode): loads new model directories, reloads those
   * whose files changed, and unloads those removed. Models loaded from uploaded files and models
   * whose directory did not change (including ones unloaded through the API) are left alone.
   */
  async poll(): Promise<void> {
    if (this.closed) return;
    const names = await this.listDirectories().catch((e) => {
      this.log(`repository poll: ${messageOf(e)}`);
      return null;
    });
    if (!names) return;
    const work: Promise<void>[] = [];
    for (const name of names) {
      if (this.models.get(name)?.tempDir) continue;
      const fp = await this.fingerprint(name);
      const before = this.seen.get(name);
      if (before === fp) continue;
      work.push(
        this.loadFromDisk(name, before === undefined ? ' (new in the repository)' : ' (changed on disk)'),
      );
    }
    for (const name of [...this.seen.keys()]) {
      if (names.includes(name)) continue;
      this.seen.delete(name);
      const e = this.models.get(name);
      if (!e || e.tempDir) continue;
      work.push(
        this.unload(name).then(
          () => {
            if (this.models.get(name) === e && !existsSync(join(this.root, name))) this.models.delete(name);
            this.log(`unloaded model '${name}' (removed from the repository)`);
          },
          (err) => this.log(`failed to unload model '${name}': ${messageOf(err)}`),
        ),
      );
    }
    await Promise.all(work);
  }

  /** Polls every `intervalMs` until close (0: off). Polls never overlap. */
  startPolling(intervalMs: number): void {
    if (intervalMs <= 0 || this.pollTimer || this.closed) return;
    const tick = () => {
      this.polling = this.poll()
        .catch((e) => this.log(`repository poll failed: ${messageOf(e)}`))
        .finally(() => {
          this.polling = undefined;
          if (!this.closed) {
            this.pollTimer = setTimeout(tick, intervalMs);
            this.pollTimer.unref();
          }
        });
    };
    this.pollTimer = setTimeout(tick, intervalMs);
    this.pollTimer.unref();
  }

  private entry(name: string): ModelEntry {
    let e = this.models.get(name);
    if (!e) this.models.set(name, (e = { name, versions: new Map(), lock: Promise.resolve() }));
    return e;
  }

  /** Runs `fn` after every earlier load/unload of the same model has finished. */
  private locked<T>(e: ModelEntry, fn: () => Promise<T>): Promise<T> {
    const run = e.lock.then(fn, fn);
    e.lock = run.catch(() => undefined);
    return run;
  }

  /** Loads or reloads a model: the versions its policy selects start serving as each finishes loading. */
  load(name: string, override: LoadOverride = {}): Promise<void> {
    checkModelName(name);
    const e = this.entry(name);
    return this.locked(e, () => this.doLoad(e, override));
  }

  private async doLoad(e: ModelEntry, override: LoadOverride): Promise<void> {
    const { name } = e;
    let dir = join(this.root, name);
    let tempDir: string | undefined;
    try {
      if (override.files && Object.keys(override.files).length) {
        if (override.config === undefined) {
          throw badRequest(`loading model '${name}' from uploaded files needs a 'config' parameter as well`);
        }
        tempDir = await mkdtemp(join(tmpdir(), 'tessera-model-'));
        dir = join(tempDir, name);
        for (const [rel, bytes] of Object.entries(override.files)) {
          const target = normalize(join(dir, rel));
          if (!isSafeRelativePath(rel) || !target.startsWith(dir + sep))
            throw badRequest(`invalid file path '${rel}' for model '${name}'`);
          await mkdir(dirname(target), { recursive: true });
          await writeFile(target, bytes);
        }
      } else if (!existsSync(dir)) {
        if (!e.versions.size && !e.config) this.models.delete(name);
        throw notFound(`model '${name}' is not in the model repository '${this.root}'`);
      } else {
        await assertInsideRoot(this.root, dir, `model directory '${name}'`);
      }

      let rawConfig: unknown = override.config;
      if (typeof rawConfig === 'string') {
        try {
          rawConfig = JSON.parse(rawConfig);
        } catch (err) {
          throw badRequest(`the 'config' parameter for model '${name}' is not valid JSON: ${messageOf(err)}`);
        }
      }
      if (rawConfig === undefined) {
        const file = join(dir, 'config.json');
        if (existsSync(file)) {
          try {
            rawConfig = JSON.parse(await readFile(file, 'utf8'));
          } catch (err) {
            throw badRequest(`cannot read ${file}: ${messageOf(err)}`);
          }
        }
      }
      const config = parseModelConfig(rawConfig, name, this.opts.queueDefaults);

      const available: number[] = [];
      for (const d of await readdir(dir)) {
        if (/^[1-9]\d*$/.test(d) && (await stat(join(dir, d))).isDirectory()) available.push(Number(d));
      }
      const wanted = selectVersions(config.versionPolicy, available);
      if (!wanted.length) {
        throw badRequest(
          available.length
            ? `model '${name}': its version_policy selects none of the versions on disk (${available.join(', ')})`
            : `model '${name}' has no version directories (expected ${name}/1/model.onnx)`,
        );
      }

      const fresh = await Promise.all(
        wanted.map((v) => this.loadVersion(name, v, dir, config, tempDir ?? this.root)),
      );
      // Swap in the new versions; keep an old ready version when its reload failed, and keep the
      // old ready versions serving when none of the new ones loaded (a bad new version, e.g. one
      // still being copied in, never takes a serving model down).
      const old = e.versions;
      const noneLoaded = !fresh.some((v) => v.ready);
      const next = new Map<number, ModelVersion>();
      const retired: ModelVersion[] = [];
      for (const v of fresh) {
        const prev = old.get(v.version);
        if (!v.ready && prev?.ready) {
          next.set(v.version, prev);
          continue;
        }
        next.set(v.version, v);
        if (prev) retired.push(prev);
      }
      for (const [num, prev] of old) {
        if (next.get(num) === prev) continue;
        if (!next.has(num) && noneLoaded && prev.ready && !e.unloaded) {
          next.set(num, prev);
          continue;
        }
        if (!retired.includes(prev)) retired.push(prev);
      }
      e.versions = next;
      e.config = config;
      e.error = undefined;
      e.unloaded = false;
      const oldTemp = e.tempDir;
      e.tempDir = tempDir;
      tempDir = undefined;
      await Promise.all(retired.map((v) => this.retire(v)));
      if (oldTemp && oldTemp !== e.tempDir) await rm(oldTemp, { recursive: true, force: true });

      const failed = fresh.filter((v) => !v.ready);
      if (failed.length) {
        throw badRequest(
          `failed to load '${name}': ${failed.map((v) => `version ${v.version}: ${v.reason}`).join('; ')}`,
        );
      }
    } catch (err) {
      if (!e.versions.size) e.error = messageOf(err);
      if (tempDir) await rm(tempDir, { recursive: true, force: true });
      throw err;
    }
  }

  private async loadVersion(
    name: string,
    version: number,
    dir: string,
    config: ModelConfig,
    root: string,
  ): Promise<ModelVersion> {
    const vdir = join(dir, String(version));
    const candidates = config.defaultModelFilename ? [config.defaultModelFilename] : MODEL_FILES;
    const file = candidates.map((f) => join(vdir, f)).find((f) => existsSync(f));
    const key = `${name}/${version}#${++this.generation}`;
    const mv = new ModelVersion(name, version, key, config, file ?? join(vdir, candidates[0]!));
    const { metrics, executor } = this.opts;
    const started = process.hrtime.bigint();
    let loaded = false;
    try {
      if (!file) throw badRequest(`no model file in ${vdir} (expected ${candidates.join(' or ')})`);
      await this.checkModelFile(root, file);
      const signature = await executor.load(key, { file, device: config.device ?? this.opts.device });
      loaded = true;
      const io = resolveSignature(config, signature);
      mv.inputs = io.inputs;
      mv.outputs = io.outputs;
      for (const o of mv.outputs) {
        if (o.labelFilename && !o.labels) {
          const labels = join(dir, o.labelFilename);
          await assertInsideRoot(root, labels, `label_filename '${o.labelFilename}'`);
          const text = await readFile(labels, 'utf8').catch(() => {
            throw badRequest(`output '${o.name}': cannot read label_filename '${o.labelFilename}'`);
          });
          o.labels = text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1);
        }
      }
      mv.start(executor, metrics);
      this.observeLoad(name, version, started, 'success');
    } catch (err) {
      mv.state = 'UNAVAILABLE';
      mv.reason = messageOf(err);
      this.observeLoad(name, version, started, 'failure');
      if (loaded) await executor.unload(key).catch(() => undefined);
    }
    return mv;
  }

  /** Refuses model files that escape the repository, are too large, or nest too deeply. */
  private async checkModelFile(root: string, file: string): Promise<void> {
    await assertInsideRoot(root, file, `model file '${file}'`);
    const limits = this.opts.limits ?? DEFAULT_LIMITS;
    const { size } = await stat(file);
    if (size > limits.maxModelFileBytes) {
      throw limitExceeded(
        'maxModelFileBytes',
        413,
        `model file ${file} (${size} bytes)`,
        limits.maxModelFileBytes,
      );
    }
    if (!file.endsWith('.onnx')) return;
    const bytes = await readFile(file);
    if (protobufDepthExceeds(bytes, limits.maxProtobufDepth)) {
      throw limitExceeded(
        'maxProtobufDepth',
        400,
        `the message nesting of model file ${file}`,
        limits.maxProtobufDepth,
      );
    }
  }

  private observeLoad(model: string, version: number, started: bigint, outcome: string): void {
    const s = Number(process.hrtime.bigint() - started) / 1e9;
    this.opts.metrics.loadHistogram.observe({ model, version: String(version), outcome }, s);
  }

  private async retire(v: ModelVersion): Promise<void> {
    const successor = this.models.get(v.name)?.versions.get(v.version);
    await v.stop(this.opts.metrics, successor !== undefined && successor !== v && successor.ready);
    if (v.state !== 'UNAVAILABLE' || v.batcher) await this.opts.executor.unload(v.key).catch(() => undefined);
    v.state = 'UNAVAILABLE';
    v.reason = 'unloaded';
  }

  /** Unloads every version of a model; queued requests fail with 503, running ones finish. */
  unload(name: string): Promise<void> {
    checkModelName(name);
    const e = this.models.get(name);
    if (!e && !existsSync(join(this.root, name))) {
      return Promise.reject(notFound(`model '${name}' is not in the model repository`));
    }
    if (!e) return Promise.resolve();
    return this.locked(e, async () => {
      await Promise.all([...e.versions.values()].map((v) => this.retire(v)));
      e.unloaded = true;
      if (e.tempDir) {
        await rm(e.tempDir, { recursive: true, force: true });
        e.tempDir = undefined;
      }
    });
  }

  /** Waits until no request is queued or running (or `timeoutMs` passes): graceful shutdown. */
  async drain(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const busy = () =>
      this.allVersions().some((v) => v.batcher && (v.batcher.queued > 0 || v.batcher.executing > 0));
    while (busy() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  }

  /** Unloads everything (server shutdown). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.polling;
    await Promise.all([...this.models.keys()].map((n) => this.unload(n).catch(() => undefined)));
  }

  /** Triton's repository index: every model on disk or loaded, with each version's state. */
  async index(readyOnly = false): Promise<IndexEntry[]> {
    const names = new Set([...(await this.listDirectories().catch(() => [])), ...this.models.keys()]);
    const out: IndexEntry[] = [];
    for (const name of [...names].sort()) {
      const e = this.models.get(name);
      const versions = e ? [...e.versions.values()].sort((a, b) => a.version - b.version) : [];
      if (!versions.length) {
        if (readyOnly) continue;
        if (e?.error) out.push({ name, state: 'UNAVAILABLE', reason: e.error });
        else out.push({ name });
        continue;
      }
      for (const v of versions) {
        if (readyOnly && !v.ready) continue;
        out.push({ name, version: v.versionString, state: v.state, reason: v.reason });
      }
    }
    return out;
  }

  /** Every model version known (for statistics). */
  allVersions(): ModelVersion[] {
    return [...this.models.values()].flatMap((e) => [...e.versions.values()]);
  }

  /** Versions of a model, newest first; 404 when the model is unknown. */
  versionsOf(name: string): ModelVersion[] {
    const e = this.models.get(name);
    if (!e) throw notFound(`Request for unknown model: '${name}' is not found`);
    return [...e.versions.values()].sort((a, b) => b.version - a.version);
  }

  /**
   * The version a request addresses: the given one, or the newest ready one. 404 for an unknown
   * model or version, 503 when it exists but is not ready (loading, failed or unloaded).
   */
  resolve(name: string, version?: string): ModelVersion {
    const e = this.models.get(name);
    if (!e) throw notFound(`Request for unknown model: '${name}' is not found`);
    if (version !== undefined) {
      if (!/^[1-9]\d*$/.test(version))
        throw badRequest(`invalid model version '${version}': expected a positive integer`);
      const v = e.versions.get(Number(version));
      if (!v) throw notFound(`Request for unknown model: '${name}' version ${version} is not found`);
      if (!v.ready)
        throw unavailable(
          `model '${name}' version ${version} is not ready (${v.state}${v.reason ? `: ${v.reason}` : ''})`,
        );
      return v;
    }
    const versions = [...e.versions.values()].sort((a, b) => b.version - a.version);
    const ready = versions.find((v) => v.ready);
    if (ready) return ready;
    const why = e.unloaded
      ? 'unloaded'
      : (e.error ?? versions.map((v) => `version ${v.version}: ${v.state} ${v.reason}`.trim()).join('; '));
    throw unavailable(`model '${name}' is not ready${why ? ` (${why})` : ''}`);
  }

  /** Whether the model (any version, or the given one) is ready, without throwing. */
  isReady(name: string, version?: string): boolean {
    try {
      this.resolve(name, version);
      return true;
    } catch {
      return false;
    }
  }

  get size(): number {
    return this.models.size;
  }

  /** Executions that can run at once across the server (the worker count). */
  get concurrency(): number {
    return this.opts.executor.concurrency;
  }
}

/**
 * Checks config.json's inputs/outputs against what the loaded model declares, or fills them in
 * from the model when the config leaves them out (Triton's auto-complete).
 */
export function resolveSignature(
  cfg: ModelConfig,
  sig: ModelSignature,
): { inputs: TensorConfig[]; outputs: TensorConfig[] } {
  const batching = cfg.maxBatchSize > 0;
  const fmt = (s: readonly number[]) => `[${s.join(',')}]`;
  const resolveList = (
    kind: 'input' | 'output',
    configured: TensorConfig[] | undefined,
    actual: TensorSignature[],
  ) => {
    const names = actual.map((a) => a.name).join(', ');
    if (!configured) {
      return actual.map((a): TensorConfig => {
        if (!batching) return { name: a.name, dtype: a.dtype, dims: [...a.shape] };
        if (!a.shape.length)
          throw badRequest(`max_batch_size is ${cfg.maxBatchSize} but ${kind} '${a.name}' is a scalar`);
        if (a.shape[0] !== -1 && kind === 'input') {
          throw badRequest(
            `max_batch_size is ${cfg.maxBatchSize} but ${kind} '${a.name}' has shape ${fmt(a.shape)}, whose first dimension is fixed`,
          );
        }
        return { name: a.name, dtype: a.dtype, dims: a.shape.slice(1) };
      });
    }
    for (const c of configured) {
      const a = actual.find((x) => x.name === c.name);
      if (!a)
        throw badRequest(`config.json ${kind} '${c.name}' is not an ${kind} of the model (it has: ${names})`);
      if (a.dtype !== c.dtype) {
        throw badRequest(`config.json ${kind} '${c.name}' is ${c.dtype} but the model's is ${a.dtype}`);
      }
      const full = batching ? [-1, ...c.dims] : c.dims;
      if (a.shape.length && a.shape.length !== full.length) {
        throw badRequest(
          `config.json ${kind} '${c.name}' has ${batching ? 'batched ' : ''}shape ${fmt(full)} but the model's is ${fmt(a.shape)}`,
        );
      }
      full.forEach((d, i) => {
        const m = a.shape[i];
        if (m !== undefined && m !== -1 && d !== -1 && m !== d) {
          throw badRequest(
            `config.json ${kind} '${c.name}' has shape ${fmt(full)} but the model's is ${fmt(a.shape)}`,
          );
        }
      });
    }
    if (kind === 'input') {
      for (const a of actual) {
        if (!configured.some((c) => c.name === a.name))
          throw badRequest(`model input '${a.name}' is missing from config.json`);
      }
    }
    return configured;
  };
  return {
    inputs: resolveList('input', cfg.inputs, sig.inputs),
    outputs: resolveList('output', cfg.outputs, sig.outputs),
  };
}
