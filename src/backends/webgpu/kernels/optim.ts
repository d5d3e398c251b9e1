/**
 * Optimizer kernels for WebGPU (src/optim/device-optim.ts): one fused WGSL kernel per optimizer
 * step of one parameter, which reads the gradient and the state buffers, updates them and writes
 * the parameter in place, in f32 (16-bit float parameters rounded on write, as their CPU storage).
 * Each rule is written line for line as the CPU `update` of its optimizer; the per-step scalars
 * come computed in float64. Variants (maximize, weight decay, momentum, nesterov, amsgrad,
 * centered...) are separate shaders, compiled once each. State buffers start from the rule's
 * initial value on the first step without a fill pass (the `fresh` bits).
 *
 * Also: the gradient norm for clipGradNorm (per-workgroup partial sums, one combining pass, one
 * 4-byte read-back), and in-place scale / clamp / fill of gradients.
 */
import type {
  AdagradStep,
  AdamStep,
  DeviceOptimKernels,
  DeviceState,
  RMSpropStep,
  SGDStep,
} from '../../../optim/device-optim.js';
import { type DType, fromNumbers } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import { Tensor } from '../../../runtime/tensor.js';
import type { GpuBuffer } from '../client.js';
import { encodeForGpu, gpuHolds, reprOf } from '../repr.js';
import {
  COMPUTE_ARGS,
  empty,
  flatIndex,
  gpu,
  grid,
  handleOf,
  launch,
  Params,
  packed,
  paramsDecl,
  upload,
} from '../runtime.js';
import { load, storage, store } from '../wgsl.js';

const WG = 64;
/** Byte alignment of binding offsets (WebGPU's minStorageBufferOffsetAlignment is at most 256). */
const ALIGN = 256;

/** The part of a buffer a flat kernel walks: elements of `eb` bytes from element `off`. */
interface Flat {
  buf: GpuBuffer;
  off: number;
  eb: number;
}

/** A GPU tensor whose elements lie contiguously in its buffer (packing a strided view first). */
function contiguous(t: Tensor): Tensor {
  return t.device === 'webgpu' && t.isContiguous() ? t : packed(t);
}

function flat(t: Tensor): Flat {
  return { buf: handleOf(t), off: t.offset, eb: reprOf(t.dtype).bytes };
}

/** Kernels write these buffers in place: a CPU copy kept from an upload would now be stale. */
function written(...ts: Tensor[]): void {
  for (const t of ts) handleOf(t).shadow = undefined;
}

/**
 * Launches a flat kernel over `n` elements. Params: [n, element base of each binding..., extra].
 * Past the adapter's binding limit it runs in chunks, each binding the part of every buffer it
 * walks (the bases then count from the start of the bound part).
 */
function launchFlat(code: string, flats: Flat[], n: number, extra: Params | null, size = WG): void {
  if (n === 0) return;
  const bufs = flats.map((f) => f.buf);
  const words = extra ? extra.build().subarray(0, extra.length) : new Uint32Array(0);
  const limit = gpu().maxBinding;
  if (flats.every((f) => f.buf.bytes <= limit)) {
    const p = new Params().u(n, ...flats.map((f) => f.off)).u(...words);
    launch(code, bufs, p, grid(n, size));
    return;
  }
  const eb = Math.max(...flats.map((f) => f.eb));
  const chunk = Math.floor((limit - 2 * ALIGN) / eb / size) * size;
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const p = new Params().u(len);
    const ranges: [number, number][] = [];
    for (const f of flats) {
      const first = (f.off + start) * f.eb;
      const at = Math.floor(first / ALIGN) * ALIGN;
      ranges.push([at, Math.min(Math.ceil((first - at + len * f.eb) / 4) * 4, f.buf.bytes - at)]);
      p.u((first - at) / f.eb);
    }
    launch(code, bufs, p.u(...words), grid(len, size), ranges);
  }
}

const vec4s = (words: number) => Math.max(1, Math.ceil(words / 4));

/** Shader variants by their key (the code is built once per variant). */
const shaders = new Map<string, string>();
/** A dtype and how it is stored (float16 as f16 or as rounded f32): part of a shader's key. */
const variant = (d: DType) => `${d}:${reprOf(d).wgsl}`;
function cached(key: string, make: () => string): string {
  let s = shaders.get(key);
  if (s === undefined) shaders.set(key, (s = make()));
  return s;
}

