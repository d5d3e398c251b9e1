/**
 * Cast / CastLike: dtype conversion with C-like semantics (truncation toward zero, wrap-around,
 * 4-/2-bit integers included). float8 targets follow `saturate` (default 1: out-of-range values and
 * Inf clamp to the largest finite value) and float8e8m0 `round_mode` (up, down, nearest).
 */
import { copyContiguous, mapUnary } from '../backends/cpu/elementwise.js';
import { allocate, type DType, encodeFloat8, isDType, isFloat, isFloat8 } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { Tensor } from '../runtime/tensor.js';
import { input } from './helpers.js';
import { dispatch1, registerOp } from './registry.js';

/** ONNX TensorProto.DataType numbers, for the `to` attribute. */
export const ONNX_DTYPE: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  4: 'uint16',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  8: 'string',
  9: 'bool',
  10: 'float16',
  11: 'float64',
  12: 'uint32',
  13: 'uint64',
  16: 'bfloat16',
  17: 'float8e4m3fn',
  18: 'float8e4m3fnuz',
  19: 'float8e5m2',
  20: 'float8e5m2fnuz',
  21: 'uint4',
  22: 'int4',
  23: 'float4e2m1',
  24: 'float8e8m0',
  25: 'uint2',
  26: 'int2',
};
export const DTYPE_ONNX: Record<DType, number> = Object.fromEntries(
  Object.entries(ONNX_DTYPE).map(([k, v]) => [v, Number(k)]),
) as Record<DType, number>;

function targetDType(to: unknown): DType {
  if (typeof to === 'number' && ONNX_DTYPE[to]) return ONNX_DTYPE[to]!;
  if (isDType(to)) return to;
  throw new TesseraError('UNSUPPORTED', `Cast: unsupported target type ${String(to)}`);
}

function formatFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? 'INF' : '-INF';
  return String(v);
}

export interface CastOptions {
  /** float8 targets: clamp out-of-range values (and Inf) to the largest finite value (default true). */
  saturate?: boolean;
  /** float8e8m0 target: how to round to a power of two (default 'up'). */
  roundMode?: 'up' | 'down' | 'nearest';
}

function roundModeOf(v: unknown): 'up' | 'down' | 'nearest' {
  if (v === undefined || v === 'up' || v === 'down' || v === 'nearest') return v ?? 'up';
  throw new TesseraError(
    'INVALID_ARGUMENT',
    `Cast: round_mode must be 'up', 'down' or 'nearest', got ${JSON.stringify(v)}`,
  );
}

function castOptions(attrs: Record<string, unknown>): CastOptions {
  return {
    saturate: attrs.saturate === undefined || attrs.saturate !== 0,
    roundMode: roundModeOf(attrs.round_mode),
  };
}

function parseNumber(s: string): number {
  const t = s.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Number.POSITIVE_INFINITY;
  if (t === '-inf' || t === '-infinity') return Number.NEGATIVE_INFINITY;
  return Number(t);
}

export function castTensor(x: Tensor, to: DType, opts: CastOptions = {}): Tensor {
  if (x.dtype === to) return copyContiguous(x);
  if (isFloat8(to)) {
    // Straight from each exact source value to the nearest pattern: no intermediate rounding.
    const vals = x.dtype === 'string' ? (x.dataSync() as string[]).map(parseNumber) : x.numbers();
    const out = allocate(to, vals.length) as Uint8Array;
    const saturate = opts.saturate ?? true;
    for (let i = 0; i < vals.length; i++) out[i] = encodeFloat8(to, vals[i]!, saturate, opts.roundMode);
    return Tensor.fromData(out, x.shape, to);
  }
  if (to === 'string') {
    const vals = x.numbers();
    const out = allocate('string', vals.length) as string[];
    for (let i = 0; i < vals.length; i++)
      out[i] = x.dtype === 'bool' ? (vals[i] ? 'true' : 'false') : formatFloat(vals[i]!);
    return Tensor.fromData(out, x.shape, 'string');
  }
  if (x.dtype === 'string') {
    const nums = (x.dataSync() as string[]).map(parseNumber);
    return castTensor(Tensor.fromData(Float64Array.from(nums), x.shape, 'float64'), to, opts);
  }
  if ((x.dtype === 'int64' || x.dtype === 'uint64') && (to === 'int64' || to === 'uint64')) {
    const src = x.dataSync() as BigInt64Array;
    const out = allocate(to, src.length) as BigInt64Array;
    for (let i = 0; i < src.length; i++)
      out[i] = to === 'int64' ? BigInt.asIntN(64, src[i]!) : BigInt.asUintN(64, src[i]!);
    return Tensor.fromData(out, x.shape, to);
  }
  // Float -> int truncates toward zero; encodeNumber (via mapUnary) wraps like a C cast.
  const trunc = (isFloat(x.dtype) || isFloat8(x.dtype)) && !isFloat(to) && to !== 'bool';
  return mapUnary(x, trunc ? Math.trunc : (v) => v, to);
}

registerOp({
  name: 'Cast',
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => [castTensor(input(inputs, 0, 'Cast'), targetDType(attrs.to), castOptions(attrs))],
  },
  grad: ({ inputs }, [dy]) => {
    const x = inputs[0]!;
    return [dy && isFloat(x.dtype) ? dispatch1('Cast', [dy], { to: x.dtype }) : null];
  },
});

registerOp({
  name: 'CastLike',
  since: 15,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, attrs) => [
      castTensor(input(inputs, 0, 'CastLike'), input(inputs, 1, 'CastLike').dtype, castOptions(attrs)),
    ],
  },
  grad: ({ inputs }, [dy]) => [dy ? dispatch1('Cast', [dy], { to: inputs[0]!.dtype }) : null, null],
});
