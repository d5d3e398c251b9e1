// 2-D convolution kernels over WASM memory (src/backends/cpu/wasm/conv.ts drives them): tiles of
// im2col multiplied by the GEMM straight into Y with bias and Relu added while the tile is in cache,
// and a direct depthwise kernel. A float32 Conv makes one copy in and one out.
import { sgemm, sgemmScratchBytes } from './gemm';
import { copyF32, madd, zeroF32 } from './simd';

// ---------------------------------------------------------------------------------------------
// Tiled convolution. The caller writes a parameter block (i32s at the offsets below) into WASM
// memory once per call; `conv2dUnits` and `depthwise2dUnits` then each run a range of work units,
// on the calling thread or on a worker of the pool (each job with its own scratch), so a large
// convolution is split across threads with no JS in between.

/** Parameter block offsets, in i32s (keep in sync with src/backends/cpu/wasm/conv.ts). */
const P_X: i32 = 0; // X [N, C, H, W]
const P_C: i32 = 1;
const P_H: i32 = 2;
const P_W: i32 = 3;
const P_KH: i32 = 4;
const P_KW: i32 = 5;
const P_OH: i32 = 6;
const P_OW: i32 = 7;
const P_SH: i32 = 8;
const P_SW: i32 = 9;
const P_DH: i32 = 10;
const P_DW: i32 = 11;
const P_PH: i32 = 12;
const P_PW: i32 = 13;
const P_M: i32 = 14;
const P_GROUP: i32 = 15;
const P_WT: i32 = 16; // W [M, C/group, kH, kW]
const P_B: i32 = 17; // bias [M], 0 when none
const P_Y: i32 = 18; // Y [N, M, oH, oW]
const P_RELU: i32 = 19;
const P_TILE: i32 = 20; // output positions per tile
const P_TILES: i32 = 21; // tiles per (image, group)
const P_MROWS: i32 = 22; // output channels per row block of a group
const P_MPARTS: i32 = 23; // row blocks per group
const P_DIRECT: i32 = 24; // 1: a 1x1 kernel with unit strides and no padding reads X in place

// @ts-ignore: decorator
@inline
function prm(p: usize, i: i32): i32 {
  return load<i32>(p + (<usize>i << 2));
}

/**
 * Bytes of scratch one conv2dUnits job needs: an im2col tile of K x tile floats (K = 0 when the
 * GEMM reads X in place) and the GEMM's own.
 */
export function conv2dScratchBytes(K: i32, tile: i32): i32 {
  return ((K * tile * 4 + 63) & ~63) + sgemmScratchBytes();
}

/**
 * dst[C*kH*kW, n] <- columns [l0, l0 + n) of the im2col matrix of src[C, H, W]: rows ordered
 * (channel, kh, kw) as the flattened OIHW weight, columns the output positions row-major (a tile
 * may start and end mid-row), zeros in the padding. With stride 2 it may read one float past the
 * end of src (callers keep other buffers after it).
 */
export function im2colTile(
  src: usize,
  C: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  oW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  pH: i32,
  pW: i32,
  l0: i32,
  n: i32,
  dst: usize,
): void {
  const oh0 = l0 / oW;
  const ow0 = l0 - oh0 * oW;
  const rowBytes = <usize>n << 2;
  for (let c = 0; c < C; c++) {
    const plane = src + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const iw0 = kw * dW - pW;
        // Output columns [lo, hi) of an output row read inside the input row.
        let lo = iw0 >= 0 ? 0 : (-iw0 + sW - 1) / sW;
        if (lo > oW) lo = oW;
        let hi = W - iw0 <= 0 ? 0 : (W - iw0 + sW - 1) / sW;
        if (hi > oW) hi = oW;
        if (hi < lo) hi = lo;
        let d = dst;
        let oh = oh0;
        let a = ow0;
        let left = n;
        while (left > 0) {
          const e = min(oW, a + left);
          const ih = oh * sH - pH + kh * dH;
          if (ih < 0 || ih >= H) {
            zeroF32(d, e - a);
          } else {
            const s0 = max(a, lo);
            const s1 = max(s0, min(e, hi));
            if (s0 > a) zeroF32(d, s0 - a);
            const row = plane + (<usize>(ih * W) << 2);
            const out = d + (<usize>(s0 - a) << 2);
            if (sW == 1) {
              copyF32(out, row + (<usize>(iw0 + s0) << 2), s1 - s0);
            } else {
              let s = row + (<usize>(iw0 + s0 * sW) << 2);
              const step = <usize>sW << 2;
              let o = out;
              let ow = s0;
              if (sW == 2) {
                // Even lanes of two loads; the second may read one float past the row (unused).
                for (; ow + 4 <= s1; ow += 4) {
                  v128.store(o, v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6));
                  s += 32;
                  o += 16;
                }
              }
              for (; ow < s1; ow++) {
                store<f32>(o, load<f32>(s));
                s += step;
                o += 4;
              }
            }
            if (e > s1) zeroF32(d + (<usize>(s1 - a) << 2), e - s1);
          }
          d += <usize>(e - a) << 2;
          left -= e - a;
          a = 0;
          oh++;
        }
        dst += rowBytes;
      }
    }
  }
}

