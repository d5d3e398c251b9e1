/**
 * Reductions over any set of axes, and softmax-style row kernels. The input's dims split into kept
 * dims (one output each) and reduced dims, each group merged where the layout allows. Small
 * reductions use one thread per output; long ones a workgroup per output, combining partial
 * results in workgroup memory.
 */
import type { DType } from '../../../runtime/dtype.js';
import type { Tensor } from '../../../runtime/tensor.js';
import {
  COMPUTE_ARGS,
  empty,
  flatIndex,
  grid,
  handleOf,
  launch,
  MAX_WG,
  Params,
  packed,
  paramsDecl,
} from '../runtime.js';
import { type Kind, kindOf, load, storage, store, WGSL_TYPE, withHelpers } from '../wgsl.js';
import { coalesce } from './elementwise.js';

export interface RowLayout {
  nOut: number;
  R: number;
  kept: { shape: number[]; strides: number[] };
  red: { shape: number[]; strides: number[] };
}

/** Kept and reduced dims of `x` (packed) for `axes`. */
export function rowLayout(x: Tensor, axes: readonly number[]): RowLayout {
  const keptIdx = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
  const kept = coalesce(
    keptIdx.map((i) => x.shape[i]!),
    [keptIdx.map((i) => x.strides[i]!)],
  );
  const red = coalesce(
    axes.map((i) => x.shape[i]!),
    [axes.map((i) => x.strides[i]!)],
  );
  return {
    nOut: keptIdx.reduce((a, i) => a * x.shape[i]!, 1),
    R: axes.reduce((a, i) => a * x.shape[i]!, 1),
    kept: { shape: kept.shape, strides: kept.strides[0]! },
    red: { shape: red.shape, strides: red.strides[0]! },
  };
}

/** Params [nOut, R, kept shape, kept strides, red shape, red strides] and WGSL fns base(o), off(j). */
export function layoutParams(p: Params, l: RowLayout): string {
  p.u(l.nOut, l.R);
  const k0 = p.length;
  p.u(...l.kept.shape, ...l.kept.strides);
  const r0 = p.length;
  p.u(...l.red.shape, ...l.red.strides);
  const fn = (name: string, at: number, rank: number) => {
    if (rank === 0) return `fn ${name}(i: u32) -> u32 { return 0u; }`;
    if (rank === 1) return `fn ${name}(i: u32) -> u32 { return i * pu(${at + 1}u); }`;
    const lines = [`fn ${name}(i: u32) -> u32 {`, '  var r = i; var o = 0u;'];
    for (let d = rank - 1; d >= 0; d--) {
      lines.push(`  { let s = pu(${at + d}u); o = o + (r % s) * pu(${at + rank + d}u); r = r / s; }`);
    }
    lines.push('  return o;', '}');
    return lines.join('\n');
  };
  return `${fn('baseOf', k0, l.kept.shape.length)}\n${fn('offOf', r0, l.red.shape.length)}`;
}

export interface ReduceSpec {
  /** Compute kind of the accumulator (and how elements load). */
  kind: Kind;
  init: string;
  /** Element v (loaded as `kind`) -> contribution. */
  map: string;
  /** Accumulators a, b -> combined. */
  comb: string;
  /** Accumulator acc, count R (u32) -> result value. */
  finish: string;
}

/** Optional per-output f32 values (a packed tensor with one element per output) that `map` reads as `c`. */
export type Center = Tensor | undefined;

const WG = 64;

