/**
 * Data movement on the GPU.
 * - Concat: one strided copy per input into its slice of the output.
 * - Gather: a kernel reading the indices on the GPU (negative indices wrap; out-of-range ones are
 *   checked on the host when the indices are there, and read as 0 otherwise).
 * - Pure copy ops (Tile, DepthToSpace, SpaceToDepth, ReverseSequence, Trilu, Pad, CenterCropPad,
 *   GatherElements, GatherND, Compress): the CPU kernel runs once on element ids (1..n) with the
 *   small inputs on the host, which gives exactly where each output element comes from (0 where
 *   the op writes a constant); the map is uploaded, cached by shape/attributes/small inputs, and
 *   applied by one gather launch. Later calls with the same arguments cost one launch.
 * - ScatterAddFlat/FlatScatterAdd (movement gradients, MaxPool's gradient): atomic float adds.
 * - Resize/Upsample and their com.tessera apply/gradient forms: the CPU's per-axis plans (taps
 *   and weights), applied axis by axis.
 * - Einsum: two-operand contractions as a batched GEMM on packed operands; the rest (diagonals,
 *   one or three+ operands) with a direct summation kernel.
 */
import { attrInt, attrInts } from '../../../ops/helpers.js';
import { planEinsum } from '../../../ops/linalg/einsum.js';
import { TESSERA_DOMAIN as NN_DOMAIN } from '../../../ops/nn/domain.js';
import { resolveResize } from '../../../ops/nn/resize.js';
import { type AxisPlan, planAxis } from '../../../ops/nn/resize-plan.js';
import { type Attrs, findOp, type KernelContext, type OpInputs } from '../../../ops/registry.js';
import { readIndices } from '../../../ops/shape/gather.js';
import { TESSERA_DOMAIN as SHAPE_DOMAIN } from '../../../ops/shape/layout.js';
import { type DType, isFloat, isInt } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import { contiguousStrides, fmtShape, normAxis, numel } from '../../../runtime/shape.js';
import { Tensor } from '../../../runtime/tensor.js';
import type { GpuBuffer } from '../client.js';
import { gpuKernel } from '../fallback.js';
import { contiguousCopy, elementwise } from '../kernels/elementwise.js';
import { gemmShader, pickConfig } from '../kernels/gemm.js';
import { encodeForGpu, reprOf } from '../repr.js';
import {
  bufIn,
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
  upload,
} from '../runtime.js';
import { fromWord, load, storage, store } from '../wgsl.js';
import { fill } from './misc-ops.js';
import { onCpu, readNumbers } from './values.js';

const floatOnGpu = (d: DType) => isFloat(d) && d !== 'float64';

// ---- cached host-computed tables --------------------------------------------------------------

/** Small tables (index maps, resize taps) uploaded once per distinct key; least recently used dropped. */
const tables = new Map<string, Tensor>();
const TABLE_CAP = 128;

function cachedTable(key: string, make: () => Tensor): Tensor {
  const hit = tables.get(key);
  if (hit) {
    tables.delete(key);
    tables.set(key, hit);
    return hit;
  }
  const t = upload(make());
  tables.set(key, t);
  if (tables.size > TABLE_CAP) tables.delete(tables.keys().next().value!);
  return t;
}

/** Forgets cached tables (when the GPU backend restarts). */
export function clearTables(): void {
  tables.clear();
}

function keyOf(v: unknown): string {
  return JSON.stringify(v, (_k, x) => {
    if (x instanceof Tensor) return { dtype: x.dtype, shape: x.shape, data: Array.from(onCpu(x).numbers()) };
    if (typeof x === 'bigint') return x.toString();
    return x;
  });
}

// ---- gather by flat map ---------------------------------------------------------------------------