/** y[r, j] (row stride ldy floats) += bias[r] (when bias != 0), then Relu (when relu), rows x cols. */
function biasReluTile(y: usize, rows: i32, cols: i32, ldy: i32, bias: usize, relu: i32): void {
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const row = y + (<usize>(r * ldy) << 2);
    const end = row + (<usize>cols << 2);
    const vec = row + (<usize>(cols & ~3) << 2);
    const b: f32 = bias != 0 ? load<f32>(bias + (<usize>r << 2)) : 0;
    const bv = f32x4.splat(b);
    let p = row;
    if (relu) {
      // Lanes <= 0 become +0; NaN (compares false) stays.
      for (; p < vec; p += 16) {
        const v = f32x4.add(v128.load(p), bv);
        v128.store(p, v128.andnot(v, f32x4.le(v, zero)));
      }
      for (; p < end; p += 4) {
        const v = load<f32>(p) + b;
        store<f32>(p, v <= 0 ? 0 : v);
      }
    } else if (bias != 0) {
      for (; p < vec; p += 16) v128.store(p, f32x4.add(v128.load(p), bv));
      for (; p < end; p += 4) store<f32>(p, load<f32>(p) + b);
    }
  }
}

/**
 * Runs work units [u0, u1) of a convolution as im2col tile + GEMM written straight into Y (row
 * stride oH*oW) + bias/Relu on the tile. Unit u is (image n, group g, row block mp, tile t) with t
 * innermost but one: u = ((n * group + g) * tiles + t) * mParts + mp, so consecutive units of a job
 * share one im2col tile. `scratch` holds conv2dScratchBytes(K, tile).
 */
export function conv2dUnits(p: usize, u0: i32, u1: i32, scratch: usize): void {
  const C = prm(p, P_C);
  const H = prm(p, P_H);
  const W = prm(p, P_W);
  const kH = prm(p, P_KH);
  const kW = prm(p, P_KW);
  const oW = prm(p, P_OW);
  const M = prm(p, P_M);
  const group = prm(p, P_GROUP);
  const tile = prm(p, P_TILE);
  const tiles = prm(p, P_TILES);
  const mRows = prm(p, P_MROWS);
  const mParts = prm(p, P_MPARTS);
  const direct = prm(p, P_DIRECT);
  const bias = <usize>prm(p, P_B);
  const relu = prm(p, P_RELU);
  const Cg = C / group;
  const Mg = M / group;
  const K = Cg * kH * kW;
  const L = prm(p, P_OH) * oW;
  const P = H * W;
  // The im2col tile, then the GEMM's scratch (as conv2dScratchBytes(direct ? 0 : K, tile) sized it).
  const cols = scratch;
  const gemmScratch = scratch + <usize>(direct ? 0 : (K * tile * 4 + 63) & ~63);
  let have = -1; // the (n, g, t) whose tile `cols` holds
  for (let u = u0; u < u1; u++) {
    const mp = u % mParts;
    let r = u / mParts;
    const t = r % tiles;
    r /= tiles;
    const g = r % group;
    const n = r / group;
    const l0 = t * tile;
    const nt = min(tile, L - l0);
    const m0 = mp * mRows;
    const mr = min(mRows, Mg - m0);
    if (nt <= 0 || mr <= 0) continue;
    const xg = <usize>prm(p, P_X) + (<usize>((n * C + g * Cg) * P) << 2);
    let b: usize;
    let rsB: i32;
    if (direct) {
      b = xg + (<usize>l0 << 2);
      rsB = P;
    } else {
      const key = r * tiles + t;
      if (key != have) {
        im2colTile(
          xg,
          Cg,
          H,
          W,
          kH,
          kW,
          oW,
          prm(p, P_SH),
          prm(p, P_SW),
          prm(p, P_DH),
          prm(p, P_DW),
          prm(p, P_PH),
          prm(p, P_PW),
          l0,
          nt,
          cols,
        );
        have = key;
      }
      b = cols;
      rsB = nt;
    }
    const m = g * Mg + m0;
    const y = <usize>prm(p, P_Y) + (<usize>((n * M + m) * L + l0) << 2);
    const a = <usize>prm(p, P_WT) + (<usize>(m * K) << 2);
    sgemm(mr, nt, K, a, K, 1, b, rsB, 1, y, L, 0, gemmScratch);
    if (bias != 0 || relu) biasReluTile(y, mr, nt, L, bias != 0 ? bias + (<usize>m << 2) : 0, relu);
  }
}