/** Reduces `x` over `axes` into a new tensor of `outShape` (the kept dims in order). */
export function reduce(
  x: Tensor,
  axes: readonly number[],
  outShape: readonly number[],
  outDtype: DType,
  spec: ReduceSpec,
  center?: Center,
): Tensor {
  const xp = packed(x);
  const cp = center ? packed(center) : undefined;
  const out = empty(outShape, outDtype);
  const l = rowLayout(xp, axes);
  if (l.nOut === 0) return out;
  const p = new Params();
  const fns = layoutParams(p, l);
  const T = WGSL_TYPE[spec.kind];
  const ob = cp ? 2 : 1;
  const decls = `${storage(0, 'x', xp.dtype, 'read')}
${cp ? storage(1, 'center', cp.dtype, 'read') : ''}
${storage(ob, 'out', outDtype, 'read_write')}
${paramsDecl(ob + 1, p.vec4s)}
${fns}
fn map_(v: ${T}, c: f32) -> ${T} { return ${spec.map}; }
fn comb_(a: ${T}, b: ${T}) -> ${T} { return ${spec.comb}; }
fn finish_(acc: ${T}, R: u32) -> ${T} { return ${spec.finish}; }`;
  const elem = `${load('x[base + offOf(j)]', xp.dtype, spec.kind)}, c`;
  const cval = (o: string) => (cp ? `let c = ${load(`center[${o}]`, cp.dtype, 'f')};` : 'let c = 0.0;');
  const result = store('finish_(acc, R)', outDtype);
  let code: string;
  let wg: [number, number, number];
  if (l.R >= 256 && l.nOut <= MAX_WG * 64) {
    code = `${decls}
var<workgroup> sh: array<${T}, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let o = wid.x + wid.y * nwg.x;
  if (o >= pu(0u)) { return; }
  let R = pu(1u);
  let base = baseOf(o);
  ${cval('o')}
  var acc: ${T} = ${spec.init};
  for (var j = li; j < R; j = j + ${WG}u) { acc = comb_(acc, map_(${elem})); }
  sh[li] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) { sh[li] = comb_(sh[li], sh[li + s]); }
    workgroupBarrier();
  }
  if (li == 0u) { acc = sh[0]; out[o] = ${result}; }
}`;
    wg = grid(l.nOut, 1);
  } else {
    code = `${decls}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  if (gi >= pu(0u)) { return; }
  let R = pu(1u);
  let base = baseOf(gi);
  ${cval('gi')}
  var acc: ${T} = ${spec.init};
  for (var j = 0u; j < R; j = j + 1u) { acc = comb_(acc, map_(${elem})); }
  out[gi] = ${result};
}`;
    wg = grid(l.nOut, WG);
  }
  launch(withHelpers(code), [handleOf(xp), ...(cp ? [handleOf(cp)] : []), handleOf(out)], p, wg);
  return out;
}

/**
 * Softmax, LogSoftmax and Hardmax over rows of `len` elements spaced `inner` apart (outer x inner
 * rows), matching the CPU kernel: NaN wins the max, Hardmax marks the first maximum.
 */
