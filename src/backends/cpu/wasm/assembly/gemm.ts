// Single-precision GEMM, BLIS-style: C[M, N] (+)= A[M, K] * B[K, N] with arbitrary element strides
// for A and B (so transposed operands need no copy). K is cut into equal blocks of at most KC, B
// into NC-wide blocks packed as NR-wide panels (or packed once ahead, `sgemmPackB`, for weights that
// stay in memory), A into 6-row panels (MC x KC block; 4-row ones where 6 would leave a ragged end),
// and a 6x8 register-blocked micro-kernel runs 12 f32x4 accumulators, two B vectors and one
// broadcast A value per step: 15 of the 16 xmm registers V8 allocates on x64 (the 16th is its
// scratch register), so nothing spills. Products with one or two rows (or columns) stream B once
// instead (GEMV). Worker threads call `sgemm` or `sgemmPacked` on disjoint blocks of C, each with
// its own scratch.
//
// Measured on the development machine (Xeon, 3.05 GHz, 48 KiB L1, 2 MiB L2 per core; V8 11.3, Node
// 20): two 128-bit FMAs a cycle make the WASM ceiling 48.8 GFLOP/s, which a 12-accumulator FMA loop
// reaches; the micro-kernel on L1-resident panels runs at 48 (98%). Blocking: one B panel (KC x NR,
// 16 KiB) stays in L1 across the tiles of a block, the A block (MC x KC, 96 KiB) and the packed B
// block (KC x NC, 1 MiB) in L2 with the C rows they update; the former 120 x 256 x 1024 blocking
// lost 10% at N = 1024. Unrolling the k loop (V8 hoists the second step's loads and spills) and
// packing A pre-broadcast (no gain) were slower or equal.
import {
  nativeOn,
  nativePanelWidth,
  nativeSgemm,
  nativeSgemmPackB,
  nativeSgemmPacked,
  nativeSgemmPackedBytes,
} from './native';
import { copyF32, madd, zeroF32 } from './simd';

const MR: i32 = 6;
const NR: i32 = 8;
const KC: i32 = 512;
const MC: i32 = 48;
const NC: i32 = 512;

/** Bytes of scratch one `sgemm` call needs: packed A block, packed B block, one edge tile. */
export function sgemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** The K block length for a depth of K: K cut into equal blocks of at most KC (no short last block). */
// @ts-ignore: decorator
@inline
function kBlock(K: i32): i32 {
  const blocks = (K + KC - 1) / KC;
  return (K + blocks - 1) / blocks;
}

/**
 * Rows of the next micro-tile when `rem` rows of a block are left: 6, or 4 where 6 would leave a
 * ragged end (8 = 4 + 4, 4, and 1-3 rows as one padded 4-row tile). The 4x8 kernel runs 8 chains,
 * enough to keep both FMA ports busy, so a batch of 64 is 10 x 6 + 4 rather than 11 x 6 with a
 * third of the last tile wasted.
 */
// @ts-ignore: decorator
@inline
function tileRows(rem: i32): i32 {
  return rem >= 5 && rem != 8 ? MR : 4;
}

/** Columns per packed B panel: column splits of a packed product start at multiples of it. */
export function sgemmPanelWidth(): i32 {
  return nativeOn() ? nativePanelWidth() : NR;
}

/** Bytes `sgemmPackB` writes for a K x N operand: N rounded up to NR columns, times K. */
export function sgemmPackedBytes(K: i32, N: i32): i32 {
  if (nativeOn()) return nativeSgemmPackedBytes(K, N);
  return K * ((N + NR - 1) & ~(NR - 1)) * 4;
}

/**
 * dst <- B[K, N] (element (p, j) at b + 4 * (p * rsB + j * csB)) packed for `sgemmPacked`: for each
 * K block (kBlock(K) rows; block p0 at dst + 4 * p0 * Np, Np = N rounded up to NR), its NR-wide
 * panels one after another (column j0's panel at + 4 * j0 * kc), each kc rows of NR values.
 */
export function sgemmPackB(K: i32, N: i32, b: usize, rsB: i32, csB: i32, dst: usize): void {
  if (K <= 0 || N <= 0) return;
  if (nativeOn()) {
    nativeSgemmPackB(K, N, b, rsB, csB, dst);
    return;
  }
  const kcb = kBlock(K);
  const np = (N + NR - 1) & ~(NR - 1);
  const rsBB = <usize>rsB << 2;
  const csBB = <usize>csB << 2;
  for (let pc = 0; pc < K; pc += kcb) {
    const kc = min(kcb, K - pc);
    packB(b + <usize>pc * rsBB, rsBB, csBB, kc, N, dst + (<usize>(pc * np) << 2));
  }
}

