/**
 * The tiled matrix-multiply kernel every GEMM-shaped op uses: C[M, N] = A[M, K] x B[K, N] per batch
 * (workgroup z). A workgroup computes a TM x TN tile, staging TK-deep slices of A and B in workgroup
 * memory; each thread accumulates RY rows x 4 columns as vec4s. Ops supply WGSL for loading an A or
 * B element (so strided/transposed operands, implicit im2col for Conv and the gather form of
 * ConvTranspose all share it) and for storing a result (bias, alpha/beta, rounding).
 */
export interface GemmConfig {
  /** Threads per workgroup along N and M; each thread computes RY x 4 outputs. */
  wx: number;
  wy: number;
  ry: number;
  tk: number;
}

/** 64x64 tiles for large problems, 8x128 for skinny ones (a handful of rows: FC layers at batch 1). */
export const BIG: GemmConfig = { wx: 16, wy: 16, ry: 4, tk: 16 };
export const SKINNY: GemmConfig = { wx: 32, wy: 8, ry: 1, tk: 16 };

export function pickConfig(M: number): GemmConfig {
  return M <= 16 ? SKINNY : BIG;
}

export interface GemmCode {
  /** Binding declarations and helper functions (params at the op's chosen binding, read with pu/pf). */
  decls: string;
  /** Statements run once per thread after `batch` (u32) is known (e.g. batch offsets). */
  prologue: string;
  /** Expression for A[row, k] (u32 row, k; both in range). */
  loadA: string;
  /** Expression for B[k, col]. */
  loadB: string;
  /** Statements storing `v` (f32) at (row, col) (in range). */
  store: string;
}

/** The WGSL of a tiled GEMM; params words 0..2 must be M, N, K. */
export function gemmShader(c: GemmConfig, code: GemmCode): string {
  const TM = c.wy * c.ry;
  const TN = c.wx * 4;
  const TK = c.tk;
  const threads = c.wx * c.wy;
  const accDecl = Array.from({ length: c.ry }, (_, i) => `var acc${i} = vec4<f32>(0.0);`).join('\n  ');
  const fma = Array.from(
    { length: c.ry },
    (_, i) => `acc${i} = acc${i} + As[kk * ${TM}u + ty * ${c.ry}u + ${i}u] * b;`,
  ).join('\n      ');
  const stores = Array.from({ length: c.ry }, (_, i) =>
    [0, 1, 2, 3]
      .map(
        (j) => `{ let row = row0 + ty * ${c.ry}u + ${i}u; let col = col0 + tx * 4u + ${j}u;
    if (row < M && col < N) { let v = acc${i}[${j}]; ${code.store} } }`,
      )
      .join('\n  '),
  ).join('\n  ');
  return `${code.decls}
var<workgroup> As: array<f32, ${TK * TM}>;
var<workgroup> Bs: array<vec4<f32>, ${(TK * TN) / 4}>;

@compute @workgroup_size(${c.wx}, ${c.wy}, 1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let M = pu(0u);
  let N = pu(1u);
  let K = pu(2u);
  let batch = wid.z;
  let row0 = wid.y * ${TM}u;
  let col0 = wid.x * ${TN}u;
  let tx = lid.x;
  let ty = lid.y;
  ${code.prologue}
  ${accDecl}
  for (var k0 = 0u; k0 < K; k0 = k0 + ${TK}u) {
    for (var i = li; i < ${TK * TM}u; i = i + ${threads}u) {
      let m = i / ${TK}u;
      let kk = i % ${TK}u;
      let row = row0 + m;
      let k = k0 + kk;
      var v = 0.0;
      if (row < M && k < K) { v = ${code.loadA}; }
      As[kk * ${TM}u + m] = v;
    }
    for (var i = li; i < ${TK * (TN / 4)}u; i = i + ${threads}u) {
      let kk = i / ${TN / 4}u;
      let n4 = (i % ${TN / 4}u) * 4u;
      let k = k0 + kk;
      var v = vec4<f32>(0.0);
      if (k < K) {
        for (var j = 0u; j < 4u; j = j + 1u) {
          let col = col0 + n4 + j;
          if (col < N) { v[j] = ${code.loadB}; }
        }
      }
      Bs[i] = v;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < ${TK}u; kk = kk + 1u) {
      let b = Bs[kk * ${TN / 4}u + tx];
      ${fma}
    }
    workgroupBarrier();
  }
  ${stores}
}`;
}
