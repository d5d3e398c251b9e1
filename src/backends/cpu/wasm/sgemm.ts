/**
 * The one fast GEMM every CPU matrix product goes through (MatMul, Gemm, Einsum via matmulCpu;
 * Conv, ConvTranspose and the conv weight gradient via nn/gemm): float32 operands are copied into
 * the WASM memory, multiplied by the SIMD kernel (assembly/gemm.ts), split across the worker pool
 * when the product is large, and copied back. Callers keep their plain TypeScript loop for other
 * dtypes and for when the WASM build is not loaded (`sgemm` returns false). A constant right-hand
 * operand (a session's weight) is packed once, in the order the micro-kernel reads it, and stays
 * in WASM memory: later products neither copy nor pack it.
 */
import { TesseraError } from '../../../runtime/errors.js';
import { getNumThreads, MAX_THREADS } from '../threads/config.js';
import { type PoolJob, WorkerPool } from '../threads/pool.js';
import { arena, native, nativeGemmOn, wasm } from './runtime.js';
import { winogradWeights } from './winograd.js';

/** Rows up to which a product counts as a matrix-vector one (threadsFor). */
const GEMV_ROWS = 4;
/** Elements of B (1 MiB) from which a matrix-vector product splits across threads. */
const GEMV_SPLIT_ELEMENTS = 1 << 18;
/** Multiply-adds below which a product stays on one thread: waking workers costs tens of microseconds. */
export const PARALLEL_MIN_MACS = 1 << 21;
/** Each extra thread should get at least this many multiply-adds. */
const MACS_PER_THREAD = 1 << 20;
const MR = 6;
/** Columns per panel of the WASM kernel; the native one reports its own (`panelWidth`). */
const WASM_NR = 8;
/** Columns per packed B panel of the GEMM products run on now: splits by columns start at multiples of it. */
export function panelWidth(): number {
  return nativeGemmOn() ? native!.panelWidth : WASM_NR;
}
/** A column split of a packed product gives each thread at least this many NR-wide panels. */
const MIN_PANELS_PER_THREAD = 4;

/** The packed-B entry points of assembly/gemm.ts (runtime.ts types the plain ones). */
interface PackedExports {
  sgemmPackedBytes(K: number, N: number): number;
  sgemmPackB(K: number, N: number, b: number, rsB: number, csB: number, dst: number): void;
  sgemmPacked(
    M: number,
    N: number,
    K: number,
    a: number,
    rsA: number,
    csA: number,
    bp: number,
    np: number,
    j0: number,
    c: number,
    ldc: number,
    accumulate: number,
    scratch: number,
  ): void;
}
const packedExports = () => wasm!.exports as unknown as PackedExports;

let pool: WorkerPool | null = null;

/** The worker pool, started on first use. */
export function workerPool(): WorkerPool | null {
  if (!wasm) return null;
  pool ??= new WorkerPool(wasm, MAX_THREADS - 1);
  return pool;
}

/** Stops the pool's workers (they restart on the next large product). */
export async function shutdownThreads(): Promise<void> {
  await pool?.close();
}

/**
 * Weights resident in WASM memory. A session marks its float32 initializers' arrays constant
 * (`markConstant`); the first product that reads such an array copies its operand into a block
 * that stays (op(X) stored row-major, so a transposed weight is transposed once; or, for the right
 * operand of `sgemm`, packed into the micro-kernel's panels), and later products read it in place
 * instead of copying it in each call. A block is freed when its array is garbage collected. Arrays
 * marked constant must not be written afterwards.
 */
const constantArrays = new WeakSet<Float32Array>();
const residentOf = new WeakMap<Float32Array, Map<string, number>>();
/** Bytes of WASM memory resident weights may take; past it operands are copied per call. */
export const MAX_RESIDENT_BYTES = 1 << 30;
const freeOnCollect =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<[number, number][]>((blocks) => {
        for (const [p, b] of blocks) arena?.freeResident(p, b);
      })
    : null;
const blocksOf = new WeakMap<Float32Array, [number, number][]>();

/**
 * The last block each constant array was asked for, by its numeric key (kind, offset, shape,
 * transposition): a session asks for the same one on every run, so this skips building the string
 * key and the Map lookup of `resident`.
 */