/**
 * dst <- row panels of A, as tall as `tileRows` makes them (6 or 4): for each panel, for each k,
 * the panel's values of column k (zero padded). Row-major A (the common case) is read four k at a
 * time and transposed with shuffles.
 */
function packA(a: usize, rs: usize, cs: usize, mc: i32, kc: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; ) {
    const h = tileRows(mc - i0);
    const rows = min(h, mc - i0);
    const base = a + <usize>i0 * rs;
    i0 += h;
    if (rows == MR && cs == 4) {
      const r1 = base + rs;
      const r2 = r1 + rs;
      const r3 = r2 + rs;
      const r4 = r3 + rs;
      const r5 = r4 + rs;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        const x0 = v128.load(base + o);
        const x1 = v128.load(r1 + o);
        const x2 = v128.load(r2 + o);
        const x3 = v128.load(r3 + o);
        const x4 = v128.load(r4 + o);
        const x5 = v128.load(r5 + o);
        // Rows 0-3: a 4x4 transpose, one vector per k, 24 bytes apart.
        const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
        const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
        const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
        const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
        // Rows 4-5: pairs (k, k + 1) and (k + 2, k + 3) interleaved.
        const u = v128.shuffle<f32>(x4, x5, 0, 4, 1, 5);
        const w = v128.shuffle<f32>(x4, x5, 2, 6, 3, 7);
        v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
        v128.store64_lane(dst, u, 0, 16);
        v128.store(dst, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 24);
        v128.store64_lane(dst, u, 1, 40);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 48);
        v128.store64_lane(dst, w, 0, 64);
        v128.store(dst, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 72);
        v128.store64_lane(dst, w, 1, 88);
        dst += 96;
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2;
        store<f32>(dst, load<f32>(base + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        store<f32>(dst, load<f32>(r4 + o), 16);
        store<f32>(dst, load<f32>(r5 + o), 20);
        dst += 24;
      }
    } else if (rows == 4 && h == 4 && cs == 4) {
      const r1 = base + rs;
      const r2 = r1 + rs;
      const r3 = r2 + rs;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        transpose4(v128.load(base + o), v128.load(r1 + o), v128.load(r2 + o), v128.load(r3 + o), dst, 16);
        dst += 64;
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2;
        store<f32>(dst, load<f32>(base + o));
        store<f32>(dst, load<f32>(r1 + o), 4);
        store<f32>(dst, load<f32>(r2 + o), 8);
        store<f32>(dst, load<f32>(r3 + o), 12);
        dst += 16;
      }
    } else if (rows == h && rs == 4) {
      // A stored transposed ([K, M]): the values of a column are contiguous.
      for (let k = 0; k < kc; k++) {
        const p = base + <usize>k * cs;
        v128.store(dst, v128.load(p));
        if (h == MR) store<i64>(dst, load<i64>(p, 16), 16);
        dst += <usize>h << 2;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const p = base + <usize>k * cs;
        for (let r = 0; r < h; r++) {
          store<f32>(dst, r < rows ? load<f32>(p + <usize>r * rs) : 0);
          dst += 4;
        }
      }
    }
  }
}

