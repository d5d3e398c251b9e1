/**
 * Loads the WASM SIMD kernels synchronously at import, so every CPU kernel stays synchronous: the
 * module compiled by `npm run build:wasm` (scripts/build-wasm.mjs) sits in ./build next to this
 * file, in two builds: relaxed SIMD (fused multiply-add) and plain SIMD. The relaxed build is
 * picked when the runtime validates a tiny relaxed-SIMD module; Node 20 has relaxed SIMD behind
 * --experimental-wasm-relaxed-simd, which is switched on here before validating (later Node versions
 * ship it on). The memory is a shared WebAssembly.Memory, so worker threads
 * (src/backends/cpu/threads) run the same kernels over the same buffers.
 *
 * TESSERA_WASM_DIR points at another build folder. When the build is missing, or TESSERA_WASM=0, `wasm` is null and kernels use their TypeScript
 * loops; a missing build warns once.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import type { TypedArray } from '../../../runtime/dtype.js';

// The WebAssembly JS API, typed here: lib ES2022 and @types/node 20 do not declare it.
export interface WasmModule {
  readonly __wasmModule?: never;
}
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => WasmModule;
  Memory: new (d: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
  Instance: new (m: WasmModule, imports: object) => { exports: Record<string, unknown> };
}
const WebAssembly = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

/** The functions the module exports (pointers are byte offsets into `memory`). */
export interface WasmExports {
  sgemm(
    M: number,
    N: number,
    K: number,
    a: number,
    rsA: number,
    csA: number,
    b: number,
    rsB: number,
    csB: number,
    c: number,
    ldc: number,
    accumulate: number,
    scratch: number,
  ): void;
  sgemmScratchBytes(): number;
  [name: string]: unknown;
}

export interface WasmRuntime {
  module: WasmModule;
  memory: WasmMemory;
  exports: WasmExports;
  /** The native GEMM's entry points for this instance's memory; null when the addon is not loaded. */
  nativeGemm: NativeGemm | null;
  /** True when the relaxed-SIMD build (fused multiply-add) is loaded. */
  relaxed: boolean;
  file: string;
}

const PAGE = 65536;
/** Maximum memory in pages (2 GiB): shared memories must declare one; the address space is only reserved. */
export const MAX_PAGES = 32768;

// (module (func (result v128) v128.const 0 v128.const 0 v128.const 0 f32x4.relaxed_madd))
const RELAXED_PROBE = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  5,
  1,
  96,
  0,
  1,
  123,
  3,
  2,
  1,
  0,
  10,
  61,
  1,
  59,
  0,
  253,
  12,
  ...new Array<number>(16).fill(0),
  253,
  12,
  ...new Array<number>(16).fill(0),
  253,
  12,
  ...new Array<number>(16).fill(0),
  253,
  133,
  2,
  11,
]);
// (module (func (result v128) v128.const 0))
const SIMD_PROBE = new Uint8Array([
  0,
  97,
  115,
  109,
  1,
  0,
  0,
  0,
  1,
  5,
  1,
  96,
  0,
  1,
  123,
  3,
  2,
  1,
  0,
  10,
  22,
  1,
  20,
  0,
  253,
  12,
  ...new Array<number>(16).fill(0),
  11,
]);

/** Whether this runtime accepts relaxed SIMD, enabling V8's flag for it first unless TESSERA_RELAXED_SIMD=0. */
export function detectRelaxedSimd(): boolean {
  if (process.env.TESSERA_RELAXED_SIMD === '0') return false;
  if (WebAssembly.validate(RELAXED_PROBE)) return true;
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return WebAssembly.validate(RELAXED_PROBE);
}

/** Where the builds are: ./build next to this file, or TESSERA_WASM_DIR. */
export function buildFile(name: string): string {
  const dir = process.env.TESSERA_WASM_DIR;
  return dir
    ? `${dir.replace(/\/$/, '')}/${name}`
    : fileURLToPath(new URL(`./build/${name}`, import.meta.url));
}

/**
 * Compiles and instantiates one build over a fresh shared memory. Its products run on the native
 * GEMM when the addon is loaded, unless `native` is false (tests of the WASM GEMM itself).
 */
