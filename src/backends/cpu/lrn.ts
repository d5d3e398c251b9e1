/**
 * LRN (local response normalization across channels) over a dense float array [N, C, S...]:
 * y = x / (bias + alpha / size * sum of x^2 over channels [c - lo, c + hi]) ^ beta, with
 * lo = floor((size - 1) / 2) and hi = ceil((size - 1) / 2), channels outside [0, C) left out.
 *
 * The channel window's sum of squares slides: one plane added and one taken away per channel, in
 * float64, so the work is O(N*C*S) whatever the size, and next to a positive bias the running sum's
 * rounding is far below float32's (with bias <= 0 each window is summed directly, so all-zero
 * windows stay exactly 0). The power avoids Math.pow where beta allows: 0.75 (every published LRN
 * model) is 1 / (sqrt(b) * sqrt(sqrt(b))), 0.5 and 1 likewise; other betas take
 * exp(-beta * log(b)), once per element. Float32 with beta 0.75, 0.5 or 1 and a positive bias runs
 * in WASM SIMD (wasm/assembly/lrn.ts: float64 sums, float32 roots), about 3x the TypeScript loop
 * here copies included. The direct loop in src/ops/nn/lp-norm-mvn-lrn.ts (lrnReference) stays the
 * reference (test/backends/pool-lrn-fast.test.ts).
 */
import { copyOut } from './pool2d.js';
import { arena, wasm } from './wasm/runtime.js';

export interface LrnParams {
  N: number;
  C: number;
  /** Elements per (n, c) plane: the product of the spatial dims. */
  S: number;
  size: number;
  alpha: number;
  beta: number;
  bias: number;
}

type Floats = Float32Array | Float64Array;

/** Writes LRN(xs) into `out` (same length; may be another float type than xs). */
export function lrnForward(xs: Floats, out: Floats, p: LrnParams): void {
  const { N, C, S, size, alpha, beta, bias } = p;
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  const scale = alpha / size;
  const acc = new Float64Array(S);
  // Without a positive bias a window of zeros must give exactly 0 (0 / 0 = NaN, as the reference),
  // which a running sum that took values away need not: sum each window directly then.
  const sliding = bias > 0;
  for (let n = 0; n < N; n++) {
    const img = n * C * S;
    acc.fill(0);
    // Window of channel 0: [0, hi].
    for (let c = 0; c <= Math.min(hi, C - 1); c++) addSquares(acc, xs, img + c * S, S, 1);
    for (let c = 0; c < C; c++) {
      const at = img + c * S;
      if (!sliding && c > 0) {
        acc.fill(0);
        for (let k = Math.max(0, c - lo); k <= Math.min(C - 1, c + hi); k++)
          addSquares(acc, xs, img + k * S, S, 1);
      }
      if (beta === 0.75) {
        for (let s = 0; s < S; s++) {
          const b = bias + scale * acc[s]!;
          const r = Math.sqrt(b);
          out[at + s] = xs[at + s]! / (r * Math.sqrt(r));
        }
      } else if (beta === 0.5) {
        for (let s = 0; s < S; s++) out[at + s] = xs[at + s]! / Math.sqrt(bias + scale * acc[s]!);
      } else if (beta === 1) {
        for (let s = 0; s < S; s++) out[at + s] = xs[at + s]! / (bias + scale * acc[s]!);
      } else {
        for (let s = 0; s < S; s++)
          out[at + s] = xs[at + s]! * Math.exp(-beta * Math.log(bias + scale * acc[s]!));
      }
      // Slide to channel c + 1: [c + 1 - lo, c + 1 + hi].
      if (sliding && c + 1 < C) {
        if (c + 1 + hi < C) addSquares(acc, xs, img + (c + 1 + hi) * S, S, 1);
        if (c - lo >= 0) addSquares(acc, xs, img + (c - lo) * S, S, -1);
      }
    }
  }
}

function addSquares(acc: Float64Array, xs: Floats, at: number, S: number, sign: 1 | -1): void {
  if (sign === 1) {
    for (let s = 0; s < S; s++) {
      const v = xs[at + s]!;
      acc[s] += v * v;
    }
  } else {
    for (let s = 0; s < S; s++) {
      const v = xs[at + s]!;
      acc[s] -= v * v;
    }
  }
}

const BETA_MODES = new Map([
  [0.75, 0],
  [0.5, 1],
  [1, 2],
]);

/**
 * LRN of float32 values in WASM; null when it does not apply (no WASM build, a beta other than
 * 0.75, 0.5 or 1, or bias <= 0, where exact zero windows need the direct sums).
 */
export function lrnWasm(xs: Float32Array, p: LrnParams): Float32Array | null {
  const mode = BETA_MODES.get(p.beta);
  if (!wasm || !arena || mode === undefined || !(p.bias > 0)) return null;
  const n = p.N * p.C * p.S;
  if (n === 0) return new Float32Array(0);
  const ex = wasm.exports as unknown as { lrnF32(...a: number[]): void };
  arena.reset();
  // Whole vectors run past a plane's end: 16 spare bytes after the input and the output.
  const px = arena.alloc(n * 4 + 16);
  arena.f32(px, n).set(xs.subarray(0, n));
  const py = arena.alloc(n * 4 + 16);
  const pacc = arena.alloc((p.S + 4) * 8);
  const lo = Math.floor((p.size - 1) / 2);
  const hi = Math.ceil((p.size - 1) / 2);
  ex.lrnF32(px, p.N, p.C, p.S, lo, hi, p.alpha / p.size, p.bias, mode, py, pacc);
  return copyOut(arena.f32(py, n));
}
