/**
 * Float32 2-D convolution in WASM memory. X is copied in once and Y out once; the weight and bias
 * are read in place when the session marked them constant (resident, see sgemm.ts). Two kernels
 * (assembly/conv.ts), both run as ranges of work units on the calling thread or split across the
 * worker pool when the product is large:
 * - one input channel per group (depthwise, channel multiplier up to 24): a direct kernel over a
 *   zero-padded copy of the input plane, SIMD over the output width, no im2col;
 * - otherwise, per (image, group), the output positions are cut into tiles whose im2col block fits
 *   in L2 and each tile is unfolded and multiplied by the GEMM straight into Y (a 1x1 kernel with
 *   unit strides and no padding reads X in place), bias and Relu added while the tile is in cache.
 * With the native kernels loaded (../native), both kinds run there instead (`convNative`): the same
 * plans and work units, X read and Y written in place (no copies). The weight gradient
 * (conv2dWeightGradWasm) uses the same tiled im2col. The TypeScript path in src/ops/nn/conv.ts
 * computes the same values and stays the reference (test/backends/).
 */
import { allocateUnset } from '../../../runtime/dtype.js';
import { getNumThreads } from '../threads/config.js';
import { MAX_JOBS, type PoolFunction, type PoolJob } from '../threads/pool.js';
import { arena, native, nativeGemmOn, wasm } from './runtime.js';
import {
  gemmAt,
  half,
  isConstant,
  packGroupsA,
  panelWidth,
  residentOperand,
  residentPacked,
  residentPackedA,
  residentWinograd,
  wasmAddress,
  workerPool,
} from './sgemm.js';
import { winogradShape } from './winograd.js';

export interface Conv2dShape {
  N: number;
  C: number;
  H: number;
  W: number;
  /** Output channels. */
  M: number;
  group: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  /** Padding before each axis. */
  pH: number;
  pW: number;
  oH: number;
  oW: number;
}

interface ConvExports {
  conv2dUnits(params: number, u0: number, u1: number, scratch: number): void;
  depthwise2dUnits(params: number, u0: number, u1: number, scratch: number): void;
  conv2dScratchBytes(K: number, tile: number): number;
  depthwiseScratchBytes(params: number): number;
}

/** Bytes of im2col tile a GEMM tile should read: well inside one core's L2, with the GEMM's panels. */
const TILE_BYTES = 512 << 10;
/**
 * Widest tile: two of the GEMM's column blocks (NC = 512 in assembly/gemm.ts; the GEMM walks them
 * in turn, repacking only the small A block). Measured on the K <= 128 and 1x1 layers this bounds
 * (first convolutions of super_resolution, ultraface, squeezenet, resnet50; resnet50's 1x1): 512,
 * 768, 1024 and 2048 within noise on one thread; on two, 512 (more, smaller jobs) was 2-5% slower
 * on resnet50 and 768 equal to 1024.
 */
const MAX_TILE = 1024;
/** Narrowest tile worth a GEMM call (packing A is paid once per tile). */
const MIN_TILE = 32;
/**
 * The GEMM's micro-tile height: row blocks of a group are multiples of it (the native driver's
 * packed weight panels cannot be entered mid-panel).
 */
const rowUnit = () => (nativeGemmOn() ? native!.panelRows : 6);
/**
 * Each thread should get at least this many multiply-adds, and a convolution splits from twice that
 * (below the GEMM's PARALLEL_MIN_MACS: a layer's job wakes a worker that is still spinning from the
 * layer before). squeezenet's and shufflenet's 1.5-2M multiply-add layers split measured 1-3% off
 * those models' runs (in-process A/B; resnet50 and densenet121 unchanged within noise).
 */
const MACS_PER_THREAD = 1 << 19;
/** GEMM multiply-adds one depthwise multiply-add costs as much time as (measured 7-9 GMAC/s a thread against 70-150). */
const DEPTHWISE_COST = 8;
/** Jobs per thread when split: the pool hands them out as threads come free (busy machines). */
const JOBS_PER_THREAD = 4;
/** Parameter block length, in i32s (offsets P_* in assembly/conv.ts). */
const PARAMS = 25;