/**
 * The fused update of one parameter: binding 0 the parameter (read_write), 1 the gradient, then the
 * state buffers s0.. (read_write). Params: n, the bases ip/ig/i0.., the `fresh` bit mask, then the
 * f32 scalars c0... `body` updates `p` (loaded) from `g0` and the states; the result is stored with
 * the parameter dtype's rounding.
 */
function updateShader(dtype: DType, gdtype: DType, nStates: number, nScalars: number, body: string): string {
  const maskAt = 3 + nStates;
  const states = Array.from({ length: nStates }, (_, j) => j);
  return `${storage(0, 'prm', dtype, 'read_write')}
${storage(1, 'grd', gdtype, 'read')}
${states.map((j) => `@group(0) @binding(${2 + j}) var<storage, read_write> s${j}: array<f32>;`).join('\n')}
${paramsDecl(2 + nStates, vec4s(maskAt + 1 + nScalars))}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  if (gi >= pu(0u)) { return; }
  let ip = pu(1u) + gi;
  let ig = pu(2u) + gi;
  ${states.map((j) => `let i${j} = pu(${3 + j}u) + gi;`).join('\n  ')}
  let fresh = pu(${maskAt}u);
  ${Array.from({ length: nScalars }, (_, k) => `let c${k} = pf(${maskAt + 1 + k}u);`).join('\n  ')}
  var p = ${load('prm[ip]', dtype, 'f')};
  let g0 = ${load('grd[ig]', gdtype, 'f')};
  ${body}
  prm[ip] = ${store('p', dtype)};
}`;
}

/** WGSL reading state `j` into `name`, or `init` when it is fresh. */
function loadState(j: number, name: string, init: string): string {
  return `var ${name} = ${init}; if ((fresh & ${1 << j}u) == 0u) { ${name} = s${j}[i${j}]; }`;
}

function runUpdate(
  key: string,
  p: Tensor,
  g: Tensor,
  states: DeviceState[],
  scalars: number[],
  body: () => string,
): void {
  const gc = contiguous(g);
  const code = cached(`${key}|${variant(p.dtype)}|${variant(gc.dtype)}|${states.length}`, () =>
    updateShader(p.dtype, gc.dtype, states.length, scalars.length, body()),
  );
  let mask = 0;
  states.forEach((s, j) => {
    if (s.fresh) mask |= 1 << j;
  });
  launchFlat(
    code,
    [flat(p), flat(gc), ...states.map((s) => flat(s.t))],
    p.numel(),
    new Params().u(mask).f(...scalars),
  );
  written(p, ...states.map((s) => s.t));
  for (const s of states) s.fresh = false;
}

/** g <- maximize ? -g : g, then (coupled) weight decay, as every rule starts. */
const gradIn = (maximize: boolean, wd: string | null) =>
  `var g = ${maximize ? '-g0' : 'g0'};${wd ? ` g = g + ${wd} * p;` : ''}`;

function sgd(p: Tensor, g: Tensor, buf: DeviceState | null, h: SGDStep): void {
  const wd = h.weightDecay !== 0;
  const key = `sgd|${h.maximize}|${wd}|${buf !== null}|${h.nesterov}`;
  // c0 lr, c1 momentum, c2 1 - dampening, c3 weightDecay
  runUpdate(key, p, g, buf ? [buf] : [], [h.lr, h.momentum, 1 - h.dampening, h.weightDecay], () => {
    const lines = [gradIn(h.maximize, wd ? 'c3' : null)];
    if (buf) {
      // The first step's buffer is the gradient itself.
      lines.push(
        'var b = g; if ((fresh & 1u) == 0u) { b = c1 * s0[i0] + c2 * g; }',
        's0[i0] = b;',
        h.nesterov ? 'g = g + c1 * b;' : 'g = b;',
      );
    }
    lines.push('p = p - c0 * g;');
    return lines.join('\n  ');
  });
}

