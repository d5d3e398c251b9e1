/**
 * Bit-level codecs of the sub-16-bit float formats ONNX has: float8 (e4m3fn, e4m3fnuz, e5m2,
 * e5m2fnuz), float4e2m1 and the exponent-only float8e8m0. A tensor of these dtypes keeps one bit
 * pattern per byte (dtype.ts); this file turns patterns into numbers and numbers into patterns.
 *
 * Encoding rounds to nearest, ties to even, straight from the JS number (an exact float32/float16/
 * float64 value), so there is no double rounding. What happens past the largest finite value
 * depends on `saturate` and on the format, as the ONNX Cast specification tables it:
 *   saturate: |x| > max (Inf included) gives +-max; NaN stays NaN.
 *   no saturate: e5m2 overflows to +-Inf; the formats without Inf (fn, fnuz) give NaN.
 * float4e2m1 has neither Inf nor NaN: it always saturates, and NaN becomes 0b1000 (as the ONNX
 * reference data has it). The "fnuz" formats have no negative zero: their only NaN is 0x80.
 */

export type MiniFloatDType =
  | 'float8e4m3fn'
  | 'float8e4m3fnuz'
  | 'float8e5m2'
  | 'float8e5m2fnuz'
  | 'float4e2m1';

/** How a format spends its top exponent and the sign of zero. */
type Kind =
  | 'fn' // no Inf; NaN is S.1111.111 (exponent and mantissa all ones)
  | 'fnuz' // no Inf, no -0; the pattern of -0 (0x80) is the only NaN
  | 'ieee' // IEEE-like: all-ones exponent holds Inf (mantissa 0) and NaN
  | 'finite'; // neither Inf nor NaN

interface Format {
  readonly expBits: number;
  readonly mantBits: number;
  readonly bias: number;
  readonly kind: Kind;
  /** Largest finite value. */
  readonly max: number;
  /** Bit pattern of +max. */
  readonly maxBits: number;
  /** Bit pattern of NaN (positive where the format has a sign for it). */
  readonly nanBits: number;
  /** Bit pattern of +Inf, -1 where there is none. */
  readonly infBits: number;
  readonly signBit: number;
  /** Decoded value of every bit pattern. */
  readonly table: Float32Array;
}

function makeFormat(expBits: number, mantBits: number, bias: number, kind: Kind): Format {
  const width = 1 + expBits + mantBits;
  const signBit = 1 << (width - 1);
  const expMax = (1 << expBits) - 1;
  const mantMax = (1 << mantBits) - 1;
  // The largest finite pattern: the top exponent is reserved for Inf/NaN only in 'ieee'; 'fn'
  // gives up just the all-ones mantissa of the top exponent.
  const maxE = kind === 'ieee' ? expMax - 1 : expMax;
  const maxM = kind === 'fn' ? mantMax - 1 : mantMax;
  const maxBits = (maxE << mantBits) | maxM;
  const nanBits =
    kind === 'fnuz'
      ? signBit
      : kind === 'fn'
        ? (expMax << mantBits) | mantMax
        : kind === 'ieee'
          ? (expMax << mantBits) | (1 << (mantBits - 1))
          : signBit;
  const infBits = kind === 'ieee' ? expMax << mantBits : -1;
  const decode = (bits: number): number => {
    const neg = (bits & signBit) !== 0;
    const e = (bits >> mantBits) & expMax;
    const m = bits & mantMax;
    if (kind === 'fnuz' && bits === signBit) return Number.NaN;
    if (kind === 'fn' && e === expMax && m === mantMax) return Number.NaN;
    if (kind === 'ieee' && e === expMax) return m ? Number.NaN : neg ? -Infinity : Infinity;
    const mag = e === 0 ? m * 2 ** (1 - bias - mantBits) : (2 ** mantBits + m) * 2 ** (e - bias - mantBits);
    return neg ? -mag : mag;
  };
  const table = new Float32Array(1 << width);
  for (let b = 0; b < table.length; b++) table[b] = decode(b);
  return {
    expBits,
    mantBits,
    bias,
    kind,
    max: table[maxBits]!,
    maxBits,
    nanBits,
    infBits,
    signBit,
    table,
  };
}

const FORMATS: Record<MiniFloatDType, Format> = {
  float8e4m3fn: makeFormat(4, 3, 7, 'fn'),
  float8e4m3fnuz: makeFormat(4, 3, 8, 'fnuz'),
  float8e5m2: makeFormat(5, 2, 15, 'ieee'),
  float8e5m2fnuz: makeFormat(5, 2, 16, 'fnuz'),
  float4e2m1: makeFormat(2, 1, 1, 'finite'),
};