/** How a call is cut into work units: tiles of output positions and row blocks of output channels. */
export interface ConvPlan {
  /** Depthwise (one input channel per group): units are output planes. */
  depthwise: boolean;
  /** 1x1 kernel, unit strides, no padding: the GEMM reads X in place. */
  direct: boolean;
  /**
   * The native driver computes Y^T = cols^T W^T (convUnitsTransposed): output channels in the
   * vector lanes, for small maps whose positions would leave lanes empty. Units are then (image,
   * block of mRows output channels).
   */
  transposed: boolean;
  /**
   * The native driver runs Winograd F(2x2, 3x3) (native/winograd-kernel.inc): `tile` then counts
   * 2x2 output tiles a block, `tiles` blocks an image; units are (image, block, row block).
   */
  winograd: boolean;
  tile: number;
  tiles: number;
  mRows: number;
  mParts: number;
  units: number;
  threads: number;
}

/**
 * The plan conv2dWasm follows for a shape with `maxThreads` threads available. `constantWeights`:
 * the weights are a session's constants (markConstant), transformed once for Winograd; weights that
 * change every call (training) never run as Winograd, whose weight transform would then cost as much
 * as the product it saves (256->256 on 14x14: 5.4 ms against 1.6).
 */
export function planConv2d(s: Conv2dShape, maxThreads = getNumThreads(), constantWeights = true): ConvPlan {
  const MR = rowUnit();
  const Cg = s.C / s.group;
  const Mg = s.M / s.group;
  const K = Cg * s.kH * s.kW;
  const L = s.oH * s.oW;
  // One input channel per group, over several groups, and a few outputs each: the direct kernel.
  // (A single group with one input channel is one GEMM with a short K, which measured as fast.)
  const depthwise = Cg === 1 && s.group > 1 && Mg <= 24;
  // Work in GEMM multiply-adds: the depthwise kernel does about an eighth as many a second (a
  // register of outputs per tap, no reuse across channels), so it splits at an eighth the size.
  const work = s.N * s.M * L * K * (depthwise ? DEPTHWISE_COST : 1);
  const threads =
    maxThreads <= 1 || work < 2 * MACS_PER_THREAD
      ? 1
      : Math.max(1, Math.min(maxThreads, Math.floor(work / MACS_PER_THREAD)));
  const direct =
    s.kH === 1 &&
    s.kW === 1 &&
    s.sH === 1 &&
    s.sW === 1 &&
    s.pH === 0 &&
    s.pW === 0 &&
    s.oH === s.H &&
    s.oW === s.W;
  if (depthwise) {
    const units = s.N * s.M;
    return {
      depthwise,
      direct,
      transposed: false,
      winograd: false,
      tile: L,
      tiles: 1,
      mRows: Mg,
      mParts: 1,
      units,
      threads,
    };
  }
  const NR = panelWidth();
  if (constantWeights && winogradOn && nativeGemmOn() && winogradShape(s) && winogradPays(s, NR))
    return planWinograd(s, threads, NR, MR);
  if (transposedOn && nativeGemmOn() && s.group === 1 && transposedPays(L, s.M, NR)) {
    const mRows = channelPanels(s, threads, NR);
    const mParts = Math.ceil(s.M / mRows);
    return {
      depthwise,
      direct,
      transposed: true,
      winograd: false,
      tile: L,
      tiles: 1,
      mRows,
      mParts,
      units: s.N * mParts,
      threads,
    };
  }
  let most = direct ? MAX_TILE : Math.floor(TILE_BYTES / (K * 4 * NR)) * NR;
  // A 1x1 kernel read in place splits its positions across threads before its channels: each job
  // then reads its own part of X once, with all the (small) weights, instead of all of X for a
  // few channels (resnet50's 512->128 and 128->512 on 28x28: 210-230 -> 235-255 GFLOP/s). Two
  // tiles a thread: four made tiles of a few panels, rounded up to whole panels so unevenly that
  // 784 positions came out as six tiles of 128 and one of 16 (512->128 on 28x28 on two threads:
  // 0.43 -> 0.39 ms a call, 64->64 on 56x56 0.124 -> 0.109).
  if (direct && threads > 1) {
    most = Math.max(2 * NR, Math.ceil(L / (threads * 2) / NR) * NR);
  }
  const [tile, tiles] = evenTiles(L, Math.min(MAX_TILE, Math.max(MIN_TILE, most)), NR);
  const base = s.N * s.group * tiles;
  const mRows = rowBlockRows(Mg, base, threads, MR);
  const mParts = Math.ceil(Mg / mRows);
  return {
    depthwise,
    direct,
    transposed: false,
    winograd: false,
    tile,
    tiles,
    mRows,
    mParts,
    units: base * mParts,
    threads,
  };
}

