/**
 * NumPy/PyTorch indexing. `t.index(...specs)` reads; `t.indexPut(specs, value)` (alias `t.set`)
 * writes in place. A spec is:
 *   - an integer (negative counts from the end): selects one entry and removes the dim;
 *   - a slice: a string in NumPy notation ('1:3', ':', '::2', '-1:', '::-1') or {start, stop, step};
 *   - null: inserts a new size-1 dim;  '...': as many full slices as needed;
 *   - an int tensor (or number[]) or a bool mask tensor (or boolean[]): advanced indexing.
 * Basic indexing (no tensors) returns a view sharing storage, built from Slice/Squeeze/Unsqueeze,
 * so writes through it show in the base and gradients flow back. Advanced indexing follows NumPy:
 * the index tensors broadcast together; their dims replace the indexed dims in place when those
 * are adjacent, else they go first (integers count as index tensors once any tensor is present);
 * the result is a copy (GatherND), differentiable too.
 *
 * indexPut writes into the existing storage and records nothing on the autograd tape: writing
 * into a tensor that requires grad (a leaf or a view of one) while grad mode is on is an error, as
 * torch reports for leaves; do it inside noGrad() (e.g. to initialize parameters) or on a clone.
 */
import { copyContiguous, forEachBroadcast } from '../../backends/cpu/elementwise.js';
import { dispatch1 } from '../../ops/registry.js';
import { elementIds } from '../../ops/shape/layout.js';
import { isGradEnabled, noGrad } from '../autograd.js';
import { full, int64s } from '../creation.js';
import { TesseraError } from '../errors.js';
import { broadcastShapes, contiguousStrides, fmtShape, normAxis, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { castTo } from './operands.js';

/** A Python slice; missing or null fields take Python's defaults. */
export interface SliceObject {
  start?: number | null;
  stop?: number | null;
  step?: number | null;
}

export type IndexSpec =
  | number
  | string
  | null
  | SliceObject
  | Tensor
  | readonly number[]
  | readonly boolean[];

declare module '../tensor.js' {
  interface Tensor {
    /** NumPy-style indexing: `x.index(0, '1:3', null, '...', '::-1')`; basic indexing returns a view. */
    index(...specs: IndexSpec[]): Tensor;
    /** Writes `value` (broadcast) into the region `specs` selects, in place; returns this. */
    indexPut(specs: IndexSpec | readonly IndexSpec[], value: Tensor | number | boolean): Tensor;
    /** Alias of indexPut: `x.set([0, ':'], 1)`. */
    set(specs: IndexSpec | readonly IndexSpec[], value: Tensor | number | boolean): Tensor;
    /** The entry `index` along `dim`, with that dim removed (a view; torch.select). */
    select(dim: number, index: number): Tensor;
  }
}

type Item =
  | { kind: 'int'; v: number }
  | { kind: 'slice'; start?: number; stop?: number; step: number }
  | { kind: 'new' }
  | { kind: 'ellipsis' }
  | { kind: 'tensor'; t: Tensor };

function sliceItem(start: unknown, stop: unknown, step: unknown, text: string): Item {
  const num = (v: unknown): number | undefined => {
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'string' ? Number(v.trim()) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `index: slice ${text} has a non-integer bound '${String(v)}'`,
      );
    }
    return n;
  };
  const st = num(step) ?? 1;
  if (st === 0) throw new TesseraError('INVALID_ARGUMENT', `index: slice ${text} has step 0`);
  return { kind: 'slice', start: num(start), stop: num(stop), step: st };
}