export function instantiate(file: string, opts: { native?: boolean } = {}): WasmRuntime {
  const module = new WebAssembly.Module(readFileSync(file));
  const memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: true });
  const bound = nativeAddon?.bind(new Float32Array(memory.buffer, 0, 1)) ?? null;
  const instance = new WebAssembly.Instance(module, { env: { memory, ...nativeImports(bound) } });
  if (bound && opts.native !== false) new Int32Array(memory.buffer)[NATIVE_FLAG >> 2] = 1;
  return {
    nativeGemm: bound,
    module,
    memory,
    exports: instance.exports as unknown as WasmExports,
    relaxed: file.endsWith('relaxed.wasm'),
    file,
  };
}

// ---------------------------------------------------------------------------------------------
// The native GEMM (src/backends/cpu/native, built by scripts/build-native.mjs): a Node-API addon the
// module imports (assembly/native.ts). Matrix products and the convolutions' GEMMs run in it while
// the flag word at NATIVE_FLAG is 1; everything else stays in WASM.

/** The addon's entry points for one memory (pointers are byte offsets into it). */
export interface NativeGemm {
  sgemm(...args: number[]): void;
  sgemmPacked(...args: number[]): void;
  sgemmPackB(...args: number[]): void;
  sgemmPackedBytes(K: number, N: number): number;
  /** dst <- A [M, K] (element strides rsA, csA) packed whole as convUnitsAbs reads weights (M * K floats). */
  sgemmPackA(M: number, K: number, a: number, rsA: number, csA: number, dst: number): void;
  /** sgemm / sgemmPacked on absolute addresses, each as two int32 halves (see sgemm.ts `half`). */
  sgemmAbs(...args: number[]): void;
  sgemmPackedAbs(...args: number[]): void;
  /** Convolution work units [u0, u1) of the parameter block at an absolute address (native/conv-kernel.inc). */
  convUnitsAbs(pLo: number, pHi: number, u0: number, u1: number): void;
  /** Depthwise output planes [u0, u1) of the same parameter block, weights as stored. */
  depthwiseUnitsAbs(pLo: number, pHi: number, u0: number, u1: number): void;
  /** MaxPool values of planes [u0, u1), the geometry, X and Y of the same parameter block. */
  maxPoolUnitsAbs(pLo: number, pHi: number, u0: number, u1: number): void;
  /** A transposed convolution's cols^T packed whole, units (image, input channel) [u0, u1), same block. */
  convPackUnitsAbs(pLo: number, pHi: number, u0: number, u1: number): void;
  /** A block copy of `bytes` bytes between absolute addresses (as halves). */
  copyAbs(dLo: number, dHi: number, sLo: number, sHi: number, bytes: number): void;
  /** Planes [p0, p1) of the per-channel affine (+ Relu), arrays at absolute addresses (as halves). */
  channelAffineAbs(...args: number[]): void;
  /** The address of a typed array's first element. */
  address(a: Float32Array): number;
  panelWidth(): number;
}

/** What the addon exports. */
export interface NativeAddon {
  /** The entry points for the memory `view` (offset 0 of its buffer) belongs to. */
  bind(view: Float32Array): NativeGemm;
  panelWidth(): number;
  /** Rows per packed A panel: row ranges of sgemmPackedA start at multiples of it. */
  panelRows(): number;
  /** Where an M-row A's last panels start: row blocks of packed weights may start at or before it. */
  panelTailStart(M: number): number;
  /** The instruction set its kernels were picked for: 'avx512', 'avx2' or 'generic'. */
  isa(): string;
  /** Lets malloc keep this many bytes of freed memory for reuse (native/memory.cc); false where it cannot. */
  keepFreedMemory(bytes: number): boolean;
  /** Elementwise kernels on float32 arrays in place (native/elementwise.cc). */
  channelAffine(
    x: Float32Array,
    y: Float32Array,
    C: number,
    L: number,
    scale: Float32Array,
    shift: Float32Array,
    relu: boolean,
  ): void;
  addRelu(a: Float32Array, b: Float32Array, y: Float32Array): void;
  relu(x: Float32Array, y: Float32Array): void;
  /**
   * dst (dense) <- src's elements at offset + sum(i_k * stride_k) for i in shape, `dims` being
   * [shape..., strides...] (native/strided.cc); any typed arrays of one element size.
   */
  gather(src: TypedArray, offset: number, dst: TypedArray, dims: Float64Array): void;
  /** y[q] = mean (or max) of x's plane q of P floats, for y.length planes, as assembly/pool.ts globalPoolF32 gives it. */
  globalPool(x: Float32Array, y: Float32Array, P: number, max: boolean): void;
  softmaxRows(x: Float32Array, y: Float32Array, len: number, log: boolean): void;
}