/**
 * Bytes of transformed input (16 x C x tiles floats) a Winograd block holds: with its products, in a
 * core's L2.
 */
const WINOGRAD_BLOCK_BYTES = 512 << 10;
/** Most tiles a Winograd block takes (the GEMM reads its transformed input in place up to 1024 floats a row). */
const WINOGRAD_MAX_TILE = 512;

/** Input and output channels from which Winograd pays (16, squeezenet's 55x55 layers, came out even). */
const WINOGRAD_MIN_CHANNELS = 32;
/** Output positions (20x20) from which Winograd runs with tiles in the vector lanes. */
const WINOGRAD_MIN_POSITIONS = 400;
/** Output positions (12x12) from which it runs transposed, channels in the lanes (7x7 maps measured no faster). */
const WINOGRAD_T_MIN_POSITIONS = 144;

/**
 * Whether Winograd beats the tiled or transposed direct product for this layer. Measured per layer
 * (in-process A/B against the direct forms, 1 and 2 threads): 28x28 to 224x224 maps with 32 or more
 * channels in and out took 0.64-0.93 of the time (resnet50's 64 x 56x56 0.72, 128 x 28x28
 * 0.66-0.69); 13x13 and 14x14 maps, run transposed where the direct product is, 0.63-0.91 (run with
 * tiles in the lanes they had been 0.87-1.01 on two threads); 7x7 maps 1.0-1.05 transposed (16 tiles,
 * and the transformed weights are 1.8x the raw ones). The choice does not depend on the thread
 * count: the forms differ in their last bits, and a session's results must not.
 */
function winogradPays(s: Conv2dShape, NR: number): boolean {
  if (s.C < WINOGRAD_MIN_CHANNELS || s.M < WINOGRAD_MIN_CHANNELS) return false;
  const L = s.oH * s.oW;
  return L >= WINOGRAD_MIN_POSITIONS || (L >= WINOGRAD_T_MIN_POSITIONS && winogradTransposed(s, NR));
}

/** Whether a Winograd layer runs transposed: a small map where the direct product would (transposedPays). */
function winogradTransposed(s: Conv2dShape, NR: number): boolean {
  return transposedOn && s.oH * s.oW < WINOGRAD_MIN_POSITIONS && transposedPays(s.oH * s.oW, s.M, NR);
}

/** The Winograd plan: blocks of 2x2 output tiles, cut into row blocks of channels when too few. */
function planWinograd(s: Conv2dShape, threads: number, NR: number, MR: number): ConvPlan {
  const T = Math.ceil(s.oH / 2) * Math.ceil(s.oW / 2);
  if (winogradTransposed(s, NR)) {
    // As the transposed direct plan: whole images, output channels cut in whole panels.
    const mRows = channelPanels(s, threads, NR);
    const mParts = Math.ceil(s.M / mRows);
    return {
      depthwise: false,
      direct: false,
      transposed: true,
      winograd: true,
      tile: T,
      tiles: 1,
      mRows,
      mParts,
      units: s.N * mParts,
      threads,
    };
  }
  const most = Math.floor(WINOGRAD_BLOCK_BYTES / (16 * s.C * 4 * NR)) * NR;
  const [tile, tiles] = evenTiles(T, Math.min(WINOGRAD_MAX_TILE, Math.max(NR, most)), NR);
  const base = s.N * tiles;
  const mRows = rowBlockRows(s.M, base, threads, MR);
  const mParts = Math.ceil(s.M / mRows);
  return {
    depthwise: false,
    direct: false,
    transposed: false,
    winograd: true,
    tile,
    tiles,
    mRows,
    mParts,
    units: base * mParts,
    threads,
  };
}

