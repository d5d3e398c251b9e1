/**
 * Helpers for the training API tests: generated tasks, small ONNX models made with Tessera, a
 * temporary model repository, and HTTP helpers (v2 tensors, inference, waiting for a job, reading
 * a server-sent event stream). The references the tests compare with are independent of the
 * server: losses and accuracies computed here from served logits, and onnxruntime-node.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import { exportModule, Generator, manualSeed, nn, randn } from '../../src/index.js';

export interface Task {
  /** Flat row-major inputs and class labels. */
  x: Float32Array;
  y: number[];
  shape: number[];
}

/** Points in the plane labelled by quadrant (4 classes). */
export function quadrants(n: number, seed: number): Task {
  const g = new Generator(seed);
  const x = randn([n, 2], { generator: g }).dataSync() as Float32Array;
  const y = Array.from({ length: n }, (_, i) => (x[2 * i]! > 0 ? 1 : 0) + (x[2 * i + 1]! > 0 ? 2 : 0));
  return { x: Float32Array.from(x), y, shape: [n, 2] };
}

/** 8x8 images: a horizontal (class 0) or vertical (class 1) bar at a random place, on noise. */
export function bars(n: number, seed: number): Task {
  const g = new Generator(seed);
  const x = new Float32Array(n * 64);
  const y: number[] = [];
  for (let k = 0; k < n; k++) {
    const cls = k % 2;
    const at = g.int(1, 7);
    for (let i = 0; i < 64; i++) x[k * 64 + i] = 0.2 * g.normal();
    for (let j = 1; j < 7; j++) x[k * 64 + (cls === 0 ? at * 8 + j : j * 8 + at)]! += 1;
    y.push(cls);
  }
  return { x, y, shape: [n, 1, 8, 8] };
}

/** x[N, 2] -> Linear(2, 32) -> ReLU -> Linear(32, 4) -> logits, as ONNX bytes. */
export function mlpOnnx(seed: number): Uint8Array {
  manualSeed(seed);
  const m = new nn.Sequential(new nn.Linear(2, 32), new nn.ReLU(), new nn.Linear(32, 4));
  return exportModule(m, randn([1, 2]), { inputNames: ['x'], outputNames: ['logits'], dynamicBatch: true });
}

/** image[N, 1, 8, 8] -> Conv -> BatchNorm -> ReLU -> MaxPool -> Flatten -> Linear -> logits[N, 2], as ONNX bytes. */
export function cnnOnnx(seed: number): Uint8Array {
  manualSeed(seed);
  const m = new nn.Sequential(
    new nn.Conv2d(1, 4, 3, { padding: 1 }),
    new nn.BatchNorm2d(4),
    new nn.ReLU(),
    new nn.MaxPool2d(2),
    new nn.Flatten(),
    new nn.Linear(4 * 4 * 4, 2),
  );
  return exportModule(m, randn([1, 1, 8, 8]), {
    inputNames: ['image'],
    outputNames: ['logits'],
    dynamicBatch: true,
  });
}

/** A temporary model repository with version 1 of each model (and its config.json when given). */
export function makeRepo(models: Record<string, { onnx: Uint8Array; config?: object }>): string {
  const root = mkdtempSync(join(tmpdir(), 'tessera-train-repo-'));
  for (const [name, m] of Object.entries(models)) {
    mkdirSync(join(root, name, '1'), { recursive: true });
    writeFileSync(join(root, name, '1', 'model.onnx'), m.onnx);
    if (m.config) writeFileSync(join(root, name, 'config.json'), JSON.stringify(m.config));
  }
  return root;
}

export function removeRepo(root: string): void {
  rmSync(root, { recursive: true, force: true });
}

export const v2 = (name: string, datatype: string, shape: number[], data: ArrayLike<number>) => ({
  name,
  datatype,
  shape,
  data: Array.from(data),
});

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: any }> {
  const r = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  return { status: r.status, json: await r.json() };
}

export async function getJson(url: string): Promise<any> {
  const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return r.json();
}

/** The first output of an inference over HTTP, as float32. */
export async function infer(
  base: string,
  model: string,
  version: number,
  input: string,
  task: Pick<Task, 'x' | 'shape'>,
): Promise<Float32Array> {
  const { status, json } = await postJson(`${base}/v2/models/${model}/versions/${version}/infer`, {
    inputs: [v2(input, 'FP32', task.shape, task.x)],
  });
  if (status !== 200) throw new Error(`infer ${model}/${version}: ${status} ${JSON.stringify(json)}`);
  return Float32Array.from(json.outputs[0].data as number[]);
}

/** onnxruntime-node's outputs for a model file (the oracle). */
export async function ortRun(
  file: string,
  input: string,
  task: Pick<Task, 'x' | 'shape'>,
): Promise<Float32Array> {
  const s = await ort.InferenceSession.create(file, { logSeverityLevel: 3 });
  try {
    const r = await s.run({ [input]: new ort.Tensor('float32', task.x, task.shape) });
    return r[s.outputNames[0]!]!.data as Float32Array;
  } finally {
    await s.release();
  }
}

/** Mean cross-entropy of logits [n, k] against class labels (log-sum-exp, in float64). */
export function crossEntropy(logits: Float32Array, y: number[]): number {
  const k = logits.length / y.length;
  let sum = 0;
  y.forEach((c, i) => {
    const row = logits.subarray(i * k, (i + 1) * k);
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, v) => a + Math.exp(v - m), 0));
    sum += lse - row[c]!;
  });
  return sum / y.length;
}

export function accuracy(logits: Float32Array, y: number[]): number {
  const k = logits.length / y.length;
  let ok = 0;
  y.forEach((c, i) => {
    const row = Array.from(logits.subarray(i * k, (i + 1) * k));
    if (row.indexOf(Math.max(...row)) === c) ok++;
  });
  return ok / y.length;
}

export function assertAllClose(a: ArrayLike<number>, b: ArrayLike<number>, tol: number, what: string): void {
  if (a.length !== b.length) throw new Error(`${what}: ${a.length} values vs ${b.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i]! - b[i]!) <= tol * (1 + Math.abs(b[i]!))))
      throw new Error(`${what}: element ${i} is ${a[i]}, expected ${b[i]} (tolerance ${tol})`);
  }
}

/** Waits until `check` holds (work that finishes just after the state a test saw, e.g. removing files). */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: still not so after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ENDED = new Set(['completed', 'failed', 'cancelled']);

/** Polls a job until it is in one of `states` (default: an ended state); returns its detail. */
export async function waitForJob(
  base: string,
  id: string,
  until: (job: any) => boolean = (j) => ENDED.has(j.state),
  timeoutMs = 40_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJson(`${base}/v2/training/jobs/${id}`);
    if (until(job)) return job;
    if (Date.now() > deadline)
      throw new Error(`job ${id} still ${job.state} at step ${job.step} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface SseEvent {
  id?: string;
  event: string;
  data: any;
}

/** Reads a server-sent event stream to its end. */
export async function readEvents(
  url: string,
): Promise<{ status: number; contentType: string; events: SseEvent[] }> {
  const r = await fetch(url);
  const text = await r.text();
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const e: Partial<SseEvent> = {};
    let data = '';
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) e.event = line.slice(7);
      else if (line.startsWith('data: ')) data += line.slice(6);
      else if (line.startsWith('id: ')) e.id = line.slice(4);
    }
    if (e.event) events.push({ ...e, event: e.event, data: JSON.parse(data) });
  }
  return { status: r.status, contentType: r.headers.get('content-type') ?? '', events };
}