/** dst <- NR-column panels of B: for each panel, for each k, the NR values of row k (zero padded). */
function packB(b: usize, rs: usize, cs: usize, kc: i32, nc: i32, dst: usize): void {
  for (let j0 = 0; j0 < nc; j0 += NR) {
    const cols = min(NR, nc - j0);
    const base = b + <usize>j0 * cs;
    if (cols == NR && cs == 4) {
      for (let k = 0; k < kc; k++) {
        const p = base + <usize>k * rs;
        v128.store(dst, v128.load(p));
        v128.store(dst, v128.load(p, 16), 16);
        dst += 32;
      }
    } else if (cols == NR && rs == 4) {
      // B stored transposed ([N, K]): transpose 8 x 4 blocks with shuffles.
      const c1 = base + cs;
      const c2 = c1 + cs;
      const c3 = c2 + cs;
      const c4 = c3 + cs;
      const c5 = c4 + cs;
      const c6 = c5 + cs;
      const c7 = c6 + cs;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = <usize>k << 2;
        const x0 = v128.load(base + o);
        const x1 = v128.load(c1 + o);
        const x2 = v128.load(c2 + o);
        const x3 = v128.load(c3 + o);
        const x4 = v128.load(c4 + o);
        const x5 = v128.load(c5 + o);
        const x6 = v128.load(c6 + o);
        const x7 = v128.load(c7 + o);
        transpose4(x0, x1, x2, x3, dst, 32);
        transpose4(x4, x5, x6, x7, dst + 16, 32);
        dst += 128;
      }
      for (; k < kc; k++) {
        const o = <usize>k << 2;
        store<f32>(dst, load<f32>(base + o));
        store<f32>(dst, load<f32>(c1 + o), 4);
        store<f32>(dst, load<f32>(c2 + o), 8);
        store<f32>(dst, load<f32>(c3 + o), 12);
        store<f32>(dst, load<f32>(c4 + o), 16);
        store<f32>(dst, load<f32>(c5 + o), 20);
        store<f32>(dst, load<f32>(c6 + o), 24);
        store<f32>(dst, load<f32>(c7 + o), 28);
        dst += 32;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const p = base + <usize>k * rs;
        for (let c = 0; c < NR; c++) {
          store<f32>(dst, c < cols ? load<f32>(p + <usize>c * cs) : 0);
          dst += 4;
        }
      }
    }
  }
}