/**
 * [tile, tiles]: `L` positions (or Winograd tiles) cut into tiles of at most `most`, evened out to
 * multiples of the GEMM's NR columns so that no thread gets a sliver; one tile when they fit.
 */
function evenTiles(L: number, most: number, NR: number): [number, number] {
  if (most >= L) return [L, 1];
  const tiles = Math.ceil(L / most);
  const tile = Math.min(most, Math.ceil(Math.ceil(L / tiles) / NR) * NR);
  return [tile, Math.ceil(L / tile)];
}

/**
 * Rows of a group's output channels a work unit takes: all of them, unless `base` units (images x
 * groups x tiles) are fewer than the threads (deep layers: small maps, many channels), then row
 * blocks of whole micro-tiles. Rows are not cut just to give each thread JOBS_PER_THREAD units, as
 * they were until session 8: each row block unfolds (or transforms) its tile again. On two
 * threads, cutting rows until there were 8 units cost resnet50's 28x28 layers 10-20% a call
 * (512->128 1x1 0.48 -> 0.41 ms, 128 3x3 Winograd 0.62 -> 0.55, 256->512 at stride 2 0.91 -> 0.76)
 * and whole runs 3-5% (resnet50, squeezenet, densenet121; alternated processes).
 */
function rowBlockRows(Mg: number, base: number, threads: number, MR: number): number {
  const want = Math.max(threads, 1);
  if (base >= want || Mg < 4 * MR) return Mg;
  const parts = Math.min(Math.ceil(want / base), Math.floor(Mg / (2 * MR)));
  return clearOfSplitTail(Mg, Math.ceil(Math.ceil(Mg / parts) / MR) * MR, MR);
}

/**
 * Output channels a transposed work unit takes (whole NR-wide panels of B): few jobs of many
 * channels, each packing or reading cols^T once per K block for all of its channels.
 */
function channelPanels(s: Conv2dShape, threads: number, NR: number): number {
  const want = threads > 1 ? threads * T_JOBS_PER_THREAD : 1;
  const parts = Math.max(1, Math.min(Math.ceil(want / s.N), Math.floor(s.M / NR)));
  return Math.ceil(Math.ceil(s.M / parts) / NR) * NR;
}

/**
 * Row blocks of `mRows` over Mg rows of native packed weights, widened until none starts past where
 * the last panels start: the native GEMM cuts a short last panel, with the MR rows before it, into
 * two (gemm-kernel.inc panelRows), and a block must start at a panel boundary.
 */
function clearOfSplitTail(Mg: number, mRows: number, MR: number): number {
  if (!nativeGemmOn()) return mRows;
  const tail = native!.addon.panelTailStart(Mg);
  // The last block starts at the largest multiple of mRows below Mg.
  while (mRows < Mg && Math.floor((Mg - 1) / mRows) * mRows > tail) mRows += MR;
  return mRows;
}

let winogradOn = process.env.TESSERA_WINOGRAD !== '0';
/** Allows (the default) or rules out Winograd plans; returns the previous setting. For tests and benchmarks. */
export function setWinogradConv(on: boolean): boolean {
  const prev = winogradOn;
  winogradOn = on;
  return prev;
}

let transposedOn = true;
/** Allows (the default) or rules out transposed plans; returns the previous setting. For tests. */
export function setTransposedConv(on: boolean): boolean {
  const prev = transposedOn;
  transposedOn = on;
  return prev;
}