interface LastBlock {
  /**
   * 0: stored as op(X); B packed for 1: the WASM GEMM, 2: the native one; 3: A packed for the native
   * one; 4: Winograd-transformed and packed for the native one (as B when `trans`).
   */
  packed: number;
  off: number;
  rows: number;
  cols: number;
  trans: boolean;
  ptr: number;
}
const lastBlockOf = new WeakMap<Float32Array, LastBlock>();

/** The block of X last recorded under this key by `remember`, if it is the same one. */
function lastBlock(
  X: Float32Array,
  packed: number,
  off: number,
  rows: number,
  cols: number,
  trans: boolean,
): number | undefined {
  const l = lastBlockOf.get(X);
  return l !== undefined &&
    l.packed === packed &&
    l.off === off &&
    l.rows === rows &&
    l.cols === cols &&
    l.trans === trans
    ? l.ptr
    : undefined;
}

function remember(
  X: Float32Array,
  packed: number,
  off: number,
  rows: number,
  cols: number,
  trans: boolean,
  ptr: number | undefined,
): number | undefined {
  if (ptr !== undefined) lastBlockOf.set(X, { packed, off, rows, cols, trans, ptr });
  return ptr;
}

/** Declares `a` read-only from now on, so products may keep it resident in WASM memory. */
export function markConstant(a: Float32Array): void {
  constantArrays.add(a);
}

/** Whether `a` is marked constant. */
export function isConstant(a: Float32Array): boolean {
  return constantArrays.has(a);
}

/** Bytes held by resident weights. */
export function residentBytes(): number {
  return arena?.residentBytes ?? 0;
}

/**
 * The resident block of X under `key`, made by `fill(ptr)` on first use (`bytes` long); undefined
 * when X is not constant or the budget is spent. Moves the arena's scratch region when it allocates.
 */
function resident(
  X: Float32Array,
  key: string,
  bytes: number,
  fill: (p: number) => void,
): number | undefined {
  if (!arena || !constantArrays.has(X)) return undefined;
  let m = residentOf.get(X);
  const hit = m?.get(key);
  if (hit !== undefined) return hit;
  if (arena.residentBytes + bytes > MAX_RESIDENT_BYTES) return undefined;
  const p = arena.allocResident(bytes);
  fill(p);
  if (!m) {
    m = new Map();
    residentOf.set(X, m);
  }
  m.set(key, p);
  let blocks = blocksOf.get(X);
  if (!blocks) {
    blocks = [];
    blocksOf.set(X, blocks);
    freeOnCollect?.register(X, blocks);
  }
  blocks.push([p, bytes]);
  return p;
}

/**
 * The WASM pointer of op(X) [rows, cols] row-major for a constant X (stored [cols, rows] when
 * `trans`), copying it in on first use; undefined when X is not constant or the budget is spent.
 * Call before arena.reset() of the product (it may move the scratch region).
 */
export function residentOperand(
  X: Float32Array,
  off: number,
  rows: number,
  cols: number,
  trans: boolean,
): number | undefined {
  if (!constantArrays.has(X)) return undefined;
  const last = lastBlock(X, 0, off, rows, cols, trans);
  if (last !== undefined) return last;
  const n = rows * cols;
  const p = resident(X, `${off}:${rows}:${cols}:${trans ? 1 : 0}`, n * 4, (p) => {
    const dst = arena!.f32(p, n);
    if (!trans) dst.set(X.subarray(off, off + n));
    else {
      // X is [cols, rows]: dst[r, c] = X[c, r].
      for (let c = 0; c < cols; c++) {
        const src = off + c * rows;
        for (let r = 0; r < rows; r++) dst[r * cols + c] = X[src + r]!;
      }
    }
  });
  return remember(X, 0, off, rows, cols, trans, p);
}

/**
 * The WASM pointer of a convolution weight X [M, K] (groups of M / group rows) packed for the native
 * GEMM's sgemmPackedA, one group after another, packing it on first use; undefined when the native
 * GEMM is off, X is not constant or the budget is spent. Call before arena.reset().
 */
