/**
 * The WebGPU backend: `await initWebGPU()` starts the GPU thread (Dawn through the `webgpu`
 * package), picks an adapter, registers the 'webgpu' device and the WGSL kernels on the op
 * registry. After that `t.to('webgpu')`, `InferenceSession.create(m, { device: 'webgpu' })` and every
 * op dispatch on GPU tensors run here; ops without a WebGPU kernel fall back to the CPU with the
 * copies counted (`webgpuStats().fallbacks`) and logged once per op.
 */
import '../../ops/index.js';
import { fallbackCounts } from '../../ops/registry.js';
import { registerDeviceBackend } from '../../runtime/device.js';
import { TesseraError } from '../../runtime/errors.js';
import { webgpuBackend } from './backend.js';
import { type ClientOptions, GpuClient } from './client.js';
import { clearTables } from './ops/data-ops.js';
import type { AdapterInfo, PoolStats } from './protocol.js';
import { registerWebGPUKernels } from './register.js';
import { setNativeF16 } from './repr.js';
import { activeClient, setClient } from './runtime.js';

export type { AdapterInfo, PoolStats } from './protocol.js';
export type WebGPUOptions = ClientOptions;

let starting: Promise<AdapterInfo> | null = null;
let kernelsRegistered = false;

/**
 * Starts the backend once (later calls return the same adapter). Rejects with a TesseraError
 * ('UNAVAILABLE') naming every adapter tried when there is none, or only a software one and
 * `software: 'deny'`. Logs one line saying when the adapter is a software rasterizer.
 */
export function initWebGPU(opts: WebGPUOptions = {}): Promise<AdapterInfo> {
  if (starting) return starting;
  starting = (async () => {
    const client = await GpuClient.start(opts);
    setNativeF16(client.info.float16 === 'native');
    setClient(client);
    // End the GPU thread cleanly when the program runs out of work: tearing a thread down inside
    // Dawn's callbacks at exit can abort the process.
    process.once('beforeExit', () => {
      if (activeClient() === client) void disposeWebGPU();
    });
    if (!kernelsRegistered) {
      registerWebGPUKernels();
      kernelsRegistered = true;
    }
    registerDeviceBackend(webgpuBackend);
    const i = client.info;
    if (i.software) {
      (opts.log ?? console.error)(
        `[tessera webgpu] using a software adapter (${i.device || i.description}, ${i.backend} backend, ${i.featureLevel} mode): kernels run on the CPU`,
      );
    }
    return i;
  })();
  starting.catch(() => {
    starting = null;
  });
  return starting;
}

/** True once initWebGPU has succeeded and the GPU thread is alive. */
export function webgpuAvailable(): boolean {
  return activeClient()?.alive ?? false;
}

export function webgpuInfo(): AdapterInfo | null {
  return activeClient()?.info ?? null;
}

export interface WebGPUStats extends PoolStats {
  shaderVariants: number;
  launches: number;
  uploads: number;
  uploadBytes: number;
  reads: number;
  readBytes: number;
  syncReads: number;
  /** CPU fallbacks per op (the registry's counts). */
  fallbacks: Record<string, number>;
}

/** Pool, pipeline-cache and transfer statistics, and the CPU fallback counts. */
export function webgpuStats(): WebGPUStats {
  const c = activeClient();
  if (!c) throw new TesseraError('UNAVAILABLE', "device 'webgpu' is not available: call initWebGPU() first");
  return { ...c.stats(), ...c.counters, fallbacks: Object.fromEntries(fallbackCounts) };
}

/** Waits until all queued GPU work has finished. */
export async function webgpuSync(): Promise<void> {
  await activeClient()?.sync();
}

/** Stops the GPU thread. GPU tensors still alive become unreadable; initWebGPU can start a new one. */
export async function disposeWebGPU(): Promise<void> {
  const c = activeClient();
  setClient(null);
  starting = null;
  // Cached tables live in this client's buffers: a later client must not see them.
  clearTables();
  await c?.dispose();
}

export {
  createGpuWorker,
  type Executor,
  type GpuWorker,
  type GpuWorkerOptions,
  type RunOutput,
  type Signature,
  type TensorPayload,
} from './gpu-process.js';
