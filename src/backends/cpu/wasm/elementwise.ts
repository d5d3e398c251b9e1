/**
 * Float32 elementwise ops on the WASM SIMD kernels (assembly/elementwise.ts): the input is copied
 * into WASM memory, the kernel runs four lanes at a time in place, and the result is copied into the
 * caller's output array (one the executor's allocator may have recycled). Copying in and out costs
 * about as much as a tight JS loop's arithmetic, so only ops whose JS loop branches on the data are
 * here: Relu, LeakyRelu, Clip, the fused per-channel affine + Relu and Add + Relu (measured on [1, 256, 56, 56]:
 * Relu 1.0 ns/element here against 9.4 in JS, Mul by a per-channel vector 1.3 against 1.35, so Mul
 * stays in JS). With the native kernels loaded (../native/elementwise.cc), Relu, the affine and
 * Add + Relu run there instead, on the arrays in place. Every function returns false when the WASM
 * build is not loaded; the caller then runs its TypeScript loop, which stays the reference
 * (test/backends/elementwise-fast.test.ts).
 */
import { arena, native, nativeGemmOn, wasm } from './runtime.js';
import { channelAffineSplit } from './split.js';

/** The native elementwise kernels, when the addon is loaded and on (they read the arrays in place). */
const nat = () => (nativeGemmOn() ? native!.addon : null);

interface ElementwiseExports {
  reluF32(x: number, y: number, n: number): void;
  addReluF32(a: number, b: number, y: number, n: number): void;
  leakyReluF32(x: number, y: number, n: number, alpha: number): void;
  clipF32(x: number, y: number, n: number, lo: number, hi: number): void;
  channelAffineF32(
    x: number,
    y: number,
    P: number,
    C: number,
    L: number,
    scale: number,
    shift: number,
    relu: number,
  ): void;
}

const ex =
  wasm && typeof wasm.exports.reluF32 === 'function' ? (wasm.exports as unknown as ElementwiseExports) : null;

/** Whether the WASM elementwise kernels are loaded. */
export const hasWasmElementwise = ex !== null;

/** Copies `src[off, off + n)` into fresh arena memory; returns its pointer. */
function copyIn(src: Float32Array, off: number, n: number): number {
  const p = arena!.alloc(n * 4);
  arena!.f32(p, n).set(n === src.length && off === 0 ? src : src.subarray(off, off + n));
  return p;
}

/** Runs a unary kernel in place on a copy of x[off, off + out.length) and copies it out. */
function unary(x: Float32Array, off: number, out: Float32Array, k: (p: number, n: number) => void): boolean {
  if (!ex || !arena) return false;
  const n = out.length;
  arena.reset();
  const p = copyIn(x, off, n);
  k(p, n);
  out.set(arena.f32(p, n));
  return true;
}

/** out = max(x, 0) (-0 to +0, NaN kept), x read from `off`. */
export function reluF32Wasm(x: Float32Array, off: number, out: Float32Array): boolean {
  const k = nat();
  if (k) {
    k.relu(x.subarray(off, off + out.length), out);
    return true;
  }
  return unary(x, off, out, (p, n) => ex!.reluF32(p, p, n));
}

/** out = x < 0 ? alpha * x : x; alpha must be a float32 value (so the product rounds as the JS kernel's). */
export function leakyReluF32Wasm(x: Float32Array, off: number, out: Float32Array, alpha: number): boolean {
  return unary(x, off, out, (p, n) => ex!.leakyReluF32(p, p, n, alpha));
}

/** out = min(max(x, lo), hi) (NaN kept); lo and hi are rounded to float32, which gives the same result. */
export function clipF32Wasm(
  x: Float32Array,
  off: number,
  out: Float32Array,
  lo: number,
  hi: number,
): boolean {
  return unary(x, off, out, (p, n) => ex!.clipF32(p, p, n, lo, hi));
}

/**
 * out[p, l] = x[p, l] * scale[p % C] + shift[p % C] (float32 multiply, then float32 add), then Relu
 * when `relu`, for x of P = N * C planes of L elements read from `off`.
 */
export function channelAffineF32Wasm(
  x: Float32Array,
  off: number,
  out: Float32Array,
  C: number,
  L: number,
  scale: Float32Array,
  shift: Float32Array,
  relu: boolean,
): boolean {
  const k = nat();
  if (k && L > 0 && C > 0) {
    const xs = x.subarray(off, off + out.length);
    if (!channelAffineSplit(xs, out, C, L, scale, shift, relu))
      k.channelAffine(xs, out, C, L, scale, shift, relu);
    return true;
  }
  if (!ex || !arena) return false;
  const n = out.length;
  arena.reset();
  const px = copyIn(x, off, n);
  const ps = copyIn(scale, 0, C);
  const pt = copyIn(shift, 0, C);
  ex.channelAffineF32(px, px, L === 0 ? 0 : n / L, C, L, ps, pt, relu ? 1 : 0);
  out.set(arena.f32(px, n));
  return true;
}

/** out = max(a + b, 0) (float32 add; -0 to +0, NaN kept) for a and b of out.length elements from ao, bo. */
export function addReluF32Wasm(
  a: Float32Array,
  ao: number,
  b: Float32Array,
  bo: number,
  out: Float32Array,
): boolean {
  const k = nat();
  if (k) {
    k.addRelu(a.subarray(ao, ao + out.length), b.subarray(bo, bo + out.length), out);
    return true;
  }
  if (!ex || !arena) return false;
  const n = out.length;
  arena.reset();
  const pa = copyIn(a, ao, n);
  const pb = copyIn(b, bo, n);
  ex.addReluF32(pa, pb, pa, n);
  out.set(arena.f32(pa, n));
  return true;
}
