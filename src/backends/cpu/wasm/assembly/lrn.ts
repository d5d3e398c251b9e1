// LRN across channels of float32 [N, C, S]: y = x / (bias + scale * sum of x^2 over channels
// [c - lo, c + hi]) ^ beta, for beta 0.75, 0.5 or 1 (the caller takes other betas). The window's sum
// of squares slides in float64 (one plane added, one taken away per channel); the power is taken
// in float32 with square roots. Buffers must be readable and writable 16 bytes past their end;
// `acc` holds S + 4 doubles.

// @ts-ignore: decorator
@inline
function squares(x: v128): v128 {
  return f32x4.mul(x, x);
}

// @ts-ignore: decorator
@inline
function lowF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v);
}

// @ts-ignore: decorator
@inline
function highF64(v: v128): v128 {
  return f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3));
}

function addPlane(acc: usize, x: usize, S: i32): void {
  for (let s = 0; s < S; s += 4) {
    const q = squares(v128.load(x + (<usize>s << 2)));
    const a = acc + (<usize>s << 3);
    v128.store(a, f64x2.add(v128.load(a), lowF64(q)));
    v128.store(a + 16, f64x2.add(v128.load(a + 16), highF64(q)));
  }
}

export function lrnF32(
  src: usize,
  N: i32,
  C: i32,
  S: i32,
  lo: i32,
  hi: i32,
  scale: f64,
  bias: f64,
  betaMode: i32,
  dst: usize,
  acc: usize,
): void {
  const planeB = <usize>S << 2;
  const vScale = f64x2.splat(scale);
  const vBias = f64x2.splat(bias);
  for (let n = 0; n < N; n++) {
    const img = src + <usize>n * <usize>C * planeB;
    const out = dst + <usize>n * <usize>C * planeB;
    memory.fill(acc, 0, (<usize>S + 4) << 3);
    const first = hi < C - 1 ? hi : C - 1;
    for (let c = 0; c <= first; c++) addPlane(acc, img + <usize>c * planeB, S);
    for (let c = 0; c < C; c++) {
      const xp = img + <usize>c * planeB;
      const yp = out + <usize>c * planeB;
      const addAt = c + 1 + hi;
      const subAt = c - lo;
      const add = c + 1 < C && addAt < C;
      const sub = c + 1 < C && subAt >= 0;
      const ap = img + <usize>addAt * planeB;
      const sp = img + <usize>subAt * planeB;
      for (let s = 0; s < S; s += 4) {
        const so = <usize>s << 2;
        const a = acc + (<usize>s << 3);
        let a0 = v128.load(a);
        let a1 = v128.load(a + 16);
        const b0 = f64x2.add(vBias, f64x2.mul(vScale, a0));
        const b1 = f64x2.add(vBias, f64x2.mul(vScale, a1));
        const b = v128.shuffle<f32>(f32x4.demote_f64x2_zero(b0), f32x4.demote_f64x2_zero(b1), 0, 1, 4, 5);
        let d: v128;
        if (betaMode == 0) {
          const r = f32x4.sqrt(b);
          d = f32x4.mul(r, f32x4.sqrt(r));
        } else if (betaMode == 1) {
          d = f32x4.sqrt(b);
        } else {
          d = b;
        }
        v128.store(yp + so, f32x4.div(v128.load(xp + so), d));
        // Slide the window to channel c + 1.
        if (add) {
          const q = squares(v128.load(ap + so));
          a0 = f64x2.add(a0, lowF64(q));
          a1 = f64x2.add(a1, highF64(q));
        }
        if (sub) {
          const q = squares(v128.load(sp + so));
          a0 = f64x2.sub(a0, lowF64(q));
          a1 = f64x2.sub(a1, highF64(q));
        }
        v128.store(a, a0);
        v128.store(a + 16, a1);
      }
    }
  }
}