/** Byte offset of the flag word the WASM gemm reads (assembly/native.ts NATIVE_FLAG). */
const NATIVE_FLAG = 512;

/** The module's imports (assembly/native.ts) and the addon function each one is. */
export const NATIVE_IMPORTS = {
  nativeSgemm: 'sgemm',
  nativeSgemmPacked: 'sgemmPacked',
  nativeSgemmPackB: 'sgemmPackB',
  nativeSgemmPackedBytes: 'sgemmPackedBytes',
  nativePanelWidth: 'panelWidth',
} as const;

/** The imports for an instance: the addon's functions bound to its memory, or stubs that throw. */
export function nativeImports(bound: NativeGemm | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, fn] of Object.entries(NATIVE_IMPORTS)) {
    out[name] = bound
      ? bound[fn]
      : () => {
          throw new Error(`${name}: the native GEMM is not loaded`);
        };
  }
  return out;
}

/** Where the addon is: ../native/build next to this file, or TESSERA_NATIVE_DIR. */
export function nativeFile(): string {
  const dir = process.env.TESSERA_NATIVE_DIR;
  return dir
    ? `${dir.replace(/\/$/, '')}/tessera-native.node`
    : fileURLToPath(new URL('../native/build/tessera-native.node', import.meta.url));
}

/**
 * The addon, or null when TESSERA_NATIVE=0, when it was not built (no compiler at install: quietly,
 * the WASM kernels are the portable path) or when it fails to load (with a warning).
 */
function loadNative(): { addon: NativeAddon; file: string } | null {
  if (process.env.TESSERA_NATIVE === '0' || process.env.TESSERA_WASM === '0') return null;
  const file = nativeFile();
  if (!existsSync(file)) return null;
  try {
    return { addon: createRequire(import.meta.url)(file) as NativeAddon, file };
  } catch (e) {
    process.emitWarning(
      `native GEMM ${file} failed to load (${(e as Error).message}): matrix products run on the WASM kernels`,
      'TesseraNative',
    );
    return null;
  }
}

const loadedNative = loadNative();
const nativeAddon: NativeAddon | null = loadedNative?.addon ?? null;

/**
 * Freed memory malloc keeps for the next arrays, in MiB (TESSERA_KEEP_FREED_MB; 0 leaves the C
 * library's defaults). Eager ops and session outputs are fresh arrays, and with glibc's defaults a
 * loop of products of a few MiB each page-faults its outputs in and shoots down TLBs to release
 * them (native/memory.cc has the measurement). 256 MiB is four times V8's external-memory step
 * between collections (64 MiB): the arrays one collection frees are all kept for the next ones.
 */
const KEEP_FREED_MB = Number(process.env.TESSERA_KEEP_FREED_MB ?? 256);
if (nativeAddon && KEEP_FREED_MB > 0) nativeAddon.keepFreedMemory(KEEP_FREED_MB * 2 ** 20);

/**
 * Switches products between the native GEMM and the WASM one, in every thread at once (they read
 * the same flag word). Only while no product runs; for tests and benchmarks comparing the two.
 * Returns whether the native GEMM is now on (never, when it is not loaded).
 */
export function setNativeGemm(on: boolean): boolean {
  if (!nativeFlag) return false;
  nativeFlag[0] = on ? 1 : 0;
  return on;
}

/** Whether products run on the native GEMM now. */
export function nativeGemmOn(): boolean {
  return nativeFlag?.[0] === 1;
}

function load(): WasmRuntime | null {
  if (process.env.TESSERA_WASM === '0') return null;
  if (!WebAssembly.validate(SIMD_PROBE)) {
    process.emitWarning('WebAssembly SIMD is not available: CPU kernels run in TypeScript', 'TesseraWasm');
    return null;
  }
  const relaxed = detectRelaxedSimd();
  const candidates = relaxed ? ['tessera-relaxed.wasm', 'tessera-simd.wasm'] : ['tessera-simd.wasm'];
  const file = candidates.map(buildFile).find((f) => existsSync(f));
  if (!file) {
    process.emitWarning(
      `WASM kernels not built (${buildFile(candidates[0]!)} is missing; run 'npm run build:wasm'): CPU kernels run in TypeScript`,
      'TesseraWasm',
    );
    return null;
  }
  return instantiate(file);
}