// @ts-ignore: decorator
@inline
function reluV(v: v128, relu: i32): v128 {
  return relu ? v128.andnot(v, f32x4.le(v, f32x4.splat(0))) : v;
}

/**
 * Four x values at s, s + 4 sW, s + 8 sW, s + 12 sW (bytes). The stride is a type so each kernel
 * is compiled per stride: S = u8 is stride 1 (one load), u16 stride 2 (two loads and a shuffle),
 * u64 any stride `sW` (a gather).
 */
// @ts-ignore: decorator
@inline
function load4<S>(s: usize, sW: i32): v128 {
  if (sizeof<S>() == 1) return v128.load(s);
  if (sizeof<S>() == 2) return v128.shuffle<f32>(v128.load(s), v128.load(s, 16), 0, 2, 4, 6);
  const step = <usize>sW << 2;
  let v = f32x4.splat(load<f32>(s));
  v = f32x4.replace_lane(v, 1, load<f32>(s + step));
  v = f32x4.replace_lane(v, 2, load<f32>(s + 2 * step));
  return f32x4.replace_lane(v, 3, load<f32>(s + 3 * step));
}

/** The stride of a kernel compiled for S (see load4). */
// @ts-ignore: decorator
@inline
function strideOf<S>(sW: i32): i32 {
  if (sizeof<S>() == 1) return 1;
  if (sizeof<S>() == 2) return 2;
  return sW;
}

/** Rows of the zero-padded input plane depthwise2dUnits reads (every tap of every output inside). */
// @ts-ignore: decorator
@inline
function paddedRows(p: usize): i32 {
  return (prm(p, P_OH) - 1) * prm(p, P_SH) + (prm(p, P_KH) - 1) * prm(p, P_DH) + 1;
}

/** Columns of the padded plane: output blocks of eight may run past oW (computed, not stored). */
// @ts-ignore: decorator
@inline
function paddedCols(p: usize): i32 {
  const sW = prm(p, P_SW);
  const oWr = (prm(p, P_OW) + 7) & ~7;
  const last = (oWr - 1) * sW + (prm(p, P_KW) - 1) * prm(p, P_DW) + (sW == 2 ? 1 : 0);
  return (last + 4) & ~3;
}

/** Bytes of scratch one depthwise2dUnits job needs: the padded input plane and one output block. */
export function depthwiseScratchBytes(p: usize): i32 {
  return paddedRows(p) * paddedCols(p) * 4 + 64;
}

/**
 * dst[Hp, Wp] <- the input plane src[H, W] placed at (pH, pW), zeros around it (and cut where
 * no output reads).
 */
function padPlane(src: usize, H: i32, W: i32, pH: i32, pW: i32, Hp: i32, Wp: i32, dst: usize): void {
  const wpB = <usize>Wp << 2;
  const left = min(pW, Wp);
  const n = max(0, min(W, Wp - pW));
  const right = Wp - left - n;
  for (let r = 0; r < Hp; r++) {
    const ih = r - pH;
    const d = dst + <usize>r * wpB;
    if (ih < 0 || ih >= H) {
      zeroF32(d, Wp);
      continue;
    }
    if (left > 0) zeroF32(d, left);
    copyF32(d + (<usize>left << 2), src + (<usize>(ih * W) << 2), n);
    if (right > 0) zeroF32(d + (<usize>(left + n) << 2), right);
  }
}

