/**
 * Gemm: Y = alpha * A' @ B' + beta * C, where A' = transA ? A^T : A ([M, K]) and B' = transB ? B^T : B
 * ([K, N]). From opset 7 C broadcasts unidirectionally to [M, N] (and is optional, as opset 11 made
 * it); opsets 1-6 take a `broadcast` attribute: 0 requires C to be exactly [M, N]. C is added even
 * when beta = 0, so a NaN in C shows, as in the ONNX reference.
 */
import { reluFloats } from '../../backends/cpu/fast-float.js';
import { nativeGemmOn } from '../../backends/cpu/wasm/runtime.js';
import { full } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import { broadcastStrides, fmtShape, sameShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrInt, expectSameDType, input, sumToShape } from '../helpers.js';
import { gemm } from '../nn/gemm.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { computeArray, floatData, fromCompute } from './matmul.js';
import { matmulCpu } from './matmul-cpu.js';

function transposed(t: Tensor, trans: boolean): Tensor {
  return trans ? t.asStrided([t.shape[1]!, t.shape[0]!], [t.strides[1]!, t.strides[0]!]) : t;
}

function expect2D(name: string, t: Tensor): void {
  if (t.ndim !== 2) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `Gemm: input ${name} must be 2-D, got shape ${fmtShape(t.shape)}`,
    );
  }
}

/**
 * Gemm then Relu as one CPU kernel (FusedGemm with activation Relu, opset 7 and later): when the
 * Relu can come last in the product (alpha 1 and C added before it, the float32 path), the GEMM
 * applies it as it stores each tile; otherwise it runs over the result here.
 */
export function gemmReluCpu(inputs: OpInputs, attrs: Attrs): Tensor {
  return gemmKernel(inputs, { ...GEMM_DEFAULTS, ...attrs }, false, true);
}

const GEMM_DEFAULTS = { alpha: 1, beta: 1, transA: 0, transB: 0 };

function gemmKernel(inputs: OpInputs, attrs: Attrs, legacy: boolean, relu = false): Tensor {
  const a = input(inputs, 0, 'Gemm');
  const b = input(inputs, 1, 'Gemm');
  const c = inputs[2];
  expectSameDType('Gemm', [a, b, c]);
  expect2D('A', a);
  expect2D('B', b);
  const ta = attrInt(attrs, 'transA') !== 0;
  const tb = attrInt(attrs, 'transB') !== 0;
  const M = a.shape[ta ? 1 : 0]!;
  const K = a.shape[ta ? 0 : 1]!;
  const K2 = b.shape[tb ? 1 : 0]!;
  const N = b.shape[tb ? 0 : 1]!;
  if (K !== K2) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `Gemm: inner dimensions differ: A' is [${M}, ${K}] and B' is [${K2}, ${N}] (A ${fmtShape(a.shape)}, B ${fmtShape(b.shape)}, transA=${attrInt(attrs, 'transA')}, transB=${attrInt(attrs, 'transB')}); expected equal`,
    );
  }
  const alpha = attrFloat(attrs, 'alpha');
  const beta = attrFloat(attrs, 'beta');
  const mn = [M, N];
  if (c) {
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
  }
  const out = computeArray(a.dtype, M * N);
  let cDone = false;
  let fusedRelu = false;
  if (out instanceof Float32Array) {
    // float32: the fast GEMM reads the stored (possibly transposed) operands as they are. When
    // alpha is 1, C as one row (a bias, beta 1) goes to the native GEMM, which adds it as it stores
    // each tile; any other beta * C (or any C on the other engines) is written first and the product
    // accumulates onto it (no second pass).
    let accumulate = false;
    let bias: Float32Array | undefined;
    if (c && alpha === 1 && c.dtype === 'float32' && c.isContiguous()) {
      const n = c.numel();
      const row = n === N && c.shape[c.ndim - 2] !== M;
      if (row && beta === 1 && nativeGemmOn()) {
        bias = c.dataSync() as Float32Array;
        cDone = true;
      } else if (n === M * N || row) {
        fillRows32(out, c.dataSync() as Float32Array, M, N, n !== M * N, beta);
        accumulate = true;
        cDone = true;
      }
    }
    // The Relu goes into the product only when nothing is added after it.
    fusedRelu = relu && alpha === 1 && (!c || cDone);
    gemm(
      ta,
      tb,
      M,
      N,
      K,
      floatData(a) as Float32Array,
      0,
      floatData(b) as Float32Array,
      0,
      out,
      0,
      accumulate,
      fusedRelu,
      bias,
    );
  } else {
    matmulCpu(floatData(transposed(a, ta)), floatData(transposed(b, tb)), M, K, N, out);
  }
  if (alpha !== 1) for (let i = 0; i < out.length; i++) out[i]! *= alpha;
  if (c && !cDone) {
    const n = c.numel();
    const inPlace = n === M * N || (n === N && c.shape[c.ndim - 2] !== M);
    if (out instanceof Float32Array && c.dtype === 'float32' && c.isContiguous() && inPlace) {
      // C is [M, N] or one row broadcast down: read in place (the sums of the general path).
      addRows32(out, c.dataSync() as Float32Array, M, N, n !== M * N, beta);
    } else {
      const cv = c.asStrided(mn, broadcastStrides(c.shape, c.strides, mn)).numbers();
      for (let i = 0; i < out.length; i++) out[i]! += beta * cv[i]!;
    }
  }
  if (relu && !fusedRelu) reluFloats(out);
  return fromCompute(out, mn, a.dtype);
}