export function residentPackedA(X: Float32Array, M: number, K: number, group: number): number | undefined {
  if (!native || !nativeGemmOn() || M <= 0 || K <= 0 || !constantArrays.has(X)) return undefined;
  // The offset field holds the group count: the same weight is only ever packed whole.
  const last = lastBlock(X, 3, group, M, K, false);
  if (last !== undefined) return last;
  const p = resident(X, `packedA:${group}:${M}:${K}`, M * K * 4, (p) => {
    arena!.reset();
    const tmp = arena!.alloc(M * K * 4);
    arena!.f32(tmp, M * K).set(X.subarray(0, M * K));
    packGroupsA(tmp, M, K, group, p);
  });
  return remember(X, 3, group, M, K, false, p);
}

/**
 * The WASM pointer of a 3x3 convolution weight X [M, C, 3, 3] transformed for Winograd F(2x2, 3x3)
 * and packed for the native GEMM (packWinograd), packing it on first use; undefined when the native
 * GEMM is off, X is not constant or the budget is spent. Call before arena.reset().
 */
export function residentWinograd(
  X: Float32Array,
  M: number,
  C: number,
  transposed: boolean,
): number | undefined {
  if (!native || !nativeGemmOn() || M <= 0 || C <= 0 || !constantArrays.has(X)) return undefined;
  const last = lastBlock(X, 4, 0, M, C, transposed);
  if (last !== undefined) return last;
  const p = resident(X, `winograd:${M}:${C}:${transposed ? 1 : 0}`, winogradBytes(M, C, transposed), (p) => {
    arena!.reset();
    packWinograd(X, M, C, transposed, p);
  });
  return remember(X, 4, 0, M, C, transposed, p);
}

/** Bytes of packWinograd's output. */
function winogradBytes(M: number, C: number, transposed: boolean): number {
  return 16 * (transposed ? native!.gemm.sgemmPackedBytes(C, M) : M * C * 4);
}

/**
 * dst <- the 16 matrices U_xi [M, C] of 3x3 weights X (winogradWeights), one after another as
 * native/winograd-kernel.inc reads them: each packed whole as the GEMM's A panels, or, `transposed`,
 * U_xi^T [C, M] as its B panels. Uses the arena's scratch region.
 */
function packWinograd(X: Float32Array, M: number, C: number, transposed: boolean, dst: number): void {
  const n = M * C;
  const tmp = arena!.alloc(16 * n * 4);
  winogradWeights(X, M, C, arena!.f32(tmp, 16 * n));
  const g = native!.gemm;
  const step = winogradBytes(M, C, transposed) / 16;
  for (let xi = 0; xi < 16; xi++) {
    const u = tmp + xi * n * 4;
    if (transposed) g.sgemmPackB(C, M, u, 1, C, dst + xi * step);
    else g.sgemmPackA(M, C, u, C, 1, dst + xi * step);
  }
}

/** dst <- the row-major [M, K] matrix at src packed for sgemmPackedA, per group of M / group rows. */
export function packGroupsA(src: number, M: number, K: number, group: number, dst: number): void {
  const Mg = M / group;
  for (let g = 0; g < group; g++) {
    const off = g * Mg * K * 4;
    native!.gemm.sgemmPackA(Mg, K, src + off, K, 1, dst + off);
  }
}

/**
 * The WASM pointer of op(X) [K, N] for a constant X (stored [N, K] when `trans`) packed for
 * `gemmPackedAt` (assembly/gemm.ts sgemmPackB), packing it on first use; undefined when X is not
 * constant or the budget is spent. Call before arena.reset() of the product.
 */
export function residentPacked(
  X: Float32Array,
  off: number,
  K: number,
  N: number,
  trans: boolean,
): number | undefined {
  if (!wasm || K <= 0 || N <= 0 || !constantArrays.has(X)) return undefined;
  // The two GEMMs pack differently: a block packed for one is never read by the other.
  const layout = nativeGemmOn() ? 2 : 1;
  const last = lastBlock(X, layout, off, K, N, trans);
  if (last !== undefined) return last;
  const ex = packedExports();
  const key = `packed${layout}:${off}:${K}:${N}:${trans ? 1 : 0}`;
  const p = resident(X, key, ex.sgemmPackedBytes(K, N), (p) => {
    // The operand as stored goes through scratch; the kernel's pack reads either layout.
    arena!.reset();
    const tmp = arena!.alloc(K * N * 4);
    arena!.f32(tmp, K * N).set(X.subarray(off, off + K * N));
    ex.sgemmPackB(K, N, tmp, trans ? 1 : N, trans ? K : 1, p);
  });
  return remember(X, layout, off, K, N, trans, p);
}