function parseSpec(spec: IndexSpec): Item {
  if (typeof spec === 'number') {
    if (!Number.isInteger(spec))
      throw new TesseraError('INVALID_ARGUMENT', `index: ${spec} is not an integer`);
    return { kind: 'int', v: spec };
  }
  if (spec === null) return { kind: 'new' };
  if (typeof spec === 'string') {
    const s = spec.trim();
    if (s === '...') return { kind: 'ellipsis' };
    if (s.includes(':')) {
      const parts = s.split(':');
      if (parts.length > 3) throw new TesseraError('INVALID_ARGUMENT', `index: '${spec}' is not a slice`);
      return sliceItem(parts[0], parts[1], parts[2], `'${spec}'`);
    }
    if (/^-?\d+$/.test(s)) return { kind: 'int', v: Number(s) };
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `index: '${spec}' is neither a slice ('1:3', '::-1'), an integer nor '...'`,
    );
  }
  if (spec instanceof Tensor) {
    if (spec.dtype === 'bool' || spec.dtype === 'int64' || spec.dtype === 'int32')
      return { kind: 'tensor', t: spec };
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `index: tensors used as indices must be int64, int32 or bool, got ${spec.dtype}`,
    );
  }
  if (Array.isArray(spec)) {
    const bools = spec.length > 0 && spec.every((v) => typeof v === 'boolean');
    if (!bools && !spec.every((v) => Number.isInteger(v))) {
      throw new TesseraError('INVALID_ARGUMENT', 'index: a list index must hold integers or booleans');
    }
    const t = bools
      ? Tensor.fromData(Uint8Array.from(spec as boolean[], Number), [spec.length], 'bool')
      : int64s(spec as number[]);
    return { kind: 'tensor', t };
  }
  if (typeof spec === 'object') {
    const o = spec as SliceObject;
    return sliceItem(o.start, o.stop, o.step, JSON.stringify(o));
  }
  throw new TesseraError('INVALID_ARGUMENT', `index: unsupported index ${String(spec)}`);
}

/** Python's slice.indices(n): the first index, the element count and the step. */
function resolvePySlice(n: number, item: Extract<Item, { kind: 'slice' }>) {
  const { step } = item;
  let start: number;
  let stop: number;
  if (step > 0) {
    start =
      item.start === undefined ? 0 : item.start < 0 ? Math.max(item.start + n, 0) : Math.min(item.start, n);
    stop = item.stop === undefined ? n : item.stop < 0 ? Math.max(item.stop + n, 0) : Math.min(item.stop, n);
  } else {
    start =
      item.start === undefined
        ? n - 1
        : item.start < 0
          ? Math.max(item.start + n, -1)
          : Math.min(item.start, n - 1);
    stop =
      item.stop === undefined ? -1 : item.stop < 0 ? Math.max(item.stop + n, -1) : Math.min(item.stop, n - 1);
  }
  const len = Math.max(0, Math.ceil((stop - start) / step));
  return { start, len, step };
}

const consumes = (it: Item) =>
  it.kind === 'int' || it.kind === 'slice'
    ? 1
    : it.kind === 'tensor'
      ? it.t.dtype === 'bool'
        ? it.t.ndim
        : 1
      : 0;

/** The items with the ellipsis expanded (and trailing dims filled) to cover every dim of `x`. */
function expandItems(x: Tensor, specs: readonly IndexSpec[]): Item[] {
  const items = specs.map(parseSpec);
  const ellipses = items.filter((i) => i.kind === 'ellipsis').length;
  if (ellipses > 1)
    throw new TesseraError('INVALID_ARGUMENT', "index: an index can only have a single ellipsis ('...')");
  const used = items.reduce((s, it) => s + consumes(it), 0);
  if (used > x.ndim) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `index: too many indices for tensor of dimension ${x.ndim} (${used} dims indexed)`,
    );
  }
  const fill = (): Item[] =>
    Array.from({ length: x.ndim - used }, () => ({ kind: 'slice', step: 1 }) as Item);
  const out: Item[] = [];
  for (const it of items) {
    if (it.kind === 'ellipsis') out.push(...fill());
    else out.push(it);
  }
  if (ellipses === 0) out.push(...fill());
  return out;
}

function checkInt(v: number, n: number, dim: number): number {
  if (v < -n || v >= n) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `index: index ${v} is out of bounds for dimension ${dim} with size ${n}`,
    );
  }
  return v < 0 ? v + n : v;
}