export function isMiniFloatDType(d: string): d is MiniFloatDType {
  return Object.hasOwn(FORMATS, d);
}

/** The value of a bit pattern. */
export function decodeMiniFloat(dtype: MiniFloatDType, bits: number): number {
  return FORMATS[dtype].table[bits]!;
}

/** The whole decode table (index = bit pattern), for fast bulk conversion. */
export function miniFloatTable(dtype: MiniFloatDType): Float32Array {
  return FORMATS[dtype].table;
}

/** The largest finite value of the format. */
export function miniFloatMax(dtype: MiniFloatDType): number {
  return FORMATS[dtype].max;
}

/** Round half to even of a non-negative number. */
function roundHalfEven(n: number): number {
  const f = Math.floor(n);
  const d = n - f;
  if (d > 0.5 || (d === 0.5 && f % 2 === 1)) return f + 1;
  return f;
}

/** floor(log2(a)) for a finite a > 0, exact (Math.log2 can be off by one next to powers of two). */
function exponentOf(a: number): number {
  let e = Math.floor(Math.log2(a));
  if (2 ** e > a) e--;
  else if (2 ** (e + 1) <= a) e++;
  return e;
}

/** The bit pattern nearest to `v` (ties to even), with the format's overflow rule for `saturate`. */
export function encodeMiniFloat(dtype: MiniFloatDType, v: number, saturate = false): number {
  const f = FORMATS[dtype];
  if (Number.isNaN(v)) return f.nanBits;
  const negative = v < 0 || Object.is(v, -0);
  const sign = negative ? f.signBit : 0;
  const a = Math.abs(v);
  const sat = saturate || f.kind === 'finite';
  // Past the range: +-max when saturating, else +-Inf (e5m2), +-NaN (e4m3fn keeps the sign) or the
  // one NaN of the fnuz formats.
  const overflow = () =>
    sat
      ? sign | f.maxBits
      : f.kind === 'ieee'
        ? sign | f.infBits
        : f.kind === 'fn'
          ? sign | f.nanBits
          : f.nanBits;
  if (a === Number.POSITIVE_INFINITY) return overflow();
  if (sat && a > f.max) return sign | f.maxBits;
  if (a === 0) return f.kind === 'fnuz' ? 0 : sign;
  const emin = 1 - f.bias;
  let e = Math.max(exponentOf(a), emin);
  let r = roundHalfEven(a / 2 ** (e - f.mantBits));
  if (r * 2 ** (e - f.mantBits) > f.max) return overflow();
  if (r === 0) return f.kind === 'fnuz' ? 0 : sign;
  const full = 2 ** (f.mantBits + 1);
  if (r === full) {
    // Rounding carried into the next binade.
    e++;
    r = full / 2;
  }
  if (r < full / 2) return sign | r; // subnormal (e is emin): exponent field 0
  return sign | ((e + f.bias) << f.mantBits) | (r - full / 2);
}

// ---- float8e8m0: an unsigned power of two, 2^(bits - 127); 0xFF is NaN ------------------------------

export type E8M0RoundMode = 'up' | 'down' | 'nearest';

export function decodeE8M0(bits: number): number {
  return bits === 0xff ? Number.NaN : 2 ** (bits - 127);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * The float8e8m0 pattern of `v` as the ONNX reference computes it: from the float32 exponent field
 * (the sign is dropped), rounding the mantissa up (any fraction), down (dropped) or to nearest;
 * NaN and Inf give 0xFF; past 2^127 `saturate` keeps 0xFE, otherwise the carry reaches 0xFF.
 */
export function encodeE8M0(v: number, saturate = true, mode: E8M0RoundMode = 'up'): number {
  f32[0] = v;
  const bits = u32[0]!;
  const exponent = (bits >>> 23) & 0xff;
  if (exponent === 0xff) return 0xff;
  let up = false;
  if (mode === 'up') up = (bits & 0x7fffff) !== 0;
  else if (mode === 'nearest') {
    const g = (bits & 0x400000) !== 0;
    const r = (bits & 0x200000) !== 0;
    const s = (bits & 0x1fffff) !== 0;
    up = g && (r || s || exponent > 0);
  }
  if (up && saturate && exponent === 0xfe) up = false;
  return up ? exponent + 1 : exponent;
}
