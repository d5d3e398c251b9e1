/**
 * Conv, ConvTranspose and com.tessera::ConvWeightGrad on the GPU, N-d (1-D, 2-D, 3-D...), with
 * groups, strides, dilations, pads and auto_pad resolved by the same window code as the CPU.
 * With enough output channels per group they are implicit GEMMs on the tiled kernel (the im2col
 * matrix is never stored: B elements are gathered from X as the tile loads them; ConvTranspose
 * uses the gather form, so no atomics are needed); depthwise and other thin cases use a direct
 * kernel with one thread per output element.
 */
import { expectFloat, expectSameDType } from '../../../ops/helpers.js';
import { convSetup, groupOf } from '../../../ops/nn/conv.js';
import { convTransposeWindow } from '../../../ops/nn/conv-transpose.js';
import { TESSERA_DOMAIN } from '../../../ops/nn/domain.js';
import { expectSpatial, kernelShape, resolveWindow, type Window } from '../../../ops/nn/window.js';
import type { Attrs, OpInputs } from '../../../ops/registry.js';
import type { DType } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import { fmtShape, numel } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { gemmShader, pickConfig } from '../kernels/gemm.js';
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
import { load, storage, store } from '../wgsl.js';

function checkKernel(op: string, attrs: Attrs, w: Tensor): number[] {
  const kernel = kernelShape(op, attrs, w);
  if (kernel.length !== w.ndim - 2 || kernel.some((k, i) => k !== w.shape[i + 2])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: kernel_shape ${fmtShape(kernel)} does not match W's spatial dims ${fmtShape(w.shape.slice(2))}`,
    );
  }
  return kernel;
}

/**
 * Params shared by the conv kernels, after the GEMM's M, N, K: channel counts, then per spatial
 * axis the input size, output size, kernel, stride, dilation and begin pad.
 */
interface Geo {
  C: number; // input channels (of the tensor gathered from)
  Cg: number;
  Mt: number; // output channels in all
  Mg: number;
  Pin: number; // positions of the gathered tensor
  Pout: number; // positions of the output (or of dy)
  KV: number; // kernel volume
}

const GEO = ['C', 'Cg', 'Mt', 'Mg', 'Pin', 'Pout', 'KV'] as const;
const BASE = 3; // after M, N, K

function geoParams(p: Params, g: Geo, win: Window, inSize: number[], outSize: number[]): void {
  for (const k of GEO) p.u(g[k]);
  p.u(...inSize, ...outSize, ...win.kernel, ...win.strides, ...win.dilations);
  p.i(...win.padsBegin);
}

/** WGSL reading the geometry params into constants (r spatial axes). */
function geoLets(): string {
  const lines = GEO.map((k, i) => `let ${k} = pu(${BASE + i}u);`);
  return lines.join('\n  ');
}
const at = (r: number, field: number, d: number) => `pu(${BASE + GEO.length + field * r + d}u)`;
const pad = (r: number, d: number) => `pi(${BASE + GEO.length + 5 * r + d}u)`;

/**
 * fn gather(g, k, j): the conv input value at GEMM row k = (c, tap) and column j = (n, output
 * position); 0 in the padding. `transposed` gives ConvTranspose's gather form instead.
 */
function gatherFn(r: number, transposed: boolean, dtype: DType): string {
  const lines: string[] = [
    'fn gather(g: u32, k: u32, j: u32) -> f32 {',
    `  let Cg = pu(${BASE + 1}u); let C = pu(${BASE}u); let Pin = pu(${BASE + 4}u); let Pout = pu(${BASE + 5}u); let KV = pu(${BASE + 6}u);`,
    '  let n = j / Pout; var l = j % Pout; let c = k / KV; var kk = k % KV;',
    '  var off = 0u; var stride = 1u;',
  ];
  for (let d = r - 1; d >= 0; d--) {
    const inS = at(r, 0, d);
    const outS = at(r, 1, d);
    lines.push(
      `  { let od = l % ${outS}; l = l / ${outS}; let kd = kk % ${at(r, 2, d)}; kk = kk / ${at(r, 2, d)};`,
    );
    if (!transposed) {
      lines.push(`    let id = i32(od * ${at(r, 3, d)} + kd * ${at(r, 4, d)}) - ${pad(r, d)};`);
    } else {
      lines.push(`    let t = i32(od) + ${pad(r, d)} - i32(kd * ${at(r, 4, d)});`);
      lines.push(`    if (t < 0 || (u32(t) % ${at(r, 3, d)}) != 0u) { return 0.0; }`);
      lines.push(`    let id = i32(u32(t) / ${at(r, 3, d)});`);
    }
    lines.push(`    if (id < 0 || id >= i32(${inS})) { return 0.0; }`);
    lines.push(`    off = off + u32(id) * stride; stride = stride * ${inS}; }`);
  }
  lines.push(`  return ${load('x[(n * C + g * Cg + c) * Pin + off]', dtype, 'f')};`, '}');
  return lines.join('\n');
}