function indexImpl(x: Tensor, specs: readonly IndexSpec[]): Tensor {
  const items = expandItems(x, specs);
  const advancedMode = items.some((it) => it.kind === 'tensor');
  const starts: number[] = [];
  const ends: number[] = [];
  const axes: number[] = [];
  const steps: number[] = [];
  const drop: number[] = [];
  const newAxes: number[] = [];
  const advanced: { pos: number; t: Tensor }[] = [];
  let d = 0;
  let pos = 0;
  for (const it of items) {
    if (it.kind === 'new') {
      newAxes.push(pos++);
    } else if (it.kind === 'int') {
      const v = checkInt(it.v, x.shape[d]!, d);
      if (advancedMode) advanced.push({ pos: pos++, t: int64s([v]).reshape([]) });
      else {
        starts.push(v);
        ends.push(v + 1);
        axes.push(d);
        steps.push(1);
        drop.push(d);
      }
      d++;
    } else if (it.kind === 'slice') {
      const n = x.shape[d]!;
      const { start, len, step } = resolvePySlice(n, it);
      if (!(start === 0 && len === n && step === 1)) {
        // Exact bounds for Slice: an empty slice is [0, 0); a backward run that reaches index 0
        // ends below -n so ONNX clamps it to "before the first element".
        const end = start + (len - 1) * step + Math.sign(step);
        starts.push(len === 0 ? 0 : start);
        ends.push(len === 0 ? 0 : end < 0 ? Number.MIN_SAFE_INTEGER : end);
        axes.push(d);
        steps.push(len === 0 ? 1 : step);
      }
      pos++;
      d++;
    } else if (it.kind === 'tensor') {
      const t = it.t;
      if (t.dtype === 'bool') {
        if (t.ndim === 0)
          throw new TesseraError('UNSUPPORTED', 'index: 0-d boolean indices are not supported');
        const dims = x.shape.slice(d, d + t.ndim);
        if (!sameShape(dims, t.shape)) {
          throw new TesseraError(
            'SHAPE_MISMATCH',
            `index: the boolean mask ${fmtShape(t.shape)} does not match the indexed dims ${fmtShape(dims)} (from dim ${d})`,
          );
        }
        const nz = dispatch1('NonZero', [t]);
        for (let j = 0; j < t.ndim; j++) {
          const row = dispatch1('Gather', [nz, int64s([j]).reshape([])], { axis: 0 });
          advanced.push({ pos: pos++, t: row });
        }
        d += t.ndim;
      } else {
        advanced.push({ pos: pos++, t });
        d++;
      }
    }
  }
  let v = x;
  if (axes.length) v = dispatch1('Slice', [v, int64s(starts), int64s(ends), int64s(axes), int64s(steps)]);
  if (drop.length) v = dispatch1('Squeeze', [v, int64s(drop)]);
  if (newAxes.length) v = dispatch1('Unsqueeze', [v, int64s(newAxes)]);
  if (v === x) v = dispatch1('Identity', [x]);
  return advanced.length ? advancedIndex(v, advanced) : v;
}

/** NumPy advanced indexing of `v` at the given dims (ascending) by broadcast index tensors. */
function advancedIndex(v: Tensor, advanced: { pos: number; t: Tensor }[]): Tensor {
  const idx = advanced.map((a) => castTo(a.t, 'int64'));
  const b = broadcastShapes(
    idx.map((t) => t.shape),
    'index',
  );
  const cols = idx.map((t) => dispatch1('Unsqueeze', [dispatch1('Expand', [t, int64s(b)]), int64s([-1])]));
  const stacked = cols.length === 1 ? cols[0]! : dispatch1('Concat', cols, { axis: -1 });
  const positions = advanced.map((a) => a.pos);
  const rest = v.shape.map((_, i) => i).filter((i) => !positions.includes(i));
  const leading = positions.every((p, i) => p === i);
  const vp = leading ? v : dispatch1('Transpose', [v], { perm: [...positions, ...rest] });
  let out = dispatch1('GatherND', [vp, stacked]);
  const adjacent = positions.every((p, i) => i === 0 || p === positions[i - 1]! + 1);
  const p0 = positions[0]!;
  if (adjacent && p0 > 0) {
    const nb = b.length;
    const perm = [
      ...Array.from({ length: p0 }, (_, i) => nb + i),
      ...Array.from({ length: nb }, (_, i) => i),
      ...Array.from({ length: out.ndim - nb - p0 }, (_, i) => nb + p0 + i),
    ];
    out = dispatch1('Transpose', [out], { perm });
  }
  return out;
}

