// 2-D max and average pooling of float32 planes (NCHW), separably: for each output row, a vertical
// pass reduces the window's in-bounds input rows into a scratch row T[0, W) (SIMD, contiguous), then
// a horizontal pass reduces T's taps per output column: SIMD for stride 1 and 2 where the window lies
// inside the row, a bounds-checked scalar loop at the borders and for other strides.
//
// Max: NaN is skipped; a window holding only NaN or -inf gives its first in-bounds tap (as the
// TypeScript kernel). Reducing a row of taps to "max, or its first tap when the max is -inf" and
// then the column of row results the same way gives exactly that, so the separable order is exact.
// Average: the sum over in-bounds taps divided by their count, or (count_include_pad) by the taps
// inside the padded extent.
//
// The input must be readable 16 bytes past its end (the vertical pass reads whole vectors across
// the row's end), and `t` must hold pool2dScratchBytes(W, oH, oW) bytes.

// @ts-ignore: decorator
@inline
function negInf(): v128 {
  return f32x4.splat(-Infinity);
}

// @ts-ignore: decorator
@inline
function firstIn(o0: i32, d: i32, k: i32): i32 {
  // Smallest tap index i with o0 + i * d >= 0 (k when none).
  if (o0 >= 0) return 0;
  const i = (-o0 + d - 1) / d;
  return i < k ? i : k;
}

// @ts-ignore: decorator
@inline
function endIn(o0: i32, d: i32, k: i32, n: i32, lo: i32): i32 {
  // One past the largest tap index i with o0 + i * d < n (at least lo).
  if (o0 >= n) return lo;
  const i = (n - 1 - o0) / d + 1;
  const e = i < k ? i : k;
  return e > lo ? e : lo;
}

/** Output indices [lo, hi) along an axis whose windows lie wholly inside [0, n). */
// @ts-ignore: decorator
@inline
function interiorLo(s: i32, p: i32, o: i32): i32 {
  // o * s - p >= 0
  const lo = (p + s - 1) / s;
  return lo < o ? lo : o;
}

// @ts-ignore: decorator
@inline
function interiorHi(s: i32, p: i32, k: i32, d: i32, n: i32, o: i32, lo: i32): i32 {
  // o * s - p + (k - 1) * d <= n - 1
  const top = n - 1 + p - (k - 1) * d;
  if (top < 0) return lo;
  const hi = top / s + 1;
  const h = hi < o ? hi : o;
  return h > lo ? h : lo;
}

/**
 * Per output index along an axis, three i32 at tbl + 12 * o: the first and one-past-last in-bounds
 * tap, and the taps inside the padded extent [-p, n + pEnd) (count_include_pad's count). Built once
 * per call, so the loops over planes divide nothing.
 */
function windowTable(tbl: usize, o: i32, s: i32, p: i32, k: i32, d: i32, n: i32, pEnd: i32): void {
  for (let i = 0; i < o; i++) {
    const o0 = i * s - p;
    const a = firstIn(o0, d, k);
    const b = endIn(o0, d, k, n, a);
    const pa = firstIn(o0 + p, d, k);
    const pb = endIn(o0 + p, d, k, n + p + pEnd, pa);
    const at = tbl + <usize>i * 12;
    store<i32>(at, a);
    store<i32>(at, b, 4);
    store<i32>(at, pb - pa, 8);
  }
}

/** Scratch bytes the 2-D pools need: the row T and both window tables. */
export function pool2dScratchBytes(W: i32, oH: i32, oW: i32): i32 {
  return (W + 8) * 4 + (oH + oW) * 12;
}

function maxRows(row0: usize, step: usize, rows: i32, W: i32, t: usize): void {
  if (rows <= 0) {
    const v = negInf();
    for (let w = 0; w < W; w += 4) v128.store(t + (<usize>w << 2), v);
    return;
  }
  if (rows == 1) {
    memory.copy(t, row0, (<usize>W + 3) << 2);
    return;
  }
  if (rows == 2 || rows == 3) {
    // The common 2- and 3-row windows, unrolled.
    const r1 = row0 + step;
    const r2 = rows == 3 ? r1 + step : r1;
    for (let w = 0; w < W; w += 4) {
      const off = <usize>w << 2;
      const first = v128.load(row0 + off);
      const m = f32x4.pmax(f32x4.pmax(f32x4.pmax(negInf(), first), v128.load(r1 + off)), v128.load(r2 + off));
      v128.store(t + off, v128.bitselect(first, m, f32x4.eq(m, negInf())));
    }
    return;
  }
  for (let w = 0; w < W; w += 4) {
    const off = <usize>w << 2;
    const first = v128.load(row0 + off);
    let m = f32x4.pmax(negInf(), first);
    let r = row0 + step;
    for (let i = 1; i < rows; i++) {
      m = f32x4.pmax(m, v128.load(r + off));
      r += step;
    }
    v128.store(t + off, v128.bitselect(first, m, f32x4.eq(m, negInf())));
  }
}