const useGemm = (rows: number, depth: number) => rows >= 16 && depth >= 8;

/** Y = conv(X, W) + B. */
function conv(inputs: OpInputs, attrs: Attrs, op: string): Tensor | string {
  const { x, w, b, group, win } = convSetup(op, inputs, attrs);
  if (x.dtype === 'float64') return 'has no kernel for float64';
  const [N, C] = [x.shape[0]!, x.shape[1]!];
  const M = w.shape[0]!;
  const out = empty([N, M, ...win.outSize], x.dtype);
  if (out.numel() === 0) return out;
  const r = win.kernel.length;
  const geo: Geo = {
    C,
    Cg: C / group,
    Mt: M,
    Mg: M / group,
    Pin: numel(win.inSize),
    Pout: numel(win.outSize),
    KV: numel(win.kernel),
  };
  const bufs = [bufIn(x), bufIn(w), ...(b ? [bufIn(b)] : [])];
  const outB = bufs.length;
  const decls = `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'w', x.dtype, 'read')}
${b ? storage(2, 'bias', x.dtype, 'read') : ''}
${storage(outB, 'y', x.dtype, 'read_write')}`;
  const biasOf = (m: string) => (b ? ` + ${load(`bias[${m}]`, x.dtype, 'f')}` : '');
  const Kg = geo.Cg * geo.KV;
  if (useGemm(geo.Mg, Kg)) {
    const p = new Params().u(geo.Mg, N * geo.Pout, Kg);
    geoParams(p, geo, win, win.inSize, win.outSize);
    const pointwise =
      geo.KV === 1 &&
      win.strides.every((s) => s === 1) &&
      win.padsBegin.every((q) => q === 0) &&
      geo.Pin === geo.Pout;
    const code = gemmShader(pickConfig(geo.Mg), {
      decls: `${decls}\n${paramsDecl(outB + 1, p.vec4s)}\n${pointwise ? '' : gatherFn(r, false, x.dtype)}`,
      prologue: geoLets(),
      loadA: load(`w[(batch * Mg + row) * ${Kg}u + k]`, x.dtype, 'f'),
      loadB: pointwise
        ? load('x[((col / Pout) * C + batch * Cg + k) * Pin + col % Pout]', x.dtype, 'f')
        : 'gather(batch, k, col)',
      store: `let n = col / Pout; let m = batch * Mg + row; y[(n * Mt + m) * Pout + col % Pout] = ${store(`v${biasOf('m')}`, x.dtype)};`,
    });
    const cfg = pickConfig(geo.Mg);
    launch(code, [...bufs, handleOf(out)], p, [
      Math.ceil((N * geo.Pout) / (cfg.wx * 4)),
      Math.ceil(geo.Mg / (cfg.wy * cfg.ry)),
      group,
    ]);
    return out;
  }
  // Direct: one thread per output element.
  const p = new Params().u(out.numel(), 0, Kg);
  geoParams(p, geo, win, win.inSize, win.outSize);
  const code = `${decls}
${paramsDecl(outB + 1, p.vec4s)}
${gatherFn(r, false, x.dtype)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  ${geoLets()}
  let l = gi % Pout;
  let m = (gi / Pout) % Mt;
  let n = gi / (Pout * Mt);
  let g = m / Mg;
  let j = n * Pout + l;
  var acc = 0.0;
  for (var k = 0u; k < Cg * KV; k = k + 1u) { acc = acc + ${load('w[m * Cg * KV + k]', x.dtype, 'f')} * gather(g, k, j); }
  y[gi] = ${store(`acc${biasOf('m')}`, x.dtype)};
}`;
  launch(code, [...bufs, handleOf(out)], p, grid(out.numel(), 64));
  return out;
}