Tensor.prototype.index = function (this: Tensor, ...specs) {
  return indexImpl(this, specs);
};

Tensor.prototype.select = function (this: Tensor, dim, index) {
  const d = normAxis(dim, this.ndim, 'select');
  const specs: IndexSpec[] = this.shape.map(() => ':');
  specs[d] = index;
  return indexImpl(this, specs);
};

function writeCheck(x: Tensor, value: Tensor | number | boolean): void {
  if (x.storage.data === undefined) {
    throw new TesseraError(
      'UNSUPPORTED',
      `indexPut: in-place writes need a CPU tensor, this one is on ${x.device}`,
    );
  }
  if (x.shape.some((d, i) => d > 1 && x.strides[i] === 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      'indexPut: more than one element of the tensor refers to the same memory (an expanded view); clone() it first',
    );
  }
  if (isGradEnabled() && x.requiresGrad) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `indexPut: ${x.isLeaf ? 'a leaf tensor' : 'a view of a tensor'} that requires grad cannot be written in place (autograd does not record it); write inside noGrad() or into a clone()`,
    );
  }
  if (isGradEnabled() && value instanceof Tensor && value.requiresGrad) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      'indexPut: the value requires grad, but in-place writes are not recorded by autograd; detach() it or write inside noGrad()',
    );
  }
}

function indexPutImpl(x: Tensor, specs: readonly IndexSpec[], value: Tensor | number | boolean): Tensor {
  writeCheck(x, value);
  const advanced = specs.some((s) => s instanceof Tensor || Array.isArray(s));
  return noGrad(() => {
    let val =
      value instanceof Tensor
        ? castTo(value, x.dtype)
        : full([], Number(value), { dtype: x.dtype, device: x.device });
    let region: Tensor | null = null;
    let offsets: Int32Array | null = null;
    let shape: readonly number[];
    if (!advanced) {
      region = indexImpl(x, specs);
      shape = region.shape;
    } else {
      // Index the element ids instead, then turn each row-major id into a storage offset of x.
      const ids = indexImpl(elementIds(x.shape), specs);
      shape = ids.shape;
      const flat = ids.dataSync() as Int32Array;
      const cs = contiguousStrides(x.shape);
      offsets = new Int32Array(flat.length);
      for (let i = 0; i < flat.length; i++) {
        let off = x.offset;
        for (let d = 0; d < x.ndim; d++) off += (Math.floor(flat[i]! / cs[d]!) % x.shape[d]!) * x.strides[d]!;
        offsets[i] = off;
      }
    }
    // Leading size-1 dims of the value may exceed the region's rank (as torch's setitem allows).
    let lead = 0;
    while (val.ndim - lead > shape.length && val.shape[lead] === 1) lead++;
    if (lead) val = val.reshape(val.shape.slice(lead));
    const fits =
      val.ndim <= shape.length &&
      val.shape.every((d, i) => d === 1 || d === shape[shape.length - val.ndim + i]);
    if (!fits) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `indexPut: a value of shape ${fmtShape(val.shape)} cannot be broadcast to the indexed region's shape ${fmtShape(shape)}`,
      );
    }
    // An owned copy: the value may share storage with x (e.g. x.set('1:', x.index(':-1'))).
    const src = copyContiguous(val);
    const s = src.storage.data as any;
    const dst = x.storage.data as any;
    if (region) {
      forEachBroadcast([region, src], shape, (_i, offs) => {
        dst[offs[0]!] = s[offs[1]!];
      });
    } else {
      const o = offsets!;
      forEachBroadcast([src], shape, (i, offs) => {
        dst[o[i]!] = s[offs[0]!];
      });
    }
    return x;
  });
}

function specList(specs: IndexSpec | readonly IndexSpec[]): readonly IndexSpec[] {
  return Array.isArray(specs) ? (specs as readonly IndexSpec[]) : [specs as IndexSpec];
}

Tensor.prototype.indexPut = function (this: Tensor, specs, value) {
  return indexPutImpl(this, specList(specs), value);
};
Tensor.prototype.set = function (this: Tensor, specs, value) {
  return indexPutImpl(this, specList(specs), value);
};