/** Writes the 4x4 transpose of rows x0..x3 as four rows `step` bytes apart, starting at dst. */
// @ts-ignore: decorator
@inline
function transpose4(x0: v128, x1: v128, x2: v128, x3: v128, dst: usize, step: usize): void {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + step, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * step, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * step, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * The 6x8 micro-kernel: C tile (+)= packed A panel * packed B panel over kc steps. Accumulating
 * starts the registers from C rather than adding C after the loop: with the add after, V8's
 * register allocator spills inside the loop (15 of 16 xmm registers are live there) and the
 * kernel loses a third of its speed. The loop is not unrolled: V8 then hoists the loads of the
 * second step above the multiply-adds of the first, and spills (also a third slower).
 */
function tile(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, accumulate: bool): void {
  const r1 = c + ldc;
  const r2 = r1 + ldc;
  const r3 = r2 + ldc;
  const r4 = r3 + ldc;
  const r5 = r4 + ldc;
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  let c40 = c00;
  let c41 = c00;
  let c50 = c00;
  let c51 = c00;
  if (accumulate) {
    c00 = v128.load(c);
    c01 = v128.load(c, 16);
    c10 = v128.load(r1);
    c11 = v128.load(r1, 16);
    c20 = v128.load(r2);
    c21 = v128.load(r2, 16);
    c30 = v128.load(r3);
    c31 = v128.load(r3, 16);
    c40 = v128.load(r4);
    c41 = v128.load(r4, 16);
    c50 = v128.load(r5);
    c51 = v128.load(r5, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    a = v128.load32_splat(ap, 16);
    c40 = madd(a, b0, c40);
    c41 = madd(a, b1, c41);
    a = v128.load32_splat(ap, 20);
    c50 = madd(a, b0, c50);
    c51 = madd(a, b1, c51);
    ap += 24;
    bp += 32;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
  v128.store(r4, c40);
  v128.store(r4, c41, 16);
  v128.store(r5, c50);
  v128.store(r5, c51, 16);
}

/** The 4x8 micro-kernel (4-row panels of A): tile's arithmetic on 8 accumulators. */
function tile4(kc: i32, ap: usize, bp: usize, c: usize, ldc: usize, accumulate: bool): void {
  const r1 = c + ldc;
  const r2 = r1 + ldc;
  const r3 = r2 + ldc;
  let c00 = f32x4.splat(0);
  let c01 = c00;
  let c10 = c00;
  let c11 = c00;
  let c20 = c00;
  let c21 = c00;
  let c30 = c00;
  let c31 = c00;
  if (accumulate) {
    c00 = v128.load(c);
    c01 = v128.load(c, 16);
    c10 = v128.load(r1);
    c11 = v128.load(r1, 16);
    c20 = v128.load(r2);
    c21 = v128.load(r2, 16);
    c30 = v128.load(r3);
    c31 = v128.load(r3, 16);
  }
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(bp);
    const b1 = v128.load(bp, 16);
    let a = v128.load32_splat(ap);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(ap, 4);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(ap, 8);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(ap, 12);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    ap += 16;
    bp += 32;
  }
  v128.store(c, c00);
  v128.store(c, c01, 16);
  v128.store(r1, c10);
  v128.store(r1, c11, 16);
  v128.store(r2, c20);
  v128.store(r2, c21, 16);
  v128.store(r3, c30);
  v128.store(r3, c31, 16);
}

/**
 * C[M, N] (+)= A * B. Strides are in elements: A(i, p) is at a + 4 * (i * rsA + p * csA), B(p, j) at
 * b + 4 * (p * rsB + j * csB), C(i, j) at c + 4 * (i * ldc + j). `scratch` holds sgemmScratchBytes().
 */
export function sgemm(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
  scratch: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (nativeOn()) {
    nativeSgemm(M, N, K, a, rsA, csA, b, rsB, csB, c, ldc, accumulate);
    return;
  }
  if (K <= 0) {
    zeroUnlessAccumulating(M, N, c, ldc, accumulate);
    return;
  }
  // One or two rows (or columns) of C: stream the other operand once rather than pack it.
  if (M <= 2 && gemvFits(N, csA, rsB, csB, 1)) {
    for (let i = 0; i < M; i++) {
      const ai = a + (<usize>(i * rsA) << 2);
      gemv(N, K, ai, csA, b, rsB, csB, c + (<usize>(i * ldc) << 2), 1, accumulate);
    }
    return;
  }
  if (N <= 2 && gemvFits(M, rsB, csA, rsA, ldc)) {
    // C^T = B^T A^T: column j of C is B's column j (stride rsB) times A^T (rows stride csA).
    for (let j = 0; j < N; j++) {
      const bj = b + (<usize>(j * csB) << 2);
      gemv(M, K, bj, rsB, a, csA, rsA, c + (<usize>j << 2), ldc, accumulate);
    }
    return;
  }
  blocked(M, N, K, a, rsA, csA, b, rsB, csB, 0, 0, 0, c, ldc, accumulate, scratch);
}

/**
 * C[M, N] (+)= A * B with B packed by `sgemmPackB` at bp for a B of K rows and `np` (N rounded up to
 * NR) columns, of which this call takes columns [j0, j0 + N) (j0 a multiple of NR): no packing of B.
 */
export function sgemmPacked(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  bp: usize,
  np: i32,
  j0: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
  scratch: usize,
): void {
  if (M <= 0 || N <= 0) return;
  if (nativeOn()) {
    nativeSgemmPacked(M, N, K, a, rsA, csA, bp, np, j0, c, ldc, accumulate);
    return;
  }
  if (K <= 0) {
    zeroUnlessAccumulating(M, N, c, ldc, accumulate);
    return;
  }
  if (M <= 2) {
    // One or two rows: B streamed once per row beats a micro-tile mostly padding.
    for (let i = 0; i < M; i++) {
      const ai = a + (<usize>(i * rsA) << 2);
      gemvPacked(N, K, ai, csA, bp, np, j0, c + (<usize>(i * ldc) << 2), accumulate, scratch);
    }
    return;
  }
  blocked(M, N, K, a, rsA, csA, 0, 0, 0, bp, np, j0, c, ldc, accumulate, scratch);
}

function zeroUnlessAccumulating(M: i32, N: i32, c: usize, ldc: i32, accumulate: i32): void {
  if (accumulate) return;
  const ldcB = <usize>ldc << 2;
  for (let i = 0; i < M; i++) zeroF32(c + <usize>i * ldcB, N);
}

/** The blocked product; B is packed here per block unless `bpk` (prepacked B) is non-zero. */
function blocked(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  bpk: usize,
  np: i32,
  j0: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
  scratch: usize,
): void {
  const ldcB = <usize>ldc << 2;
  const ap = scratch;
  const bbuf = ap + <usize>(MC * KC * 4);
  const tmp = bbuf + <usize>(KC * NC * 4);
  const rsAB = <usize>rsA << 2;
  const csAB = <usize>csA << 2;
  const rsBB = <usize>rsB << 2;
  const csBB = <usize>csB << 2;
  const kcb = kBlock(K);
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += kcb) {
      const kc = min(kcb, K - pc);
      const acc = pc > 0 || accumulate != 0;
      let bp: usize;
      if (bpk) {
        bp = bpk + (<usize>(pc * np + (j0 + jc) * kc) << 2);
      } else {
        packB(b + <usize>pc * rsBB + <usize>jc * csBB, rsBB, csBB, kc, nc, bbuf);
        bp = bbuf;
      }
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(a + <usize>ic * rsAB + <usize>pc * csAB, rsAB, csAB, mc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpj = bp + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ) {
            const h = tileRows(mc - ir);
            const mr = min(h, mc - ir);
            const cp = c + <usize>(ic + ir) * ldcB + (<usize>(jc + jr) << 2);
            const api = ap + <usize>(ir * kc) * 4;
            ir += h;
            if (mr == h && nr == NR) {
              if (h == MR) tile(kc, api, bpj, cp, ldcB, acc);
              else tile4(kc, api, bpj, cp, ldcB, acc);
            } else {
              // Edge tile: the same arithmetic as a full one (start from C, then the k terms in
              // order), on a copy, so equal inputs give bit-equal outputs wherever they sit in C.
              // The rows move by vector loads and stores, not memory.copy: a runtime call per row
              // cost more than the tile itself when K is short (first convolutions, K = 27).
              if (acc) edgeIn(cp, ldcB, tmp, h, mr, nr);
              if (h == MR) tile(kc, api, bpj, tmp, 32, acc);
              else tile4(kc, api, bpj, tmp, 32, acc);
              edgeOut(tmp, cp, ldcB, mr, nr);
            }
          }
        }
      }
    }
  }
}

