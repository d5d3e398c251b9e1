/**
 * Smaller ops that exported models and expanded ONNX functions use around the main ones: Range
 * (shape arithmetic, exact in int64), EyeLike, CumSum, LpNormalization and
 * MeanVarianceNormalization (statistics as the CPU computes them).
 */
import { ONNX_DTYPE } from '../../../ops/cast.js';
import { attrInt, attrInts, expectFloat } from '../../../ops/helpers.js';
import { splitAtAxis } from '../../../ops/reduce/layout.js';
import { type DType, isDType, isFloat } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import { fmtShape, normAxis } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { elementwise } from '../kernels/elementwise.js';
import { reduce } from '../kernels/reduce.js';
import { encodeForGpu } from '../repr.js';
import {
  bufIn,
  COMPUTE_ARGS,
  empty,
  flatIndex,
  grid,
  handleOf,
  launch,
  Params,
  paramsDecl,
} from '../runtime.js';
import { kindOf, load, storage, store } from '../wgsl.js';
import { keptShape, stats } from './norm-ops.js';
import { onCpu, readNumbers } from './values.js';

/** The stored words of a one-element CPU tensor. */
const wordsOf = (t: Tensor) => new Uint32Array(encodeForGpu(t.dtype, onCpu(t).dataSync()));

function range(inputs: readonly (Tensor | undefined)[]): Tensor[] | string {
  const [s, l, d] = inputs as [Tensor, Tensor, Tensor];
  if (s.dtype !== l.dtype || s.dtype !== d.dtype) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `Range: start, limit and delta must share one dtype, got ${s.dtype}, ${l.dtype}, ${d.dtype}`,
    );
  }
  const dtype = s.dtype;
  if (!isFloat(dtype) && !['int16', 'int32', 'int64'].includes(dtype)) {
    throw new TesseraError('DTYPE_MISMATCH', `Range: expected a float or int16/32/64 dtype, got ${dtype}`);
  }
  if (dtype === 'float64') return 'has no kernel for float64';
  let n: number;
  if (dtype === 'int64') {
    const [a, b, c] = [s, l, d].map((t) => (onCpu(t).dataSync() as BigInt64Array)[0]!) as [
      bigint,
      bigint,
      bigint,
    ];
    if (c === 0n) throw new TesseraError('INVALID_ARGUMENT', 'Range: delta must be nonzero');
    const span = b - a;
    const q = span / c + (span % c !== 0n && span > 0n === c > 0n ? 1n : 0n);
    n = q > 0n ? Number(q) : 0;
  } else {
    const [a, b, c] = [s, l, d].map((t) => readNumbers(t)[0]!) as [number, number, number];
    if (c === 0) throw new TesseraError('INVALID_ARGUMENT', 'Range: delta must be nonzero');
    n = Math.max(Math.ceil((b - a) / c), 0);
  }
  const out = empty([n], dtype);
  if (n === 0) return [out];
  const k = kindOf(dtype);
  const p = new Params().u(n);
  // Float start and delta as f32 words (a float16 tensor's stored word is f16 bits where it is stored as f16).
  if (k === 'f') p.f(readNumbers(s)[0]!, readNumbers(d)[0]!);
  else p.u(...wordsOf(s)).u(...wordsOf(d));
  const value =
    k === 'x'
      ? 'add64(vec2<u32>(pu(1u), pu(2u)), mul64(vec2<u32>(gi, 0u), vec2<u32>(pu(3u), pu(4u))))'
      : k === 'f'
        ? store('pf(1u) + f32(gi) * pf(2u)', dtype)
        : store('pi(1u) + i32(gi) * pi(2u)', dtype);
  const code = `${storage(0, 'y', dtype, 'read_write')}
${paramsDecl(1, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  y[gi] = ${value};
}`;
  launch(code, [handleOf(out)], p, grid(n, 64));
  return [out];
}

function eyeLike(x: Tensor, attrs: Record<string, unknown>): Tensor[] | string {
  if (x.ndim !== 2)
    throw new TesseraError('INVALID_ARGUMENT', `EyeLike: input must be 2-D, got ${fmtShape(x.shape)}`);
  let dtype: DType = x.dtype;
  if (attrs.dtype !== undefined) {
    const d = isDType(attrs.dtype) ? attrs.dtype : ONNX_DTYPE[attrInt(attrs as any, 'dtype')];
    if (!d || d === 'string')
      throw new TesseraError('UNSUPPORTED', `EyeLike: unsupported dtype ${String(attrs.dtype)}`);
    dtype = d;
  }
  if (dtype === 'float64') return 'has no kernel for float64';
  const [rows, cols] = x.shape as [number, number];
  const out = empty([rows, cols], dtype);
  if (rows * cols === 0) return [out];
  const k = kindOf(dtype);
  const one = k === 'x' ? 'vec2<u32>(1u, 0u)' : k === 'f' ? store('1.0', dtype) : k === 'i' ? '1' : '1u';
  const zero = k === 'x' ? 'vec2<u32>(0u, 0u)' : k === 'f' ? store('0.0', dtype) : k === 'i' ? '0' : '0u';
  const p = new Params().u(rows * cols, cols).i(attrInt(attrs as any, 'k', 0));
  const code = `${storage(0, 'y', dtype, 'read_write')}
${paramsDecl(1, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let r = i32(gi / pu(1u));
  let c = i32(gi % pu(1u));
  y[gi] = select(${zero}, ${one}, c - r == pi(2u));
}`;
  launch(code, [handleOf(out)], p, grid(rows * cols, 64));
  return [out];
}