/** out[i] = x[map[i] - bias] where map[i] >= bias, else `fill` (the fill given as the dtype's stored words). */
function gatherMapped(
  x: Tensor,
  map: Tensor,
  outShape: readonly number[],
  bias: number,
  fill: Uint32Array,
): Tensor {
  const xp = packed(x);
  const out = empty(outShape, x.dtype);
  const n = numel(outShape);
  if (n === 0) return out;
  const p = new Params()
    .u(n)
    .i(bias)
    .u(fill[0] ?? 0, fill[1] ?? 0);
  const fillV = fromWord('pu(2u)', x.dtype, 'pu(3u)');
  const code = `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'm', map.dtype, 'read')}
${storage(2, 'y', x.dtype, 'read_write')}
${paramsDecl(3, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let s = ${load('m[gi]', map.dtype, 'i')} - pi(1u);
  if (s >= 0) { y[gi] = x[u32(s)]; } else { y[gi] = ${fillV}; }
}`;
  launch(code, [handleOf(xp), bufIn(map), handleOf(out)], p, grid(n, 64));
  return out;
}

/** The stored words of `value` in `dtype`. */
function words(dtype: DType, value: number): Uint32Array {
  const arr = dtype === 'float32' ? Float32Array.of(value) : null;
  if (arr) return new Uint32Array(arr.buffer);
  const t = Tensor.fromData(Float64Array.of(value), [1], 'float64');
  const enc = findOp('Cast')!.kernels.cpu(
    [t],
    { to: dtype },
    { op: 'Cast', opset: Number.POSITIVE_INFINITY, device: 'cpu' },
  )[0]!;
  return new Uint32Array(encodeForGpu(dtype, enc.dataSync()));
}

/**
 * Runs op `name`'s CPU kernel on element ids (1..n, int32) in place of input 0, giving the source of
 * every output element (0 where it writes its constant). `prep` zeroes an op's own fill value first,
 * so the constant never reads as an id; `fillOf` gives the value the GPU writes there instead.
 */
function mapKernel(
  name: string,
  domain?: string,
  fillOf?: (inputs: OpInputs, attrs: Attrs) => number,
  prep?: (rest: (Tensor | undefined)[], attrs: Attrs) => [(Tensor | undefined)[], Attrs],
) {
  return (inputs: OpInputs, attrsIn: Attrs, ctx: KernelContext): Tensor[] | string => {
    const x = inputs[0]!;
    if (x.dtype === 'string') return 'with strings';
    if (x.numel() >= 2 ** 31 - 1) return 'on a tensor too large for int32 maps';
    let rest = inputs.slice(1).map((t) => (t ? onCpu(t) : t));
    let attrs = attrsIn;
    if (prep) [rest, attrs] = prep(rest, attrs);
    const key = keyOf([name, ctx.opset, x.shape, attrs, rest]);
    const def = findOp(name, Number.isFinite(ctx.opset) ? ctx.opset : undefined, domain)!;
    let outShape: number[] = [];
    const map = cachedTable(key, () => {
      const ids = new Int32Array(x.numel());
      for (let i = 0; i < ids.length; i++) ids[i] = i + 1;
      const r = def.kernels.cpu([Tensor.fromData(ids, x.shape, 'int32'), ...rest], attrs, {
        ...ctx,
        device: 'cpu',
      })[0]!;
      return r;
    });
    outShape = [...map.shape];
    const value = fillOf ? fillOf(inputs, attrsIn) : 0;
    return [gatherMapped(x, map, outShape, 1, words(x.dtype, value))];
  };
}

// ---- Concat -----------------------------------------------------------------------------------

