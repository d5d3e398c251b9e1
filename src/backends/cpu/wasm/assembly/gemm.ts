// Single-precision GEMM, BLIS-style: C[M, N] (+)= A[M, K] * B[K, N] with arbitrary element strides
// for A and B (so transposed operands need no copy), K-blocked by KC, B packed into NR-wide panels
// (KC x NC block, kept in L2), A packed into MR-tall panels (MC x KC block), and a 6x8 register-
// blocked micro-kernel: 12 f32x4 accumulators, two B vectors and one broadcast A value per step.
// Worker threads call `sgemm` on disjoint blocks of C, each with its own scratch.
import { madd } from './simd';

const MR: i32 = 6;
const NR: i32 = 8;
const KC: i32 = 256;
const MC: i32 = 120;
const NC: i32 = 1024;

/** Bytes of scratch one `sgemm` call needs: packed A block, packed B block, one edge tile. */
export function sgemmScratchBytes(): i32 {
  return (MC * KC + KC * NC + MR * NR) * 4;
}

/** dst <- MR-row panels of A: for each panel, for each k, the MR values of column k (zero padded). */
function packA(a: usize, rs: usize, cs: usize, mc: i32, kc: i32, dst: usize): void {
  for (let i0 = 0; i0 < mc; i0 += MR) {
    const rows = min(MR, mc - i0);
    const base = a + <usize>i0 * rs;
    if (rows == MR && cs == 4) {
      // Row-major A: six row pointers walk along K.
      const r1 = base + rs;
      const r2 = r1 + rs;
      const r3 = r2 + rs;
      const r4 = r3 + rs;
      const r5 = r4 + rs;
      const end = <usize>kc << 2;
      for (let k: usize = 0; k < end; k += 4) {
        store<f32>(dst, load<f32>(base + k));
        store<f32>(dst, load<f32>(r1 + k), 4);
        store<f32>(dst, load<f32>(r2 + k), 8);
        store<f32>(dst, load<f32>(r3 + k), 12);
        store<f32>(dst, load<f32>(r4 + k), 16);
        store<f32>(dst, load<f32>(r5 + k), 20);
        dst += 24;
      }
    } else if (rows == MR && rs == 4) {
      // A stored transposed ([K, M]): the six values of a column are contiguous.
      for (let k = 0; k < kc; k++) {
        const p = base + <usize>k * cs;
        v128.store(dst, v128.load(p));
        store<i64>(dst, load<i64>(p, 16), 16);
        dst += 24;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        const p = base + <usize>k * cs;
        for (let r = 0; r < MR; r++) {
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
        transpose4(x0, x1, x2, x3, dst, 0);
        transpose4(x4, x5, x6, x7, dst, 16);
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

/** Writes the 4x4 transpose of rows x0..x3 as four rows 32 bytes apart, starting at dst + off. */
// @ts-ignore: decorator
@inline
function transpose4(x0: v128, x1: v128, x2: v128, x3: v128, dst: usize, off: usize): void {
  const t0 = v128.shuffle<f32>(x0, x1, 0, 4, 1, 5);
  const t1 = v128.shuffle<f32>(x2, x3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(x0, x1, 2, 6, 3, 7);
  const t3 = v128.shuffle<f32>(x2, x3, 2, 6, 3, 7);
  v128.store(dst + off, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + off, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7), 32);
  v128.store(dst + off, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5), 64);
  v128.store(dst + off, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7), 96);
}

/**
 * The 6x8 micro-kernel: C tile (+)= packed A panel * packed B panel over kc steps. Accumulating
 * starts the registers from C rather than adding C after the loop: with the add after, V8's
 * register allocator spills inside the loop (15 of 16 xmm registers are live there) and the
 * kernel loses a third of its speed.
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
  const ldcB = <usize>ldc << 2;
  if (K <= 0) {
    if (!accumulate) for (let i = 0; i < M; i++) memory.fill(c + <usize>i * ldcB, 0, <usize>N << 2);
    return;
  }
  if (M <= 2 && csB == 1) {
    gemvRows(M, N, K, a, rsA, csA, b, rsB, c, ldc, accumulate);
    return;
  }
  const ap = scratch;
  const bp = ap + <usize>(MC * KC * 4);
  const tmp = bp + <usize>(KC * NC * 4);
  const rsAB = <usize>rsA << 2;
  const csAB = <usize>csA << 2;
  const rsBB = <usize>rsB << 2;
  const csBB = <usize>csB << 2;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const acc = pc > 0 || accumulate != 0;
      packB(b + <usize>pc * rsBB + <usize>jc * csBB, rsBB, csBB, kc, nc, bp);
      for (let ic = 0; ic < M; ic += MC) {
        const mc = min(MC, M - ic);
        packA(a + <usize>ic * rsAB + <usize>pc * csAB, rsAB, csAB, mc, kc, ap);
        for (let jr = 0; jr < nc; jr += NR) {
          const nr = min(NR, nc - jr);
          const bpj = bp + <usize>(jr * kc) * 4;
          for (let ir = 0; ir < mc; ir += MR) {
            const mr = min(MR, mc - ir);
            const cp = c + <usize>(ic + ir) * ldcB + (<usize>(jc + jr) << 2);
            const api = ap + <usize>(ir * kc) * 4;
            if (mr == MR && nr == NR) {
              tile(kc, api, bpj, cp, ldcB, acc);
            } else {
              // Edge tile: the same arithmetic as a full one (start from C, then the k terms in
              // order), on a copy, so equal inputs give bit-equal outputs wherever they sit in C.
              for (let r = 0; r < MR; r++) {
                const src = cp + <usize>r * ldcB;
                const dst = tmp + <usize>(r * 32);
                for (let j = 0; j < NR; j++) {
                  const o = <usize>j << 2;
                  store<f32>(dst + o, acc && r < mr && j < nr ? load<f32>(src + o) : 0);
                }
              }
              tile(kc, api, bpj, tmp, 32, acc);
              for (let r = 0; r < mr; r++) {
                memory.copy(cp + <usize>r * ldcB, tmp + <usize>(r * 32), <usize>nr << 2);
              }
            }
          }
        }
      }
    }
  }
}

/**
 * Few rows of A against a row-major B: no packing (it would cost as much as the product), each
 * row streams through B once, eight columns of C per vector pair.
 */
function gemvRows(
  M: i32,
  N: i32,
  K: i32,
  a: usize,
  rsA: i32,
  csA: i32,
  b: usize,
  rsB: i32,
  c: usize,
  ldc: i32,
  accumulate: i32,
): void {
  const rsBB = <usize>rsB << 2;
  for (let i = 0; i < M; i++) {
    const arow = a + (<usize>(i * rsA) << 2);
    const crow = c + (<usize>(i * ldc) << 2);
    const csAB = <usize>csA << 2;
    let j = 0;
    for (; j + 16 <= N; j += 16) {
      let s0 = f32x4.splat(0);
      let s1 = s0;
      let s2 = s0;
      let s3 = s0;
      let bp = b + (<usize>j << 2);
      let ap = arow;
      for (let p = 0; p < K; p++) {
        const x = v128.load32_splat(ap);
        s0 = madd(x, v128.load(bp), s0);
        s1 = madd(x, v128.load(bp, 16), s1);
        s2 = madd(x, v128.load(bp, 32), s2);
        s3 = madd(x, v128.load(bp, 48), s3);
        bp += rsBB;
        ap += csAB;
      }
      const cp = crow + (<usize>j << 2);
      if (accumulate) {
        s0 = f32x4.add(s0, v128.load(cp));
        s1 = f32x4.add(s1, v128.load(cp, 16));
        s2 = f32x4.add(s2, v128.load(cp, 32));
        s3 = f32x4.add(s3, v128.load(cp, 48));
      }
      v128.store(cp, s0);
      v128.store(cp, s1, 16);
      v128.store(cp, s2, 32);
      v128.store(cp, s3, 48);
    }
    for (; j + 4 <= N; j += 4) {
      let s0 = f32x4.splat(0);
      let bp = b + (<usize>j << 2);
      let ap = arow;
      for (let p = 0; p < K; p++) {
        s0 = madd(v128.load32_splat(ap), v128.load(bp), s0);
        bp += rsBB;
        ap += csAB;
      }
      const cp = crow + (<usize>j << 2);
      if (accumulate) s0 = f32x4.add(s0, v128.load(cp));
      v128.store(cp, s0);
    }
    for (; j < N; j++) {
      let s: f32 = 0;
      let bp = b + (<usize>j << 2);
      let ap = arow;
      for (let p = 0; p < K; p++) {
        s += load<f32>(ap) * load<f32>(bp);
        bp += rsBB;
        ap += csAB;
      }
      const cp = crow + (<usize>j << 2);
      store<f32>(cp, accumulate ? load<f32>(cp) + s : s);
    }
  }
}