/**
 * A view of the whole WASM memory for the per-call copies of `sgemm`, made again only when the
 * memory has grown past it: reading `memory.buffer` of a shared memory makes a new buffer object
 * each time, which costs more than copying a batch-1 operand. The view of a shared memory stays
 * valid after a grow (it just does not reach the new pages).
 */
let heap: Float32Array<ArrayBufferLike> = new Float32Array(0);
function heapTo(endPtr: number): Float32Array<ArrayBufferLike> {
  if (heap.byteLength < endPtr) heap = new Float32Array(wasm!.memory.buffer);
  return heap;
}

/** Threads a product of this size uses. */
export function threadsFor(M: number, N: number, K: number): number {
  const macs = M * N * K;
  const t = getNumThreads();
  // A product of a few rows streams B once: it is bound by memory, not multiply-adds, and a B of a
  // megabyte or more reads about twice as fast on two cores (resnet50's 2048 x 1000 classifier,
  // 8 MB: 0.64 -> 0.45 ms; the 784 x 512 layer of mlp-b1: the run 35 -> 19 us).
  const streaming = M <= GEMV_ROWS && K * N >= GEMV_SPLIT_ELEMENTS;
  if (t <= 1 || (macs < PARALLEL_MIN_MACS && !streaming)) return 1;
  if (streaming) return Math.max(1, Math.min(t, Math.ceil(N / panelWidth())));
  // Blocks of C must not be thinner than one micro-tile.
  const maxParts = Math.max(Math.ceil(M / MR), Math.ceil(N / panelWidth()));
  return Math.max(1, Math.min(t, Math.floor(macs / MACS_PER_THREAD), maxParts));
}

/** Splits [0, n) into `parts` ranges whose starts are multiples of `unit`. */
function split(n: number, parts: number, unit: number): [number, number][] {
  const units = Math.ceil(n / unit);
  const out: [number, number][] = [];
  let u0 = 0;
  for (let p = 0; p < parts; p++) {
    const u1 = Math.round(((p + 1) * units) / parts);
    if (u1 > u0) out.push([u0 * unit, Math.min(u1 * unit, n)]);
    u0 = u1;
  }
  return out;
}

/**
 * The blocks of C [i0, i1) x [j0, j1) a product runs as, one per thread. With B packed ahead, by
 * columns when each thread gets a few panels (its share of B then stays in its core's L2 from one
 * call to the next), else by rows. Otherwise each thread packs the whole of the operand it does not
 * split, so C's longer side is split and the smaller operand is the one packed twice.
 */
function splitC(
  M: number,
  N: number,
  threads: number,
  NR: number,
  packedB: boolean,
): [number, number, number, number][] {
  if (threads === 1) return [[0, M, 0, N]];
  const byColumns = packedB
    ? Math.ceil(N / NR) >= threads * MIN_PANELS_PER_THREAD || M < threads * MR
    : M < N;
  return byColumns
    ? split(N, threads, NR).map(([j0, j1]) => [0, M, j0, j1])
    : split(M, threads, MR).map(([i0, i1]) => [i0, i1, 0, N]);
}

/**
 * C[M, N] = op(A) op(B) (+ C when `accumulate`) (+ `bias` [N] on every row), then Relu when `relu`,
 * float32, with the layout of nn/gemm.ts: op(A) is [M, K] (A stored [K, M] when transA), op(B) is
 * [K, N] (B stored [N, K] when transB), C dense row-major at cOff. The native GEMM adds the bias to
 * the finished sums and applies the Relu as it stores each tile; a bias is only for the native GEMM
 * (elsewhere the Gemm op writes it into C and accumulates). Returns false (and does nothing) when
 * the WASM kernels are not loaded.
 */