/** Max over kW taps (dW apart) of T for output columns [ow0, ow1), four at a time, stride sW. */
// @ts-ignore: decorator
@inline
function maxCols(t: usize, ow0: i32, ow1: i32, sW: i32, pW: i32, kW: i32, jStep: usize, dst: usize): void {
  for (let ow = ow0; ow < ow1; ow += 4) {
    if (ow > ow1 - 4) ow = ow1 - 4;
    const base = t + (<usize>(ow * sW - pW) << 2);
    const first = taps4(base, sW);
    let m = f32x4.pmax(negInf(), first);
    for (let j = 1; j < kW; j++) m = f32x4.pmax(m, taps4(base + <usize>j * jStep, sW));
    v128.store(dst + (<usize>ow << 2), v128.bitselect(first, m, f32x4.eq(m, negInf())));
  }
}

function sumRows(row0: usize, step: usize, rows: i32, W: i32, t: usize): void {
  if (rows <= 0) {
    for (let w = 0; w < W; w += 4) v128.store(t + (<usize>w << 2), f32x4.splat(0));
    return;
  }
  if (rows == 1) {
    memory.copy(t, row0, (<usize>W + 3) << 2);
    return;
  }
  if (rows == 2 || rows == 3) {
    const r1 = row0 + step;
    const r2 = r1 + step;
    for (let w = 0; w < W; w += 4) {
      const off = <usize>w << 2;
      let s = f32x4.add(v128.load(row0 + off), v128.load(r1 + off));
      if (rows == 3) s = f32x4.add(s, v128.load(r2 + off));
      v128.store(t + off, s);
    }
    return;
  }
  for (let w = 0; w < W; w += 4) {
    const off = <usize>w << 2;
    let s = v128.load(row0 + off);
    let r = row0 + step;
    for (let i = 1; i < rows; i++) {
      s = f32x4.add(s, v128.load(r + off));
      r += step;
    }
    v128.store(t + off, s);
  }
}

/** Four output columns from T at `base` (taps j * dW apart), stride 1 or 2. */
// @ts-ignore: decorator
@inline
function taps4(base: usize, sW: i32): v128 {
  if (sW == 1) return v128.load(base);
  return v128.shuffle<f32>(v128.load(base), v128.load(base + 16), 0, 2, 4, 6);
}

export function maxPool2dF32(
  src: usize,
  planes: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  pH: i32,
  pW: i32,
  oH: i32,
  oW: i32,
  dst: usize,
  t: usize,
): void {
  const rowB = <usize>W << 2;
  const ow0 = interiorLo(sW, pW, oW);
  const ow1 = interiorHi(sW, pW, kW, dW, W, oW, ow0);
  // SIMD over the interior columns (four at a time, the last group overlapping the one before)
  // when the stride allows and there are four; the rest scalar.
  const vecHi = sW <= 2 && ow1 - ow0 >= 4 ? ow1 : ow0;
  const jStep = <usize>dW << 2;
  const rows = t + ((<usize>W + 8) << 2);
  const cols = rows + <usize>oH * 12;
  windowTable(rows, oH, sH, pH, kH, dH, H, 0);
  windowTable(cols, oW, sW, pW, kW, dW, W, 0);
  for (let q = 0; q < planes; q++) {
    const plane = src + <usize>q * <usize>H * rowB;
    for (let oh = 0; oh < oH; oh++) {
      const h0 = oh * sH - pH;
      const i0 = load<i32>(rows + <usize>oh * 12);
      const i1 = load<i32>(rows + <usize>oh * 12, 4);
      maxRows(plane + <usize>(h0 + i0 * dH) * rowB, <usize>dH * rowB, i1 - i0, W, t);
      // Separate loops per stride, so each inlines its own tap loads.
      if (sW == 1) maxCols(t, ow0, vecHi, 1, pW, kW, jStep, dst);
      else maxCols(t, ow0, vecHi, 2, pW, kW, jStep, dst);
      for (let ow = 0; ow < oW; ow++) {
        if (ow == ow0) ow = vecHi;
        if (ow >= oW) break;
        const w0 = ow * sW - pW;
        const j0 = load<i32>(cols + <usize>ow * 12);
        const j1 = load<i32>(cols + <usize>ow * 12, 4);
        let best: f32 = -Infinity;
        if (j0 < j1) {
          const first = load<f32>(t + (<usize>(w0 + j0 * dW) << 2));
          for (let j = j0; j < j1; j++) {
            const v = load<f32>(t + (<usize>(w0 + j * dW) << 2));
            if (v > best) best = v;
          }
          if (best == -Infinity) best = first;
        }
        store<f32>(dst + (<usize>ow << 2), best);
      }
      dst += <usize>oW << 2;
    }
  }
}