/** ConvTranspose checks (as the CPU kernel): X [N, C, ...], W [C, M/group, ...k], B [M]. */
function convTransposeArgs(op: string, inputs: OpInputs, attrs: Attrs) {
  const [x, w, b] = [inputs[0]!, inputs[1]!, inputs[2]];
  expectFloat(op, 'X', x);
  expectSameDType(op, [x, w, b]);
  expectSpatial(op, x);
  const group = groupOf(op, attrs);
  if (w.ndim !== x.ndim || w.shape[0] !== x.shape[1] || x.shape[1]! % group !== 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: W must be [C, M/group, ...k] with C = ${x.shape[1]} (divisible by group ${group}), got ${fmtShape(w.shape)}`,
    );
  }
  const M = w.shape[1]! * group;
  if (b && (b.ndim !== 1 || b.shape[0] !== M)) {
    throw new TesseraError('SHAPE_MISMATCH', `${op}: B must have shape [${M}], got ${fmtShape(b.shape)}`);
  }
  return { x, w, b, group, M, win: convTransposeWindow(op, x, checkKernel(op, attrs, w), attrs) };
}

function convTranspose(inputs: OpInputs, attrs: Attrs, op: string): Tensor | string {
  const { x, w, b, group, M, win } = convTransposeArgs(op, inputs, attrs);
  if (x.dtype === 'float64') return 'has no kernel for float64';
  const [N, C] = [x.shape[0]!, x.shape[1]!];
  // win maps Y (win.inSize) to X (win.outSize): gather X at positions of the conv that Y would feed.
  const out = empty([N, M, ...win.inSize], x.dtype);
  if (out.numel() === 0) return out;
  const r = win.kernel.length;
  const geo: Geo = {
    C,
    Cg: C / group,
    Mt: M,
    Mg: M / group,
    Pin: numel(win.outSize),
    Pout: numel(win.inSize),
    KV: numel(win.kernel),
  };
  const bufs = [bufIn(x), bufIn(w), ...(b ? [bufIn(b)] : [])];
  const outB = bufs.length;
  const decls = `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'w', x.dtype, 'read')}
${b ? storage(2, 'bias', x.dtype, 'read') : ''}
${storage(outB, 'y', x.dtype, 'read_write')}`;
  const biasOf = (m: string) => (b ? ` + ${load(`bias[${m}]`, x.dtype, 'f')}` : '');
  const Kg = geo.Cg * geo.KV;
  // W[(g*Cg + c) * Mg + m, kk] for GEMM row m (in group g) and depth k = (c, kk).
  const wAt = (g: string, m: string, k: string) =>
    load(`w[((${g} * Cg + ${k} / KV) * Mg + ${m}) * KV + ${k} % KV]`, x.dtype, 'f');
  if (useGemm(geo.Mg, Kg)) {
    const p = new Params().u(geo.Mg, N * geo.Pout, Kg);
    geoParams(p, geo, win, win.outSize, win.inSize);
    const code = gemmShader(pickConfig(geo.Mg), {
      decls: `${decls}\n${paramsDecl(outB + 1, p.vec4s)}\n${gatherFn(r, true, x.dtype)}`,
      prologue: geoLets(),
      loadA: wAt('batch', 'row', 'k'),
      loadB: 'gather(batch, k, col)',
      store: `let n = col / Pout; let m = batch * Mg + row; y[(n * Mt + m) * Pout + col % Pout] = ${store(`v${biasOf('m')}`, x.dtype)};`,
    });
    const cfg = pickConfig(geo.Mg);
    launch(code, [...bufs, handleOf(out)], p, [
      Math.ceil((N * geo.Pout) / (cfg.wx * 4)),
      Math.ceil(geo.Mg / (cfg.wy * cfg.ry)),
      group,
    ]);
    return out;
  }
  const p = new Params().u(out.numel(), 0, Kg);
  geoParams(p, geo, win, win.outSize, win.inSize);
  const code = `${decls}
