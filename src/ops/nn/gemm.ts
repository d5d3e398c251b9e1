/**
 * The plain TypeScript GEMM behind convolution (im2col + matmul). Kept alone, with a flat
 * BLAS-like signature, so a WASM SIMD kernel can replace it without touching the conv code.
 */

import { reluFloats } from '../../backends/cpu/fast-float.js';
import { sgemm } from '../../backends/cpu/wasm/sgemm.js';

export type FloatArray = Float64Array | Float32Array;

/** Columns of C updated together, so the rows being accumulated stay in cache. */
const COL_BLOCK = 512;

/**
 * C[M, N] = op(A) * op(B) (+ C when `accumulate`) (+ `bias` [N] on every row, float32 on the native
 * GEMM only: see sgemm), then Relu when `relu`, where op(A) is [M, K] (A stored [K, M] when
 * `transA`) and op(B) is [K, N] (B stored [N, K] when `transB`). Matrices are dense row-major blocks
 * starting at the given offsets. The TypeScript loop computes four rows of C at a time, sharing each
 * load of B (about twice as fast as the one-row loop in V8).
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  aOff: number,
  B: FloatArray,
  bOff: number,
  C: FloatArray,
  cOff: number,
  accumulate: boolean,
  relu = false,
  bias?: Float32Array,
): void {
  // float32 goes to the WASM SIMD kernel when it is built (sgemm returns false otherwise).
  if (A instanceof Float32Array && B instanceof Float32Array && C instanceof Float32Array) {
    if (sgemm(transA, transB, M, N, K, A, aOff, B, bOff, C, cOff, accumulate, relu, bias)) return;
  }
  if (!accumulate) C.fill(0, cOff, cOff + M * N);
  // Element (i, p) of op(A) is A[aOff + i * ai + p * ap].
  const ai = transA ? 1 : K;
  const ap = transA ? M : 1;
  (transB ? gemmTransB : gemmRowsB)(M, N, K, A, aOff, ai, ap, B, bOff, C, cOff);
  if (relu) reluFloats(C, cOff, cOff + M * N);
}

/** C += op(A) B for a row-major B [K, N], in column blocks of four rows of C at a time. */
function gemmRowsB(
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  aOff: number,
  ai: number,
  ap: number,
  B: FloatArray,
  bOff: number,
  C: FloatArray,
  cOff: number,
): void {
  for (let j0 = 0; j0 < N; j0 += COL_BLOCK) {
    const j1 = Math.min(N, j0 + COL_BLOCK);
    let i = 0;
    for (; i + 4 <= M; i += 4) {
      const c0 = cOff + i * N;
      const c1 = c0 + N;
      const c2 = c1 + N;
      const c3 = c2 + N;
      const a = aOff + i * ai;
      for (let p = 0; p < K; p++) {
        const ak = a + p * ap;
        const a0 = A[ak]!;
        const a1 = A[ak + ai]!;
        const a2 = A[ak + 2 * ai]!;
        const a3 = A[ak + 3 * ai]!;
        const bp = bOff + p * N;
        for (let j = j0; j < j1; j++) {
          const b = B[bp + j]!;
          C[c0 + j]! += a0 * b;
          C[c1 + j]! += a1 * b;
          C[c2 + j]! += a2 * b;
          C[c3 + j]! += a3 * b;
        }
      }
    }
    for (; i < M; i++) {
      const c0 = cOff + i * N;
      const a = aOff + i * ai;
      for (let p = 0; p < K; p++) {
        const a0 = A[a + p * ap]!;
        const bp = bOff + p * N;
        for (let j = j0; j < j1; j++) C[c0 + j]! += a0 * B[bp + j]!;
      }
    }
  }
}

/** C += op(A) * B^T with B stored [N, K]: dot products over contiguous rows of B, four rows of A at a time. */
function gemmTransB(
  M: number,
  N: number,
  K: number,
  A: FloatArray,
  aOff: number,
  ai: number,
  ap: number,
  B: FloatArray,
  bOff: number,
  C: FloatArray,
  cOff: number,
): void {
  let i = 0;
  for (; i + 4 <= M; i += 4) {
    const a = aOff + i * ai;
    for (let j = 0; j < N; j++) {
      const bj = bOff + j * K;
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let p = 0; p < K; p++) {
        const b = B[bj + p]!;
        const ak = a + p * ap;
        s0 += A[ak]! * b;
        s1 += A[ak + ai]! * b;
        s2 += A[ak + 2 * ai]! * b;
        s3 += A[ak + 3 * ai]! * b;
      }
      const c = cOff + i * N + j;
      C[c]! += s0;
      C[c + N]! += s1;
      C[c + 2 * N]! += s2;
      C[c + 3 * N]! += s3;
    }
  }
  for (; i < M; i++) {
    const a = aOff + i * ai;
    for (let j = 0; j < N; j++) {
      const bj = bOff + j * K;
      let s = 0;
      for (let p = 0; p < K; p++) s += A[a + p * ap]! * B[bj + p]!;
      C[cOff + i * N + j]! += s;
    }
  }
}
