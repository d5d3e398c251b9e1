/**
 * MatMul and Gemm on the tiled GEMM kernel. Operands are read through their strides (transposed
 * and broadcast views cost no copy); batch dims broadcast NumPy-style, one workgroup layer per
 * output batch. Integer and float64 products run on the CPU.
 */
import { attrFloat, attrInt } from '../../../ops/helpers.js';
import { matmulShapes } from '../../../ops/linalg/matmul.js';
import type { Attrs, OpInputs } from '../../../ops/registry.js';
import { type DType, isFloat } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import { broadcastStrides, fmtShape, numel, sameShape } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { gemmShader, pickConfig } from '../kernels/gemm.js';
import { reprOf } from '../repr.js';
import {
  BindingLimitError,
  empty,
  gpu,
  handleOf,
  launch,
  MAX_WG,
  Params,
  paramsDecl,
  upload,
} from '../runtime.js';
import { load, storage, store } from '../wgsl.js';

const floatOnGpu = (d: DType) => isFloat(d) && d !== 'float64';

/** A 2-D operand as (offset, row stride, col stride) over its GPU buffer, plus batch strides. */
interface Operand {
  t: Tensor;
  off: number;
  rs: number;
  cs: number;
  batch: number[];
}

/** Decomposes the batch index into the operands' offsets (rank `nb` batch shape at params[3+]). */
function batchPrologue(nb: number, names: string[]): string {
  if (nb === 0) return names.map((n, j) => `let ${n}Base = pu(${3 + j}u);`).join('\n  ');
  const lines = names.map((n, j) => `var ${n}Base = pu(${3 + nb * (1 + names.length) + j}u);`);
  lines.push('var br = batch;');
  for (let d = nb - 1; d >= 0; d--) {
    lines.push(`{ let s = pu(${3 + d}u); let c = br % s; br = br / s;`);
    names.forEach((n, j) => {
      lines.push(`  ${n}Base = ${n}Base + c * pu(${3 + nb * (1 + j) + d}u);`);
    });
    lines.push('}');
  }
  return lines.join('\n  ');
}

/** out[batch, M, N] = sum_k A[batch, row, k] * B[batch, k, col] (then `epilogue` on v). */
function batchedGemm(
  A: Operand,
  B: Operand,
  M: number,
  N: number,
  K: number,
  batch: number[],
  dtype: DType,
  extra?: { C: Operand; alpha: number; beta: number } | { alpha: number },
): Tensor {
  const Z = numel(batch);
  const out = empty([...batch, M, N], dtype);
  if (M * N * Z === 0) return out;
  const nb = batch.length;
  const hasC = extra !== undefined && 'C' in extra;
  const cfg = pickConfig(M);
  const bindings = [handleOf(A.t), handleOf(B.t), ...(hasC ? [handleOf(extra.C.t)] : []), handleOf(out)];
  const outBinding = bindings.length - 1;
  // Params: M, N (of this launch), K, batch layout and offsets, strides, then N of the whole output and
  // the first column this launch computes (launches over column blocks when B is over the binding limit).
  const build = (n: number, bOff: number, col0: number) => {
    const p = new Params().u(M, n, K);
    if (nb === 0) p.u(A.off, bOff);
    else p.u(...batch, ...A.batch, ...B.batch, A.off, bOff);
    p.u(A.rs, A.cs, B.rs, B.cs, N, col0);
    if (extra) p.f(extra.alpha, hasC ? extra.beta : 0);
    if (hasC) p.u(extra.C.off, extra.C.rs, extra.C.cs);
    return p;
  };
  const p0 = build(N, B.off, 0);
  const strideBase = nb === 0 ? 5 : 5 + 3 * nb;
  const cBase = strideBase + 6;
  let value = 'v';
  if (extra) value = `v * pf(${cBase}u)`;
  if (hasC)
    value = `${value} + pf(${cBase + 1}u) * ${load(`c[pu(${cBase + 2}u) + row * pu(${cBase + 3}u) + gc * pu(${cBase + 4}u)]`, extra.C.t.dtype, 'f')}`;
  const code = gemmShader(cfg, {
    decls: `${storage(0, 'a', A.t.dtype, 'read')}
${storage(1, 'b', B.t.dtype, 'read')}
${hasC ? storage(2, 'c', extra.C.t.dtype, 'read') : ''}
${storage(outBinding, 'out', dtype, 'read_write')}
${paramsDecl(outBinding + 1, p0.vec4s)}`,
    prologue: batchPrologue(nb, ['a', 'b']),
    loadA: load(`a[aBase + row * pu(${strideBase}u) + k * pu(${strideBase + 1}u)]`, A.t.dtype, 'f'),
    loadB: load(`b[bBase + k * pu(${strideBase + 2}u) + col * pu(${strideBase + 3}u)]`, B.t.dtype, 'f'),
    store: `let gc = col + pu(${strideBase + 5}u); out[(batch * M + row) * pu(${strideBase + 4}u) + gc] = ${store(value, dtype)};`,
  });
  const TM = cfg.wy * cfg.ry;
  const TN = cfg.wx * 4;
  const limit = gpu().maxBinding;
  const bBuf = handleOf(B.t);
  if (bBuf.bytes <= limit) {
    launch(code, bindings, p0, [Math.ceil(N / TN), Math.ceil(M / TM), Z]);
    return out;
  }
  // B over the binding limit (a large fully connected layer on a small adapter): when each column of B
  // is a compact block (B^T row-major, transB=1), bind and compute blocks of columns one launch each.
  if (Z !== 1 || B.rs * (K - 1) >= B.cs || bindings.some((b) => b !== bBuf && b.bytes > limit)) {
    throw new BindingLimitError(bBuf.bytes, limit);
  }
  const eb = reprOf(B.t.dtype).bytes;
  const cols = Math.max(1, Math.floor((limit - 2 * 256) / (B.cs * eb)));
  for (let n0 = 0; n0 < N; n0 += cols) {
    const n = Math.min(cols, N - n0);
    const first = (B.off + n0 * B.cs) * eb;
    const at = Math.floor(first / 256) * 256;
    const span = ((n - 1) * B.cs + (K - 1) * B.rs + 1) * eb;
    const ranges: ([number, number] | null)[] = bindings.map(() => null);
    ranges[1] = [at, Math.min(Math.ceil((first - at + span) / 4) * 4, bBuf.bytes - at)];
    bindings.forEach((b, i) => {
      if (i !== 1) ranges[i] = [0, b.bytes];
    });
    launch(
      code,
      bindings,
      build(n, (first - at) / eb, n0),
      [Math.ceil(n / TN), Math.ceil(M / TM), 1],
      ranges,
    );
  }
  return out;
}

