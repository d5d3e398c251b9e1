/**
 * Pooling on the GPU: MaxPool (with the int64 Indices output and storage_order), AveragePool
 * (count_include_pad, ceil_mode, dilations), their global forms, LpPool, and
 * com.tessera::AveragePoolGrad (gather form: each input position sums the windows that cover it).
 * One thread per output element; windows are resolved by the CPU's window code, taps in-shader.
 */
import { attrFloat, attrInt, attrInts, expectDType, expectFloat } from '../../../ops/helpers.js';
import { TESSERA_DOMAIN } from '../../../ops/nn/domain.js';
import { expectShape } from '../../../ops/nn/pool-taps.js';
import {
  ceilModeOf,
  expectNonNegativePads,
  expectSpatial,
  kernelShape,
  resolveWindow,
  type Window,
} from '../../../ops/nn/window.js';
import { isGradEnabled } from '../../../runtime/autograd.js';
import { isFloat } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import { numel } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
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
import { load, storage, store, storeF32, withHelpers } from '../wgsl.js';

type Mode = 'max' | 'avg' | 'lp';

/** Params: [count, planes, inSize r, outSize r, kernel r, strides r, dilations r, padsBegin r, padsEnd r, extra...]. */
function winParams(n: number, win: Window): Params {
  return new Params()
    .u(n, 0)
    .u(...win.inSize, ...win.outSize, ...win.kernel, ...win.strides, ...win.dilations)
    .i(...win.padsBegin, ...win.padsEnd);
}
const W = (r: number, field: number, d: number) =>
  `${field === 5 || field === 6 ? 'pi' : 'pu'}(${2 + field * r + d}u)`;

/** Nested loops over the window taps of output position `o<d>`, with `p<d>` the input coordinate; `body` sees `off` (in-plane offset). */
function tapLoops(r: number, body: string): string {
  let code = body;
  for (let d = r - 1; d >= 0; d--) {
    const inner = code;
    code = `for (var k${d} = 0u; k${d} < ${W(r, 2, d)}; k${d} = k${d} + 1u) {
  let p${d} = i32(o${d} * ${W(r, 3, d)} + k${d} * ${W(r, 4, d)}) - ${W(r, 5, d)};
  if (p${d} < 0 || p${d} >= i32(${W(r, 0, d)})) { continue; }
  let off${d} = ${d === 0 ? `u32(p0)` : `off${d - 1} * ${W(r, 0, d)} + u32(p${d})`};
  ${d === r - 1 ? `let off = off${d};` : ''}
  ${inner}
}`;
  }
  return code;
}

/** Decomposes the output index gi into plane q and coordinates o0..o{r-1}. */
function outCoords(r: number): string {
  const lines = ['var rest = gi;'];
  for (let d = r - 1; d >= 0; d--)
    lines.push(`let o${d} = rest % ${W(r, 1, d)}; rest = rest / ${W(r, 1, d)};`);
  lines.push('let q = rest;');
  return lines.join('\n  ');
}

/** Product over axes of the window taps inside the padded input (count_include_pad's divisor). */
function padCount(r: number, name = 'pc'): string {
  const lines = [`var ${name} = 1u;`];
  for (let d = 0; d < r; d++) {
    lines.push(`{ var c = 0u; for (var k = 0u; k < ${W(r, 2, d)}; k = k + 1u) {
    let p = i32(o${d} * ${W(r, 3, d)} + k * ${W(r, 4, d)}) - ${W(r, 5, d)};
    if (p >= -${W(r, 5, d)} && p < i32(${W(r, 0, d)}) + ${W(r, 6, d)}) { c = c + 1u; } }
    ${name} = ${name} * c; }`);
  }
  return lines.join('\n  ');
}