function adam(
  p: Tensor,
  g: Tensor,
  m: DeviceState,
  v: DeviceState,
  vmax: DeviceState | null,
  h: AdamStep,
): void {
  const wd = h.weightDecay !== 0;
  const key = `adam|${h.maximize}|${wd}|${h.decoupled}|${vmax !== null}`;
  const scalars = [
    h.stepSize, // c0
    h.beta1, // c1
    1 - h.beta1, // c2
    h.beta2, // c3
    1 - h.beta2, // c4
    h.bc2Sqrt, // c5
    h.eps, // c6
    h.weightDecay, // c7
    1 - h.lr * h.weightDecay, // c8
  ];
  runUpdate(key, p, g, vmax ? [m, v, vmax] : [m, v], scalars, () =>
    [
      gradIn(h.maximize, wd && !h.decoupled ? 'c7' : null),
      wd && h.decoupled ? 'p = p * c8;' : '',
      loadState(0, 'm', '0.0'),
      'm = c1 * m + c2 * g;',
      's0[i0] = m;',
      loadState(1, 'v', '0.0'),
      'v = c3 * v + c4 * g * g;',
      's1[i1] = v;',
      'var second = v;',
      vmax ? `${loadState(2, 'vm', '0.0')} second = maxn_(vm, second); s2[i2] = second;` : '',
      'let denom = sqrt(second) / c5 + c6;',
      'p = p - (c0 * m) / denom;',
    ].join('\n  '),
  );
}

function rmsprop(
  p: Tensor,
  g: Tensor,
  sq: DeviceState,
  gAvg: DeviceState | null,
  buf: DeviceState | null,
  h: RMSpropStep,
): void {
  const wd = h.weightDecay !== 0;
  const states = [sq, ...(gAvg ? [gAvg] : []), ...(buf ? [buf] : [])];
  const jb = states.length - 1;
  const key = `rmsprop|${h.maximize}|${wd}|${gAvg !== null}|${buf !== null}`;
  // c0 lr, c1 alpha, c2 1 - alpha, c3 eps, c4 weightDecay, c5 momentum
  runUpdate(key, p, g, states, [h.lr, h.alpha, 1 - h.alpha, h.eps, h.weightDecay, h.momentum], () =>
    [
      gradIn(h.maximize, wd ? 'c4' : null),
      loadState(0, 'sq', '0.0'),
      'sq = c1 * sq + c2 * g * g;',
      's0[i0] = sq;',
      'var vt = sq;',
      gAvg ? `${loadState(1, 'ga', '0.0')} ga = c1 * ga + c2 * g; s1[i1] = ga; vt = vt - ga * ga;` : '',
      'let avg = sqrt(vt) + c3;',
      buf
        ? `${loadState(jb, 'b', '0.0')} b = c5 * b + g / avg; s${jb}[i${jb}] = b; p = p - c0 * b;`
        : 'p = p - (c0 * g) / avg;',
    ].join('\n  '),
  );
}

function adagrad(p: Tensor, g: Tensor, sum: DeviceState, h: AdagradStep): void {
  const wd = h.weightDecay !== 0;
  const key = `adagrad|${h.maximize}|${wd}`;
  // c0 clr, c1 eps, c2 weightDecay, c3 initialAccumulatorValue
  runUpdate(key, p, g, [sum], [h.clr, h.eps, h.weightDecay, h.initialAccumulatorValue], () =>
    [
      gradIn(h.maximize, wd ? 'c2' : null),
      loadState(0, 's', 'c3'),
      's = s + g * g;',
      's0[i0] = s;',
      'p = p - (c0 * g) / (sqrt(s) + c1);',
    ].join('\n  '),
  );
}

// ---- gradient norms, scale, clamp, fill -----------------------------------------------------------

const RWG = 256;
/** Workgroups per tensor part in the first pass (each thread then sums a strided share). */
const MAX_PARTS = 256;

type NormKind = 'sq' | 'abs' | 'max' | 'pow';

function normKind(order: number): NormKind {
  return order === 2 ? 'sq' : order === 1 ? 'abs' : order === Number.POSITIVE_INFINITY ? 'max' : 'pow';
}

const MAP: Record<NormKind, string> = {
  sq: 'v * v',
  abs: 'abs(v)',
  max: 'abs(v)',
  pow: 'powc_(abs(v), ord)',
};
const comb = (k: NormKind) => (k === 'max' ? 'maxn_(a, b)' : 'a + b');