function concat(inputs: OpInputs, attrs: Attrs): Tensor[] | string {
  const xs = inputs.filter((t): t is Tensor => t !== undefined);
  if (xs.length === 0) throw new TesseraError('INVALID_ARGUMENT', 'Concat: expects at least 1 input, got 0');
  const first = xs[0]!;
  if (xs.some((t) => t.dtype !== first.dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `Concat: inputs must have the same dtype, got ${xs.map((t) => t.dtype).join(' and ')}`,
    );
  }
  if (first.dtype === 'string') return 'with strings';
  if (first.ndim === 0)
    throw new TesseraError('INVALID_ARGUMENT', 'Concat: inputs must have rank >= 1, got rank 0');
  if (attrs.axis === undefined)
    throw new TesseraError('INVALID_ARGUMENT', "Concat: attribute 'axis' is required");
  const axis = normAxis(attrInt(attrs, 'axis'), first.ndim, 'Concat');
  xs.forEach((x, i) => {
    if (x.ndim !== first.ndim)
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Concat: input ${i} has rank ${x.ndim}, expected ${first.ndim}`,
      );
    for (let d = 0; d < x.ndim; d++) {
      if (d !== axis && x.shape[d] !== first.shape[d]) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `Concat: input ${i} has shape ${fmtShape(x.shape)}, expected ${fmtShape(first.shape)} except on axis ${axis}`,
        );
      }
    }
  });
  const outShape = [...first.shape];
  outShape[axis] = xs.reduce((s, x) => s + x.shape[axis]!, 0);
  const out = empty(outShape, first.dtype);
  let at = 0;
  for (const x of xs) {
    if (x.numel() > 0) {
      const dest = out.asStrided(x.shape, out.strides, at * out.strides[axis]!);
      elementwise({ inputs: [x], loads: ['raw'], expr: 'v0', outDtype: x.dtype, rawOut: true, dest });
    }
    at += x.shape[axis]!;
  }
  return [out];
}

// ---- Gather -----------------------------------------------------------------------------------

function gather(x: Tensor, indices: Tensor, axisAttr: number): Tensor {
  if (x.ndim === 0)
    throw new TesseraError('INVALID_ARGUMENT', 'Gather: data must have rank >= 1, got rank 0');
  if (!isInt(indices.dtype))
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `Gather: indices must be an integer tensor, got ${indices.dtype}`,
    );
  const axis = normAxis(axisAttr, x.ndim, 'Gather');
  const dim = x.shape[axis]!;
  let idx = indices;
  // Indices on the host (or small uploads) are checked and normalized there, with the CPU's errors.
  const hostIdx = indices.device === 'cpu' || (indices.storage.handle as GpuBuffer | undefined)?.shadow;
  if (hostIdx)
    idx = Tensor.fromData(
      Int32Array.from(readIndices('Gather', onCpu(indices), dim, `axis ${axis}`)),
      indices.shape,
      'int32',
    );
  const inner = numel(x.shape.slice(axis + 1));
  const nIdx = idx.numel();
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  const out = empty(shape, x.dtype);
  const n = numel(shape);
  if (n === 0) return out;
  const p = new Params().u(n, nIdx, inner, dim);
  const code = `${storage(0, 'x', x.dtype, 'read')}
${storage(1, 'ix', idx.dtype, 'read')}
${storage(2, 'y', x.dtype, 'read_write')}
${paramsDecl(3, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let inner = pu(2u); let nIdx = pu(1u); let dim = pu(3u);
  let k = gi % inner;
  let j = (gi / inner) % nIdx;
  let o = gi / (inner * nIdx);
  var i = ${load('ix[j]', idx.dtype, 'i')};
  if (i < 0) { i = i + i32(dim); }
  if (i < 0 || i >= i32(dim)) { i = 0; }
  y[gi] = x[(o * dim + u32(i)) * inner + k];
}`;
  launch(code, [bufIn(x), bufIn(idx), handleOf(out)], p, grid(n, 64));
  return out;
}

// ---- scatter-add by flat index -----------------------------------------------------------------

/** Zeros of `shape` plus values[i] at map[i] (skipping negative entries), in float32 (or int32) accumulation. */
function scatterAdd(values: Tensor, map: Tensor, shape: readonly number[], dtype: DType): Tensor {
  const k = reprOf(dtype).kind;
  const accDtype: DType = k === 'f32' ? 'float32' : k === 'i32' ? 'int32' : 'uint32';
  const n = numel(shape);
  const acc = fill(shape, accDtype, new Uint32Array(2));
  const m = values.numel();
  if (m > 0 && n > 0) {
    const p = new Params().u(m, n);
    const add =
      accDtype === 'float32'
        ? `var old = atomicLoad(&acc[t]);
  loop {
    let r = atomicCompareExchangeWeak(&acc[t], old, bitcast<u32>(bitcast<f32>(old) + v));
    if (r.exchanged) { break; }
    old = r.old_value;
  }`
        : `atomicAdd(&acc[t], bitcast<u32>(v));`;
    const code = `${storage(0, 'vals', values.dtype, 'read')}
${storage(1, 'ix', map.dtype, 'read')}
@group(0) @binding(2) var<storage, read_write> acc: array<atomic<u32>>;
${paramsDecl(3, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let i = ${load('ix[gi]', map.dtype, 'i')};
  if (i < 0 || u32(i) >= pu(1u)) { return; }
  let t = u32(i);
  let v = ${load('vals[gi]', values.dtype, accDtype === 'float32' ? 'f' : accDtype === 'int32' ? 'i' : 'u')};
  ${add}
}`;
    launch(code, [bufIn(values), bufIn(map), handleOf(acc)], p, grid(m, 64));
  }
  if (accDtype === dtype) return acc;
  return elementwise({
    inputs: [acc],
    loads: [k === 'f32' ? 'f' : k === 'i32' ? 'i' : 'u'],
    expr: 'v0',
    outDtype: dtype,
  });
}

// ---- Resize -----------------------------------------------------------------------------------

function plansOf(
  inShape: readonly number[],
  outShape: number[],
  scales: number[],
  roi: number[],
  opts: any,
): AxisPlan[] {
  return inShape.map((n, d) =>
    planAxis(n, outShape[d]!, scales[d]!, [roi[d]!, roi[inShape.length + d]!], opts),
  );
}

/** One axis of a resize: out[a, o, i] = sum_k w[o, k] * x[a, idx[o, k], i]. `transposed` applies the adjoint via an inverted table. */
function resizeAxis(
  x: Tensor,
  d: number,
  plan: AxisPlan,
  key: string,
  transposed: boolean,
  outDtype: DType,
): Tensor {
  const shape = [...x.shape];
  const lenIn = transposed ? plan.outLen : plan.inLen;
  const lenOut = transposed ? plan.inLen : plan.outLen;
  shape[d] = lenOut;
  const out = empty(shape, outDtype);
  const n = numel(shape);
  if (n === 0) return out;
  // CSR form: for every output index, its (source index, weight) taps.
  const table = cachedTable(`${key}:${d}:${transposed}`, () => {
    const lists: [number, number][][] = Array.from({ length: lenOut }, () => []);
    for (let o = 0; o < plan.outLen; o++) {
      for (let k = 0; k < plan.n; k++) {
        const w = plan.w[o * plan.n + k]!;
        if (w === 0) continue;
        const i = plan.idx[o * plan.n + k]!;
        if (transposed) lists[i]!.push([o, w]);
        else lists[o]!.push([i, w]);
      }
    }
    const starts = new Int32Array(lenOut + 1);
    const taps: number[] = [];
    lists.forEach((l, o) => {
      starts[o] = taps.length / 2;
      for (const [i, w] of l) taps.push(i, w);
    });
    starts[lenOut] = taps.length / 2;
    const buf = new Float32Array(lenOut + 1 + taps.length);
    new Int32Array(buf.buffer, 0, lenOut + 1).set(starts);
    for (let t = 0; t < taps.length; t += 2) {
      new Int32Array(buf.buffer, (lenOut + 1 + t) * 4, 1)[0] = taps[t]!;
      buf[lenOut + 1 + t + 1] = taps[t + 1]!;
    }
    return Tensor.fromData(buf, [buf.length], 'float32');
  });
  const inner = numel(shape.slice(d + 1));
  const p = new Params().u(n, lenOut, lenIn, inner);
  const code = `${storage(0, 'x', x.dtype, 'read')}
@group(0) @binding(1) var<storage, read> tab: array<u32>;
${storage(2, 'y', outDtype, 'read_write')}
${paramsDecl(3, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  let lenOut = pu(1u); let lenIn = pu(2u); let inner = pu(3u);
  let i = gi % inner;
  let o = (gi / inner) % lenOut;
  let a = gi / (inner * lenOut);
  var acc = 0.0;
  let t1 = tab[o + 1u];
  for (var t = tab[o]; t < t1; t = t + 1u) {
    let src = tab[lenOut + 1u + 2u * t];
    let w = bitcast<f32>(tab[lenOut + 2u + 2u * t]);
    acc = acc + w * ${load('x[(a * lenIn + src) * inner + i]', x.dtype, 'f')};
  }
  y[gi] = ${store('acc', outDtype)};
}`;
  launch(code, [bufIn(x), handleOf(table), handleOf(out)], p, grid(n, 64));
  return out;
}

function applyResize(x: Tensor, plans: AxisPlan[], key: string, transposed: boolean): Tensor {
  let cur = x;
  const order = plans.map((_, d) => d);
  if (transposed) order.reverse();
  const active = order.filter((d) => !plans[d]!.identity);
  if (active.length === 0) return contiguousCopy(x);
  active.forEach((d, j) => {
    cur = resizeAxis(cur, d, plans[d]!, key, transposed, j === active.length - 1 ? x.dtype : 'float32');
  });
  return cur;
}

function resizeOp(name: string, since: number) {
  return (inputs: OpInputs, attrs: Attrs, ctx: KernelContext): Tensor[] | string => {
    const x = inputs[0]!;
    if (!floatOnGpu(x.dtype)) return `has no kernel for ${x.dtype}`;
    const floats = (t: Tensor | undefined) => (t && t.numel() > 0 ? readNumbers(t) : undefined);
    let rs: ReturnType<typeof resolveResize>;
    if (name === 'Resize' && since >= 11)
      rs = resolveResize(
        ctx.op,
        x,
        inputs[1] ? onCpu(inputs[1]) : undefined,
        floats(inputs[2]),
        floats(inputs[3]),
        attrs,
        false,
      );
    else {
      const scales =
        name === 'Upsample' && since < 9 ? (attrs.scales as number[] | undefined) : floats(inputs[1]);
      if (!scales) throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: scales are required`);
      rs = resolveResize(ctx.op, x, undefined, scales, undefined, attrs, true);
    }
    const plans = plansOf(x.shape, rs.outShape, rs.scales, rs.roi, rs.opts);
    if (plans.some((pl) => pl.outside.some((v) => v)))
      return 'with extrapolated (tf_crop_and_resize) positions';
    return [applyResize(x, plans, keyOf(['resize', x.shape, rs]), false)];
  };
}

function resolvedPlans(op: string, attrs: Attrs) {
  const need = (n: string) => {
    const v = attrInts(attrs, n);
    if (!v) throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute '${n}' is required`);
    return v;
  };
  const inShape = need('input_shape');
  const outShape = need('output_shape');
  const opts = {
    mode: attrs.mode,
    coord: attrs.coordinate_transformation_mode,
    nearest: attrs.nearest_mode,
    cubicA: attrs.cubic_coeff_a,
    excludeOutside: attrInt(attrs, 'exclude_outside') !== 0,
    antialias: attrInt(attrs, 'antialias') !== 0,
  };
  const plans = plansOf(inShape, outShape, need('scales'), need('roi'), opts);
  return { inShape, outShape, plans, key: keyOf(['resolved', attrs]) };
}

// ---- Einsum -----------------------------------------------------------------------------------

/** A view of `t` with dims (labels `have`) arranged as `want`, broadcast (stride 0) where a size-1 dim meets a larger label. */
function arrange(t: Tensor, have: string[], want: string[], sizes: Map<string, number>): Tensor {
  const g = t.device === 'webgpu' ? t : upload(t);
  const shape = want.map((l) => sizes.get(l)!);
  const strides = want.map((l) => {
    const d = have.indexOf(l);
    if (d < 0) return 0;
    return g.shape[d] === 1 && sizes.get(l)! !== 1 ? 0 : g.strides[d]!;
  });
  return g.asStrided(shape, strides, g.offset);
}

function einsum(equation: string, xs: Tensor[]): Tensor | string {
  const dtype = xs[0]!.dtype;
  if (!floatOnGpu(dtype)) return `has no kernel for ${dtype}`;
  if (xs.some((t) => t.dtype !== dtype)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `Einsum: inputs must have the same dtype, got ${xs.map((t) => t.dtype).join(' and ')}`,
    );
  }
  const plan = planEinsum(
    equation,
    xs.map((t) => t.shape),
  );
  const outShape = plan.output.map((l) => plan.sizes.get(l)!);
  const simple = xs.length === 2 && plan.inputs.every((ls) => new Set(ls).size === ls.length);
  if (simple) {
    const [la, lb] = plan.inputs as [string[], string[]];
    const out = new Set(plan.output);
    const inA = new Set(la);
    const inB = new Set(lb);
    const everyLabel = new Set([...la, ...lb]);
    // Labels in one operand only and not in the output are summed away: leave those to the direct kernel.
    const ok = [...everyLabel].every((l) => out.has(l) || (inA.has(l) && inB.has(l)));
    if (ok) {
      const batch = plan.output.filter((l) => inA.has(l) && inB.has(l));
      const freeA = plan.output.filter((l) => inA.has(l) && !inB.has(l));
      const freeB = plan.output.filter((l) => inB.has(l) && !inA.has(l));
      const contr = la.filter((l) => inB.has(l) && !out.has(l));
      const size = (ls: string[]) => ls.reduce((a, l) => a * plan.sizes.get(l)!, 1);
      const [Z, M, N, K] = [size(batch), size(freeA), size(freeB), size(contr)];
      if (Z <= MAX_WG) {
        const A = packed(arrange(xs[0]!, la, [...batch, ...freeA, ...contr], plan.sizes));
        const B = packed(arrange(xs[1]!, lb, [...batch, ...contr, ...freeB], plan.sizes));
        const res = empty(
          [...batch, ...freeA, ...freeB].map((l) => plan.sizes.get(l)!),
          dtype,
        );
        if (Z * M * N > 0) {
          const p = new Params().u(M, N, K);
          const cfg = pickConfig(M);
          const code = gemmShader(cfg, {
            decls: `${storage(0, 'a', dtype, 'read')}\n${storage(1, 'b', dtype, 'read')}\n${storage(2, 'out', dtype, 'read_write')}\n${paramsDecl(3, p.vec4s)}`,
            prologue: '',
            loadA: load('a[(batch * M + row) * K + k]', dtype, 'f'),
            loadB: load('b[(batch * K + k) * N + col]', dtype, 'f'),
            store: `out[(batch * M + row) * N + col] = ${store('v', dtype)};`,
          });
          launch(code, [handleOf(A), handleOf(B), handleOf(res)], p, [
            Math.ceil(N / (cfg.wx * 4)),
            Math.ceil(M / (cfg.wy * cfg.ry)),
            Z,
          ]);
        }
        // The result's dims are [batch, freeA, freeB]: view them in the output's label order.
        const order = [...batch, ...freeA, ...freeB];
        const rs = contiguousStrides(res.shape);
        return res.asStrided(
          outShape,
          plan.output.map((l) => rs[order.indexOf(l)]!),
          0,
        );
      }
    }
  }
  if (xs.length > 6) return 'with more than 6 operands';
  // Direct: one thread per output element, summing over every label not in the output.
  const labels = [...plan.sizes.keys()];
  const summed = labels.filter((l) => !plan.output.includes(l));
  const ops = xs.map((t) => (t.device === 'webgpu' ? t : upload(t)));
  const strideOf = (k: number, l: string) => {
    const t = ops[k]!;
    let s = 0;
    plan.inputs[k]!.forEach((lab, d) => {
      if (lab === l && !(t.shape[d] === 1 && plan.sizes.get(l)! !== 1)) s += t.strides[d]!;
    });
    return s;
  };
  const out = empty(outShape, dtype);
  const n = numel(outShape);
  if (n === 0) return out;
  const R = summed.reduce((a, l) => a * plan.sizes.get(l)!, 1);
  const p = new Params().u(n, R);
  const lines: string[] = [];
  xs.forEach((_, k) => {
    lines.push(`var o${k} = ${ops[k]!.offset}u;`);
  });
  lines.push('var r = gi;');
  for (let d = plan.output.length - 1; d >= 0; d--) {
    const l = plan.output[d]!;
    lines.push(`{ let c = r % ${plan.sizes.get(l)}u; r = r / ${plan.sizes.get(l)}u;`);
    xs.forEach((_, k) => {
      lines.push(`  o${k} = o${k} + c * ${strideOf(k, l)}u;`);
    });
    lines.push('}');
  }
  const inner: string[] = ['var s = j;'];
  xs.forEach((_, k) => {
    inner.push(`var q${k} = o${k};`);
  });
  for (let d = summed.length - 1; d >= 0; d--) {
    const l = summed[d]!;
    inner.push(`{ let c = s % ${plan.sizes.get(l)}u; s = s / ${plan.sizes.get(l)}u;`);
    xs.forEach((_, k) => {
      inner.push(`  q${k} = q${k} + c * ${strideOf(k, l)}u;`);
    });
    inner.push('}');
  }
  inner.push(`acc = acc + ${xs.map((_, k) => load(`in${k}[q${k}]`, dtype, 'f')).join(' * ')};`);
  const code = `${xs.map((_, k) => storage(k, `in${k}`, dtype, 'read')).join('\n')}
${storage(xs.length, 'y', dtype, 'read_write')}
${paramsDecl(xs.length + 1, p.vec4s)}
@compute @workgroup_size(64) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(64)}
  if (gi >= pu(0u)) { return; }
  ${lines.join('\n  ')}
  var acc = 0.0;
  for (var j = 0u; j < pu(1u); j = j + 1u) {
    ${inner.join('\n    ')}
  }
  y[gi] = ${store('acc', dtype)};
}`;
  launch(code, [...ops.map(handleOf), handleOf(out)], p, grid(n, 64));
  return out;
}

export function registerDataKernels(): void {
  gpuKernel('Concat', concat);
  gpuKernel('Gather', (inputs, attrs) => {
    const x = inputs[0]!;
    if (x.dtype === 'string') return 'with strings';
    return [gather(x, inputs[1]!, attrInt(attrs, 'axis', 0))];
  });
  for (const name of [
    'Tile',
    'DepthToSpace',
    'SpaceToDepth',
    'ReverseSequence',
    'Trilu',
    'CenterCropPad',
    'GatherElements',
    'GatherND',
    'Compress',
  ]) {
    gpuKernel(name, mapKernel(name));
  }
  gpuKernel(
    'Pad',
    mapKernel(
      'Pad',
      undefined,
      (inputs, attrs) => {
        const cv = inputs[2];
        if (cv && cv.numel() > 0) return readNumbers(cv)[0]!;
        return typeof attrs.value === 'number' ? attrs.value : 0;
      },
      (rest, attrs) => [
        rest.map((t, i) => (i === 1 ? undefined : t)),
        attrs.value === undefined ? attrs : { ...attrs, value: 0 },
      ],
    ),
  );
  for (const [name, domain] of [
    ['ScatterAddFlat', SHAPE_DOMAIN],
    ['FlatScatterAdd', NN_DOMAIN],
  ] as const) {
    gpuKernel(
      name,
      (inputs, attrs, ctx) => {
        const [values, map] = [inputs[0]!, inputs[1]!];
        if (reprOf(values.dtype).bytes === 8) return `has no kernel for ${values.dtype}`;
        const shape = attrInts(attrs, 'shape');
        if (!shape) throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: attribute 'shape' is required`);
        if (values.numel() !== map.numel()) {
          throw new TesseraError(
            'SHAPE_MISMATCH',
            `${ctx.op}: values ${fmtShape(values.shape)} and indices ${fmtShape(map.shape)} must have the same size`,
          );
        }
        return [scatterAdd(values, map, shape, values.dtype)];
      },
      { domain },
    );
  }
  for (const [name, domain] of [
    ['GatherFlat', SHAPE_DOMAIN],
    ['FlatGather', NN_DOMAIN],
  ] as const) {
    gpuKernel(
      name,
      (inputs, attrs) => {
        const [x, map] = [inputs[0]!, inputs[1]!];
        const shape = name === 'GatherFlat' ? attrInts(attrs, 'shape') : [...map.shape];
        if (!shape) throw new TesseraError('INVALID_ARGUMENT', `${name}: attribute 'shape' is required`);
        return [gatherMapped(x, map, shape, 0, words(x.dtype, 0))];
      },
      { domain },
    );
  }
  gpuKernel('Resize', resizeOp('Resize', 11), { since: 11 });
  gpuKernel('Resize', resizeOp('Resize', 10), { since: 10 });
  gpuKernel('Upsample', resizeOp('Upsample', 7), { since: 7 });
  gpuKernel('Upsample', resizeOp('Upsample', 9), { since: 9 });
  gpuKernel(
    'ResizeApply',
    (inputs, attrs, ctx) => {
      const x = inputs[0]!;
      if (!floatOnGpu(x.dtype)) return `has no kernel for ${x.dtype}`;
      const { inShape, plans, key } = resolvedPlans(ctx.op, attrs);
      if (x.shape.join() !== inShape.join())
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${ctx.op}: X has shape ${fmtShape(x.shape)}, expected ${fmtShape(inShape)}`,
        );
      if (plans.some((pl) => pl.outside.some((v) => v)))
        return 'with extrapolated (tf_crop_and_resize) positions';
      return [applyResize(x, plans, key, false)];
    },
    { domain: NN_DOMAIN },
  );
  gpuKernel(
    'ResizeGrad',
    (inputs, attrs, ctx) => {
      const dy = inputs[0]!;
      if (!floatOnGpu(dy.dtype)) return `has no kernel for ${dy.dtype}`;
      const { outShape, plans, key } = resolvedPlans(ctx.op, attrs);
      if (dy.shape.join() !== outShape.join())
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${ctx.op}: dY has shape ${fmtShape(dy.shape)}, expected ${fmtShape(outShape)}`,
        );
      if (plans.some((pl) => pl.outside.some((v) => v)))
        return 'with extrapolated (tf_crop_and_resize) positions';
      return [applyResize(dy, plans, key, true)];
    },
    { domain: NN_DOMAIN },
  );
  gpuKernel('Einsum', (inputs, attrs) => {
    const xs = inputs.map((t, i) => {
      if (!t) throw new TesseraError('INVALID_ARGUMENT', `Einsum: input ${i} is required`);
      return t;
    });
    const r = einsum(String(attrs.equation ?? ''), xs);
    return typeof r === 'string' ? r : [r];
  });
}