function pool(
  x: Tensor,
  win: Window,
  mode: Mode,
  opts: { includePad?: boolean; p?: number; indices?: boolean; storageOrder?: number },
): Tensor[] {
  const r = win.kernel.length;
  const [N, C] = [x.shape[0]!, x.shape[1]!];
  const shape = [N, C, ...win.outSize];
  const y = empty(shape, x.dtype);
  const ind = opts.indices ? empty(shape, 'int64') : null;
  const n = numel(shape);
  if (n === 0) return ind ? [y, ind] : [y];
  const P = numel(win.inSize);
  const p = winParams(n, win);
  const extra = p.length;
  p.u(P).f(opts.p ?? 2);
  const v = load('x[q * P + off]', x.dtype, 'f');
  let body: string;
  let result: string;
  if (mode === 'max') {
    body = `let v = ${v}; if (first < 0) { first = i32(off); } if (!isnan_(v) && v > best) { best = v; arg = i32(off); }`;
    result = 'best';
  } else if (mode === 'avg') {
    body = `sum = sum + ${v}; cnt = cnt + 1u;`;
    result = opts.includePad ? 'sum / f32(pc)' : 'sum / f32(cnt)';
  } else {
    body = `sum = sum + pow(abs(${v}), pexp);`;
    result = 'pow(sum, 1.0 / pexp)';
  }
  // Storage order 1: the index in column-major order of the spatial dims.
  let colMajor = '';
  if (ind && opts.storageOrder === 1) {
    // Column-major multipliers: axis 0 varies fastest.
    const mulDecl: string[] = [];
    for (let d = 0; d < r; d++)
      mulDecl.push(`let mul_${d} = ${d === 0 ? '1u' : `mul_${d - 1} * ${W(r, 0, d - 1)}`};`);
    const decomp: string[] = [];
    for (let d = r - 1; d >= 0; d--)
      decomp.push(`idx = rm % ${W(r, 0, d)}; rm = rm / ${W(r, 0, d)}; cm = cm + idx * mul_${d};`);
    colMajor = `${mulDecl.join(' ')}\n  var rm = u32(arg); var cm = 0u; var idx = 0u;\n  ${decomp.join('\n  ')}\n  arg = i32(cm);`;
  }
  const code = withHelpers(`${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'y', x.dtype, 'read_write')}
${ind ? storage(2, 'ind', 'int64', 'read_write') : ''}
${paramsDecl(ind ? 3 : 2, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let P = pu(${extra}u);
  let pexp = pf(${extra + 1}u);
  ${outCoords(r)}
  var best = -inf_();
  var arg = -1;
  var first = -1;
  var sum = 0.0;
  var cnt = 0u;
  ${mode === 'avg' && opts.includePad ? padCount(r) : ''}
  ${tapLoops(r, body)}
  ${mode === 'max' ? 'if (arg < 0 && first >= 0) { arg = first; best = ' + load('x[q * P + u32(first)]', x.dtype, 'f') + '; }' : ''}
  y[gi] = ${storeF32(result, x.dtype)};
  ${ind ? `if (arg < 0) { arg = 0; }\n  ${colMajor}\n  ind[gi] = vec2<u32>(q * P + u32(arg), 0u);` : ''}
}`);
  launch(code, [bufIn(x), handleOf(y), ...(ind ? [handleOf(ind)] : [])], p, grid(n, 64));
  return ind ? [y, ind] : [y];
}

/** dX[N, C, ...in] of an average pooling: each input position gathers dY / divisor of the windows covering it. */
function avgPoolGrad(dy: Tensor, inShape: number[], win: Window, includePad: boolean): Tensor {
  const r = win.kernel.length;
  const dx = empty(inShape, dy.dtype);
  const n = numel(inShape);
  if (n === 0) return dx;
  const p = winParams(n, win);
  const extra = p.length;
  p.u(numel(win.outSize));
  // Input coordinates i<d>; candidate outputs o<d> with o*s - pb + k*dil = i.
  const lines = ['var rest = gi;'];
  for (let d = r - 1; d >= 0; d--)
    lines.push(`let i${d} = rest % ${W(r, 0, d)}; rest = rest / ${W(r, 0, d)};`);
  lines.push('let q = rest;');
  let body = `{
  var cnt = 1u;
  ${includePad ? padCount(r, 'pcx') : ''}
  ${Array.from({ length: r }, (_, d) => `{ var c = 0u; for (var k = 0u; k < ${W(r, 2, d)}; k = k + 1u) { let p = i32(o${d} * ${W(r, 3, d)} + k * ${W(r, 4, d)}) - ${W(r, 5, d)}; if (p >= 0 && p < i32(${W(r, 0, d)})) { c = c + 1u; } } cnt = cnt * c; }`).join('\n  ')}
  let div = ${includePad ? 'f32(pcx)' : 'f32(cnt)'};
  acc = acc + ${load('dy[q * L + lo]', dy.dtype, 'f')} / div;
}`;
  for (let d = r - 1; d >= 0; d--) {
    const inner = body;
    body = `for (var k${d} = 0u; k${d} < ${W(r, 2, d)}; k${d} = k${d} + 1u) {
  let t${d} = i32(i${d}) + ${W(r, 5, d)} - i32(k${d} * ${W(r, 4, d)});
  if (t${d} < 0 || (u32(t${d}) % ${W(r, 3, d)}) != 0u) { continue; }
  let o${d} = u32(t${d}) / ${W(r, 3, d)};
  if (o${d} >= ${W(r, 1, d)}) { continue; }
  let lo${d} = ${d === 0 ? 'o0' : `lo${d - 1} * ${W(r, 1, d)} + o${d}`};
  ${d === r - 1 ? `let lo = lo${d};` : ''}
  ${inner}
}`;
  }
  const code = withHelpers(`${storage(0, 'dy', dy.dtype, 'read')}
${storage(1, 'dx', dy.dtype, 'read_write')}
${paramsDecl(2, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let L = pu(${extra}u);
  ${lines.join('\n  ')}
  var acc = 0.0;
  ${body}
  dx[gi] = ${store('acc', dy.dtype)};
}`);
  launch(code, [bufIn(dy), handleOf(dx)], p, grid(n, 64));
  return dx;
}