/** Pass 1: workgroup w writes the combined |x|^order of its strided share to part[at + w]. Params: n, base, at, order. */
function partialShader(k: NormKind, dtype: DType): string {
  return cached(
    `norm1|${k}|${variant(dtype)}`,
    () => `${storage(0, 'x', dtype, 'read')}
@group(0) @binding(1) var<storage, read_write> part: array<f32>;
${paramsDecl(2, 1)}
var<workgroup> sh: array<f32, ${RWG}>;
fn comb_(a: f32, b: f32) -> f32 { return ${comb(k)}; }
@compute @workgroup_size(${RWG}) fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let n = pu(0u);
  let base = pu(1u);
  let ord = pf(3u);
  var acc = 0.0;
  for (var j = wid.x * ${RWG}u + li; j < n; j = j + nwg.x * ${RWG}u) {
    let v = ${load('x[base + j]', dtype, 'f')};
    acc = comb_(acc, ${MAP[k]});
  }
  sh[li] = acc;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) { sh[li] = comb_(sh[li], sh[li + s]); }
    workgroupBarrier();
  }
  if (li == 0u) { part[pu(2u) + wid.x] = sh[0]; }
}`,
  );
}

/** Pass 2: one workgroup combines the `count` partials into out[0]. */
function totalShader(k: NormKind): string {
  return cached(
    `norm2|${k}`,
    () => `@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
${paramsDecl(2, 1)}
var<workgroup> sh: array<f32, ${RWG}>;
fn comb_(a: f32, b: f32) -> f32 { return ${comb(k)}; }
@compute @workgroup_size(${RWG}) fn main(@builtin(local_invocation_index) li: u32) {
  let count = pu(0u);
  var acc = 0.0;
  for (var j = li; j < count; j = j + ${RWG}u) { acc = comb_(acc, part[j]); }
  sh[li] = acc;
  workgroupBarrier();
  for (var s = ${RWG / 2}u; s > 0u; s = s >> 1u) {
    if (li < s) { sh[li] = comb_(sh[li], sh[li + s]); }
    workgroupBarrier();
  }
  if (li == 0u) { out[0] = sh[0]; }
}`,
  );
}

function sumPow(ts: readonly Tensor[], order: number): number {
  const k = normKind(order);
  const limit = gpu().maxBinding;
  // Each tensor in parts no larger than the binding limit allows, each part with its workgroups.
  const parts: { t: Tensor; start: number; len: number; groups: number }[] = [];
  for (const t0 of ts) {
    const t = contiguous(t0);
    const n = t.numel();
    const maxPart = Math.floor((limit - 2 * ALIGN) / reprOf(t.dtype).bytes / RWG) * RWG;
    for (let start = 0; start < n; start += maxPart) {
      const len = Math.min(maxPart, n - start);
      parts.push({ t, start, len, groups: Math.min(MAX_PARTS, Math.ceil(len / RWG)) });
    }
  }
  const count = parts.reduce((a, q) => a + q.groups, 0);
  if (count === 0) return 0;
  const part = empty([count], 'float32');
  let at = 0;
  for (const q of parts) {
    const buf = handleOf(q.t);
    const eb = reprOf(q.t.dtype).bytes;
    const one = partialShader(k, q.t.dtype);
    const p = new Params();
    if (buf.bytes <= limit) {
      p.u(q.len, q.t.offset + q.start, at).f(order);
      launch(one, [buf, handleOf(part)], p, [q.groups, 1, 1]);
    } else {
      const first = (q.t.offset + q.start) * eb;
      const from = Math.floor(first / ALIGN) * ALIGN;
      const size = Math.min(Math.ceil((first - from + q.len * eb) / 4) * 4, buf.bytes - from);
      p.u(q.len, (first - from) / eb, at).f(order);
      launch(one, [buf, handleOf(part)], p, [q.groups, 1, 1], [[from, size], null]);
    }
    at += q.groups;
  }
  const out = empty([1], 'float32');
  launch(totalShader(k), [handleOf(part), handleOf(out)], new Params().u(count), [1, 1, 1]);
  return new Float32Array(gpu().readSync(handleOf(out), 4))[0]!;
}

function checkTarget(t: Tensor, what: string): void {
  if (t.device !== 'webgpu' || !t.isContiguous() || !supports(t.dtype))
    throw new TesseraError(
      'INTERNAL',
      `webgpu ${what}: expected a contiguous float GPU tensor, got ${t.dtype} on ${t.device}`,
    );
}

