/**
 * Float32 2-D convolution in WASM memory: X is copied in once, each (image, group) is unfolded by
 * the WASM im2col (or read in place for a 1x1 kernel with unit strides and no padding), multiplied
 * by the weight (resident in WASM memory when the session marked it constant, see sgemm.ts) with
 * the GEMM, the bias (and a fused Relu) added in place, and Y copied out once. The TypeScript path
 * in src/ops/nn/conv.ts computes the same values and stays the reference (test/backends/).
 */
import { arena, wasm } from './runtime.js';
import { gemmAt, residentOperand } from './sgemm.js';

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

/**
 * Y [N, M, oH, oW] = conv(X, W) + B, then Relu when `relu`; null when the WASM kernels are not
 * loaded. X [N, C, H, W] and W [M, C/group, kH, kW] are dense float32 arrays; B has M values.
 */
export function conv2dWasm(
  s: Conv2dShape,
  x: Float32Array,
  w: Float32Array,
  b: Float32Array | undefined,
  relu: boolean,
): Float32Array | null {
  if (!wasm || !arena) return null;
  const ex = wasm.exports as unknown as {
    im2col2d(...a: number[]): void;
    biasRelu(y: number, M: number, L: number, bias: number, relu: number): void;
  };
  const Cg = s.C / s.group;
  const Mg = s.M / s.group;
  const K = Cg * s.kH * s.kW;
  const L = s.oH * s.oW;
  const P = s.H * s.W;
  const y = new Float32Array(s.N * s.M * L);
  if (y.length === 0) return y;
  const pwRes = residentOperand(w, 0, s.M, K, false);
  arena.reset();
  let pw = pwRes;
  if (pw === undefined) {
    pw = arena.alloc(s.M * K * 4);
    arena.f32(pw, s.M * K).set(w.subarray(0, s.M * K));
  }
  const px = arena.alloc(s.N * s.C * P * 4);
  arena.f32(px, s.N * s.C * P).set(x.subarray(0, s.N * s.C * P));
  const pb = b ? arena.alloc(s.M * 4) : 0;
  if (b) arena.f32(pb, s.M).set(b.subarray(0, s.M));
  const py = arena.alloc(y.length * 4);
  const direct =
    s.kH === 1 &&
    s.kW === 1 &&
    s.sH === 1 &&
    s.sW === 1 &&
    s.pH === 0 &&
    s.pW === 0 &&
    s.oH === s.H &&
    s.oW === s.W;
  const pcols = direct ? 0 : arena.alloc(K * L * 4);
  for (let n = 0; n < s.N; n++) {
    for (let g = 0; g < s.group; g++) {
      const xg = px + (n * s.C + g * Cg) * P * 4;
      let pB = xg;
      if (!direct) {
        ex.im2col2d(xg, Cg, s.H, s.W, s.kH, s.kW, s.oH, s.oW, s.sH, s.sW, s.dH, s.dW, s.pH, s.pW, pcols);
        pB = pcols;
      }
      const pa = pw + g * Mg * K * 4;
      const pc = py + (n * s.M + g * Mg) * L * 4;
      // Scratch for the product sits above everything allocated so far; reclaimed per call.
      const top = arena.mark();
      gemmAt(Mg, L, K, pa, K, 1, pB, L, 1, pc, L, false);
      arena.rewind(top);
    }
    if (b || relu) ex.biasRelu(py + n * s.M * L * 4, s.M, L, pb, relu ? 1 : 0);
  }
  y.set(arena.f32(py, y.length));
  return y;
}
