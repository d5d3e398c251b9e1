/**
 * The elementwise kernel generator: any number of inputs, NumPy broadcasting over strided views
 * (dims merged where the layout allows, so most launches index with one or two divisions), one WGSL
 * expression for the value, stored with the output dtype's rounding or wrap-around.
 */
import type { DType } from '../../../runtime/dtype.js';
import { broadcastShapes, broadcastStrides, numel } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { reprOf } from '../repr.js';
import {
  COMPUTE_ARGS,
  empty,
  flatIndex,
  gpu,
  grid,
  handleOf,
  launch,
  Params,
  paramsDecl,
  setViewPacker,
  upload,
} from '../runtime.js';
import { type Kind, load, storage, store, withHelpers } from '../wgsl.js';

export type LoadAs = Kind | 'raw';

export interface Elementwise {
  inputs: readonly Tensor[];
  /** How each input is presented to `expr` (as v0, v1, ...): converted to f32/i32/u32, or the raw stored word(s). */
  loads: readonly LoadAs[];
  /** A WGSL expression of v0.. and the constants c0.. (f32), ci0.. (i32), cu0.. (u32). */
  expr: string;
  outDtype: DType;
  /** The expression already has the output's stored type (raw copies): no rounding or wrap. */
  rawOut?: boolean;
  /** Constant words, read as c<k> (f32 bits), ci<k> or cu<k>. */
  consts?: Params;
  /** Output shape when not the inputs' broadcast shape (e.g. Expand). */
  outShape?: readonly number[];
  /** Extra WGSL (helper functions) the expression calls. */
  extra?: string;
  /** Write into this GPU view (of an existing buffer, any strides) instead of a new tensor; it is returned. */
  dest?: Tensor;
}

const WG = 64;

/** Merges adjacent dims every operand walks as one (and drops size-1 dims). */
export function coalesce(
  shape: readonly number[],
  strides: number[][],
): { shape: number[]; strides: number[][] } {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    if (last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n)) {
      outShape[last]! *= n;
      strides.forEach((s, k) => {
        outStrides[k]![last] = s[d]!;
      });
    } else {
      outShape.push(n);
      strides.forEach((s, k) => {
        outStrides[k]!.push(s[d]!);
      });
    }
  }
  return { shape: outShape, strides: outStrides };
}