const maxPoolable = (d: string) => (isFloat(d as any) && d !== 'float64') || d === 'int8' || d === 'uint8';

export function registerPoolKernels(): void {
  gpuKernel('MaxPool', (inputs, attrs, ctx) => {
    const x = inputs[0]!;
    expectDType(
      ctx.op,
      'X',
      x,
      (d) => isFloat(d) || d === 'int8' || d === 'uint8',
      'a float, int8 or uint8 tensor',
    );
    if (!maxPoolable(x.dtype)) return `has no kernel for ${x.dtype}`;
    expectSpatial(ctx.op, x);
    expectNonNegativePads(ctx.op, attrs);
    const win = resolveWindow(ctx.op, x.shape.slice(2), kernelShape(ctx.op, attrs), attrs, ceilModeOf(attrs));
    const storageOrder = attrInt(attrs, 'storage_order', 0);
    if (storageOrder !== 0 && storageOrder !== 1) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${ctx.op}: storage_order must be 0 or 1, got ${storageOrder}`,
      );
    }
    // Indices also when the gradient will read them (a one-output graph node trained), as on the CPU.
    const indices = ctx.numOutputs === undefined || ctx.numOutputs > 1 || (isGradEnabled() && x.requiresGrad);
    return pool(x, win, 'max', { indices, storageOrder });
  });
  gpuKernel('GlobalMaxPool', (inputs, _attrs, ctx) => {
    const x = inputs[0]!;
    expectDType(
      ctx.op,
      'X',
      x,
      (d) => isFloat(d) || d === 'int8' || d === 'uint8',
      'a float, int8 or uint8 tensor',
    );
    if (!maxPoolable(x.dtype)) return `has no kernel for ${x.dtype}`;
    expectSpatial(ctx.op, x);
    return pool(x, resolveWindow(ctx.op, x.shape.slice(2), x.shape.slice(2), {}), 'max', {});
  });
  gpuKernel('AveragePool', (inputs, attrs, ctx) => {
    const x = inputs[0]!;
    expectFloat(ctx.op, 'X', x);
    if (x.dtype === 'float64') return 'has no kernel for float64';
    expectSpatial(ctx.op, x);
    expectNonNegativePads(ctx.op, attrs);
    const win = resolveWindow(ctx.op, x.shape.slice(2), kernelShape(ctx.op, attrs), attrs, ceilModeOf(attrs));
    return pool(x, win, 'avg', { includePad: attrInt(attrs, 'count_include_pad', 0) !== 0 });
  });
  gpuKernel('GlobalAveragePool', (inputs, _attrs, ctx) => {
    const x = inputs[0]!;
    expectFloat(ctx.op, 'X', x);
    if (x.dtype === 'float64') return 'has no kernel for float64';
    expectSpatial(ctx.op, x);
    return pool(x, resolveWindow(ctx.op, x.shape.slice(2), x.shape.slice(2), {}), 'avg', {});
  });
  gpuKernel(
    'AveragePoolGrad',
    (inputs, attrs, ctx) => {
      const dy = inputs[0]!;
      if (dy.dtype === 'float64') return 'has no kernel for float64';
      const shape = attrInts(attrs, 'input_shape');
      if (!shape)
        throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: attribute 'input_shape' is required`);
      expectNonNegativePads(ctx.op, attrs);
      const win = resolveWindow(ctx.op, shape.slice(2), kernelShape(ctx.op, attrs), attrs, ceilModeOf(attrs));
      expectShape(ctx.op, 'dY', dy, [shape[0]!, shape[1]!, ...win.outSize]);
      return [avgPoolGrad(dy, shape, win, attrInt(attrs, 'count_include_pad', 0) !== 0)];
    },
    { domain: TESSERA_DOMAIN },
  );
  for (const name of ['LpPool', 'GlobalLpPool']) {
    gpuKernel(name, (inputs, attrs, ctx) => {
      const x = inputs[0]!;
      const p = attrFloat(attrs, 'p', 2);
      if (!(p > 0)) throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: p must be positive, got ${p}`);
      expectFloat(ctx.op, 'X', x);
      if (x.dtype === 'float64') return 'has no kernel for float64';
      expectSpatial(ctx.op, x);
      const sp = x.shape.slice(2);
      let win: Window;
      if (name === 'GlobalLpPool') win = resolveWindow(ctx.op, sp, sp, {});
      else {
        expectNonNegativePads(ctx.op, attrs);
        win = resolveWindow(ctx.op, sp, kernelShape(ctx.op, attrs), attrs, ceilModeOf(attrs));
      }
      return pool(x, win, 'lp', { p });
    });
  }
}