/**
 * y[0, n) <- the first n (1..8) lanes of the eight outputs (a0, a1): whole registers where they fit,
 * then a pair and a single lane, so no store passes the end of the row (the next plane may be
 * another job's).
 */
// @ts-ignore: decorator
@inline
function storeOutputs(y: usize, n: i32, a0: v128, a1: v128): void {
  if (n >= 8) {
    v128.store(y, a0);
    v128.store(y, a1, 16);
    return;
  }
  let v = a0;
  if (n >= 4) {
    v128.store(y, a0);
    y += 16;
    n -= 4;
    v = a1;
  }
  if (n & 2) {
    v128.store64_lane(y, v, 0);
    y += 8;
    v = v128.shuffle<f32>(v, v, 2, 3, 2, 3);
  }
  if (n & 1) v128.store32_lane(y, v, 0);
}

/**
 * One output plane of a 3x3 depthwise kernel over a padded plane: two output rows at a time, eight
 * outputs of each per step in four registers (four independent multiply-add chains hide the
 * latency even on the 7- and 14-wide maps of small networks), the nine weights held as splats, and
 * a last odd row alone. Inlined per stride so the loads are specialized.
 */
function depthwise3x3<S>(
  x: usize,
  Wp: i32,
  wt: usize,
  b: f32,
  oH: i32,
  oW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  relu: i32,
  y: usize,
): void {
  const w0 = v128.load32_splat(wt);
  const w1 = v128.load32_splat(wt, 4);
  const w2 = v128.load32_splat(wt, 8);
  const w3 = v128.load32_splat(wt, 12);
  const w4 = v128.load32_splat(wt, 16);
  const w5 = v128.load32_splat(wt, 20);
  const w6 = v128.load32_splat(wt, 24);
  const w7 = v128.load32_splat(wt, 28);
  const w8 = v128.load32_splat(wt, 32);
  const bv = f32x4.splat(b);
  const rowB = <usize>Wp << 2;
  const dhB = <usize>(dH * Wp) << 2;
  const dwB = <usize>dW << 2;
  const st = strideOf<S>(sW);
  const half = <usize>(st * 4) << 2;
  const stepB = <usize>(st * 8) << 2;
  const nextB = <usize>sH * rowB; // from one output row's input rows to the next's
  const oWB = <usize>oW << 2;
  let oh = 0;
  for (; oh + 2 <= oH; oh += 2) {
    const r0 = x + <usize>(oh * sH) * rowB;
    const r1 = r0 + dhB;
    const r2 = r1 + dhB;
    const q0 = r0 + nextB;
    const q1 = q0 + dhB;
    const q2 = q1 + dhB;
    const yr = y + (<usize>(oh * oW) << 2);
    let o: usize = 0;
    for (let ow = 0; ow < oW; ow += 8) {
      let a0 = madd(w0, load4<S>(r0 + o, sW), bv);
      let a1 = madd(w0, load4<S>(r0 + o + half, sW), bv);
      let c0 = madd(w0, load4<S>(q0 + o, sW), bv);
      let c1 = madd(w0, load4<S>(q0 + o + half, sW), bv);
      a0 = madd(w1, load4<S>(r0 + o + dwB, sW), a0);
      a1 = madd(w1, load4<S>(r0 + o + dwB + half, sW), a1);
      c0 = madd(w1, load4<S>(q0 + o + dwB, sW), c0);
      c1 = madd(w1, load4<S>(q0 + o + dwB + half, sW), c1);
      a0 = madd(w2, load4<S>(r0 + o + 2 * dwB, sW), a0);
      a1 = madd(w2, load4<S>(r0 + o + 2 * dwB + half, sW), a1);
      c0 = madd(w2, load4<S>(q0 + o + 2 * dwB, sW), c0);
      c1 = madd(w2, load4<S>(q0 + o + 2 * dwB + half, sW), c1);
      a0 = madd(w3, load4<S>(r1 + o, sW), a0);
      a1 = madd(w3, load4<S>(r1 + o + half, sW), a1);
      c0 = madd(w3, load4<S>(q1 + o, sW), c0);
      c1 = madd(w3, load4<S>(q1 + o + half, sW), c1);
      a0 = madd(w4, load4<S>(r1 + o + dwB, sW), a0);
      a1 = madd(w4, load4<S>(r1 + o + dwB + half, sW), a1);
      c0 = madd(w4, load4<S>(q1 + o + dwB, sW), c0);
      c1 = madd(w4, load4<S>(q1 + o + dwB + half, sW), c1);
      a0 = madd(w5, load4<S>(r1 + o + 2 * dwB, sW), a0);
      a1 = madd(w5, load4<S>(r1 + o + 2 * dwB + half, sW), a1);
      c0 = madd(w5, load4<S>(q1 + o + 2 * dwB, sW), c0);
      c1 = madd(w5, load4<S>(q1 + o + 2 * dwB + half, sW), c1);
      a0 = madd(w6, load4<S>(r2 + o, sW), a0);
      a1 = madd(w6, load4<S>(r2 + o + half, sW), a1);
      c0 = madd(w6, load4<S>(q2 + o, sW), c0);
      c1 = madd(w6, load4<S>(q2 + o + half, sW), c1);
      a0 = madd(w7, load4<S>(r2 + o + dwB, sW), a0);
      a1 = madd(w7, load4<S>(r2 + o + dwB + half, sW), a1);
      c0 = madd(w7, load4<S>(q2 + o + dwB, sW), c0);
      c1 = madd(w7, load4<S>(q2 + o + dwB + half, sW), c1);
      a0 = madd(w8, load4<S>(r2 + o + 2 * dwB, sW), a0);
      a1 = madd(w8, load4<S>(r2 + o + 2 * dwB + half, sW), a1);
      c0 = madd(w8, load4<S>(q2 + o + 2 * dwB, sW), c0);
      c1 = madd(w8, load4<S>(q2 + o + 2 * dwB + half, sW), c1);
      const yo = yr + (<usize>ow << 2);
      const n = oW - ow;
      storeOutputs(yo, n, reluV(a0, relu), reluV(a1, relu));
      storeOutputs(yo + oWB, n, reluV(c0, relu), reluV(c1, relu));
      o += stepB;
    }
  }
  if (oh < oH) {
    const r0 = x + <usize>(oh * sH) * rowB;
    const r1 = r0 + dhB;
    const r2 = r1 + dhB;
    const yr = y + (<usize>(oh * oW) << 2);
    let o: usize = 0;
    for (let ow = 0; ow < oW; ow += 8) {
      let a0 = madd(w0, load4<S>(r0 + o, sW), bv);
      let a1 = madd(w0, load4<S>(r0 + o + half, sW), bv);
      a0 = madd(w1, load4<S>(r0 + o + dwB, sW), a0);
      a1 = madd(w1, load4<S>(r0 + o + dwB + half, sW), a1);
      a0 = madd(w2, load4<S>(r0 + o + 2 * dwB, sW), a0);
      a1 = madd(w2, load4<S>(r0 + o + 2 * dwB + half, sW), a1);
      a0 = madd(w3, load4<S>(r1 + o, sW), a0);
      a1 = madd(w3, load4<S>(r1 + o + half, sW), a1);
      a0 = madd(w4, load4<S>(r1 + o + dwB, sW), a0);
      a1 = madd(w4, load4<S>(r1 + o + dwB + half, sW), a1);
      a0 = madd(w5, load4<S>(r1 + o + 2 * dwB, sW), a0);
      a1 = madd(w5, load4<S>(r1 + o + 2 * dwB + half, sW), a1);
      a0 = madd(w6, load4<S>(r2 + o, sW), a0);
      a1 = madd(w6, load4<S>(r2 + o + half, sW), a1);
      a0 = madd(w7, load4<S>(r2 + o + dwB, sW), a0);
      a1 = madd(w7, load4<S>(r2 + o + dwB + half, sW), a1);
      a0 = madd(w8, load4<S>(r2 + o + 2 * dwB, sW), a0);
      a1 = madd(w8, load4<S>(r2 + o + 2 * dwB + half, sW), a1);
      storeOutputs(yr + (<usize>ow << 2), oW - ow, reluV(a0, relu), reluV(a1, relu));
      o += stepB;
    }
  }
}