/** Sum over kW taps (dW apart) of T over `count`, output columns [ow0, ow1), four at a time. */
// @ts-ignore: decorator
@inline
function sumCols(
  t: usize,
  ow0: i32,
  ow1: i32,
  sW: i32,
  pW: i32,
  kW: i32,
  jStep: usize,
  count: v128,
  dst: usize,
): void {
  for (let ow = ow0; ow < ow1; ow += 4) {
    if (ow > ow1 - 4) ow = ow1 - 4;
    const base = t + (<usize>(ow * sW - pW) << 2);
    let s = taps4(base, sW);
    for (let j = 1; j < kW; j++) s = f32x4.add(s, taps4(base + <usize>j * jStep, sW));
    v128.store(dst + (<usize>ow << 2), f32x4.div(s, count));
  }
}

export function avgPool2dF32(
  src: usize,
  planes: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  pH: i32,
  pW: i32,
  pHEnd: i32,
  pWEnd: i32,
  oH: i32,
  oW: i32,
  includePad: i32,
  dst: usize,
  t: usize,
): void {
  const rowB = <usize>W << 2;
  const ow0 = interiorLo(sW, pW, oW);
  const ow1 = interiorHi(sW, pW, kW, dW, W, oW, ow0);
  const vecHi = sW <= 2 && ow1 - ow0 >= 4 ? ow1 : ow0;
  const jStep = <usize>dW << 2;
  const rows = t + ((<usize>W + 8) << 2);
  const cols = rows + <usize>oH * 12;
  windowTable(rows, oH, sH, pH, kH, dH, H, pHEnd);
  windowTable(cols, oW, sW, pW, kW, dW, W, pWEnd);
  for (let q = 0; q < planes; q++) {
    const plane = src + <usize>q * <usize>H * rowB;
    for (let oh = 0; oh < oH; oh++) {
      const h0 = oh * sH - pH;
      const r = rows + <usize>oh * 12;
      const i0 = load<i32>(r);
      const i1 = load<i32>(r, 4);
      sumRows(plane + <usize>(h0 + i0 * dH) * rowB, <usize>dH * rowB, i1 - i0, W, t);
      const rowsCounted = includePad ? load<i32>(r, 8) : i1 - i0;
      const count = f32x4.splat(<f32>(rowsCounted * kW));
      if (sW == 1) sumCols(t, ow0, vecHi, 1, pW, kW, jStep, count, dst);
      else sumCols(t, ow0, vecHi, 2, pW, kW, jStep, count, dst);
      for (let ow = 0; ow < oW; ow++) {
        if (ow == ow0) ow = vecHi;
        if (ow >= oW) break;
        const w0 = ow * sW - pW;
        const c = cols + <usize>ow * 12;
        const j0 = load<i32>(c);
        const j1 = load<i32>(c, 4);
        let sum: f32 = 0;
        for (let j = j0; j < j1; j++) sum += load<f32>(t + (<usize>(w0 + j * dW) << 2));
        const colsCounted = includePad ? load<i32>(c, 8) : j1 - j0;
        store<f32>(dst + (<usize>ow << 2), sum / <f32>(rowsCounted * colsCounted));
      }
      dst += <usize>oW << 2;
    }
  }
}

/**
 * Global pooling of `planes` float32 planes of P elements: the mean (`max` = 0, summed in float64)
 * or the max (`max` = 1, NaN skipped, the plane's first element when the max is -inf).
 */
export function globalPoolF32(src: usize, planes: i32, P: i32, max: i32, dst: usize): void {
  const P4 = P & ~3;
  for (let q = 0; q < planes; q++) {
    const plane = src + <usize>q * (<usize>P << 2);
    if (max) {
      let m = negInf();
      for (let p = 0; p < P4; p += 4) m = f32x4.pmax(m, v128.load(plane + (<usize>p << 2)));
      let best: f32 = -Infinity;
      for (let l = 0; l < 4; l++) {
        const v = f32x4.extract_lane(m, 0);
        if (v > best) best = v;
        m = v128.shuffle<f32>(m, m, 1, 2, 3, 0);
      }
      for (let p = P4; p < P; p++) {
        const v = load<f32>(plane + (<usize>p << 2));
        if (v > best) best = v;
      }
      if (best == -Infinity && P > 0) best = load<f32>(plane);
      store<f32>(dst + (<usize>q << 2), best);
    } else {
      let a0 = f64x2.splat(0);
      let a1 = f64x2.splat(0);
      for (let p = 0; p < P4; p += 4) {
        const v = v128.load(plane + (<usize>p << 2));
        a0 = f64x2.add(a0, f64x2.promote_low_f32x4(v));
        a1 = f64x2.add(a1, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)));
      }
      const a = f64x2.add(a0, a1);
      let s = f64x2.extract_lane(a, 0) + f64x2.extract_lane(a, 1);
      for (let p = P4; p < P; p++) s += <f64>load<f32>(plane + (<usize>p << 2));
      store<f32>(dst + (<usize>q << 2), <f32>(s / <f64>P));
    }
  }
}

