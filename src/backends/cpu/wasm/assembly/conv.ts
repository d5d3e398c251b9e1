// Convolution helpers around the GEMM: 2-D im2col straight into WASM memory, and the bias add
// (plus an optional Relu) on the GEMM's output, so a float32 Conv makes one copy in and one out.

/**
 * dst[C*kH*kW, oH*oW] <- patches of src[C, H, W] (zeros in the padding). Rows are ordered
 * (channel, kh, kw), the flattened OIHW weight layout; columns are output positions row-major.
 */
export function im2col2d(
  src: usize,
  C: i32,
  H: i32,
  W: i32,
  kH: i32,
  kW: i32,
  oH: i32,
  oW: i32,
  sH: i32,
  sW: i32,
  dH: i32,
  dW: i32,
  pH: i32,
  pW: i32,
  dst: usize,
): void {
  const rowBytes = <usize>oW << 2;
  for (let c = 0; c < C; c++) {
    const plane = src + (<usize>(c * H * W) << 2);
    for (let kh = 0; kh < kH; kh++) {
      for (let kw = 0; kw < kW; kw++) {
        const iw0 = kw * dW - pW;
        // Output columns [lo, hi) read inside the row.
        let lo = iw0 >= 0 ? 0 : (-iw0 + sW - 1) / sW;
        if (lo > oW) lo = oW;
        let hi = W - iw0 <= 0 ? 0 : (W - iw0 + sW - 1) / sW;
        if (hi > oW) hi = oW;
        if (hi < lo) hi = lo;
        for (let oh = 0; oh < oH; oh++) {
          const ih = oh * sH - pH + kh * dH;
          if (ih < 0 || ih >= H) {
            memory.fill(dst, 0, rowBytes);
            dst += rowBytes;
            continue;
          }
          if (lo > 0) memory.fill(dst, 0, <usize>lo << 2);
          const row = plane + (<usize>(ih * W) << 2);
          if (sW == 1) {
            memory.copy(dst + (<usize>lo << 2), row + (<usize>(iw0 + lo) << 2), <usize>(hi - lo) << 2);
          } else {
            let s = row + (<usize>(iw0 + lo * sW) << 2);
            const step = <usize>sW << 2;
            for (let ow = lo; ow < hi; ow++) {
              store<f32>(dst + (<usize>ow << 2), load<f32>(s));
              s += step;
            }
          }
          if (hi < oW) memory.fill(dst + (<usize>hi << 2), 0, <usize>(oW - hi) << 2);
          dst += rowBytes;
        }
      }
    }
  }
}

/** y[m, l] += bias[m] (when bias != 0), then y = max(y, 0) with -0 -> +0 and NaN kept (when relu). */
export function biasRelu(y: usize, M: i32, L: i32, bias: usize, relu: i32): void {
  const zero = f32x4.splat(0);
  for (let m = 0; m < M; m++) {
    const row = y + (<usize>(m * L) << 2);
    const end = row + (<usize>L << 2);
    const vec = row + (<usize>(L & ~3) << 2);
    if (bias != 0) {
      const b = load<f32>(bias + (<usize>m << 2));
      const bv = f32x4.splat(b);
      let p = row;
      for (; p < vec; p += 16) v128.store(p, f32x4.add(v128.load(p), bv));
      for (; p < end; p += 4) store<f32>(p, load<f32>(p) + b);
    }
    if (relu) {
      let p = row;
      // Lanes <= 0 become +0; NaN (compares false) stays.
      for (; p < vec; p += 16) {
        const v = v128.load(p);
        v128.store(p, v128.andnot(v, f32x4.le(v, zero)));
      }
      for (; p < end; p += 4) if (load<f32>(p) <= 0) store<f32>(p, 0);
    }
  }
}