/**
 * Adds input row r's three taps (x at r, r + dW, r + 2 dW and 16 bytes on) times weights wa, wb, wc
 * to the eight outputs (a0, a1).
 */
// @ts-ignore: decorator
@inline
function tapRow(r: usize, dwB: usize, wa: v128, wb: v128, wc: v128, acc: v128): v128 {
  return madd(wc, v128.load(r + 2 * dwB), madd(wb, v128.load(r + dwB), madd(wa, v128.load(r), acc)));
}

/**
 * depthwise3x3 for unit strides and row dilation 1: output rows oh and oh + 1 read input rows
 * oh .. oh + 3, so each of the four is loaded once per step and used by both rows (24 loads for 36
 * multiply-adds instead of 36).
 */
function depthwise3x3s1(x: usize, Wp: i32, wt: usize, b: f32, oH: i32, oW: i32, dW: i32, relu: i32, y: usize): void {
  const w0 = v128.load32_splat(wt);
  const w1 = v128.load32_splat(wt, 4);
  const w2 = v128.load32_splat(wt, 8);
  const w3 = v128.load32_splat(wt, 12);
  const w4 = v128.load32_splat(wt, 16);
  const w5 = v128.load32_splat(wt, 20);
  const w6 = v128.load32_splat(wt, 24);
  const w7 = v128.load32_splat(wt, 28);
  const w8 = v128.load32_splat(wt, 32);
  const bv = f32x4.splat(b);
  const rowB = <usize>Wp << 2;
  const dwB = <usize>dW << 2;
  const oWB = <usize>oW << 2;
  let oh = 0;
  for (; oh + 2 <= oH; oh += 2) {
    const r0 = x + <usize>oh * rowB;
    const r1 = r0 + rowB;
    const r2 = r1 + rowB;
    const r3 = r2 + rowB;
    const yr = y + (<usize>(oh * oW) << 2);
    let o: usize = 0;
    for (let ow = 0; ow < oW; ow += 8) {
      // Row oh: input rows 0..2 with weight rows 0..2; row oh + 1: input rows 1..3.
      let a0 = tapRow(r0 + o, dwB, w0, w1, w2, bv);
      let a1 = tapRow(r0 + o + 16, dwB, w0, w1, w2, bv);
      let c0 = tapRow(r1 + o, dwB, w0, w1, w2, bv);
      let c1 = tapRow(r1 + o + 16, dwB, w0, w1, w2, bv);
      a0 = tapRow(r1 + o, dwB, w3, w4, w5, a0);
      a1 = tapRow(r1 + o + 16, dwB, w3, w4, w5, a1);
      c0 = tapRow(r2 + o, dwB, w3, w4, w5, c0);
      c1 = tapRow(r2 + o + 16, dwB, w3, w4, w5, c1);
      a0 = tapRow(r2 + o, dwB, w6, w7, w8, a0);
      a1 = tapRow(r2 + o + 16, dwB, w6, w7, w8, a1);
      c0 = tapRow(r3 + o, dwB, w6, w7, w8, c0);
      c1 = tapRow(r3 + o + 16, dwB, w6, w7, w8, c1);
      const yo = yr + (<usize>ow << 2);
      const n = oW - ow;
      storeOutputs(yo, n, reluV(a0, relu), reluV(a1, relu));
      storeOutputs(yo + oWB, n, reluV(c0, relu), reluV(c1, relu));
      o += 32;
    }
  }
  // The last odd row: the general kernel's single-row path on that row alone.
  if (oh < oH) {
    depthwise3x3<u8>(x + <usize>oh * rowB, Wp, wt, b, 1, oW, 1, 1, 1, dW, relu, y + (<usize>(oh * oW) << 2));
  }
}

