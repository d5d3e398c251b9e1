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
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

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

/** Compiles and instantiates one build over a fresh shared memory. */
export function instantiate(file: string): WasmRuntime {
  const module = new WebAssembly.Module(readFileSync(file));
  const memory = new WebAssembly.Memory({ initial: 64, maximum: MAX_PAGES, shared: true });
  const instance = new WebAssembly.Instance(module, { env: { memory } });
  return {
    module,
    memory,
    exports: instance.exports as unknown as WasmExports,
    relaxed: file.endsWith('relaxed.wasm'),
    file,
  };
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