/**
 * tmp (h rows of NR floats, 32 bytes apart) <- the mr x nr corner of C at c (row stride ldcB
 * bytes), zeros around it. Only called when the tile accumulates: otherwise the kernel ignores tmp.
 */
// @ts-ignore: decorator
@inline
function edgeIn(c: usize, ldcB: usize, tmp: usize, h: i32, mr: i32, nr: i32): void {
  const z = f32x4.splat(0);
  for (let r = 0; r < h; r++) {
    const d = tmp + <usize>(r << 5);
    if (r >= mr) {
      v128.store(d, z);
      v128.store(d, z, 16);
      continue;
    }
    const s = c + <usize>r * ldcB;
    if (nr == NR) {
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      continue;
    }
    v128.store(d, z);
    v128.store(d, z, 16);
    let j = 0;
    if (nr >= 4) {
      v128.store(d, v128.load(s));
      j = 4;
    }
    for (; j < nr; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
  }
}

/** The mr x nr corner of C at c (row stride ldcB bytes) <- tmp (rows of NR floats, 32 bytes apart). */
// @ts-ignore: decorator
@inline
function edgeOut(tmp: usize, c: usize, ldcB: usize, mr: i32, nr: i32): void {
  for (let r = 0; r < mr; r++) {
    const s = tmp + <usize>(r << 5);
    const d = c + <usize>r * ldcB;
    if (nr == NR) {
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
      continue;
    }
    let j = 0;
    if (nr >= 4) {
      v128.store(d, v128.load(s));
      j = 4;
    }
    for (; j < nr; j++) store<f32>(d + (<usize>j << 2), load<f32>(s + (<usize>j << 2)));
  }
}

/** Whether `gemv` takes a product of this layout (else it goes through the blocked path). */
// @ts-ignore: decorator
@inline
function gemvFits(N: i32, incx: i32, rsB: i32, csB: i32, incy: i32): bool {
  return (csB == 1 && incy == 1) || (rsB == 1 && incx == 1);
}

/**
 * y[N] (stride incy) (+)= x[K] (stride incx) * B[K, N]: rows of B contiguous (csB == 1, incy == 1):
 * each 16-column strip of y accumulates x[p] * B row p, walking B once; columns contiguous
 * (rsB == 1, incx == 1): four dot products of x with B's columns at a time.
 */
function gemv(
  N: i32,
  K: i32,
  x: usize,
  incx: i32,
  b: usize,
  rsB: i32,
  csB: i32,
  y: usize,
  incy: i32,
  accumulate: i32,
): void {
  if (csB == 1 && incy == 1) gemvRows(N, K, x, incx, b, rsB, y, accumulate);
  else gemvDots(N, K, x, b, csB, y, incy, accumulate);
}

function gemvRows(N: i32, K: i32, x: usize, incx: i32, b: usize, rsB: i32, y: usize, accumulate: i32): void {
  // y starts as 0 (or itself) and takes four rows of B per pass, each row read front to back: the
  // terms are added in k order, as the micro-kernel adds them, so the result is the same.
  const rsBB = <usize>rsB << 2;
  const incxB = <usize>incx << 2;
  const n4 = <usize>(N & ~3) << 2;
  const nB = <usize>N << 2;
  if (!accumulate) zeroF32(y, N);
  let p = 0;
  for (; p + 4 <= K; p += 4) {
    const xp = x + <usize>p * incxB;
    const x0 = v128.load32_splat(xp);
    const x1 = v128.load32_splat(xp + incxB);
    const x2 = v128.load32_splat(xp + 2 * incxB);
    const x3 = v128.load32_splat(xp + 3 * incxB);
    let b0 = b + <usize>p * rsBB;
    let b1 = b0 + rsBB;
    let b2 = b1 + rsBB;
    let b3 = b2 + rsBB;
    let yp = y;
    const yEnd = y + n4;
    for (; yp < yEnd; yp += 16) {
      let v = v128.load(yp);
      v = madd(x0, v128.load(b0), v);
      v = madd(x1, v128.load(b1), v);
      v = madd(x2, v128.load(b2), v);
      v = madd(x3, v128.load(b3), v);
      v128.store(yp, v);
      b0 += 16;
      b1 += 16;
      b2 += 16;
      b3 += 16;
    }
    for (; yp < y + nB; yp += 4) {
      // One column in lane 0, with the vector multiply-add (fused in the relaxed build, as above).
      let v = v128.load32_zero(yp);
      v = madd(x0, v128.load32_zero(b0), v);
      v = madd(x1, v128.load32_zero(b1), v);
      v = madd(x2, v128.load32_zero(b2), v);
      v = madd(x3, v128.load32_zero(b3), v);
      v128.store32_lane(yp, v, 0);
      b0 += 4;
      b1 += 4;
      b2 += 4;
      b3 += 4;
    }
  }
  for (; p < K; p++) {
    const x0 = v128.load32_splat(x + <usize>p * incxB);
    let b0 = b + <usize>p * rsBB;
    let yp = y;
    const yEnd = y + n4;
    for (; yp < yEnd; yp += 16) {
      v128.store(yp, madd(x0, v128.load(b0), v128.load(yp)));
      b0 += 16;
    }
    for (; yp < y + nB; yp += 4) {
      v128.store32_lane(yp, madd(x0, v128.load32_zero(b0), v128.load32_zero(yp)), 0);
      b0 += 4;
    }
  }
}

/** y[j] (+)= sum_p x[p] B[p, j] for columns of B contiguous in p (B(p, j) at b + 4 * (p + j * csB)). */
function gemvDots(N: i32, K: i32, x: usize, b: usize, csB: i32, y: usize, incy: i32, accumulate: i32): void {
  const csBB = <usize>csB << 2;
  const incyB = <usize>incy << 2;
  const k4 = K & ~3;
  let j = 0;
  for (; j + 6 <= N; j += 6) {
    // Six columns: six accumulators, six loads and x (13 registers: V8 loads all before the
    // multiply-adds, so more would spill), each chain one multiply-add per four k.
    const b0 = b + <usize>j * csBB;
    const b1 = b0 + csBB;
    const b2 = b1 + csBB;
    const b3 = b2 + csBB;
    const b4 = b3 + csBB;
    const b5 = b4 + csBB;
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    let s4 = s0;
    let s5 = s0;
    for (let p = 0; p < k4; p += 4) {
      const o = <usize>p << 2;
      const xv = v128.load(x + o);
      s0 = madd(xv, v128.load(b0 + o), s0);
      s1 = madd(xv, v128.load(b1 + o), s1);
      s2 = madd(xv, v128.load(b2 + o), s2);
      s3 = madd(xv, v128.load(b3 + o), s3);
      s4 = madd(xv, v128.load(b4 + o), s4);
      s5 = madd(xv, v128.load(b5 + o), s5);
    }
    const t0 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), v128.shuffle<f32>(s0, s1, 2, 6, 3, 7));
    const t1 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 1, 5), v128.shuffle<f32>(s2, s3, 2, 6, 3, 7));
    const t2 = f32x4.add(v128.shuffle<f32>(s4, s5, 0, 4, 1, 5), v128.shuffle<f32>(s4, s5, 2, 6, 3, 7));
    let s = f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
    let u = f32x4.add(t2, v128.shuffle<f32>(t2, t2, 2, 3, 0, 1));
    for (let p = k4; p < K; p++) {
      const o = <usize>p << 2;
      const xv = v128.load32_splat(x + o);
      let bv = v128.load32_zero(b0 + o);
      bv = v128.load32_lane(b1 + o, bv, 1);
      bv = v128.load32_lane(b2 + o, bv, 2);
      bv = v128.load32_lane(b3 + o, bv, 3);
      s = madd(xv, bv, s);
      let bw = v128.load32_zero(b4 + o);
      bw = v128.load32_lane(b5 + o, bw, 1);
      u = madd(xv, bw, u);
    }
    const yp = y + <usize>j * incyB;
    if (incy == 1) {
      if (accumulate) {
        s = f32x4.add(s, v128.load(yp));
        u = f32x4.add(u, v128.load64_zero(yp, 16));
      }
      v128.store(yp, s);
      v128.store64_lane(yp, u, 0, 16);
    } else {
      storeStrided4(yp, incyB, s, accumulate);
      const y4 = yp + 4 * incyB;
      const y5 = y4 + incyB;
      store<f32>(y4, accumulate ? load<f32>(y4) + f32x4.extract_lane(u, 0) : f32x4.extract_lane(u, 0));
      store<f32>(y5, accumulate ? load<f32>(y5) + f32x4.extract_lane(u, 1) : f32x4.extract_lane(u, 1));
    }
  }
  for (; j + 4 <= N; j += 4) {
    const b0 = b + <usize>j * csBB;
    const b1 = b0 + csBB;
    const b2 = b1 + csBB;
    const b3 = b2 + csBB;
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    for (let p = 0; p < k4; p += 4) {
      const o = <usize>p << 2;
      const xv = v128.load(x + o);
      s0 = madd(xv, v128.load(b0 + o), s0);
      s1 = madd(xv, v128.load(b1 + o), s1);
      s2 = madd(xv, v128.load(b2 + o), s2);
      s3 = madd(xv, v128.load(b3 + o), s3);
    }
    // Lane i of the result: the sum of s_i's lanes.
    const t0 = f32x4.add(v128.shuffle<f32>(s0, s1, 0, 4, 1, 5), v128.shuffle<f32>(s0, s1, 2, 6, 3, 7));
    const t1 = f32x4.add(v128.shuffle<f32>(s2, s3, 0, 4, 1, 5), v128.shuffle<f32>(s2, s3, 2, 6, 3, 7));
    let s = f32x4.add(v128.shuffle<f32>(t0, t1, 0, 1, 4, 5), v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
    for (let p = k4; p < K; p++) {
      const o = <usize>p << 2;
      const xv = v128.load32_splat(x + o);
      let bv = v128.load32_zero(b0 + o);
      bv = v128.load32_lane(b1 + o, bv, 1);
      bv = v128.load32_lane(b2 + o, bv, 2);
      bv = v128.load32_lane(b3 + o, bv, 3);
      s = madd(xv, bv, s);
    }
    const yp = y + <usize>j * incyB;
    if (incy == 1) {
      if (accumulate) s = f32x4.add(s, v128.load(yp));
      v128.store(yp, s);
    } else {
      storeStrided4(yp, incyB, s, accumulate);
    }
  }
  for (; j < N; j++) {
    const bj = b + <usize>j * csBB;
    let sv = f32x4.splat(0);
    for (let p = 0; p < k4; p += 4) {
      const o = <usize>p << 2;
      sv = madd(v128.load(x + o), v128.load(bj + o), sv);
    }
    let s: f32 =
      f32x4.extract_lane(sv, 0) +
      f32x4.extract_lane(sv, 1) +
      (f32x4.extract_lane(sv, 2) + f32x4.extract_lane(sv, 3));
    for (let p = k4; p < K; p++) {
      const o = <usize>p << 2;
      s += load<f32>(x + o) * load<f32>(bj + o);
    }
    const yp = y + <usize>j * incyB;
    store<f32>(yp, accumulate ? load<f32>(yp) + s : s);
  }
}