/**
 * Jobs per thread of a transposed plan: each job packs cols^T for its own channels, so one large job
 * a thread beat 2 or 4 smaller ones on resnet50's 7x7 and 14x14 layers.
 */
const T_JOBS_PER_THREAD = 1;

/**
 * Whether the transposed product fills more vector lanes than the direct one: lanes hold output
 * positions there (L of roundUp(L, NR) used) and output channels here (M of roundUp(M, NR)), and
 * the transposed one also pays a transposing store, so it must win by a margin. With fewer than two
 * panels of channels its jobs cannot split them and cols^T is packed for one panel: densenet's
 * 128->32 3x3 on 14x14 ran at 96 GFLOP/s transposed, 141 as im2col tiles. Resnet50's 7x7
 * maps (49 of 64 lanes) went from 105-155 to 210-260 GFLOP/s on two threads, its 14x14 ones (196 of
 * 224) from 135-210 to 195-255; 28x28 (784 of 800) measured no better transposed.
 */
function transposedPays(L: number, M: number, NR: number): boolean {
  const fill = (n: number) => n / (Math.ceil(n / NR) * NR);
  return L <= MAX_TILE && M >= 2 * NR && fill(M) > fill(L) + 0.05;
}

/**
 * Y [N, M, oH, oW] = conv(X, W) + B (+ Z), then Relu when `relu`; null when the WASM kernels are not
 * loaded, or for a residual Z without the native driver. X [N, C, H, W], W [M, C/group, kH, kW] and Z
 * (Y's shape) are dense float32 arrays; B has M values.
 */
export function conv2dWasm(
  s: Conv2dShape,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  relu: boolean,
  z?: Float32Array,
): Float32Array | null {
  if (!wasm || !arena) return null;
  const ex = wasm.exports as unknown as ConvExports;
  const Cg = s.C / s.group;
  const K = Cg * s.kH * s.kW;
  const L = s.oH * s.oW;
  const xn = s.N * s.C * s.H * s.W;
  // From the run's dead intermediates when there is one (a fresh large array costs page faults),
  // not zeroed: every path below writes all of Y.
  const y = allocateUnset('float32', s.N * s.M * L) as Float32Array;
  if (y.length === 0) return y;
  const plan = planConv2d(s, getNumThreads(), isConstant(w));
  if (nativeGemmOn()) return convNative(s, plan, x, w, b, relu, y, z);
  // A residual input is added only by the native driver.
  if (z) return null;
  // Resident operands first: allocating one moves the scratch region.
  let pw = residentOperand(w, 0, s.M, K, false);
  let pb = b ? residentOperand(b, 0, 1, s.M, false) : 0;
  arena.reset();
  if (pw === undefined) {
    pw = arena.alloc(s.M * K * 4);
    arena.f32(pw, s.M * K).set(w.subarray(0, s.M * K));
  }
  if (b && pb === undefined) {
    pb = arena.alloc(s.M * 4);
    arena.f32(pb, s.M).set(b.subarray(0, s.M));
  }
  const px = arena.alloc(xn * 4);
  const py = arena.alloc(y.length * 4);
  const pp = arena.alloc(PARAMS * 4);
  const params = [
    px,
    ...geometry(s),
    pw,
    pb ?? 0,
    py,
    relu ? 1 : 0,
    plan.tile,
    plan.tiles,
    plan.mRows,
    plan.mParts,
    plan.direct ? 1 : 0,
  ];
  new Int32Array(wasm.memory.buffer, pp, PARAMS).set(params);
  const jobs = jobsFor(plan);
  const scratchBytes = plan.depthwise
    ? ex.depthwiseScratchBytes(pp)
    : ex.conv2dScratchBytes(plan.direct ? 0 : K, plan.tile);
  const scratch: number[] = [];
  for (let j = 0; j < jobs; j++) scratch.push(arena.alloc(scratchBytes));
  // Views after the allocations: growing the memory replaces its buffer.
  arena.f32(px, xn).set(x.subarray(0, xn));
  const fn = plan.depthwise ? 'depthwise2dUnits' : 'conv2dUnits';
  runUnits(plan, jobs, fn, ex[fn], (j, u0, u1) => [pp, u0, u1, scratch[j]!]);
  y.set(arena.f32(py, y.length));
  return y;
}

