/**
 * WGSL building blocks shared by the kernels: storage declarations per dtype, loading a stored
 * element as f32/i32/u32, storing a computed value with the dtype's rounding or wrap-around, and
 * math helpers WGSL lacks or leaves implementation-defined (NaN tests, erf, C's pow, 16-bit float
 * rounding). `withHelpers` appends only the helpers a shader's body mentions, and `enable f16;`
 * when it uses f16.
 *
 * The storage type is the only thing that differs between a float16 kernel on a device with
 * 'shader-f16' (array<f16>) and one without (array<f32> of rounded values): kernels read elements
 * through `load` (f16 widened to f32) and write through `store` (rounded to nearest even, then
 * narrowed exactly), so one generator serves both, computing and accumulating in f32 as PyTorch's
 * CUDA kernels do for half.
 */
import type { DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { reprOf } from './repr.js';

/** The arithmetic domain a dtype computes in on the GPU. */
export type Kind = 'f' | 'i' | 'u' | 'x';

export function kindOf(dtype: DType): Kind {
  const r = reprOf(dtype).kind;
  return r === 'f32' ? 'f' : r === 'i32' ? 'i' : r === 'u32' ? 'u' : 'x';
}

export const WGSL_TYPE: Record<Kind, string> = { f: 'f32', i: 'i32', u: 'u32', x: 'vec2<u32>' };

export function storage(binding: number, name: string, dtype: DType, access: 'read' | 'read_write'): string {
  return `@group(0) @binding(${binding}) var<storage, ${access}> ${name}: array<${reprOf(dtype).wgsl}>;`;
}

/**
 * An expression converting `v`, a stored element of `dtype`, to kind `to` (as a value, not a cast
 * of bits); 'raw' leaves it as stored (f16 for float16 on a shader-f16 device).
 */
export function load(v: string, dtype: DType, to: Kind | 'raw'): string {
  if (to === 'raw') return v;
  if (reprOf(dtype).wgsl === 'f16') v = `f32(${v})`;
  const k = kindOf(dtype);
  if (to === k) return v;
  if (k === 'x') {
    if (dtype === 'float64')
      throw new TesseraError('INTERNAL', 'webgpu: float64 values cannot be computed on');
    const signed = dtype === 'int64';
    if (to === 'f') return signed ? `i64_to_f32(${v})` : `u64_to_f32(${v})`;
    if (to === 'i') return `bitcast<i32>((${v}).x)`;
    return `(${v}).x`;
  }
  if (to === 'x') {
    if (k === 'i') return `i32_to_x(${v})`;
    if (k === 'u') return `vec2<u32>(${v}, 0u)`;
    return `f32_to_i64(${v})`;
  }
  if (to === 'f') return `f32(${v})`;
  if (k === 'f') return to === 'i' ? `f32_to_i32(${v})` : `f32_to_u32(${v})`;
  return `bitcast<${WGSL_TYPE[to]}>(${v})`;
}

/**
 * An expression for storing `v` (of `dtype`'s kind) as `dtype`: 16-bit float rounding (to nearest
 * even, overflow to infinity; then narrowed to f16, exactly, where float16 is stored as f16),
 * narrow-int wrap, bool 0/1.
 */
export function store(v: string, dtype: DType): string {
  switch (dtype) {
    case 'float16':
      return reprOf(dtype).wgsl === 'f16' ? `f16(f16r(${v}))` : `f16r(${v})`;
    case 'bfloat16':
      return `bf16r(${v})`;
    case 'int8':
      return `((${v}) << 24u) >> 24u`;
    case 'int16':
      return `((${v}) << 16u) >> 16u`;
    case 'uint8':
      return `(${v}) & 0xffu`;
    case 'uint16':
      return `(${v}) & 0xffffu`;
    case 'bool':
      return `select(0u, 1u, (${v}) != 0u)`;
    default:
      return v;
  }
}

/**
 * An element of `dtype` as stored, from the u32 expression `w` holding its stored word (the low
 * word of 64-bit types, the low half for f16); for filling with constants given as words.
 */
export function fromWord(w: string, dtype: DType, hi = '0u'): string {
  const t = reprOf(dtype).wgsl;
  if (t === 'vec2<u32>') return `vec2<u32>(${w}, ${hi})`;
  if (t === 'u32') return w;
  if (t === 'f16') return `bitcast<vec2<f16>>(${w}).x`;
  return `bitcast<${t}>(${w})`;
}

/** Stores an f32 value `v` as `dtype` (converting to integers with C's truncation where the dtype is one). */
export function storeF32(v: string, dtype: DType): string {
  const k = kindOf(dtype);
  if (dtype === 'bool') return `select(0u, 1u, nonzero_(${v}))`;
  if (k === 'i') return store(`f32_to_i32(${v})`, dtype);
  if (k === 'u') return store(`f32_to_u32(${v})`, dtype);
  if (k === 'x') return dtype === 'uint64' ? `f32_to_u64(${v})` : `f32_to_i64(${v})`;
  return store(v, dtype);
}

const HELPERS: Record<string, string> = {
  // NaN and infinity as runtime values: WGSL rejects them in constant expressions.
  nan_: `var<private> nan_bits_: u32 = 0x7fc00000u;\nfn nan_() -> f32 { return bitcast<f32>(nan_bits_); }`,
  inf_: `var<private> inf_bits_: u32 = 0x7f800000u;\nfn inf_() -> f32 { return bitcast<f32>(inf_bits_); }`,
  isnan_: `fn isnan_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) > 0x7f800000u; }`,
  isinf_: `fn isinf_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) == 0x7f800000u; }`,
  nonzero_: `fn nonzero_(x: f32) -> bool { return (bitcast<u32>(x) & 0x7fffffffu) != 0u; }`,
  f16r: `fn f16r(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  let s = b & 0x80000000u;
  let a = b & 0x7fffffffu;
  if (a >= 0x7f800000u) { return x; }
  if (a >= 0x477ff000u) { return bitcast<f32>(s | 0x7f800000u); }
  if (a < 0x38800000u) { return round(x * 16777216.0) * 5.9604644775390625e-8; }
  let r = a + 0xfffu + ((a >> 13u) & 1u);
  return bitcast<f32>(s | (r & 0xffffe000u));
}`,
  bf16r: `fn bf16r(x: f32) -> f32 {
  let b = bitcast<u32>(x);
  if ((b & 0x7fffffffu) > 0x7f800000u) { return nan_(); }
  return bitcast<f32>((b + 0x7fffu + ((b >> 16u) & 1u)) & 0xffff0000u);
}`,
  f32_to_i32: `fn f32_to_i32(x: f32) -> i32 {
  if (isnan_(x) || isinf_(x)) { return 0; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32(t); }
  let hi = floor(t / 4294967296.0);
  return bitcast<i32>(u32(t - hi * 4294967296.0));
}`,
  f32_to_u32: `fn f32_to_u32(x: f32) -> u32 {
  if (isnan_(x) || isinf_(x)) { return 0u; }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return bitcast<u32>(i32(t)); }
  let hi = floor(t / 4294967296.0);
  return u32(t - hi * 4294967296.0);
}`,
  i32_to_x: `fn i32_to_x(v: i32) -> vec2<u32> { return vec2<u32>(bitcast<u32>(v), select(0u, 0xffffffffu, v < 0)); }`,
  i64_to_f32: `fn i64_to_f32(v: vec2<u32>) -> f32 {
  let hi = bitcast<i32>(v.y);
  if ((hi == 0 && v.x < 0x80000000u) || (hi == -1 && v.x >= 0x80000000u)) { return f32(bitcast<i32>(v.x)); }
  return f32(hi) * 4294967296.0 + f32(v.x);
}`,
  u64_to_f32: `fn u64_to_f32(v: vec2<u32>) -> f32 { return f32(v.y) * 4294967296.0 + f32(v.x); }`,
  f32_to_i64: `fn f32_to_i64(x: f32) -> vec2<u32> {
  if (isnan_(x) || x <= -9223372036854775808.0) { return vec2<u32>(0u, 0x80000000u); }
  if (x >= 9223372036854775808.0) { return vec2<u32>(0xffffffffu, 0x7fffffffu); }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32_to_x(i32(t)); }
  let hi = floor(t / 4294967296.0);
  let lo = t - hi * 4294967296.0;
  return vec2<u32>(u32(lo), bitcast<u32>(i32(hi)));
}`,
  f32_to_u64: `fn f32_to_u64(x: f32) -> vec2<u32> {
  if (!(abs(x) < 18446744073709551616.0)) { return vec2<u32>(0u, 0u); }
  let t = trunc(x);
  if (abs(t) < 2147483648.0) { return i32_to_x(i32(t)); }
  if (t < 0.0) {
    let m = -t;
    let hi = floor(m / 4294967296.0);
    let lo = m - hi * 4294967296.0;
    let nlo = 0u - u32(lo);
    return vec2<u32>(nlo, ~u32(hi) + select(0u, 1u, nlo == 0u));
  }
  let hi = floor(t / 4294967296.0);
  return vec2<u32>(u32(t - hi * 4294967296.0), u32(hi));
}`,
  lt_i64: `fn lt_i64(a: vec2<u32>, b: vec2<u32>) -> bool {
  let ah = bitcast<i32>(a.y);
  let bh = bitcast<i32>(b.y);
  return ah < bh || (ah == bh && a.x < b.x);
}`,
  lt_u64: `fn lt_u64(a: vec2<u32>, b: vec2<u32>) -> bool { return a.y < b.y || (a.y == b.y && a.x < b.x); }`,
  // 64-bit integer arithmetic on (low, high) word pairs, wrapping like int64/uint64 storage.
  add64: `fn add64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { let lo = a.x + b.x; return vec2<u32>(lo, a.y + b.y + select(0u, 1u, lo < a.x)); }`,
  sub64: `fn sub64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { return vec2<u32>(a.x - b.x, a.y - b.y - select(0u, 1u, a.x < b.x)); }`,
  neg64: `fn neg64(a: vec2<u32>) -> vec2<u32> { return sub64(vec2<u32>(0u, 0u), a); }`,
  isneg64: `fn isneg64(a: vec2<u32>) -> bool { return (a.y & 0x80000000u) != 0u; }`,
  mul32x32: `fn mul32x32(a: u32, b: u32) -> vec2<u32> {
  let a0 = a & 0xffffu; let a1 = a >> 16u; let b0 = b & 0xffffu; let b1 = b >> 16u;
  let p00 = a0 * b0; let p01 = a0 * b1; let p10 = a1 * b0; let p11 = a1 * b1;
  let mid = (p00 >> 16u) + (p01 & 0xffffu) + (p10 & 0xffffu);
  return vec2<u32>((p00 & 0xffffu) | (mid << 16u), p11 + (p01 >> 16u) + (p10 >> 16u) + (mid >> 16u));
}`,
  mul64: `fn mul64(a: vec2<u32>, b: vec2<u32>) -> vec2<u32> { let p = mul32x32(a.x, b.x); return vec2<u32>(p.x, p.y + a.x * b.y + a.y * b.x); }`,
  divu64: `fn divu64(n: vec2<u32>, d: vec2<u32>) -> vec2<u32> {
  if (d.x == 0u && d.y == 0u) { return vec2<u32>(0u, 0u); }
  if (n.y == 0u && d.y == 0u) { return vec2<u32>(n.x / d.x, 0u); }
  var q = vec2<u32>(0u, 0u);
  var r = vec2<u32>(0u, 0u);
  for (var i = 63i; i >= 0i; i = i - 1i) {
    let bit = select((n.x >> u32(i)) & 1u, (n.y >> u32(i - 32i)) & 1u, i >= 32i);
    r = vec2<u32>((r.x << 1u) | bit, (r.y << 1u) | (r.x >> 31u));
    if (!lt_u64(r, d)) {
      r = sub64(r, d);
      if (i >= 32i) { q.y = q.y | (1u << u32(i - 32i)); } else { q.x = q.x | (1u << u32(i)); }
    }
  }
  return q;
}`,
  divs64: `fn divs64(n: vec2<u32>, d: vec2<u32>) -> vec2<u32> {
  let an = select(n, neg64(n), isneg64(n));
  let ad = select(d, neg64(d), isneg64(d));
  let q = divu64(an, ad);
  return select(q, neg64(q), isneg64(n) != isneg64(d));
}`,
  erf_: `fn erf_(x: f32) -> f32 {
  let z = abs(x);
  if (z >= 4.0) { return sign(x); }
  if (z < 0.5) {
    let z2 = z * z;
    return x * (1.1283791671 + z2 * (-0.3761263890 + z2 * (0.1128379167 + z2 * (-0.0268661706 + z2 * (0.0052239776 + z2 * -0.0008548327)))));
  }
  let t = 1.0 / (1.0 + 0.5 * z);
  let y = t * exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return select(1.0 - y, y - 1.0, x < 0.0);
}`,
  sigmoid_: `fn sigmoid_(x: f32) -> f32 {
  if (x >= 0.0) { return 1.0 / (1.0 + exp(-x)); }
  let e = exp(x);
  return e / (1.0 + e);
}`,
  // Small arguments by series: drivers' tanh/exp-1/log(1+u) lose the relative precision there.
  tanh_: `fn tanh_(x: f32) -> f32 {
  if (abs(x) < 0.0625) { let x2 = x * x; return x * (1.0 + x2 * (-0.33333333 + x2 * (0.13333333 - x2 * 0.053968254))); }
  return tanh(clamp(x, -15.0, 15.0));
}`,
  expm1_: `fn expm1_(x: f32) -> f32 {
  if (abs(x) < 0.01) { return x * (1.0 + x * (0.5 + x * (0.16666667 + x * 0.041666668))); }
  return exp(x) - 1.0;
}`,
  log1p_: `fn log1p_(u: f32) -> f32 {
  if (abs(u) < 0.01) { return u * (1.0 + u * (-0.5 + u * (0.33333333 - u * 0.25))); }
  return log(1.0 + u);
}`,
  softplus_: `fn softplus_(x: f32) -> f32 {
  if (x > 0.0) { return x + log1p_(exp(-x)); }
  return log1p_(exp(x));
}`,
  clip01_: `fn clip01_(v: f32) -> f32 { return select(select(v, 0.0, v < 0.0), 1.0, v > 1.0); }`,
  sign_: `fn sign_(x: f32) -> f32 { return select(select(select(0.0, -1.0, x < 0.0), 1.0, x > 0.0), x, isnan_(x)); }`,
  powc_: `fn powc_(x: f32, y: f32) -> f32 {
  // NaN tests first: comparisons with NaN are not reliable on every driver.
  if ((!isnan_(x) && x == 1.0) || (!isnan_(y) && y == 0.0)) { return 1.0; }
  if (isnan_(x) || isnan_(y)) { return nan_(); }
  if (x == -1.0 && isinf_(y)) { return 1.0; }
  let ay = abs(y);
  let yint = trunc(y) == y;
  let odd = yint && ay < 16777216.0 && (u32(ay) & 1u) == 1u;
  if (x == 0.0) {
    if (y > 0.0) { return select(0.0, x, odd); }
    return select(inf_(), select(inf_(), (-inf_()), bitcast<u32>(x) == 0x80000000u), odd);
  }
  if (x < 0.0 && !yint) { return nan_(); }
  let ax = abs(x);
  var r: f32;
  if (yint && ay <= 64.0) {
    r = 1.0;
    var b = ax;
    var e = u32(ay);
    loop { if (e == 0u) { break; } if ((e & 1u) == 1u) { r = r * b; } b = b * b; e = e >> 1u; }
    if (y < 0.0) { r = 1.0 / r; }
  } else if (isinf_(ax)) {
    r = select(0.0, inf_(), y > 0.0);
  } else {
    r = exp2(y * log2(ax));
  }
  return select(r, -r, x < 0.0 && odd);
}`,
  ipow_: `fn ipow_(x: i32, y: i32) -> i32 {
  if (y < 0) { if (x == 1) { return 1; } if (x == -1) { return select(-1, 1, (y & 1) == 0); } return 0; }
  var r = 1;
  var b = x;
  var e = u32(y);
  loop { if (e == 0u) { break; } if ((e & 1u) == 1u) { r = r * b; } b = b * b; e = e >> 1u; }
  return r;
}`,
  upow_: `fn upow_(x: u32, y: u32) -> u32 {
  var r = 1u;
  var b = x;
  var e = y;
  loop { if (e == 0u) { break; } if ((e & 1u) == 1u) { r = r * b; } b = b * b; e = e >> 1u; }
  return r;
}`,
  fmod_: `fn fmod_(a: f32, b: f32) -> f32 {
  if (b == 0.0 || isinf_(a) || isnan_(a) || isnan_(b)) { return nan_(); }
  if (isinf_(b)) { return a; }
  return a - b * trunc(a / b);
}`,
  imod_floor: `fn imod_floor(a: i32, b: i32) -> i32 {
  if (b == 0) { return 0; }
  let r = a % b;
  return select(r, r + b, r != 0 && ((r < 0) != (b < 0)));
}`,
  maxn_: `fn maxn_(a: f32, b: f32) -> f32 { if (isnan_(a)) { return a; } if (isnan_(b)) { return b; } return select(b, a, a > b); }`,
  minn_: `fn minn_(a: f32, b: f32) -> f32 { if (isnan_(a)) { return a; } if (isnan_(b)) { return b; } return select(b, a, a < b); }`,
};

/** Helper names in dependency order (a helper may use the ones before it). */
const ORDER = Object.keys(HELPERS);
const DEPS: Record<string, string[]> = {
  neg64: ['sub64'],
  mul64: ['mul32x32'],
  divu64: ['lt_u64', 'sub64'],
  divs64: ['divu64', 'neg64', 'isneg64'],
  f32_to_i32: ['isnan_', 'isinf_'],
  f32_to_u32: ['isnan_', 'isinf_'],
  f32_to_i64: ['i32_to_x', 'isnan_'],
  f32_to_u64: ['i32_to_x'],
  sign_: ['isnan_'],
  softplus_: ['log1p_'],
  powc_: ['isnan_', 'isinf_', 'nan_', 'inf_'],
  fmod_: ['isnan_', 'isinf_', 'nan_'],
  bf16r: ['nan_'],
  maxn_: ['isnan_'],
  minn_: ['isnan_'],
};

const ENABLE_F16 = 'enable f16;\n';

/** `body` with the definitions of every helper it calls prepended (after `enable f16;` where it uses f16). */
export function withHelpers(code: string): string {
  const body = code.startsWith(ENABLE_F16) ? code.slice(ENABLE_F16.length) : code;
  const need = new Set<string>();
  const add = (n: string) => {
    if (need.has(n) || body.includes(`fn ${n}(`)) return;
    need.add(n);
    for (const d of DEPS[n] ?? []) add(d);
  };
  for (const n of ORDER) if (new RegExp(`\\b${n}\\(`).test(body) && !body.includes(`fn ${n}(`)) add(n);
  const helpers = ORDER.filter((n) => need.has(n)).map((n) => HELPERS[n]);
  const out = helpers.length ? `${helpers.join('\n')}\n${body}` : body;
  // Directives come before every declaration.
  return /\bf16\b/.test(body) ? ENABLE_F16 + out : out;
}