/** y[0], y[s], y[2s], y[3s] (+)= the lanes of v (s in bytes). */
// @ts-ignore: decorator
@inline
function storeStrided4(y: usize, s: usize, v: v128, accumulate: i32): void {
  if (accumulate) {
    let yv = v128.load32_zero(y);
    yv = v128.load32_lane(y + s, yv, 1);
    yv = v128.load32_lane(y + 2 * s, yv, 2);
    yv = v128.load32_lane(y + 3 * s, yv, 3);
    v = f32x4.add(v, yv);
  }
  v128.store32_lane(y, v, 0);
  v128.store32_lane(y + s, v, 1);
  v128.store32_lane(y + 2 * s, v, 2);
  v128.store32_lane(y + 3 * s, v, 3);
}

/**
 * y[N] (+)= x[K] (stride incx) * B, B packed (sgemmPackB layout, columns [j0, j0 + N) of np): B is
 * read once, front to back within each panel, four panels (32 columns) at a time. The sums run in
 * the micro-kernel's order (start from y, then the k terms in order, block by block), so a row
 * computed here equals the same row computed inside a larger product bit for bit.
 */
function gemvPacked(
  N: i32,
  K: i32,
  x: usize,
  incx: i32,
  bpk: usize,
  np: i32,
  j0: i32,
  y: usize,
  accumulate: i32,
  scratch: usize,
): void {
  const kcb = kBlock(K);
  const incxB = <usize>incx << 2;
  // Three panels (24 columns) at a time: six accumulators, six loads and x (13 registers; V8
  // loads all before the multiply-adds, so more would spill), each chain one multiply-add per k.
  // A group with a partial panel (zero padded) runs on a copy of y in `scratch`.
  for (let j = 0; j < N; j += 24) {
    const cols = min(24, N - j);
    const panels = (cols + NR - 1) / NR;
    const yp = y + (<usize>j << 2);
    let out = yp;
    if (cols < panels * NR) {
      out = scratch;
      zeroF32(scratch, 24);
      if (accumulate) copyF32(scratch, yp, cols);
    }
    let s0 = f32x4.splat(0);
    let s1 = s0;
    let s2 = s0;
    let s3 = s0;
    let s4 = s0;
    let s5 = s0;
    if (accumulate) {
      s0 = v128.load(out);
      s1 = v128.load(out, 16);
      if (panels > 1) {
        s2 = v128.load(out, 32);
        s3 = v128.load(out, 48);
      }
      if (panels > 2) {
        s4 = v128.load(out, 64);
        s5 = v128.load(out, 80);
      }
    }
    for (let pc = 0; pc < K; pc += kcb) {
      const kc = min(kcb, K - pc);
      const panel = <usize>kc << 5;
      let p0 = bpk + (<usize>(pc * np + (j0 + j) * kc) << 2);
      let xp = x + <usize>pc * incxB;
      if (panels == 3) {
        let p1 = p0 + panel;
        let p2 = p1 + panel;
        for (let k = 0; k < kc; k++) {
          const xv = v128.load32_splat(xp);
          s0 = madd(xv, v128.load(p0), s0);
          s1 = madd(xv, v128.load(p0, 16), s1);
          s2 = madd(xv, v128.load(p1), s2);
          s3 = madd(xv, v128.load(p1, 16), s3);
          s4 = madd(xv, v128.load(p2), s4);
          s5 = madd(xv, v128.load(p2, 16), s5);
          p0 += 32;
          p1 += 32;
          p2 += 32;
          xp += incxB;
        }
      } else if (panels == 2) {
        let p1 = p0 + panel;
        for (let k = 0; k < kc; k++) {
          const xv = v128.load32_splat(xp);
          s0 = madd(xv, v128.load(p0), s0);
          s1 = madd(xv, v128.load(p0, 16), s1);
          s2 = madd(xv, v128.load(p1), s2);
          s3 = madd(xv, v128.load(p1, 16), s3);
          p0 += 32;
          p1 += 32;
          xp += incxB;
        }
      } else {
        for (let k = 0; k < kc; k++) {
          const xv = v128.load32_splat(xp);
          s0 = madd(xv, v128.load(p0), s0);
          s1 = madd(xv, v128.load(p0, 16), s1);
          p0 += 32;
          xp += incxB;
        }
      }
    }
    v128.store(out, s0);
    v128.store(out, s1, 16);
    if (panels > 1) {
      v128.store(out, s2, 32);
      v128.store(out, s3, 48);
    }
    if (panels > 2) {
      v128.store(out, s4, 64);
      v128.store(out, s5, 80);
    }
    if (out != yp) copyF32(yp, scratch, cols);
  }
}
