// Float32 elementwise kernels over WASM memory (pointers are byte offsets; y may equal x, so a kernel
// can run in place). Vector loops take four lanes at a time and the scalar tails compute the same
// thing lane by lane. Only ops whose JS loop branches per element are here (Relu, LeakyRelu, Clip,
// the fused per-channel affine + Relu): plain arithmetic in JS is as fast as copying into and out of
// WASM memory. src/backends/cpu/wasm/elementwise.ts drives them; the TypeScript kernels in
// src/ops/elementwise stay the reference.

/** y = max(x, 0) with -0 -> +0 and NaN kept (Math.max(0, x)). */
export function reluF32(x: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const end = y + (<usize>n << 2);
  const vend = y + (<usize>(n & ~3) << 2);
  // Lanes <= 0 (-0 included) become +0; NaN compares false and stays.
  for (; y < vend; y += 16, x += 16) {
    const v = v128.load(x);
    v128.store(y, v128.andnot(v, f32x4.le(v, zero)));
  }
  for (; y < end; y += 4, x += 4) {
    const v = load<f32>(x);
    store<f32>(y, v <= 0 ? 0 : v);
  }
}

/** y = x < 0 ? alpha * x : x (NaN kept). */
export function leakyReluF32(x: usize, y: usize, n: i32, alpha: f32): void {
  const zero = f32x4.splat(0);
  const av = f32x4.splat(alpha);
  const end = y + (<usize>n << 2);
  const vend = y + (<usize>(n & ~3) << 2);
  for (; y < vend; y += 16, x += 16) {
    const v = v128.load(x);
    v128.store(y, v128.bitselect(f32x4.mul(v, av), v, f32x4.lt(v, zero)));
  }
  for (; y < end; y += 4, x += 4) {
    const v = load<f32>(x);
    store<f32>(y, v < 0 ? alpha * v : v);
  }
}

/** y = min(max(x, lo), hi) with NaN kept (as Math.min(Math.max(x, lo), hi)). */
export function clipF32(x: usize, y: usize, n: i32, lo: f32, hi: f32): void {
  const lv = f32x4.splat(lo);
  const hv = f32x4.splat(hi);
  const end = y + (<usize>n << 2);
  const vend = y + (<usize>(n & ~3) << 2);
  for (; y < vend; y += 16, x += 16) v128.store(y, f32x4.min(f32x4.max(v128.load(x), lv), hv));
  for (; y < end; y += 4, x += 4) {
    const v = load<f32>(x);
    // Scalar f32 min/max also propagate NaN, and order -0 below +0, as the vector forms.
    store<f32>(y, min<f32>(max<f32>(v, lo), hi));
  }
}

/**
 * y[p, l] = x[p, l] * scale[p % C] + shift[p % C] for P planes of L elements, then Relu when `relu`
 * (the fused per-channel affine of BatchNormalization / Mul + Add).
 */
export function channelAffineF32(
  x: usize,
  y: usize,
  P: i32,
  C: i32,
  L: i32,
  scale: usize,
  shift: usize,
  relu: i32,
): void {
  const zero = f32x4.splat(0);
  const rowBytes = <usize>L << 2;
  const vecBytes = <usize>(L & ~3) << 2;
  for (let p = 0; p < P; p++) {
    const c = <usize>(p % C) << 2;
    const s = load<f32>(scale + c);
    const t = load<f32>(shift + c);
    const sv = f32x4.splat(s);
    const tv = f32x4.splat(t);
    const end = y + rowBytes;
    const vend = y + vecBytes;
    if (relu) {
      for (; y < vend; y += 16, x += 16) {
        const v = f32x4.add(f32x4.mul(v128.load(x), sv), tv);
        v128.store(y, v128.andnot(v, f32x4.le(v, zero)));
      }
      for (; y < end; y += 4, x += 4) {
        const v = load<f32>(x) * s + t;
        store<f32>(y, v <= 0 ? 0 : v);
      }
    } else {
      for (; y < vend; y += 16, x += 16) v128.store(y, f32x4.add(f32x4.mul(v128.load(x), sv), tv));
      for (; y < end; y += 4, x += 4) store<f32>(y, load<f32>(x) * s + t);
    }
  }
}

/** y = max(a + b, 0) (float32 add, then Relu as reluF32): the residual Add + Relu of ResNets. */
export function addReluF32(a: usize, b: usize, y: usize, n: i32): void {
  const zero = f32x4.splat(0);
  const end = y + (<usize>n << 2);
  const vend = y + (<usize>(n & ~3) << 2);
  for (; y < vend; y += 16, a += 16, b += 16) {
    const v = f32x4.add(v128.load(a), v128.load(b));
    v128.store(y, v128.andnot(v, f32x4.le(v, zero)));
  }
  for (; y < end; y += 4, a += 4, b += 4) {
    const v = load<f32>(a) + load<f32>(b);
    store<f32>(y, v <= 0 ? 0 : v);
  }
}
