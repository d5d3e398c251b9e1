/**
 * The plain-TypeScript matrix product kernel behind MatMul, Gemm, MatMulInteger and Einsum on CPU.
 * A faster (WASM) kernel can replace it op by op; this one is i-k-j ordered on row-major arrays,
 * four rows of A at a time (each element of B is loaded once per four rows) and blocked over the
 * columns of B so the block being reused stays in cache. It accumulates in float64.
 */

import { sgemm } from '../../backends/cpu/wasm/sgemm.js';

export type FloatArray = Float32Array | Float64Array;

/** Columns of B per block: 4 accumulator rows of this width fit in L1, a K x NB slab of B in L2. */
const NB = 256;

/**
 * out[M, N] = a[M, K] @ b[K, N] (row-major, starting at the given offsets). Allocates `out` like
 * `a` when omitted; returns it. K = 0 gives zeros.
 */
export function matmulCpu(
  a: FloatArray,
  b: FloatArray,
  M: number,
  K: number,
  N: number,
  out?: FloatArray,
  aOff = 0,
  bOff = 0,
  oOff = 0,
): FloatArray {
  const o = out ?? (a instanceof Float32Array ? new Float32Array(M * N) : new Float64Array(M * N));
  if (M === 0 || N === 0) return o;
  // float32 goes to the WASM SIMD kernel when it is built (sgemm returns false otherwise).
  if (a instanceof Float32Array && b instanceof Float32Array && o instanceof Float32Array) {
    if (sgemm(false, false, M, N, K, a, aOff, b, bOff, o, oOff, false)) return o;
  }
  const acc = new Float64Array(4 * Math.min(N, NB));
  for (let j0 = 0; j0 < N; j0 += NB) {
    const w = Math.min(NB, N - j0);
    for (let i0 = 0; i0 < M; i0 += 4) {
      const rows = Math.min(4, M - i0);
      acc.fill(0, 0, 4 * w);
      if (rows === 4) {
        const r0 = aOff + i0 * K;
        const r1 = r0 + K;
        const r2 = r1 + K;
        const r3 = r2 + K;
        const w2 = 2 * w;
        const w3 = 3 * w;
        for (let k = 0; k < K; k++) {
          const x0 = a[r0 + k]!;
          const x1 = a[r1 + k]!;
          const x2 = a[r2 + k]!;
          const x3 = a[r3 + k]!;
          const bk = bOff + k * N + j0;
          for (let j = 0; j < w; j++) {
            const bv = b[bk + j]!;
            acc[j]! += x0 * bv;
            acc[w + j]! += x1 * bv;
            acc[w2 + j]! += x2 * bv;
            acc[w3 + j]! += x3 * bv;
          }
        }
      } else {
        for (let r = 0; r < rows; r++) {
          const ra = aOff + (i0 + r) * K;
          const base = r * w;
          for (let k = 0; k < K; k++) {
            const x = a[ra + k]!;
            const bk = bOff + k * N + j0;
            for (let j = 0; j < w; j++) acc[base + j]! += x * b[bk + j]!;
          }
        }
      }
      for (let r = 0; r < rows; r++) {
        const ro = oOff + (i0 + r) * N + j0;
        const base = r * w;
        for (let j = 0; j < w; j++) o[ro + j] = acc[base + j]!;
      }
    }
  }
  return o;
}

/**
 * Batched product over a broadcast batch: for every index of `batch`, out[i] = a[ia] @ b[ib], where
 * ia/ib follow NumPy broadcasting of aBatch/bBatch (each right-aligned to `batch`). a, b and out are
 * packed row-major ([...aBatch, M, K], [...bBatch, K, N], [...batch, M, N]).
 */
export function batchedMatmulCpu(
  a: FloatArray,
  aBatch: readonly number[],
  b: FloatArray,
  bBatch: readonly number[],
  batch: readonly number[],
  M: number,
  K: number,
  N: number,
  out: FloatArray,
): void {
  const total = batch.reduce((p, d) => p * d, 1);
  const rank = batch.length;
  // Element strides (in matrices) of a and b over the output batch; 0 where an input broadcasts.
  const stridesOf = (shape: readonly number[]) => {
    const s = new Array<number>(rank).fill(0);
    let acc = 1;
    for (let i = shape.length - 1; i >= 0; i--) {
      const o = rank - shape.length + i;
      s[o] = shape[i] === 1 ? 0 : acc;
      acc *= shape[i]!;
    }
    return s;
  };
  const sa = stridesOf(aBatch);
  const sb = stridesOf(bBatch);
  const idx = new Array<number>(rank).fill(0);
  let ia = 0;
  let ib = 0;
  for (let n = 0; n < total; n++) {
    matmulCpu(a, b, M, K, N, out, ia * M * K, ib * K * N, n * M * N);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < batch[d]!) {
        ia += sa[d]!;
        ib += sb[d]!;
        break;
      }
      ia -= sa[d]! * (batch[d]! - 1);
      ib -= sb[d]! * (batch[d]! - 1);
      idx[d] = 0;
    }
  }
}