/** One output plane of any kH x kW depthwise kernel over a padded plane, eight outputs per step. */
function depthwiseAny<S>(
  x: usize,
  Wp: i32,
  wt: usize,
  b: f32,
  kH: i32,
  kW: i32,
  oH: i32,
  oW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  relu: i32,
  y: usize,
  tmp: usize,
): void {
  const bv = f32x4.splat(b);
  const rowB = <usize>Wp << 2;
  const dhB = <usize>(dH * Wp) << 2;
  const dwB = <usize>dW << 2;
  const st = strideOf<S>(sW);
  const half = <usize>(st * 4) << 2;
  const stepB = <usize>(st * 8) << 2;
  for (let oh = 0; oh < oH; oh++) {
    const r0 = x + <usize>(oh * sH) * rowB;
    const yr = y + (<usize>(oh * oW) << 2);
    let o: usize = 0;
    for (let ow = 0; ow < oW; ow += 8) {
      let a0 = bv;
      let a1 = bv;
      let r = r0 + o;
      let wp = wt;
      for (let i = 0; i < kH; i++) {
        let s = r;
        for (let j = 0; j < kW; j++) {
          const wv = v128.load32_splat(wp);
          a0 = madd(wv, load4<S>(s, sW), a0);
          a1 = madd(wv, load4<S>(s + half, sW), a1);
          s += dwB;
          wp += 4;
        }
        r += dhB;
      }
      a0 = reluV(a0, relu);
      a1 = reluV(a1, relu);
      if (ow + 8 <= oW) {
        v128.store(yr + (<usize>ow << 2), a0);
        v128.store(yr + (<usize>ow << 2), a1, 16);
      } else {
        v128.store(tmp, a0);
        v128.store(tmp, a1, 16);
        copyF32(yr + (<usize>ow << 2), tmp, oW - ow);
      }
      o += stepB;
    }
  }
}

