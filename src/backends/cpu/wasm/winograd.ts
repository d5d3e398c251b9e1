/**
 * The weight side of Winograd F(2x2, 3x3) (native/winograd-kernel.inc runs the rest): a 3x3
 * convolution weight g [M, C, 3, 3] becomes U = G g G^T, 16 matrices U_xi [M, C] (xi = 4 i + j, the
 * position in the 4x4 transformed tile), each packed for the native GEMM (A panels, or transposed as
 * B panels for the transposed form). Done once per session, for a session's constant weights only
 * (sgemm.ts residentWinograd).
 */
import type { Conv2dShape } from './conv.js';

/** Whether a convolution of this geometry can run as Winograd F(2x2, 3x3). */
export function winogradShape(
  s: Pick<Conv2dShape, 'group' | 'kH' | 'kW' | 'sH' | 'sW' | 'dH' | 'dW' | 'pH' | 'pW'>,
): boolean {
  // Leading pads past 2 would put a whole tile's patch in the padding: no model has them.
  return (
    s.group === 1 &&
    s.kH === 3 &&
    s.kW === 3 &&
    s.sH === 1 &&
    s.sW === 1 &&
    s.dH === 1 &&
    s.dW === 1 &&
    s.pH <= 2 &&
    s.pW <= 2
  );
}

/**
 * U [16, M, C] = G g G^T of weights w [M, C, 3, 3], in float64 then rounded once to float32:
 *   G = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]].
 */
export function winogradWeights(
  w: Float32Array,
  M: number,
  C: number,
  out: Float32Array<ArrayBufferLike> = new Float32Array(16 * M * C),
): Float32Array<ArrayBufferLike> {
  const t = new Float64Array(12);
  const plane = M * C;
  for (let m = 0; m < M; m++) {
    for (let c = 0; c < C; c++) {
      const g = (m * C + c) * 9;
      // t [4, 3] = G g (rows of g combined).
      for (let j = 0; j < 3; j++) {
        const g0 = w[g + j]!;
        const g1 = w[g + 3 + j]!;
        const g2 = w[g + 6 + j]!;
        t[j] = g0;
        t[3 + j] = (g0 + g1 + g2) / 2;
        t[6 + j] = (g0 - g1 + g2) / 2;
        t[9 + j] = g2;
      }
      // U [4, 4] = t G^T (columns of t combined).
      const o = m * C + c;
      for (let i = 0; i < 4; i++) {
        const t0 = t[3 * i]!;
        const t1 = t[3 * i + 1]!;
        const t2 = t[3 * i + 2]!;
        out[4 * i * plane + o] = t0;
        out[(4 * i + 1) * plane + o] = (t0 + t1 + t2) / 2;
        out[(4 * i + 2) * plane + o] = (t0 - t1 + t2) / 2;
        out[(4 * i + 3) * plane + o] = t2;
      }
    }
  }
  return out;
}