/**
 * MaxPool with indices: like maxPool2dF32, and `idx` (i64 per output) gets the flat position in
 * the whole input (plane * H * W + h * W + w) of the window's first maximum in row-major order (a
 * window of only NaN or -inf: its first in-bounds tap; no tap at all: the plane's start). Each
 * window is scanned directly, taps in row-major order, four output columns per vector where the
 * window lies inside the row; no separable shortcut, which would break ties differently.
 */
export function maxPool2dArgF32(
  src: usize,
  planes: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  pH: i32,
  pW: i32,
  oH: i32,
  oW: i32,
  dst: usize,
  idx: usize,
  t: usize,
): void {
  const rowB = <usize>W << 2;
  const ow0 = interiorLo(sW, pW, oW);
  const ow1 = interiorHi(sW, pW, kW, dW, W, oW, ow0);
  const vecHi = sW <= 2 && ow1 - ow0 >= 4 ? ow1 : ow0;
  const rows = t + ((<usize>W + 8) << 2);
  const cols = rows + <usize>oH * 12;
  windowTable(rows, oH, sH, pH, kH, dH, H, 0);
  windowTable(cols, oW, sW, pW, kW, dW, W, 0);
  // Column of lane l's window start, relative to the group's first output column.
  const laneCols = i32x4(0, sW, 2 * sW, 3 * sW);
  for (let q = 0; q < planes; q++) {
    const plane = src + <usize>q * <usize>H * rowB;
    const planeAt = q * H * W;
    for (let oh = 0; oh < oH; oh++) {
      const h0 = oh * sH - pH;
      const i0 = load<i32>(rows + <usize>oh * 12);
      const i1 = load<i32>(rows + <usize>oh * 12, 4);
      if (i0 < i1) {
        for (let ow = ow0; ow < vecHi; ow += 4) {
          if (ow > vecHi - 4) ow = vecHi - 4;
          const w0 = ow * sW - pW;
          let best = negInf();
          let arg = i32x4.splat(-1);
          for (let i = i0; i < i1; i++) {
            const h = h0 + i * dH;
            const row = plane + <usize>h * rowB;
            for (let j = 0; j < kW; j++) {
              const w = w0 + j * dW;
              const v = taps4(row + (<usize>w << 2), sW);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              arg = v128.bitselect(i32x4.add(i32x4.splat(planeAt + h * W + w), laneCols), arg, gt);
            }
          }
          // Lanes nothing improved on: the first tap (row i0, column j = 0).
          const firstAt = planeAt + (h0 + i0 * dH) * W + w0;
          const none = i32x4.eq(arg, i32x4.splat(-1));
          const firstV = taps4(plane + <usize>(h0 + i0 * dH) * rowB + (<usize>w0 << 2), sW);
          best = v128.bitselect(firstV, best, none);
          arg = v128.bitselect(i32x4.add(i32x4.splat(firstAt), laneCols), arg, none);
          v128.store(dst + (<usize>ow << 2), best);
          const at = idx + (<usize>ow << 3);
          v128.store(at, i64x2.extend_low_i32x4_s(arg));
          v128.store(at + 16, i64x2.extend_high_i32x4_s(arg));
        }
      }
      for (let ow = 0; ow < oW; ow++) {
        if (i0 < i1 && ow == ow0) ow = vecHi;
        if (ow >= oW) break;
        const w0 = ow * sW - pW;
        const j0 = load<i32>(cols + <usize>ow * 12);
        const j1 = load<i32>(cols + <usize>ow * 12, 4);
        let best: f32 = -Infinity;
        let arg = -1;
        let first = -1;
        for (let i = i0; i < i1; i++) {
          const h = h0 + i * dH;
          for (let j = j0; j < j1; j++) {
            const at = h * W + w0 + j * dW;
            const v = load<f32>(src + (<usize>(planeAt + at) << 2));
            if (first < 0) first = at;
            if (v > best) {
              best = v;
              arg = at;
            }
          }
        }
        if (arg < 0 && first >= 0) {
          arg = first;
          best = load<f32>(src + (<usize>(planeAt + first) << 2));
        }
        store<f32>(dst + (<usize>ow << 2), best);
        store<i64>(idx + (<usize>ow << 3), <i64>(planeAt + (arg < 0 ? 0 : arg)));
      }
      dst += <usize>oW << 2;
      idx += <usize>oW << 3;
    }
  }
}