export function softmaxRows(
  x: Tensor,
  outer: number,
  len: number,
  inner: number,
  kind: 'softmax' | 'log' | 'hard',
): Tensor {
  const xp = packed(x);
  const out = empty(x.shape, x.dtype);
  const rows = outer * inner;
  if (rows === 0 || len === 0) return out;
  const p = new Params().u(rows, len, inner);
  const v = (a: string) => load(`x[base + (${a}) * inner]`, xp.dtype, 'f');
  const write = (a: string, val: string) => `y[base + (${a}) * inner] = ${store(val, x.dtype)};`;
  // NaN wins; comparisons only between numbers (NaN comparisons are unreliable on some drivers).
  const takes = '!isnan_(m) && (isnan_(xv) || xv > m)';
  const value =
    kind === 'softmax' ? 'exp(d) / s' : kind === 'log' ? 'd - log(s)' : 'select(0.0, 1.0, a == at)';
  const prologue = `let len = pu(1u); let inner = pu(2u);
  let base = (row / inner) * len * inner + row % inner;`;
  let code: string;
  let wg: [number, number, number];
  if (len >= 128) {
    code = `${storage(0, 'x', xp.dtype, 'read')}
${storage(1, 'y', x.dtype, 'read_write')}
${paramsDecl(2, p.vec4s)}
var<workgroup> shm: array<f32, ${WG}>;
var<workgroup> sha: array<u32, ${WG}>;
@compute @workgroup_size(${WG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= pu(0u)) { return; }
  ${prologue}
  var m = ${v('li')};
  var at = li;
  for (var a = li + ${WG}u; a < len; a = a + ${WG}u) { let xv = ${v('a')}; if (${takes}) { m = xv; at = a; } }
  shm[li] = m;
  sha[li] = at;
  workgroupBarrier();
  for (var st = ${WG / 2}u; st > 0u; st = st >> 1u) {
    if (li < st) {
      let xv = shm[li + st];
      let ma = shm[li];
      // The first maximum: ties and NaN-vs-NaN go to the lower index.
      let nx = isnan_(xv);
      let na = isnan_(ma);
      let better = !na && (nx || xv > ma);
      let tie = (nx && na) || (!nx && !na && xv == ma);
      if (better || (tie && sha[li + st] < sha[li])) {
        shm[li] = xv;
        sha[li] = sha[li + st];
      }
    }
    workgroupBarrier();
  }
  m = shm[0];
  at = sha[0];
  workgroupBarrier();
  var part = 0.0;
  for (var a = li; a < len; a = a + ${WG}u) { part = part + exp(${v('a')} - m); }
  shm[li] = part;
  workgroupBarrier();
  for (var st = ${WG / 2}u; st > 0u; st = st >> 1u) {
    if (li < st) { shm[li] = shm[li] + shm[li + st]; }
    workgroupBarrier();
  }
  let s = shm[0];
  for (var a = li; a < len; a = a + ${WG}u) { let d = ${v('a')} - m; ${write('a', value)} }
}`;
    wg = grid(rows, 1);
  } else {
    code = `${storage(0, 'x', xp.dtype, 'read')}
${storage(1, 'y', x.dtype, 'read_write')}
${paramsDecl(2, p.vec4s)}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  let row = gi;
  if (row >= pu(0u)) { return; }
  ${prologue}
  var m = ${v('0u')};
  var at = 0u;
  for (var a = 1u; a < len; a = a + 1u) { let xv = ${v('a')}; if (${takes}) { m = xv; at = a; } }
  var s = 0.0;
  for (var a = 0u; a < len; a = a + 1u) { s = s + exp(${v('a')} - m); }
  for (var a = 0u; a < len; a = a + 1u) { let d = ${v('a')} - m; ${write('a', value)} }
}`;
    wg = grid(rows, WG);
  }
  launch(withHelpers(code), [handleOf(xp), handleOf(out)], p, wg);
  return out;
}

/** ArgMax/ArgMin along one axis (rows of `len` spaced `inner` apart), int64 indices. */
export function argReduce(
  x: Tensor,
  outer: number,
  len: number,
  inner: number,
  outShape: number[],
  isMax: boolean,
  selectLast: boolean,
): Tensor {
  const xp = packed(x);
  const out = empty(outShape, 'int64');
  const rows = outer * inner;
  if (rows === 0) return out;
  const p = new Params().u(rows, len, inner);
  const k = kindOf(xp.dtype);
  const v = (a: string) => load(`x[base + (${a}) * inner]`, xp.dtype, k);
  const nan = (e: string) => (k === 'f' ? `isnan_(${e})` : 'false');
  const better = isMax ? 'v > best' : 'v < best';
  const code = withHelpers(`${storage(0, 'x', xp.dtype, 'read')}
${storage(1, 'y', 'int64', 'read_write')}
${paramsDecl(2, p.vec4s)}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  if (gi >= pu(0u)) { return; }
  let len = pu(1u); let inner = pu(2u);
  let base = (gi / inner) * len * inner + gi % inner;
  var best = ${v('0u')};
  var at = 0u;
  for (var a = 1u; a < len; a = a + 1u) {
    let v = ${v('a')};
    var take = false;
    if (${nan('v')}) { take = !${nan('best')} || ${selectLast}; }
    else if (${nan('best')}) { take = false; }
    else if (v == best) { take = ${selectLast}; }
    else { take = ${better}; }
    if (take) { best = v; at = a; }
  }
  y[gi] = vec2<u32>(at, 0u);
}`);
  launch(code, [handleOf(xp), handleOf(out)], p, grid(rows, WG));
  return out;
}
