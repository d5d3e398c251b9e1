/**
 * Fast paths for float32/float64 elementwise ops, which the generic loops in elementwise.ts run
 * through a closure call per element and per input. Here broadcasting is reduced to an outer loop
 * over collapsed dimensions and one inner loop over a contiguous (or broadcast, stride 0) run,
 * generated once per op with `new Function` so each op's loop is its own monomorphic code with the
 * arithmetic inlined. Ops call these first and keep their generic kernel for every other case
 * (other dtypes; these return null). Outputs come from `allocate`,
 * so inside a graph run they reuse a dead intermediate's array instead of a fresh one (a fresh
 * multi-megabyte array costs more than the loop that fills it). Relu, LeakyRelu and Clip on float32 run the WASM SIMD kernels, which have
 * no data-dependent branch (the JS loop mispredicts on every other element of real activations).
 */
import { allocate, allocateUnset } from '../../runtime/dtype.js';
import { broadcastShapes, broadcastStrides, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { clipF32Wasm, leakyReluF32Wasm, reluF32Wasm } from './wasm/elementwise.js';

type F = Float32Array | Float64Array;

/**
 * d[from, to) <- Relu in place, as the Relu kernel computes it (Math.max(0, v): -0 becomes +0, NaN
 * stays). Float32 runs the branch-free WASM or native kernel when long enough.
 */
export function reluFloats(d: F, from = 0, to = d.length): void {
  if (d instanceof Float32Array && to - from >= 256) {
    const part = d.subarray(from, to);
    if (reluF32Wasm(part, 0, part)) return;
  }
  for (let i = from; i < to; i++) if (d[i]! <= 0) d[i] = 0;
}
type Inner = (
  a: F,
  ao: number,
  sa: number,
  b: F,
  bo: number,
  sb: number,
  o: F | Uint8Array,
  oo: number,
  n: number,
) => void;

const BINARY_EXPR: Record<string, string> = {
  Add: 'x + y',
  Sub: 'x - y',
  Mul: 'x * y',
  Div: 'x / y',
  // Comparisons write bool (0/1 bytes); NaN compares false, as the generic kernels.
  Greater: 'x > y ? 1 : 0',
  Less: 'x < y ? 1 : 0',
  GreaterOrEqual: 'x >= y ? 1 : 0',
  LessOrEqual: 'x <= y ? 1 : 0',
  Equal: 'x === y ? 1 : 0',
};
const BOOL_OUT = new Set(['Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual', 'Equal']);

function makeInner(expr: string): Inner {
  // Three shapes of inner run: both contiguous, one operand broadcast (stride 0), general strides.
  const body = `
    if (sa === 1 && sb === 1) { for (let i = 0; i < n; i++) { const x = a[ao + i], y = b[bo + i]; o[oo + i] = ${expr}; } return; }
    if (sa === 1 && sb === 0) { const y = b[bo]; for (let i = 0; i < n; i++) { const x = a[ao + i]; o[oo + i] = ${expr}; } return; }
    if (sa === 0 && sb === 1) { const x = a[ao]; for (let i = 0; i < n; i++) { const y = b[bo + i]; o[oo + i] = ${expr}; } return; }
    for (let i = 0; i < n; i++) { const x = a[ao + i * sa], y = b[bo + i * sb]; o[oo + i] = ${expr}; }`;
  return new Function('a', 'ao', 'sa', 'b', 'bo', 'sb', 'o', 'oo', 'n', body) as Inner;
}

const inners = new Map<string, Inner>();
function innerFor(op: string): Inner | undefined {
  const expr = BINARY_EXPR[op];
  if (!expr) return undefined;
  let f = inners.get(op);
  if (!f) inners.set(op, (f = makeInner(expr)));
  return f;
}

/** Whether `op` (an ONNX op type) has a fast binary path. */
export function hasFloatBinary(op: string): boolean {
  return op in BINARY_EXPR;
}

/**
 * Merges adjacent output dims that both inputs walk contiguously, so a [N, C, H, W] + [1, C, 1, 1]
 * becomes three loops, not four, and same-shape inputs one loop.
 */
function collapse(shape: number[], sa: number[], sb: number[]): [number[], number[], number[]] {
  const s: number[] = [];
  const a: number[] = [];
  const b: number[] = [];
  for (let d = 0; d < shape.length; d++) {
    if (shape[d] === 1) continue;
    const k = s.length - 1;
    if (k >= 0 && a[k] === sa[d]! * shape[d]! && b[k] === sb[d]! * shape[d]!) {
      s[k]! *= shape[d]!;
      a[k] = sa[d]!;
      b[k] = sb[d]!;
    } else {
      s.push(shape[d]!);
      a.push(sa[d]!);
      b.push(sb[d]!);
    }
  }
  if (s.length === 0) return [[1], [0], [0]];
  return [s, a, b];
}

/**
 * out = a `op` b (Add, Sub, Mul, Div; Greater, Less, GreaterOrEqual, LessOrEqual, Equal giving
 * bool) with NumPy broadcasting, for two float32 or two float64 tensors (any strides); null for
 * anything else, which the caller's generic kernel handles.
 */
export function floatBinary(op: string, a: Tensor, b: Tensor): Tensor | null {
  if (a.dtype !== b.dtype || (a.dtype !== 'float32' && a.dtype !== 'float64')) return null;
  if (a.storage.data === undefined || b.storage.data === undefined) return null;
  const inner = innerFor(op);
  if (!inner) return null;
  const shape = broadcastShapes([a.shape, b.shape], op);
  const n = numel(shape);
  const bool = BOOL_OUT.has(op);
  // Every element is written (the loops cover the whole output).
  const out = allocateUnset(bool ? 'bool' : a.dtype, n) as Uint8Array | F;
  if (n > 0) {
    const [s, sa, sb] = collapse(
      shape,
      broadcastStrides(a.shape, a.strides, shape),
      broadcastStrides(b.shape, b.strides, shape),
    );
    const A = a.storage.data as F;
    const B = b.storage.data as F;
    const r = s.length - 1;
    const len = s[r]!;
    const outer = n / len;
    const idx = new Array<number>(r).fill(0);
    let ao = a.offset;
    let bo = b.offset;
    for (let i = 0, oo = 0; i < outer; i++, oo += len) {
      inner(A, ao, sa[r]!, B, bo, sb[r]!, out, oo, len);
      for (let d = r - 1; d >= 0; d--) {
        if (++idx[d]! < s[d]!) {
          ao += sa[d]!;
          bo += sb[d]!;
          break;
        }
        ao -= sa[d]! * (s[d]! - 1);
        bo -= sb[d]! * (s[d]! - 1);
        idx[d] = 0;
      }
    }
  }
  return Tensor.fromData(out, shape, bool ? 'bool' : a.dtype);
}

const UNARY_EXPR: Record<string, string> = {
  Relu: 'Math.max(0, x)',
  Neg: '-x',
  Abs: 'Math.abs(x)',
  Sqrt: 'Math.sqrt(x)',
  Exp: 'Math.exp(x)',
  Sigmoid: 'x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))',
  Tanh: 'Math.tanh(x)',
};

type UnaryInner = (a: F, ao: number, o: F, n: number) => void;
const unaryInners = new Map<string, UnaryInner>();

/** Below this many elements the JS loop beats copying into and out of WASM memory. */
const WASM_MIN = 256;

/** The dense float32/float64 storage of `x` from its offset, or null (other dtypes, strided, no CPU data). */
function denseFloat(x: Tensor): F | null {
  const d = x.storage.data;
  if (!(d instanceof Float32Array || d instanceof Float64Array) || !x.isContiguous()) return null;
  if (x.dtype !== 'float32' && x.dtype !== 'float64') return null;
  return d;
}

/**
 * out = f(x) for a contiguous float32/float64 tensor and a unary op with a fast path (Relu, Neg,
 * Abs, Sqrt, Exp, Sigmoid, Tanh); null otherwise. The expressions are the generic kernels' own
 * (Relu is Math.max(0, x), so NaN stays NaN and -0 becomes +0, as the WASM kernel gives too;
 * Sigmoid is the stable two-sided form).
 */
export function floatUnary(op: string, x: Tensor): Tensor | null {
  const a = denseFloat(x);
  const expr = UNARY_EXPR[op];
  if (!a || !expr) return null;
  const n = x.numel();
  const out = allocateUnset(x.dtype, n) as F;
  if (
    op === 'Relu' &&
    out instanceof Float32Array &&
    n >= WASM_MIN &&
    reluF32Wasm(a as Float32Array, x.offset, out)
  )
    return Tensor.fromData(out, x.shape, x.dtype);
  let f = unaryInners.get(op);
  if (!f) {
    f = new Function(
      'a',
      'ao',
      'o',
      'n',
      `for (let i = 0; i < n; i++) { const x = a[ao + i]; o[i] = ${expr}; }`,
    ) as UnaryInner;
    unaryInners.set(op, f);
  }
  f(a, x.offset, out, n);
  return Tensor.fromData(out, x.shape, x.dtype);
}

/** LeakyRelu (x < 0 ? alpha * x : x) for a contiguous float32/float64 tensor; null otherwise. */
export function floatLeakyRelu(x: Tensor, alpha: number): Tensor | null {
  const a = denseFloat(x);
  if (!a) return null;
  const n = x.numel();
  const out = allocate(x.dtype, n) as F;
  // The WASM kernel multiplies in float32: the same rounding only when alpha is a float32 value.
  const wasm =
    out instanceof Float32Array &&
    n >= WASM_MIN &&
    Math.fround(alpha) === alpha &&
    leakyReluF32Wasm(a as Float32Array, x.offset, out, alpha);
  if (!wasm) leakyLoop(a, x.offset, out, n, alpha);
  return Tensor.fromData(out, x.shape, x.dtype);
}
function leakyLoop(a: F, ao: number, o: F, n: number, alpha: number): void {
  for (let i = 0; i < n; i++) {
    const v = a[ao + i]!;
    o[i] = v < 0 ? alpha * v : v;
  }
}

/**
 * Clip (Math.min(Math.max(x, lo), hi), NaN kept) for a contiguous float32/float64 tensor; null
 * otherwise. In float32 the WASM kernel clamps against the bounds rounded to float32, which gives
 * the same values: rounding is monotone, so it commutes with min and max.
 */
export function floatClip(x: Tensor, lo: number, hi: number): Tensor | null {
  const a = denseFloat(x);
  if (!a) return null;
  const n = x.numel();
  const out = allocate(x.dtype, n) as F;
  const wasm =
    out instanceof Float32Array && n >= WASM_MIN && clipF32Wasm(a as Float32Array, x.offset, out, lo, hi);
  if (!wasm) clipLoop(a, x.offset, out, n, lo, hi);
  return Tensor.fromData(out, x.shape, x.dtype);
}
function clipLoop(a: F, ao: number, o: F, n: number, lo: number, hi: number): void {
  for (let i = 0; i < n; i++) o[i] = Math.min(Math.max(a[ao + i]!, lo), hi);
}

/** Elements per block of the variadic ops' float64 accumulator (stays in cache). */
const BLOCK = 2048;
let accBlock: Float64Array | null = null;

/**
 * Sum, Mean, Max or Min of two or more float32/float64 tensors of one shape, all contiguous; null
 * otherwise. As the generic fold: values combine in doubles left to right and round once to the
 * output dtype; Max and Min propagate NaN, and on ties (+0 and -0) take the later operand.
 */
export function floatVariadic(op: 'Sum' | 'Mean' | 'Max' | 'Min', xs: readonly Tensor[]): Tensor | null {
  if (xs.length < 2) return null;
  const x0 = xs[0]!;
  const arrays: F[] = [];
  for (const t of xs) {
    const d = denseFloat(t);
    if (!d || t.dtype !== x0.dtype || t.ndim !== x0.ndim || t.shape.some((s, i) => s !== x0.shape[i]))
      return null;
    arrays.push(d);
  }
  const n = x0.numel();
  const out = allocate(x0.dtype, n) as F;
  const acc = (accBlock ??= new Float64Array(BLOCK));
  const k = xs.length;
  for (let start = 0; start < n; start += BLOCK) {
    const len = Math.min(BLOCK, n - start);
    copyBlock(acc, arrays[0]!, xs[0]!.offset + start, len);
    for (let j = 1; j < k; j++) {
      const src = arrays[j]!;
      const off = xs[j]!.offset + start;
      if (op === 'Max') maxBlock(acc, src, off, len);
      else if (op === 'Min') minBlock(acc, src, off, len);
      else addBlock(acc, src, off, len);
    }
    if (op === 'Mean') for (let i = 0; i < len; i++) out[start + i] = acc[i]! / k;
    else for (let i = 0; i < len; i++) out[start + i] = acc[i]!;
  }
  return Tensor.fromData(out, x0.shape, x0.dtype);
}
function copyBlock(acc: Float64Array, src: F, off: number, len: number): void {
  for (let i = 0; i < len; i++) acc[i] = src[off + i]!;
}
function addBlock(acc: Float64Array, src: F, off: number, len: number): void {
  for (let i = 0; i < len; i++) acc[i] = acc[i]! + src[off + i]!;
}
// The generic kernels' steps: keep acc when it is larger (smaller) or NaN, else take v.
function maxBlock(acc: Float64Array, src: F, off: number, len: number): void {
  for (let i = 0; i < len; i++) {
    const a = acc[i]!;
    const v = src[off + i]!;
    if (!(a > v || Number.isNaN(a))) acc[i] = v;
  }
}
function minBlock(acc: Float64Array, src: F, off: number, len: number): void {
  for (let i = 0; i < len; i++) {
    const a = acc[i]!;
    const v = src[off + i]!;
    if (!(a < v || Number.isNaN(a))) acc[i] = v;
  }
}

/**
 * Where(cond, x, y) for float32/float64 x, y when every operand is contiguous and either has the
 * output's shape or is a single element (the masks gradients build); null otherwise.
 */
export function floatWhere(cond: Tensor, x: Tensor, y: Tensor): Tensor | null {
  if (x.dtype !== y.dtype || (x.dtype !== 'float32' && x.dtype !== 'float64') || cond.dtype !== 'bool')
    return null;
  const ts = [cond, x, y];
  if (ts.some((t) => t.storage.data === undefined || !t.isContiguous())) return null;
  const shape = broadcastShapes([cond.shape, x.shape, y.shape], 'Where');
  const n = numel(shape);
  const fits = (t: Tensor) => t.numel() === 1 || t.numel() === n;
  if (!ts.every(fits)) return null;
  const out = allocate(x.dtype, n) as F;
  const c = cond.storage.data as Uint8Array;
  const a = x.storage.data as F;
  const b = y.storage.data as F;
  const [co, ao, bo] = [cond.offset, x.offset, y.offset];
  const [cs, as, bs] = ts.map((t) => (t.numel() === n ? 1 : 0)) as [number, number, number];
  if (cs === 1 && as === 1 && bs === 0) {
    const v = b[bo]!;
    for (let i = 0; i < n; i++) out[i] = c[co + i] ? a[ao + i]! : v;
  } else if (cs === 1 && as === 0 && bs === 1) {
    const v = a[ao]!;
    for (let i = 0; i < n; i++) out[i] = c[co + i] ? v : b[bo + i]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = c[co + i * cs] ? a[ao + i * as]! : b[bo + i * bs]!;
  }
  return Tensor.fromData(out, shape, x.dtype);
}