export function sgemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  aOff: number,
  B: Float32Array,
  bOff: number,
  C: Float32Array,
  cOff: number,
  accumulate: boolean,
  relu = false,
  bias?: Float32Array,
): boolean {
  if (bias && !nativeGemmOn()) throw new TesseraError('INTERNAL', 'sgemm: a bias needs the native GEMM');
  if (!wasm || !arena) return false;
  if (M === 0 || N === 0) return true;
  // Resident operands first: allocating one moves the scratch region. A constant B is packed
  // unless the product is one or two columns (those stream B as stored, see assembly/gemm.ts), or,
  // on the native GEMM, narrower than half its panel: it takes those as dot products (or, for a
  // short K, transposed), the same for every M, which a packed B would not be.
  const ra = residentOperand(A, aOff, M, K, transA);
  if (nativeGemmOn()) {
    const packB = N >= native!.panelWidth / 2;
    const rp = packB ? residentPacked(B, bOff, K, N, transB) : undefined;
    // A narrow B is kept as op(B)^T [N, K]: its columns contiguous in k, as the dot products read them.
    const rb = packB ? undefined : residentOperand(B, bOff, N, K, !transB);
    nativeInPlace(transA, transB, M, N, K, A, aOff, ra, B, bOff, rp, rb, C, cOff, accumulate, relu, bias);
    return true;
  }
  const rp = N > 2 ? residentPacked(B, bOff, K, N, transB) : undefined;
  const rb = rp === undefined ? residentOperand(B, bOff, K, N, transB) : undefined;
  arena.reset();
  let pa: number;
  let rsA: number;
  let csA: number;
  if (ra !== undefined) {
    pa = ra;
    rsA = K;
    csA = 1;
  } else {
    pa = arena.alloc(M * K * 4);
    heapTo(pa + M * K * 4).set(A.subarray(aOff, aOff + M * K), pa >> 2);
    rsA = transA ? 1 : K;
    csA = transA ? M : 1;
  }
  let pb = 0;
  let rsB = 0;
  let csB = 0;
  if (rp === undefined) {
    if (rb !== undefined) {
      pb = rb;
      rsB = N;
      csB = 1;
    } else {
      pb = arena.alloc(K * N * 4);
      heapTo(pb + K * N * 4).set(B.subarray(bOff, bOff + K * N), pb >> 2);
      rsB = transB ? 1 : N;
      csB = transB ? K : 1;
    }
  }
  const pc = arena.alloc(M * N * 4);
  if (accumulate) heapTo(pc + M * N * 4).set(C.subarray(cOff, cOff + M * N), pc >> 2);
  if (rp !== undefined) gemmPackedAt(M, N, K, pa, rsA, csA, rp, pc, N, accumulate);
  else gemmAt(M, N, K, pa, rsA, csA, pb, rsB, csB, pc, N, accumulate);
  if (relu)
    (wasm.exports as unknown as { reluF32(x: number, y: number, n: number): void }).reluF32(pc, pc, M * N);
  C.set(heapTo(pc + M * N * 4).subarray(pc >> 2, (pc >> 2) + M * N), cOff);
  return true;
}

/**
 * The product on WASM pointers (arena memory): C[M, N] at pc (row stride ldc) (+)= A B, A and B
 * with element strides, split across the worker pool when large. Scratch comes from the arena.
 */
export function gemmAt(
  M: number,
  N: number,
  K: number,
  pa: number,
  rsA: number,
  csA: number,
  pb: number,
  rsB: number,
  csB: number,
  pc: number,
  ldc: number,
  accumulate: boolean,
): void {
  const ex = wasm!.exports;
  const acc = accumulate ? 1 : 0;
  const threads = threadsFor(M, N, K);
  const scratchBytes = ex.sgemmScratchBytes();
  if (threads === 1) {
    ex.sgemm(M, N, K, pa, rsA, csA, pb, rsB, csB, pc, ldc, acc, arena!.alloc(scratchBytes));
    return;
  }
  const jobs = splitC(M, N, threads, panelWidth(), false).map(([i0, i1, j0, j1]): PoolJob => {
    const b = pb + j0 * csB * 4;
    const c = pc + (i0 * ldc + j0) * 4;
    const args = [i1 - i0, j1 - j0, K, pa + i0 * rsA * 4, rsA, csA, b, rsB, csB, c, ldc, acc];
    return { fn: 'sgemm', args: [...args, arena!.alloc(scratchBytes)] };
  });
  workerPool()!.run(jobs);
}

/**
 * As gemmAt with B [K, N] packed by `residentPacked` at pbp. Split across threads by columns where
 * each thread gets a few panels (it then reads only its share of B, which stays in its core's L2
 * from one call to the next), else by rows.
 */