/**
 * Depthwise convolution (one input channel per group: group == C, any channel multiplier M / C),
 * direct: the input plane is copied once into a zero-padded plane (so no tap needs a bounds
 * check), then each output row is computed in blocks of eight outputs held in registers, every tap
 * a multiply-add of a weight splat and the x values under it. Runs output planes [u0, u1)
 * (plane u = n * M + m); `scratch` holds depthwiseScratchBytes(p).
 */
export function depthwise2dUnits(p: usize, u0: i32, u1: i32, scratch: usize): void {
  const C = prm(p, P_C);
  const H = prm(p, P_H);
  const W = prm(p, P_W);
  const kH = prm(p, P_KH);
  const kW = prm(p, P_KW);
  const oH = prm(p, P_OH);
  const oW = prm(p, P_OW);
  const sH = prm(p, P_SH);
  const sW = prm(p, P_SW);
  const dH = prm(p, P_DH);
  const dW = prm(p, P_DW);
  const M = prm(p, P_M);
  const bias = <usize>prm(p, P_B);
  const relu = prm(p, P_RELU);
  const mult = M / C;
  const Hp = paddedRows(p);
  const Wp = paddedCols(p);
  const tmp = scratch + <usize>(Hp * Wp * 4);
  const is3x3 = kH == 3 && kW == 3;
  let have = -1;
  for (let u = u0; u < u1; u++) {
    const n = u / M;
    const m = u - n * M;
    const plane = n * C + m / mult;
    if (plane != have) {
      const src = <usize>prm(p, P_X) + (<usize>(plane * H * W) << 2);
      padPlane(src, H, W, prm(p, P_PH), prm(p, P_PW), Hp, Wp, scratch);
      have = plane;
    }
    const wt = <usize>prm(p, P_WT) + (<usize>(m * kH * kW) << 2);
    const b: f32 = bias != 0 ? load<f32>(bias + (<usize>m << 2)) : 0;
    const y = <usize>prm(p, P_Y) + (<usize>(u * oH * oW) << 2);
    if (is3x3) {
      if (sW == 1 && sH == 1 && dH == 1) depthwise3x3s1(scratch, Wp, wt, b, oH, oW, dW, relu, y);
      else if (sW == 1) depthwise3x3<u8>(scratch, Wp, wt, b, oH, oW, sH, 1, dH, dW, relu, y);
      else if (sW == 2) depthwise3x3<u16>(scratch, Wp, wt, b, oH, oW, sH, 2, dH, dW, relu, y);
      else depthwise3x3<u64>(scratch, Wp, wt, b, oH, oW, sH, sW, dH, dW, relu, y);
    } else {
      if (sW == 1) depthwiseAny<u8>(scratch, Wp, wt, b, kH, kW, oH, oW, sH, 1, dH, dW, relu, y, tmp);
      else if (sW == 2) depthwiseAny<u16>(scratch, Wp, wt, b, kH, kW, oH, oW, sH, 2, dH, dW, relu, y, tmp);
      else depthwiseAny<u64>(scratch, Wp, wt, b, kH, kW, oH, oW, sH, sW, dH, dW, relu, y, tmp);
    }
  }
}
