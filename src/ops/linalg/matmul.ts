/**
 * MatMul (opsets 1, 9, 13 share one signature): NumPy matmul semantics. A 1-D first operand is a
 * row vector and a 1-D second operand a column vector (the added dim is removed from the result);
 * leading dims are batch dims and broadcast. Gradients are Einsum contractions summed back to each
 * input's shape, so they broadcast and differentiate again like any other op.
 */
import { int64s } from '../../runtime/creation.js';
import { allocateUnset, type DType, fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { broadcastShapes, fmtShape, numel, sameShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { expectSameDType, input, sumToShape } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';
import { batchedMatmulCpu, type FloatArray, matmulCpu } from './matmul-cpu.js';

/** Element data of `t` as a float array the kernel can use: float32/float64 as stored, the rest as float64. */
export function floatData(t: Tensor): FloatArray {
  if (t.dtype === 'float32' || t.dtype === 'float64') return t.dataSync() as FloatArray;
  const v = t.numbers();
  return v instanceof Float64Array ? v : Float64Array.from(v);
}

/**
 * The array type the kernel computes in for `dtype`, for a product that writes every element of it
 * (MatMul's and Gemm's kernels do). Drawn through `allocateUnset`, so a session run reuses the array
 * of an intermediate that died (and, across runs, of the last run) without zeroing it first: that
 * pass on the calling thread also left the lines of a product split across threads in the calling
 * core's cache, for the other threads to fetch from it as they stored their parts.
 */
export function computeArray(dtype: DType, n: number): FloatArray {
  return allocateUnset(dtype === 'float32' ? 'float32' : 'float64', n) as FloatArray;
}

/** Wraps a kernel result as a tensor of `dtype` (converting when it is not float32/float64). */
export function fromCompute(data: FloatArray, shape: readonly number[], dtype: DType): Tensor {
  if (dtype === 'float32' || dtype === 'float64') return Tensor.fromData(data, shape, dtype);
  return Tensor.fromData(fromNumbers(dtype, data), shape, dtype);
}

export interface MatmulShapes {
  M: number;
  K: number;
  N: number;
  aBatch: number[];
  bBatch: number[];
  batch: number[];
  out: number[];
}

/** Shapes of a NumPy matmul of `a` by `b`, with a clear error when they do not fit. */
export function matmulShapes(op: string, a: readonly number[], b: readonly number[]): MatmulShapes {
  if (a.length === 0 || b.length === 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: both inputs must have at least 1 dimension, got shapes ${fmtShape(a)} and ${fmtShape(b)}`,
    );
  }
  const a2 = a.length === 1 ? [1, a[0]!] : a;
  const b2 = b.length === 1 ? [b[0]!, 1] : b;
  const M = a2[a2.length - 2]!;
  const K = a2[a2.length - 1]!;
  const N = b2[b2.length - 1]!;
  if (b2[b2.length - 2] !== K) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: inner dimensions differ: a has shape ${fmtShape(a)} (K=${K}), b has shape ${fmtShape(b)} (K=${b2[b2.length - 2]}); expected equal`,
    );
  }
  const aBatch = a2.slice(0, -2);
  const bBatch = b2.slice(0, -2);
  const batch = broadcastShapes([aBatch, bBatch], `${op} (batch dims)`);
  const out = [...batch, ...(a.length > 1 ? [M] : []), ...(b.length > 1 ? [N] : [])];
  return { M, K, N, aBatch, bBatch, batch, out };
}

/** a @ b in float arithmetic (ints compute in float64 and store back), any batch broadcast. */
export function matmulTensors(op: string, a: Tensor, b: Tensor): Tensor {
  if (a.ndim === 2 && b.ndim === 2 && a.shape[1] === b.shape[0]) {
    // Two matrices (the common case): no batch dims to work out.
    const [M, K] = a.shape as [number, number];
    const N = b.shape[1]!;
    const out = computeArray(a.dtype, M * N);
    if (out.length > 0) matmulCpu(floatData(a), floatData(b), M, K, N, out);
    return fromCompute(out, [M, N], a.dtype);
  }
  const s = matmulShapes(op, a.shape, b.shape);
  const out = computeArray(a.dtype, numel(s.out));
  if (out.length === 0) return fromCompute(out, s.out, a.dtype);
  const ad = floatData(a);
  const bd = floatData(b);
  if (numel(s.bBatch) === 1) {
    // b is one matrix: fold a's batch into its rows, one product.
    matmulCpu(ad, bd, numel(s.aBatch) * s.M, s.K, s.N, out);
  } else {
    batchedMatmulCpu(ad, s.aBatch, bd, s.bBatch, s.batch, s.M, s.K, s.N, out);
  }
  return fromCompute(out, s.out, a.dtype);
}

const MATMUL_TYPES = new Set<DType>([
  'float32',
  'float64',
  'float16',
  'bfloat16',
  'int32',
  'int64',
  'uint32',
  'uint64',
]);

/** Gradients of a @ b: dA = dY @ B^T, dB = A^T @ dY, with 1-D promotion undone and batch dims summed. */
export function matmulGrad(a: Tensor, b: Tensor, dy: Tensor): [Tensor | null, Tensor | null] {
  const a2 = a.ndim === 1 ? dispatch1('Reshape', [a, int64s([1, a.shape[0]!])]) : a;
  const b2 = b.ndim === 1 ? dispatch1('Reshape', [b, int64s([b.shape[0]!, 1])]) : b;
  const s = matmulShapes('MatMul', a.shape, b.shape);
  const full = [...s.batch, s.M, s.N];
  const g = sameShape(dy.shape, full) ? dy : dispatch1('Reshape', [dy, int64s(full)]);
  const einsum = (eq: string, x: Tensor, y: Tensor) => dispatch1('Einsum', [x, y], { equation: eq });
  let da: Tensor | null = null;
  let db: Tensor | null = null;
  if (a.requiresGrad) {
    // A with no batch dims gets the batch summed inside the contraction.
    da = einsum(a2.ndim === 2 ? '...mn,...kn->mk' : '...mn,...kn->...mk', g, b2);
    da = sumToShape(da, a2.shape);
    if (a.ndim === 1) da = dispatch1('Reshape', [da, int64s(a.shape)]);
  }
  if (b.requiresGrad) {
    db = einsum(b2.ndim === 2 ? '...mk,...mn->kn' : '...mk,...mn->...kn', a2, g);
    db = sumToShape(db, b2.shape);
    if (b.ndim === 1) db = dispatch1('Reshape', [db, int64s(b.shape)]);
  }
  return [da, db];
}

registerOp({
  name: 'MatMul',
  since: 1,
  minInputs: 2,
  maxInputs: 2,
  validate: (inputs) => {
    const a = input(inputs, 0, 'MatMul');
    const b = input(inputs, 1, 'MatMul');
    expectSameDType('MatMul', [a, b]);
    if (!MATMUL_TYPES.has(a.dtype)) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `MatMul: inputs must be float or 32/64-bit int tensors, got ${a.dtype}`,
      );
    }
  },
  kernels: { cpu: (inputs) => [matmulTensors('MatMul', inputs[0]!, inputs[1]!)] },
  grad: ({ inputs }, [dy]) =>
    isFloat(inputs[0]!.dtype) ? matmulGrad(inputs[0]!, inputs[1]!, dy!) : [null, null],
});