/** x <- expr(v = x, c) in place over a contiguous GPU tensor, stored with its dtype's rounding. */
function inPlace(name: string, expr: string, t: Tensor, c: number): void {
  checkTarget(t, name);
  const code = cached(
    `${name}|${variant(t.dtype)}`,
    () => `${storage(0, 'x', t.dtype, 'read_write')}
${paramsDecl(1, 1)}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  if (gi >= pu(0u)) { return; }
  let i = pu(1u) + gi;
  let c = pf(2u);
  let v = ${load('x[i]', t.dtype, 'f')};
  x[i] = ${store(expr, t.dtype)};
}`,
  );
  launchFlat(code, [flat(t)], t.numel(), new Params().f(c));
  written(t);
}

/** Float dtypes the kernels compute on in f32: float32, and float16/bfloat16 (stored as f16 or rounded f32). */
function supports(dtype: DType): boolean {
  return gpuHolds(dtype) && reprOf(dtype).kind === 'f32';
}

function fromValues(p: Tensor, values: ArrayLike<number>): Tensor {
  const t = upload(Tensor.fromData(Float32Array.from(values), [...p.shape], 'float32'));
  written(t);
  return t;
}

/**
 * Writes values into p's storage in place (the CPU-rule fallback): float64 parameters as their raw
 * bytes, copied at p's offset; f32-computed floats through a kernel that rounds to p's dtype.
 */
function write(p: Tensor, values: Float64Array): void {
  if (p.device !== 'webgpu' || !p.isContiguous())
    throw new TesseraError('INTERNAL', 'webgpu optimizer: expected a contiguous GPU parameter');
  const n = p.numel();
  if (n === 0) return;
  if (!supports(p.dtype)) {
    const eb = reprOf(p.dtype).bytes;
    const bytes = encodeForGpu(p.dtype, fromNumbers(p.dtype, values));
    const c = gpu();
    const staging = c.alloc(bytes.byteLength);
    c.upload(staging, bytes);
    c.copy(staging, 0, handleOf(p), p.offset * eb, n * eb);
  } else {
    const src = fromValues(p, values);
    const code = cached(
      `optim-write|${variant(p.dtype)}`,
      () => `${storage(0, 'x', p.dtype, 'read_write')}
@group(0) @binding(1) var<storage, read> src: array<f32>;
${paramsDecl(2, 1)}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  if (gi >= pu(0u)) { return; }
  x[pu(1u) + gi] = ${store('src[pu(2u) + gi]', p.dtype)};
}`,
    );
    launchFlat(code, [flat(p), flat(src)], n, null);
  }
  written(p);
}

/** dst <- src in place (TrainingSession's running statistics and loaded weights on the GPU). */
function assign(dst: Tensor, src: Tensor): void {
  checkTarget(dst, 'assign');
  if (src.numel() !== dst.numel())
    throw new TesseraError('INTERNAL', `webgpu assign: ${src.numel()} elements into ${dst.numel()}`);
  const s = contiguous(src);
  if (!supports(s.dtype)) {
    write(dst, Float64Array.from(s.to('cpu').numbers()));
    return;
  }
  const code = cached(
    `optim-assign|${variant(dst.dtype)}|${variant(s.dtype)}`,
    () => `${storage(0, 'x', dst.dtype, 'read_write')}
${storage(1, 'src', s.dtype, 'read')}
${paramsDecl(2, 1)}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  if (gi >= pu(0u)) { return; }
  x[pu(1u) + gi] = ${store(load('src[pu(2u) + gi]', s.dtype, 'f'), dst.dtype)};
}`,
  );
  launchFlat(code, [flat(dst), flat(s)], dst.numel(), null);
  written(dst);
}

export const webgpuOptimKernels: DeviceOptimKernels = {
  supports,
  alloc: (p) => empty([...p.shape], 'float32'),
  fromValues,
  write,
  assign,
  sgd,
  adam,
  rmsprop,
  adagrad,
  sumPow,
  scale: (t, c) => inPlace('optim-scale', 'v * c', t, c),
  clamp: (t, c) => inPlace('optim-clamp', 'minn_(maxn_(v, -c), c)', t, c),
  fill: (t, v) => inPlace('optim-fill', 'c', t, v),
};