/** Parameter block length of the native driver, in int32s (ConvParam in native/conv-kernel.inc). */
const NATIVE_PARAMS = 34;
/** The native driver's forms (ConvForm in native/conv-kernel.inc). */
const FORM_TILED = 0;
const FORM_TRANSPOSED = 1;
const FORM_WINOGRAD = 2;
const FORM_WINOGRAD_T = 3;
/** Where X's and Y's addresses sit in it (CP_X, CP_Y). */
const CP_X = 22;
const CP_Y = 28;

/** The shape fields both parameter blocks start with (after X's offset in the WASM one). */
function geometry(s: Conv2dShape): number[] {
  return [s.C, s.H, s.W, s.kH, s.kW, s.oH, s.oW, s.sH, s.sW, s.dH, s.dW, s.pH, s.pW, s.M, s.group];
}

/** Jobs a plan's work units are cut into: a few per thread, so threads that come free take more. */
function jobsFor(plan: Pick<ConvPlan, 'units' | 'threads'>): number {
  return plan.threads > 1 ? Math.min(plan.units, plan.threads * JOBS_PER_THREAD, MAX_JOBS) : 1;
}

/** Runs work units [0, plan.units) as `jobs` jobs of `fn`: on this thread (`here`) when one, else on the pool. */
function runUnits(
  plan: Pick<ConvPlan, 'units' | 'threads'>,
  jobs: number,
  fn: PoolFunction,
  here: (...args: number[]) => void,
  args: (job: number, u0: number, u1: number) => number[],
): void {
  if (jobs === 1) {
    here(...args(0, 0, plan.units));
    return;
  }
  const list: PoolJob[] = [];
  for (let j = 0; j < jobs; j++) {
    const u0 = Math.round((j * plan.units) / jobs);
    const u1 = Math.round(((j + 1) * plan.units) / jobs);
    if (u1 > u0) list.push({ fn, args: args(j, u0, u1) });
  }
  workerPool()!.run(list, plan.threads - 1);
}

/**
 * The convolution on the native kernels (native/conv-kernel.inc): the same plan and work units, with
 * X read and Y written where they are (no copies into WASM memory); the GEMM driver reads the weights
 * as pre-packed panels, the depthwise kernel as stored; bias, residual and Relu applied in cache.
 */
