/**
 * Test helpers for the server: an in-process fake ModelExecutor whose "model files" are JSON
 * descriptions (so route and batching tests need no real runtime), and temporary repositories.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type {
  ExecTiming,
  LoadSpec,
  ModelExecutor,
  ModelSignature,
  RunResult,
  TensorPayload,
} from '../../src/server/index.js';

/** What a fake model file holds. `fn`: affine (y = 2x + 1 per element, float32), identity (outputs = inputs). */
export interface FakeModel extends ModelSignature {
  fn: 'affine' | 'identity';
  delayMs?: number;
  failLoad?: string;
}

export class FakeExecutor implements ModelExecutor {
  readonly concurrency: number;
  readonly models = new Map<string, FakeModel>();
  /** Batch size (dim 0 of the first input) of every execution, in order. */
  readonly executions: { key: string; batch: number }[] = [];
  closed = false;

  constructor(concurrency = 2) {
    this.concurrency = concurrency;
  }

  async load(key: string, spec: LoadSpec): Promise<ModelSignature> {
    const m = JSON.parse(await readFile(spec.file, 'utf8')) as FakeModel;
    if (m.failLoad) throw new Error(m.failLoad);
    this.models.set(key, m);
    return { inputs: m.inputs, outputs: m.outputs };
  }

  async run(key: string, inputs: TensorPayload[], outputNames: string[]): Promise<RunResult> {
    const m = this.models.get(key);
    if (!m) throw new Error(`fake: ${key} not loaded`);
    this.executions.push({ key, batch: inputs[0]?.shape[0] ?? 0 });
    if (m.delayMs) await new Promise((r) => setTimeout(r, m.delayMs));
    const timing: ExecTiming = { inputNs: 1000, inferNs: 5000, outputNs: 2000 };
    const outputs = outputNames.map((name, i): TensorPayload => {
      if (m.fn === 'identity') {
        const src = inputs.find((t) => t.name === name.replace(/^out/, 'in')) ?? inputs[i]!;
        return { ...src, name };
      }
      const x = inputs[0]!;
      const y = new Float32Array(x.data.length);
      for (let k = 0; k < y.length; k++) y[k] = 2 * Number((x.data as Float32Array)[k]) + 1;
      return { name, dtype: 'float32', shape: [...x.shape], data: y };
    });
    return { outputs, timing };
  }

  async unload(key: string): Promise<void> {
    this.models.delete(key);
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

export const affineModel = (delayMs = 0): FakeModel => ({
  fn: 'affine',
  delayMs,
  inputs: [{ name: 'x', dtype: 'float32', shape: [-1, 4] }],
  outputs: [{ name: 'y', dtype: 'float32', shape: [-1, 4] }],
});

/** A temporary model repository: `add(name, config, {1: model})` writes config.json and version files. */
export class TempRepo {
  readonly root = mkdtempSync(join(tmpdir(), 'tessera-test-repo-'));

  add(name: string, config: object | undefined, versions: Record<number, FakeModel | string>): this {
    const dir = join(this.root, name);
    mkdirSync(dir, { recursive: true });
    if (config) writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    for (const [v, m] of Object.entries(versions)) {
      mkdirSync(join(dir, v), { recursive: true });
      writeFileSync(join(dir, v, 'model.onnx'), typeof m === 'string' ? m : JSON.stringify(m));
    }
    return this;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** Parses a binary inference response: the JSON header and the bytes after it. */
export function splitBinaryResponse(body: Buffer, headerLength: number): { json: any; binary: Buffer } {
  return {
    json: JSON.parse(body.subarray(0, headerLength).toString('utf8')),
    binary: body.subarray(headerLength),
  };
}

/** Reads one sample's value from Prometheus text, e.g. metric('nv_inference_count', {model: 'm'}). */
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    if (ok) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}