function cumsum(x: Tensor, axisT: Tensor, exclusive: boolean, reverse: boolean): Tensor[] | string {
  if (axisT.dtype !== 'int32' && axisT.dtype !== 'int64') {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `CumSum: axis must be an int32 or int64 tensor, got ${axisT.dtype}`,
    );
  }
  const v = readNumbers(axisT);
  if (v.length !== 1 || axisT.ndim > 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `CumSum: axis must be a 0-d tensor holding one axis, got shape [${axisT.shape.join(', ')}]`,
    );
  }
  const k = kindOf(x.dtype);
  if (k === 'x') return `has no kernel for ${x.dtype}`;
  const axis = normAxis(v[0]!, x.ndim, 'CumSum');
  const { outer, len, inner } = splitAtAxis(x.shape, axis);
  const out = empty(x.shape, x.dtype);
  const rows = outer * inner;
  if (rows === 0 || len === 0) return [out];
  const T = k === 'f' ? 'f32' : k === 'i' ? 'i32' : 'u32';
  const p = new Params().u(rows, len, inner);
  const body = exclusive
    ? `y[q] = ${store('acc', x.dtype)}; acc = acc + ${load('x[q]', x.dtype, k)};`
    : `acc = acc + ${load('x[q]', x.dtype, k)}; y[q] = ${store('acc', x.dtype)};`;
  const code = `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'y', x.dtype, 'read_write')}
${paramsDecl(2, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let len = pu(1u); let inner = pu(2u);
  let base = (gi / inner) * len * inner + gi % inner;
  var acc: ${T} = ${T}(0);
  for (var j = 0u; j < len; j = j + 1u) {
    let a = ${reverse ? 'len - 1u - j' : 'j'};
    let q = base + a * inner;
    ${body}
  }
}`;
  launch(code, [bufIn(x), handleOf(out)], p, grid(rows, 64));
  return [out];
}

function lpNormalization(x: Tensor, attrs: Record<string, unknown>, op: string): Tensor[] | string {
  expectFloat(op, 'input', x);
  const p = attrInt(attrs as any, 'p', 2);
  if (p !== 1 && p !== 2) throw new TesseraError('INVALID_ARGUMENT', `${op}: p must be 1 or 2, got ${p}`);
  if (x.dtype === 'float64') return 'has no kernel for float64';
  const axis = normAxis(attrInt(attrs as any, 'axis', -1), x.ndim, op);
  const norm = reduce(x, [axis], keptShape(x.shape, [axis]), 'float32', {
    kind: 'f',
    init: '0.0',
    map: p === 1 ? 'abs(v)' : 'v * v',
    comb: 'a + b',
    finish: p === 1 ? 'acc' : 'sqrt(acc)',
  });
  // A zero vector stays zero (no 0/0).
  return [
    elementwise({
      inputs: [x, norm],
      loads: ['f', 'f'],
      expr: 'select(v0 / v1, 0.0, v1 == 0.0)',
      outDtype: x.dtype,
    }),
  ];
}

function meanVarianceNormalization(x: Tensor, attrs: Record<string, unknown>, op: string): Tensor[] | string {
  expectFloat(op, 'X', x);
  if (x.dtype === 'float64') return 'has no kernel for float64';
  const raw = attrInts(attrs as any, 'axes') ?? [0, 2, 3];
  const axes = [...new Set(raw.map((a) => normAxis(a, x.ndim, op)))].sort((a, b) => a - b);
  const [mean, variance] = stats(x, axes);
  return [
    elementwise({
      inputs: [x, mean, variance],
      loads: ['f', 'f', 'f'],
      expr: '(v0 - v1) / (sqrt(v2) + 1e-9)',
      outDtype: x.dtype,
    }),
  ];
}

export function registerExtraKernels(): void {
  gpuKernel('Range', (inputs) => range(inputs));
  gpuKernel('EyeLike', (inputs, attrs) => eyeLike(inputs[0]!, attrs));
  gpuKernel('CumSum', (inputs, attrs) =>
    cumsum(inputs[0]!, inputs[1]!, attrInt(attrs, 'exclusive') !== 0, attrInt(attrs, 'reverse') !== 0),
  );
  gpuKernel('LpNormalization', (inputs, attrs, ctx) => lpNormalization(inputs[0]!, attrs, ctx.op));
  gpuKernel('MeanVarianceNormalization', (inputs, attrs, ctx) =>
    meanVarianceNormalization(inputs[0]!, attrs, ctx.op),
  );
}