${paramsDecl(outB + 1, p.vec4s)}
${gatherFn(r, true, x.dtype)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  ${geoLets()}
  let l = gi % Pout;
  let m = (gi / Pout) % Mt;
  let n = gi / (Pout * Mt);
  let g = m / Mg;
  let mg = m % Mg;
  let j = n * Pout + l;
  var acc = 0.0;
  for (var k = 0u; k < Cg * KV; k = k + 1u) { acc = acc + ${wAt('g', 'mg', 'k')} * gather(g, k, j); }
  y[gi] = ${store(`acc${biasOf('m')}`, x.dtype)};
}`;
  launch(code, [...bufs, handleOf(out)], p, grid(out.numel(), 64));
  return out;
}

/** dW[M, C/group, ...k] = sum over images and positions of dY x im2col(X). */
function convWeightGrad(inputs: OpInputs, attrs: Attrs, op: string): Tensor | string {
  const [x, dy] = [inputs[0]!, inputs[1]!];
  expectSameDType(op, [x, dy]);
  if (x.dtype === 'float64') return 'has no kernel for float64';
  const group = groupOf(op, attrs);
  const win = resolveWindow(op, x.shape.slice(2), kernelShape(op, attrs), attrs);
  const want = [x.shape[0]!, dy.shape[1]!, ...win.outSize];
  if (dy.ndim !== want.length || dy.shape.some((d, i) => d !== want[i]) || dy.shape[1]! % group !== 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: dY has shape ${fmtShape(dy.shape)}, expected [${x.shape[0]}, M, ${win.outSize.join(', ')}] with M divisible by ${group}`,
    );
  }
  const [N, C] = [x.shape[0]!, x.shape[1]!];
  const M = dy.shape[1]!;
  const r = win.kernel.length;
  const geo: Geo = {
    C,
    Cg: C / group,
    Mt: M,
    Mg: M / group,
    Pin: numel(win.inSize),
    Pout: numel(win.outSize),
    KV: numel(win.kernel),
  };
  const Kg = geo.Cg * geo.KV;
  const out = empty([M, geo.Cg, ...win.kernel], x.dtype);
  if (out.numel() === 0) return out;
  const p = new Params().u(geo.Mg, Kg, N * geo.Pout);
  geoParams(p, geo, win, win.inSize, win.outSize);
  const cfg = pickConfig(geo.Mg);
  const code = gemmShader(cfg, {
    decls: `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'dy', x.dtype, 'read')}
${storage(2, 'dw', x.dtype, 'read_write')}
${paramsDecl(3, p.vec4s)}
${gatherFn(r, false, x.dtype)}`,
    prologue: geoLets(),
    loadA: load('dy[((k / Pout) * Mt + batch * Mg + row) * Pout + k % Pout]', x.dtype, 'f'),
    loadB: 'gather(batch, col, k)',
    store: `dw[(batch * Mg + row) * ${Kg}u + col] = ${store('v', x.dtype)};`,
  });
  launch(code, [bufIn(x), bufIn(dy), handleOf(out)], p, [
    Math.ceil(Kg / (cfg.wx * 4)),
    Math.ceil(geo.Mg / (cfg.wy * cfg.ry)),
    group,
  ]);
  return out;
}

export function registerConvKernels(): void {
  const wrap =
    (f: (i: OpInputs, a: Attrs, op: string) => Tensor | string) =>
    (inputs: OpInputs, attrs: Attrs, ctx: { op: string }) => {
      const r = f(inputs, attrs, ctx.op);
      return typeof r === 'string' ? r : [r];
    };
  gpuKernel('Conv', wrap(conv));
  gpuKernel('ConvTranspose', wrap(convTranspose));
  gpuKernel('ConvWeightGrad', wrap(convWeightGrad), { domain: TESSERA_DOMAIN });
}