/** `t` as a GPU operand (uploaded if on the CPU) viewed as rows x cols with the given dims. */
function operand(
  t: Tensor,
  rowDim: number | null,
  colDim: number | null,
  batchShape: number[],
  outBatch: number[],
): Operand {
  const g = t.device === 'webgpu' ? t : upload(t);
  const rs = rowDim === null ? 0 : g.strides[rowDim]!;
  const cs = colDim === null ? 0 : g.strides[colDim]!;
  const nb = batchShape.length;
  const batch = broadcastStrides(batchShape, g.strides.slice(0, nb), outBatch);
  return { t: g, off: g.offset, rs, cs, batch };
}

function matmul(a: Tensor, b: Tensor): Tensor | string {
  if (!floatOnGpu(a.dtype)) return `has no kernel for ${a.dtype}`;
  const s = matmulShapes('MatMul', a.shape, b.shape);
  if (numel(s.batch) > MAX_WG) return `with ${numel(s.batch)} batches (over the dispatch limit)`;
  const A = operand(a, a.ndim === 1 ? null : a.ndim - 2, a.ndim - 1, s.aBatch, s.batch);
  const B = operand(b, b.ndim - (b.ndim === 1 ? 1 : 2), b.ndim === 1 ? null : b.ndim - 1, s.bBatch, s.batch);
  const out = batchedGemm(A, B, s.M, s.N, s.K, s.batch, a.dtype);
  return out.asStrided(s.out, contiguous(s.out));
}

function contiguous(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

function gemm(inputs: OpInputs, attrs: Attrs, legacy: boolean): Tensor | string {
  const a = inputs[0]!;
  const b = inputs[1]!;
  const c = inputs[2];
  if (!floatOnGpu(a.dtype)) return `has no kernel for ${a.dtype}`;
  for (const [name, t] of [
    ['A', a],
    ['B', b],
  ] as const) {
    if (t.ndim !== 2)
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Gemm: input ${name} must be 2-D, got shape ${fmtShape(t.shape)}`,
      );
  }
  const ta = attrInt(attrs, 'transA') !== 0;
  const tb = attrInt(attrs, 'transB') !== 0;
  const [M, K] = ta ? [a.shape[1]!, a.shape[0]!] : [a.shape[0]!, a.shape[1]!];
  const [K2, N] = tb ? [b.shape[1]!, b.shape[0]!] : [b.shape[0]!, b.shape[1]!];
  if (K !== K2) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `Gemm: inner dimensions differ: A' is [${M}, ${K}] and B' is [${K2}, ${N}] (A ${fmtShape(a.shape)}, B ${fmtShape(b.shape)}, transA=${attrInt(attrs, 'transA')}, transB=${attrInt(attrs, 'transB')}); expected equal`,
    );
  }
  const A = operand(a, ta ? 1 : 0, ta ? 0 : 1, [], []);
  const B = operand(b, tb ? 1 : 0, tb ? 0 : 1, [], []);
  const alpha = attrFloat(attrs, 'alpha');
  if (!c) return batchedGemm(A, B, M, N, K, [], a.dtype, { alpha });
  const mn = [M, N];
  const exact = legacy && attrInt(attrs, 'broadcast', 0) === 0;
  const fits = exact
    ? sameShape(c.shape, mn)
    : c.ndim <= 2 && c.shape.every((d, i) => d === 1 || d === mn[2 - c.ndim + i]);
  if (!fits) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `Gemm: C has shape ${fmtShape(c.shape)}, expected ${exact ? '' : 'a shape broadcastable to '}[${M}, ${N}]`,
    );
  }
  const cg = c.device === 'webgpu' ? c : upload(c);
  const cs = broadcastStrides(cg.shape, cg.strides, mn);
  const C: Operand = { t: cg, off: cg.offset, rs: cs[0]!, cs: cs[1]!, batch: [] };
  return batchedGemm(A, B, M, N, K, [], a.dtype, { C, alpha, beta: attrFloat(attrs, 'beta') });
}

export function registerLinalgKernels(): void {
  gpuKernel('MatMul', (inputs) => {
    const r = matmul(inputs[0]!, inputs[1]!);
    return typeof r === 'string' ? r : [r];
  });
  gpuKernel(
    'Gemm',
    (inputs, attrs) => {
      const r = gemm(inputs, attrs, false);
      return typeof r === 'string' ? r : [r];
    },
    { since: 7 },
  );
  gpuKernel(
    'Gemm',
    (inputs, attrs) => {
      const r = gemm(inputs, attrs, true);
      return typeof r === 'string' ? r : [r];
    },
    { since: 1 },
  );
}
