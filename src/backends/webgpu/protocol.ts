/**
 * Messages between the main thread (client.ts) and the GPU thread (gpu-thread.ts). The main thread
 * names every buffer with an integer id and batches commands; the GPU thread owns Dawn, the buffer
 * pool, the pipeline cache and the uniform cache, and encodes each batch into one submission.
 */

/** Options the GPU thread starts with. */
export interface ThreadInit {
  /** 'deny': hardware adapters only; 'allow': a software adapter when no hardware one exists; 'only': software only. */
  software: 'deny' | 'allow' | 'only';
  /** Dawn backend to force ('vulkan', 'opengles', 'metal', 'd3d12', ...), else Dawn's default order. */
  backend?: string;
  powerPreference?: 'high-performance' | 'low-power';
  /** Bytes of idle buffers the pool keeps before destroying the oldest. */
  poolLimitBytes: number;
  /** Extra Dawn flags passed to `create` (e.g. 'enable-dawn-features=...'). */
  dawnFlags?: string[];
}

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** The Dawn backend it came from, when known. */
  backend: string;
  /** A CPU implementation (llvmpipe, lavapipe, SwiftShader, a fallback adapter). */
  software: boolean;
  featureLevel: 'core' | 'compatibility';
  features: string[];
  limits: Record<string, number>;
  /**
   * How float16 tensors are stored: 'native' (WGSL f16, where the device has 'shader-f16') or
   * 'emulated' (f32 values rounded to float16). Set by the main thread when the client starts.
   */
  float16?: 'native' | 'emulated';
}

export type Cmd =
  /** Defines shader `id` (compiled on first use, cached for the thread's life). */
  | { t: 'shader'; id: number; code: string }
  /** One compute dispatch: storage buffers at bindings 0..n-1 (allocated on first sight with `sizes`), the params uniform last. */
  | {
      t: 'run';
      shader: number;
      bufs: number[];
      sizes: number[];
      params: Uint32Array | null;
      wg: [number, number, number];
      /** Per binding, [byte offset, byte size] of the part bound (large buffers are bound in parts), or null for all of it. */
      ranges?: ([number, number] | null)[];
    }
  /** Writes `data` at the start of buffer `id`, in command order. */
  | { t: 'upload'; id: number; bytes: number; data: ArrayBuffer }
  | {
      t: 'copy';
      src: number;
      srcOffset: number;
      dst: number;
      dstBytes: number;
      dstOffset: number;
      bytes: number;
    }
  /** The buffer's tensors are gone: back to the pool. */
  | { t: 'free'; id: number }
  /** Copies `bytes` from `offset` of buffer `id` into `sab` (see READ_HEADER) and signals; `notify` also posts a message. */
  | { t: 'read'; id: number; offset: number; bytes: number; sab: SharedArrayBuffer; notify?: number }
  /** Writes JSON stats into `sab` like a read. */
  | { t: 'stats'; sab: SharedArrayBuffer }
  /** Waits for the queue, destroys the device and lets the thread end by itself (terminating a thread inside Dawn's callbacks aborts the process). */
  | { t: 'shutdown' };

/** Shared read buffers start with 4 int32s: state (0 pending, 1 done, 2 error), byte length of the payload, 2 spare. */
export const READ_HEADER = 16;
export const READ_PENDING = 0;
export const READ_DONE = 1;
export const READ_ERROR = 2;

export type ThreadMsg =
  | { t: 'ready'; info: AdapterInfo }
  | { t: 'init-error'; message: string }
  | { t: 'read-done'; notify: number }
  | { t: 'shutdown-done' }
  | { t: 'log'; message: string };

export interface PoolStats {
  /** Buffers (and bytes) held by live tensors. */
  liveBuffers: number;
  liveBytes: number;
  /** Idle buffers the pool keeps for reuse. */
  freeBuffers: number;
  freeBytes: number;
  /** Allocations served from the pool vs. new GPU buffers created. */
  reused: number;
  created: number;
  /** Compute pipelines compiled so far (one per shader variant). */
  pipelines: number;
  /** Uniform (params) buffers cached, and how often one was reused. */
  uniforms: number;
  uniformHits: number;
  dispatches: number;
  submits: number;
}