export function gemmPackedAt(
  M: number,
  N: number,
  K: number,
  pa: number,
  rsA: number,
  csA: number,
  pbp: number,
  pc: number,
  ldc: number,
  accumulate: boolean,
): void {
  const ex = packedExports();
  const acc = accumulate ? 1 : 0;
  const NR = panelWidth();
  const np = Math.ceil(N / NR) * NR;
  const threads = threadsFor(M, N, K);
  const scratchBytes = wasm!.exports.sgemmScratchBytes();
  if (threads === 1) {
    ex.sgemmPacked(M, N, K, pa, rsA, csA, pbp, np, 0, pc, ldc, acc, arena!.alloc(scratchBytes));
    return;
  }
  const jobs = splitC(M, N, threads, NR, true).map(([i0, i1, j0, j1]): PoolJob => {
    const c = pc + (i0 * ldc + j0) * 4;
    const args = [i1 - i0, j1 - j0, K, pa + i0 * rsA * 4, rsA, csA, pbp, np, j0, c, ldc, acc];
    return { fn: 'sgemmPacked', args: [...args, arena!.alloc(scratchBytes)] };
  });
  workerPool()!.run(jobs);
}

// ---------------------------------------------------------------------------------------------
// The native GEMM reads and writes the caller's arrays where they are (their addresses, from the
// addon), so a product copies nothing into or out of WASM memory: on a 1024^3 product those copies
// were a serial millisecond that two threads could not share.

const TWO32 = 2 ** 32;
/** An absolute address as the two int32 halves the native `...Abs` entry points take. */
export function half(addr: number): [number, number] {
  return [(addr % TWO32) | 0, Math.floor(addr / TWO32)];
}

let memoryAddress = -1;
/** The address of byte 0 of the WASM memory (a shared memory never moves). */
export function wasmAddress(): number {
  if (memoryAddress < 0) memoryAddress = native!.gemm.address(new Float32Array(wasm!.memory.buffer, 0, 1));
  return memoryAddress;
}

/** `sgemm` on the native GEMM with operands in place: resident blocks in WASM memory, others where they are. */
function nativeInPlace(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: Float32Array,
  aOff: number,
  ra: number | undefined,
  B: Float32Array,
  bOff: number,
  rp: number | undefined,
  rb: number | undefined,
  C: Float32Array,
  cOff: number,
  accumulate: boolean,
  relu: boolean,
  bias: Float32Array | undefined,
): void {
  const g = native!.gemm;
  const base = wasmAddress();
  const [pa, rsA, csA] =
    ra !== undefined ? [base + ra, K, 1] : [g.address(A) + aOff * 4, transA ? 1 : K, transA ? M : 1];
  const pc = g.address(C) + cOff * 4;
  const pBias = bias ? g.address(bias) : 0;
  const acc = accumulate ? 1 : 0;
  const act = relu ? 1 : 0;
  const threads = threadsFor(M, N, K);
  const NR = native!.panelWidth;
  // One job per block of C (splitC). Its B arguments: the packed block (pointer, padded width,
  // first column) or B's own (pointer to column j0, strides).
  let bArgs: (j0: number) => number[];
  let fn: 'sgemmAbs' | 'sgemmPackedAbs';
  if (rp !== undefined) {
    const np = Math.ceil(N / NR) * NR;
    fn = 'sgemmPackedAbs';
    bArgs = (j0) => [...half(base + rp), np, j0];
  } else {
    const [pb, rsB, csB] =
      rb !== undefined ? [base + rb, 1, K] : [g.address(B) + bOff * 4, transB ? 1 : N, transB ? K : 1];
    fn = 'sgemmAbs';
    bArgs = (j0) => [...half(pb + j0 * csB * 4), rsB, csB];
  }
  const jobs = splitC(M, N, threads, NR, rp !== undefined).map(([i0, i1, j0, j1]): PoolJob => {
    const a = [...half(pa + i0 * rsA * 4), rsA, csA];
    const c = [...half(pc + (i0 * N + j0) * 4), N];
    const epi = bias ? [acc, act, ...half(pBias + j0 * 4)] : [acc, act];
    return { fn, args: [i1 - i0, j1 - j0, K, ...a, ...bArgs(j0), ...c, ...epi] };
  });
  if (jobs.length === 1) g[jobs[0]!.fn as 'sgemmAbs'](...jobs[0]!.args);
  else workerPool()!.run(jobs);
}