/** out[i, j] = beta * c[j] (one row, `row`) or beta * c[i, j], for a float32 out. */
function fillRows32(
  out: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  row: boolean,
  beta: number,
): void {
  if (!row) {
    if (beta === 1) out.set(c.subarray(0, M * N));
    else for (let i = 0; i < M * N; i++) out[i] = beta * c[i]!;
    return;
  }
  if (M === 0 || N === 0) return;
  if (beta === 1) out.set(c.subarray(0, N));
  else for (let j = 0; j < N; j++) out[j] = beta * c[j]!;
  // Doubling copies: log2(M) calls instead of M.
  for (let done = 1; done < M; done *= 2) out.copyWithin(done * N, 0, Math.min(done, M - done) * N);
}

/** out[i, j] += beta * c[j] (one row, `row`) or beta * c[i, j], for a float32 out. */
function addRows32(
  out: Float32Array,
  c: Float32Array,
  M: number,
  N: number,
  row: boolean,
  beta: number,
): void {
  for (let i = 0; i < M; i++) {
    const o = i * N;
    const co = row ? 0 : o;
    for (let j = 0; j < N; j++) out[o + j]! += beta * c[co + j]!;
  }
}

const scale = (t: Tensor, s: number) =>
  s === 1 ? t : dispatch1('Mul', [t, full([], s, { dtype: t.dtype, device: t.device })]);

for (const since of [1, 7]) {
  const legacy = since < 7;
  registerOp({
    name: 'Gemm',
    since,
    minInputs: legacy ? 3 : 2,
    maxInputs: 3,
    defaults: { ...GEMM_DEFAULTS, ...(legacy ? { broadcast: 0 } : {}) },
    kernels: { cpu: (inputs, attrs) => [gemmKernel(inputs, attrs, legacy)] },
    grad: ({ inputs, attrs }, [dy]) => {
      const [a, b, c] = inputs as [Tensor, Tensor, Tensor | undefined];
      const aSub = attrInt(attrs, 'transA') ? 'km' : 'mk';
      const bSub = attrInt(attrs, 'transB') ? 'nk' : 'kn';
      const alpha = attrFloat(attrs, 'alpha');
      const einsum = (eq: string, x: Tensor, y: Tensor) => dispatch1('Einsum', [x, y], { equation: eq });
      return [
        a.requiresGrad ? scale(einsum(`mn,${bSub}->${aSub}`, dy!, b), alpha) : null,
        b.requiresGrad ? scale(einsum(`${aSub},mn->${bSub}`, a, dy!), alpha) : null,
        c?.requiresGrad ? scale(sumToShape(dy!, c.shape), attrFloat(attrs, 'beta')) : null,
      ];
    },
  });
}
