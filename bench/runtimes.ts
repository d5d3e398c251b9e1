/**
 * The runtimes the benchmark compares, behind one shape: given model bytes and feeds, an ONNX
 * runtime returns a `run()` that performs one inference. Tessera, onnxruntime-node (native) and
 * onnxruntime-web (its WASM backend, in Node) run ONNX; TensorFlow.js (wasm backend) gets the
 * workloads written with its own ops in workloads.ts. Thread counts are set equal for all.
 */
import { availableParallelism } from 'node:os';
import { getNumThreads, setNumThreads } from '../src/backends/cpu/threads/config.js';
import { cpuKernels } from '../src/backends/cpu/wasm/runtime.js';
import { InferenceSession, Tensor } from '../src/index.js';

export type RuntimeName = 'tessera' | 'ort-node' | 'ort-web' | 'tfjs-wasm';
export const PEERS: RuntimeName[] = ['ort-node', 'ort-web', 'tfjs-wasm'];

export interface Feed {
  data: Float32Array;
  dims: number[];
}
export type Feeds = Record<string, Feed>;
export type Run = () => Promise<unknown>;

export interface OnnxRuntime {
  name: RuntimeName;
  /** A prepared session over `bytes`: every call runs the model once on `feeds` and reads the outputs. */
  prepare(bytes: Uint8Array, feeds: Feeds): Promise<Run>;
  /** Sets intra-op threads for the sessions prepared after the call. */
  setThreads(n: number): void;
}

export function tesseraRuntime(): OnnxRuntime {
  return {
    name: 'tessera',
    setThreads: (n) => setNumThreads(n),
    async prepare(bytes, feeds) {
      const session = await InferenceSession.create(bytes);
      const inputs: Record<string, Tensor> = {};
      for (const [k, f] of Object.entries(feeds)) inputs[k] = Tensor.fromData(f.data, f.dims, 'float32');
      return async () => {
        const out = await session.run(inputs);
        for (const t of Object.values(out)) t.dataSync();
        return out;
      };
    },
  };
}

type Ort = typeof import('onnxruntime-node');

function ortRuntime(name: 'ort-node' | 'ort-web', ort: Ort, web: boolean): OnnxRuntime {
  let threads = 1;
  return {
    name,
    setThreads(n) {
      threads = n;
      if (web) (ort.env as any).wasm.numThreads = n;
    },
    async prepare(bytes, feeds) {
      const opts: Record<string, unknown> = {
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        logSeverityLevel: 3,
      };
      if (!web) {
        opts.intraOpNumThreads = threads;
        opts.interOpNumThreads = 1;
      }
      // Idle pool threads would spin after each run and slow whatever runs next (onnxruntime-web's
      // WASM threads too: with them spinning, Tessera's squeezenet right after took 7 ms, not 5).
      opts.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
      const session = await ort.InferenceSession.create(bytes, opts);
      const inputs: Record<string, unknown> = {};
      for (const [k, f] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', f.data, f.dims);
      return async () => {
        const out = await session.run(inputs as any);
        for (const t of Object.values(out)) await (t as any).getData?.();
        return out;
      };
    },
  };
}

export async function ortNodeRuntime(): Promise<OnnxRuntime> {
  return ortRuntime(
    'ort-node',
    (await import('onnxruntime-node')).default ?? (await import('onnxruntime-node')),
    false,
  );
}

export async function ortWebRuntime(threads: number): Promise<OnnxRuntime> {
  const ort = (await import('onnxruntime-web')) as unknown as Ort;
  const env = (ort.env as any).wasm;
  env.numThreads = threads;
  env.simd = true;
  return ortRuntime('ort-web', ort, true);
}

export type Tf = typeof import('@tensorflow/tfjs');

/** TensorFlow.js with the wasm backend and `threads` threads (what the backend grants is reported). */
export async function tfjsWasm(threads: number): Promise<{ tf: Tf; threads: number; detail: string }> {
  const tf = await import('@tensorflow/tfjs');
  const backend = await import('@tensorflow/tfjs-backend-wasm');
  backend.setThreadsCount(threads);
  await tf.setBackend('wasm');
  await tf.ready();
  const got = backend.getThreadsCount();
  return { tf, threads: got, detail: `backend ${tf.getBackend()}, ${got} thread(s)` };
}

export function machine(): Record<string, unknown> {
  return {
    node: process.version,
    cpus: availableParallelism(),
    tesseraKernels: cpuKernels(),
    tesseraThreads: getNumThreads(),
  };
}