function convNative(
  s: Conv2dShape,
  planned: ConvPlan,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  relu: boolean,
  y: Float32Array,
  z: Float32Array | undefined,
): Float32Array {
  const g = native!.gemm;
  const Cg = s.C / s.group;
  const K = Cg * s.kH * s.kW;
  const base = wasmAddress();
  // Resident operands first: allocating one moves the scratch region. The depthwise kernel reads
  // the weights as stored; the GEMM driver as packed panels; Winograd transformed (a session's
  // constant weights only: past the resident budget, the layer runs without it).
  // The transposed product reads W^T [K, M] as the GEMM's B panels.
  let plan = planned;
  let pwp = plan.winograd ? residentWinograd(w, s.M, s.C, plan.transposed) : undefined;
  if (plan.winograd && pwp === undefined) plan = planConv2d(s, getNumThreads(), false);
  if (!plan.winograd)
    pwp = plan.depthwise
      ? residentOperand(w, 0, s.M, K, false)
      : plan.transposed
        ? residentPacked(w, 0, K, s.M, true)
        : residentPackedA(w, s.M, K, s.group);
  const pb = b ? residentOperand(b, 0, 1, s.M, false) : undefined;
  arena!.reset();
  const wAddr = pwp !== undefined ? base + pwp : plan.depthwise ? g.address(w) : undefined;
  if (wAddr === undefined) {
    // Not constant (training) or past the resident budget: packed once for this call.
    const pw = arena!.alloc(s.M * K * 4);
    arena!.f32(pw, s.M * K).set(w.subarray(0, s.M * K));
    if (plan.transposed) {
      pwp = arena!.alloc(g.sgemmPackedBytes(K, s.M));
      g.sgemmPackB(K, s.M, pw, 1, K, pwp);
    } else {
      pwp = arena!.alloc(s.M * K * 4);
      packGroupsA(pw, s.M, K, s.group, pwp);
    }
  }
  // A transposed product on several threads unfolds and packs cols^T once for all of them
  // (convPackUnits), not once a thread: resnet50 2.7% faster (paired in-process A/B), its 3x3 layers
  // 7-16%. Not for a 1x1 kernel read in place, whose packing is a single pass over X that measured
  // no better shared.
  // The transposed Winograd form does the same with its transformed input (16 matrices [tiles, C] an
  // image), on one thread too: written packed, it skips the GEMM's packing of A.
  const L = s.oH * s.oW;
  const sharedBytes = plan.winograd
    ? s.N * 16 * Math.ceil(s.oH / 2) * Math.ceil(s.oW / 2) * s.C * 4
    : s.N * L * K * 4;
  const shared =
    plan.transposed &&
    !plan.direct &&
    (plan.threads > 1 || plan.winograd) &&
    sharedBytes <= SHARED_COLS_BYTES;
  const pa = shared ? arena!.alloc(sharedBytes) : 0;
  const pp = arena!.alloc(NATIVE_PARAMS * 4);
  const params = [
    ...geometry(s),
    plan.tile,
    plan.tiles,
    plan.mRows,
    plan.mParts,
    plan.direct ? 1 : 0,
    relu ? 1 : 0,
    plan.winograd
      ? plan.transposed
        ? FORM_WINOGRAD_T
        : FORM_WINOGRAD
      : plan.transposed
        ? FORM_TRANSPOSED
        : FORM_TILED,
    ...half(g.address(x)),
    ...half(wAddr ?? base + pwp!),
    ...(b ? half(pb !== undefined ? base + pb : g.address(b)) : [0, 0]),
    ...half(g.address(y)),
    ...(z ? half(g.address(z)) : [0, 0]),
    ...(shared ? half(base + pa) : [0, 0]),
  ];
  new Int32Array(wasm!.memory.buffer, pp, NATIVE_PARAMS).set(params);
  const [pLo, pHi] = half(base + pp);
  if (shared) {
    const packing = { units: s.N * s.C, threads: plan.threads };
    runUnits(packing, jobsFor(packing), 'convPackUnitsAbs', g.convPackUnitsAbs, (_j, u0, u1) => [
      pLo,
      pHi,
      u0,
      u1,
    ]);
  }
  const [fn, here] = plan.depthwise
    ? (['depthwiseUnitsAbs', g.depthwiseUnitsAbs] as const)
    : (['convUnitsAbs', g.convUnitsAbs] as const);
  runUnits(plan, jobsFor(plan), fn, here, (_j, u0, u1) => [pLo, pHi, u0, u1]);
  return y;
}

/**
 * Largest cols^T (all images) a transposed product packs once in WASM memory for all its threads;
 * past it each work unit unfolds its own image (resnet50's largest is 1.8 MB).
 */
export const SHARED_COLS_BYTES = 32 << 20;

/** Input elements a MaxPool reads before it is worth splitting across threads. */
const POOL_PARALLEL_MIN = 1 << 16;

/**
 * Y [planes, oH, oW] = MaxPool of the float32 planes X [planes, H, W] (values only), on the native
 * kernel (native/conv-kernel.inc maxPoolUnits) in place on the arrays, planes split across the
 * worker pool when large; false when the native kernels are off. The geometry is a Conv2dShape's
 * without channels: kernel, strides, dilations, leading pads and the output size.
 */