/** The loaded kernels, or null when CPU kernels run in TypeScript. */
export const wasm: WasmRuntime | null = load();
const mainNative: NativeGemm | null = wasm?.nativeGemm ?? null;

/** The loaded native GEMM: its file and instruction set; null when products run in WASM only. */
export const native: {
  file: string;
  isa: string;
  panelWidth: number;
  panelRows: number;
  /** The entry points bound to the main memory, for drivers that call the addon directly. */
  gemm: NativeGemm;
  /** The addon itself (its elementwise kernels take typed arrays). */
  addon: NativeAddon;
} | null =
  wasm && mainNative
    ? {
        file: loadedNative!.file,
        isa: loadedNative!.addon.isa(),
        panelWidth: loadedNative!.addon.panelWidth(),
        panelRows: loadedNative!.addon.panelRows(),
        gemm: mainNative,
        addon: loadedNative!.addon,
      }
    : null;

/** What runs the CPU kernels, for logs and reports: 'wasm relaxed-simd, native avx512 GEMM' and the like. */
export function cpuKernels(): string {
  if (!wasm) return 'typescript';
  return `${wasm.relaxed ? 'wasm relaxed-simd' : 'wasm simd'}${native ? `, native ${native.isa} GEMM` : ''}`;
}

/** The main memory's flag word (a shared memory's views stay valid when it grows). */
const nativeFlag: Int32Array | null =
  wasm && nativeAddon ? new Int32Array(wasm.memory.buffer, NATIVE_FLAG, 1) : null;

/**
 * A bump allocator over the WASM memory for one kernel call: `reset()` at the start of the call,
 * then `alloc` the buffers it needs. The memory grows to the largest call seen and then stays, so
 * a steady stream of same-sized calls allocates nothing.
 */
export class Arena {
  private top = 0;
  // Below this offset nothing is allocated (the module itself has no static data). Resident
  // blocks (allocResident) sit between 1024 and `base`; scratch starts at `base`.
  private base = 1024;
  /** Freed resident blocks [ptr, bytes], reused first-fit. */
  private readonly freeBlocks: [number, number][] = [];
  /** Bytes held by live resident blocks. */
  residentBytes = 0;
  constructor(private readonly memory: WasmMemory) {
    this.top = this.base;
  }
  reset(): void {
    this.top = this.base;
  }
  /**
   * A block that stays allocated until `freeResident` (weights kept in WASM memory across calls).
   * Only call it between kernel calls: it moves the scratch region up, invalidating scratch pointers.
   */
  allocResident(bytes: number): number {
    const size = (bytes + 63) & ~63;
    const i = this.freeBlocks.findIndex((b) => b[1] >= size);
    let p: number;
    if (i >= 0) {
      const blk = this.freeBlocks[i]!;
      p = blk[0];
      if (blk[1] === size) this.freeBlocks.splice(i, 1);
      else {
        blk[0] += size;
        blk[1] -= size;
      }
    } else {
      this.reset();
      p = this.alloc(size);
      this.base = (p + size + 63) & ~63;
      this.top = this.base;
    }
    this.residentBytes += size;
    return p;
  }
  freeResident(ptr: number, bytes: number): void {
    const size = (bytes + 63) & ~63;
    this.residentBytes -= size;
    this.freeBlocks.push([ptr, size]);
  }
  /** Byte offset of `bytes` fresh bytes, 64-byte aligned (a cache line). */
  alloc(bytes: number): number {
    const p = (this.top + 63) & ~63;
    const end = p + bytes;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > MAX_PAGES) {
        throw new RangeError(`WASM kernel memory would exceed ${MAX_PAGES * PAGE} bytes (asked ${end})`);
      }
      this.memory.grow(pages);
    }
    this.top = end;
    return p;
  }
  /** The allocation top, to `rewind` to after a call's temporaries. */
  mark(): number {
    return this.top;
  }
  rewind(top: number): void {
    this.top = Math.max(this.base, top);
  }
  f32(ptr: number, n: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, n);
  }
}

export const arena: Arena | null = wasm ? new Arena(wasm.memory) : null;