/** Runs an elementwise expression; inputs may be CPU tensors (uploaded) or any strided GPU view. */
export function elementwise(spec: Elementwise): Tensor {
  const ins = spec.inputs.map((t) => (t.device === 'webgpu' ? t : upload(t)));
  const outShape = spec.outShape ?? spec.dest?.shape ?? broadcastShapes(ins.map((t) => t.shape));
  const out = spec.dest ?? empty(outShape, spec.outDtype);
  const n = numel(outShape);
  if (n === 0) return out;
  const bstrides = ins.map((t) => broadcastStrides(t.shape, t.strides, outShape));
  // A destination view is walked like one more operand (index k).
  if (spec.dest) bstrides.push([...spec.dest.strides]);
  const { shape, strides } = coalesce(outShape, bstrides);
  const rank = shape.length;
  const k = ins.length;
  const walked = spec.dest ? k + 1 : k;
  const p = new Params().u(n).u(...shape);
  const offBase = p.length;
  for (let j = 0; j < k; j++) p.u(ins[j]!.offset, ...strides[j]!);
  if (spec.dest) p.u(spec.dest.offset, ...strides[k]!);
  const constBase = p.length;
  const consts = spec.consts?.build();
  if (consts) p.u(...consts.subarray(0, spec.consts!.length));

  // A flat walk when every operand is contiguous in the merged shape.
  const flat = rank <= 1 && strides.every((s) => rank === 0 || s[0] === 1);
  const lines: string[] = [];
  for (let j = 0; j < walked; j++) lines.push(`var o${j} = pu(${offBase + j * (rank + 1)}u);`);
  if (flat) {
    for (let j = 0; j < walked; j++) lines.push(`o${j} = o${j} + gi;`);
  } else if (rank > 0) {
    lines.push('var r = gi;');
    for (let d = rank - 1; d >= 0; d--) {
      lines.push(`{ let s = pu(${1 + d}u); let c = r % s; r = r / s;`);
      for (let j = 0; j < walked; j++)
        lines.push(`  o${j} = o${j} + c * pu(${offBase + j * (rank + 1) + 1 + d}u);`);
      lines.push('}');
    }
  }
  for (let j = 0; j < k; j++)
    lines.push(`let v${j} = ${load(`in${j}[o${j}]`, ins[j]!.dtype, spec.loads[j]!)};`);
  const nConsts = spec.consts?.length ?? 0;
  for (let c = 0; c < nConsts; c++) {
    if (new RegExp(`\\bc${c}\\b`).test(spec.expr)) lines.push(`let c${c} = pf(${constBase + c}u);`);
    if (new RegExp(`\\bci${c}\\b`).test(spec.expr)) lines.push(`let ci${c} = pi(${constBase + c}u);`);
    if (new RegExp(`\\bcu${c}\\b`).test(spec.expr)) lines.push(`let cu${c} = pu(${constBase + c}u);`);
  }
  const value = spec.rawOut ? spec.expr : store(spec.expr, spec.outDtype);
  const decls = ins.map((t, j) => storage(j, `in${j}`, t.dtype, 'read')).join('\n');
  const code = withHelpers(`${decls}
${storage(k, 'out', out.dtype, 'read_write')}
${paramsDecl(k + 1, p.vec4s)}
${spec.extra ?? ''}
@compute @workgroup_size(${WG}) fn main(${COMPUTE_ARGS}) {
  ${flatIndex(WG)}
  if (gi >= pu(0u)) { return; }
  ${lines.join('\n  ')}
  out[${spec.dest ? `o${k}` : 'gi'}] = ${value};
}`);
  const bufs = [...ins.map(handleOf), handleOf(out)];
  const limit = gpu().maxBinding;
  if (!flat || spec.dest || bufs.every((b) => b.bytes <= limit)) {
    launch(code, bufs, p, grid(n, WG));
    return out;
  }
  // Over the binding limit: a flat walk runs in chunks, each binding the part of every buffer it reads.
  const all = [...ins, out];
  const eb = Math.max(...all.map((t) => reprOf(t.dtype).bytes));
  const chunk = Math.floor((limit - 2 * ALIGN) / eb / 64) * 64;
  for (let start = 0; start < n; start += chunk) {
    const len = Math.min(chunk, n - start);
    const q = new Params().u(len).u(...shape.map(() => len));
    const ranges: [number, number][] = [];
    all.forEach((t, j) => {
      const b = reprOf(t.dtype).bytes;
      const first = ((j < k ? t.offset : 0) + start) * b;
      const at = Math.floor(first / ALIGN) * ALIGN;
      const size = Math.min(Math.ceil((first - at + len * b) / 4) * 4, handleOf(t).bytes - at);
      ranges.push([at, size]);
      if (j < k) q.u((first - at) / b, ...strides[j]!);
    });
    if (consts) q.u(...consts.subarray(0, spec.consts!.length));
    launch(code, bufs, q, grid(len, WG), ranges);
  }
  return out;
}

/** Byte alignment of binding offsets (WebGPU's minStorageBufferOffsetAlignment is at most 256). */
const ALIGN = 256;

/** A contiguous copy of any GPU view (strides, offset, broadcast zeros). */
export function contiguousCopy(t: Tensor): Tensor {
  return elementwise({
    inputs: [t],
    loads: ['raw'],
    expr: 'v0',
    outDtype: t.dtype,
    rawOut: true,
    outShape: t.shape,
  });
}

setViewPacker(contiguousCopy);