export function maxPoolNative(
  planes: number,
  H: number,
  W: number,
  p: Pick<Conv2dShape, 'kH' | 'kW' | 'sH' | 'sW' | 'dH' | 'dW' | 'pH' | 'pW' | 'oH' | 'oW'>,
  x: Float32Array,
  y: Float32Array,
): boolean {
  if (!nativeGemmOn() || planes <= 0 || p.oH * p.oW <= 0) return false;
  const g = native!.gemm;
  arena!.reset();
  const pp = arena!.alloc(NATIVE_PARAMS * 4);
  // geometry()'s fields for planes as channels, written out: a small pool is a few microseconds,
  // and spreading the window into a shape object cost more than the kernel did.
  const block = new Int32Array(wasm!.memory.buffer, pp, NATIVE_PARAMS);
  block.fill(0);
  block.set([planes, H, W, p.kH, p.kW, p.oH, p.oW, p.sH, p.sW, p.dH, p.dW, p.pH, p.pW, planes, planes]);
  block.set(half(g.address(x)), CP_X);
  block.set(half(g.address(y)), CP_Y);
  const threads = planes * H * W >= POOL_PARALLEL_MIN ? Math.min(getNumThreads(), planes) : 1;
  const plan = { units: planes, threads };
  const [pLo, pHi] = half(wasmAddress() + pp);
  runUnits(plan, jobsFor(plan), 'maxPoolUnitsAbs', g.maxPoolUnitsAbs, (_j, u0, u1) => [pLo, pHi, u0, u1]);
  return true;
}

/**
 * dW [M, C/group, kH, kW] of a 2-D convolution with input X [N, C, H, W] and output gradient
 * dY [N, M, oH, oW]: per image and group, tiles of output positions are unfolded by the WASM
 * im2col and dW_g += dY_g[:, tile] cols_tile^T by the GEMM (split across the pool when large), so
 * the unfolded matrix never exceeds a tile; null when the WASM kernels are not loaded.
 */
export function conv2dWeightGradWasm(s: Conv2dShape, x: Float32Array, dy: Float32Array): Float32Array | null {
  if (!wasm || !arena) return null;
  const ex = wasm.exports as unknown as {
    im2colTile(...a: number[]): void;
  };
  const Cg = s.C / s.group;
  const Mg = s.M / s.group;
  const K = Cg * s.kH * s.kW;
  const L = s.oH * s.oW;
  const xn = s.N * s.C * s.H * s.W;
  const yn = s.N * s.M * L;
  const dw = new Float32Array(s.M * K);
  if (dw.length === 0 || s.N === 0 || L === 0) return dw;
  const tile = Math.min(L, Math.max(MIN_TILE, Math.floor(TILE_BYTES / (K * 4)) & ~7));
  arena.reset();
  const px = arena.alloc(xn * 4);
  const pdy = arena.alloc(yn * 4);
  const pdw = arena.alloc(dw.length * 4);
  const pcols = arena.alloc(K * tile * 4);
  arena.f32(px, xn).set(x.subarray(0, xn));
  arena.f32(pdy, yn).set(dy.subarray(0, yn));
  for (let n = 0; n < s.N; n++) {
    for (let g = 0; g < s.group; g++) {
      const xg = px + (n * s.C + g * Cg) * s.H * s.W * 4;
      for (let l0 = 0; l0 < L; l0 += tile) {
        const nt = Math.min(tile, L - l0);
        ex.im2colTile(xg, Cg, s.H, s.W, s.kH, s.kW, s.oW, s.sH, s.sW, s.dH, s.dW, s.pH, s.pW, l0, nt, pcols);
        const pa = pdy + ((n * s.M + g * Mg) * L + l0) * 4;
        // The first product of each group's rows writes dW, the rest accumulate.
        const top = arena.mark();
        gemmAt(Mg, K, nt, pa, L, 1, pcols, 1, nt, pdw + g * Mg * K * 4, K, n > 0 || l0 > 0);
        arena.rewind(top);
      }
    }
  }
  dw.set(arena.f32(pdw, dw.length));
  return dw;
}
