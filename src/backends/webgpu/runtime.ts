/**
 * What kernels use to talk to the GPU: the active client, GPU tensors (storage handle = GpuBuffer),
 * inputs as contiguous GPU buffers (uploading CPU inputs, packing strided views), new outputs, and
 * launching a WGSL shader with its params.
 */
import type { DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { numel, type Shape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import type { GpuBuffer, GpuClient } from './client.js';
import { encodeForGpu, gpuBytes, gpuHolds } from './repr.js';
import { withHelpers } from './wgsl.js';

let client: GpuClient | null = null;

export function setClient(c: GpuClient | null): void {
  client = c;
}
export function activeClient(): GpuClient | null {
  return client;
}
export function gpu(): GpuClient {
  if (!client) {
    throw new TesseraError('UNAVAILABLE', "device 'webgpu' is not available: call initWebGPU() first");
  }
  return client;
}

/** Uploads of up to this many elements keep a CPU copy, so shape-like inputs (Reshape's shape, axes) read back for free. */
export const SHADOW_MAX = 4096;

export function handleOf(t: Tensor): GpuBuffer {
  if (t.device !== 'webgpu')
    throw new TesseraError('INTERNAL', `webgpu: expected a GPU tensor, got one on ${t.device}`);
  return t.storage.handle as GpuBuffer;
}

/** A GPU tensor over `buf` (contiguous). */
export function wrap(buf: GpuBuffer, shape: Shape, dtype: DType): Tensor {
  return new Tensor({ device: 'webgpu', handle: buf, length: numel(shape) }, shape, dtype);
}

/** A new, uninitialized GPU tensor. */
export function empty(shape: Shape, dtype: DType): Tensor {
  return wrap(gpu().alloc(gpuBytes(dtype, numel(shape))), shape, dtype);
}

/** Copies a CPU tensor to the GPU. */
export function upload(t: Tensor): Tensor {
  // Sequences and optionals keep CPU items (the registry moves them like tensors): pass them through.
  if (!(t instanceof Tensor)) return t;
  if (t.device === 'webgpu') return t;
  // Strings and the low-precision storage types have no GPU form: they stay in CPU memory.
  if (!gpuHolds(t.dtype)) return t;
  const data = t.dataSync();
  const n = t.numel();
  const buf = gpu().alloc(gpuBytes(t.dtype, n));
  if (n > 0) gpu().upload(buf, encodeForGpu(t.dtype, data));
  if (n <= SHADOW_MAX) buf.shadow = (data as any).slice(0, n);
  return wrap(buf, t.shape, t.dtype);
}

// Packing strided GPU views is an elementwise copy, which lives with the elementwise kernels.
let packView: ((t: Tensor) => Tensor) | null = null;
export function setViewPacker(f: (t: Tensor) => Tensor): void {
  packView = f;
}

/** True when `t` is a GPU tensor laid out contiguously from the start of its buffer. */
export function isPacked(t: Tensor): boolean {
  return t.device === 'webgpu' && t.offset === 0 && t.isContiguous();
}

/** `t` as a GPU tensor whose buffer holds its elements contiguously from offset 0. */
export function packed(t: Tensor): Tensor {
  if (t.device !== 'webgpu') return upload(t);
  if (isPacked(t)) return t;
  if (!packView) throw new TesseraError('INTERNAL', 'webgpu: no view packer registered');
  return packView(t);
}

/** The buffer of `t` packed (see `packed`). */
export function bufIn(t: Tensor): GpuBuffer {
  return handleOf(packed(t));
}

/** Builds a params uniform: 32-bit words, read in WGSL as u32, i32 (bitcast) or f32 (bitcast). */
export class Params {
  private readonly words: number[] = [];
  private static readonly f = new Float32Array(1);
  private static readonly u = new Uint32Array(Params.f.buffer);
  get length(): number {
    return this.words.length;
  }
  u(...vs: number[]): this {
    for (const v of vs) this.words.push(v >>> 0);
    return this;
  }
  i(...vs: number[]): this {
    for (const v of vs) this.words.push(v | 0);
    return this;
  }
  f(...vs: number[]): this {
    for (const v of vs) {
      Params.f[0] = v;
      this.words.push(Params.u[0]!);
    }
    return this;
  }
  /** Word count rounded up to whole vec4s (the WGSL declaration's size). */
  get vec4s(): number {
    return Math.max(1, Math.ceil(this.words.length / 4));
  }
  build(): Uint32Array {
    const out = new Uint32Array(this.vec4s * 4);
    for (let i = 0; i < this.words.length; i++) out[i] = this.words[i]! >>> 0;
    return out;
  }
}

/** The WGSL declaration and accessors for a params uniform at `binding` with `vec4s` vec4s. */
export function paramsDecl(binding: number, vec4s: number): string {
  return `@group(0) @binding(${binding}) var<uniform> P: array<vec4<u32>, ${vec4s}>;
fn pu(i: u32) -> u32 { return P[i >> 2u][i & 3u]; }
fn pi(i: u32) -> i32 { return bitcast<i32>(P[i >> 2u][i & 3u]); }
fn pf(i: u32) -> f32 { return bitcast<f32>(P[i >> 2u][i & 3u]); }
`;
}

export const MAX_WG = 65535;

/** Workgroup counts for `n` threads in groups of `size`, spilling into y past 65535 groups. */
export function grid(n: number, size: number): [number, number, number] {
  const groups = Math.ceil(n / size);
  if (groups === 0) return [0, 1, 1];
  if (groups <= MAX_WG) return [groups, 1, 1];
  const x = MAX_WG;
  const y = Math.ceil(groups / x);
  if (y > MAX_WG) throw new TesseraError('UNSUPPORTED', `webgpu: ${n} threads exceed the dispatch limit`);
  return [x, y, 1];
}

/** WGSL for the flat thread index of a `grid` launch with workgroup size `size`. */
export function flatIndex(size: number): string {
  return `let gi = gid.x + gid.y * (nwg.x * ${size}u);`;
}
export const COMPUTE_ARGS =
  '@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>';

/** A kernel needed to bind more of one buffer than the adapter allows; its op falls back to the CPU. */
export class BindingLimitError extends TesseraError {
  constructor(
    readonly bytes: number,
    readonly limit: number,
  ) {
    super('UNSUPPORTED', `webgpu: a ${bytes}-byte buffer exceeds this adapter's ${limit}-byte binding limit`);
  }
}

const completed = new Map<string, string>();

/** Runs a shader: `bufs` at bindings 0..n-1, then `params` (when given). Helpers the code calls are added. */
export function launch(
  code: string,
  bufs: GpuBuffer[],
  params: Params | null,
  wg: [number, number, number],
  ranges?: ([number, number] | null)[],
): void {
  let full = completed.get(code);
  if (full === undefined) {
    full = withHelpers(code);
    completed.set(code, full);
  }
  const c = gpu();
  if (!ranges) {
    const big = bufs.findIndex((b) => b.bytes > c.maxBinding);
    if (big >= 0) throw new BindingLimitError(bufs[big]!.bytes, c.maxBinding);
  }
  c.run(full, bufs, params ? params.build() : null, wg, ranges);
}
