/**
 * Chained shape and data-movement methods with PyTorch's names and semantics (permute, transpose,
 * flatten, squeeze, narrow, flip, roll, repeat, split, chunk, gather, scatter, topk, pad, ...) and
 * the top-level cat, stack, split, chunk and pad. Views are returned wherever torch returns views.
 */
import { dispatch, dispatch1 } from '../../ops/registry.js';
import { full, int64s } from '../creation.js';
import { type DType, promoteTypes } from '../dtype.js';
import { TesseraError } from '../errors.js';
import { fmtShape, normAxis, numel, sameShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { shapeArgs } from './core.js';
import { castTo } from './operands.js';

/** What topk returns: destructure as `[values, indices]` or read `.values` / `.indices` (torch's namedtuple). */
export type TopKResult = [Tensor, Tensor] & { values: Tensor; indices: Tensor };

/** torch.nn.functional.pad modes. */
export type TorchPadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

declare module '../tensor.js' {
  interface Tensor {
    /** Reorders dims (a view): `x.permute(2, 0, 1)` or `x.permute([2, 0, 1])`. */
    permute(...dims: number[] | [readonly number[]]): Tensor;
    /** Swaps two dims (a view). */
    transpose(dim0: number, dim1: number): Tensor;
    /** Transpose of a tensor with at most 2 dims (a view; 0-d and 1-d come back unchanged). */
    t(): Tensor;
    /** The last two dims swapped (a view); needs ndim >= 2. */
    readonly mT: Tensor;
    /** All dims reversed (a view). */
    readonly T: Tensor;
    /** Merges dims startDim..endDim into one (a view when contiguous). */
    flatten(startDim?: number, endDim?: number): Tensor;
    /** Removes size-1 dims: all of them, or those listed (listed dims of other sizes are left alone, as torch). */
    squeeze(dim?: number | number[]): Tensor;
    /** Inserts a size-1 dim at `dim` (in [-ndim-1, ndim]); a view. */
    unsqueeze(dim: number): Tensor;
    /** Elements start..start+length-1 along `dim` (a view); a negative start counts from the end. */
    narrow(dim: number, start: number, length: number): Tensor;
    /** Reverses the order along `dims` (a copy, as torch.flip). */
    flip(...dims: number[] | [readonly number[]]): Tensor;
    /** Rolls elements along `dims` by `shifts` (the flattened tensor when dims is omitted). */
    roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor;
    /** Tiles the tensor `sizes[d]` times along each dim; extra leading sizes add dims (torch.Tensor.repeat). */
    repeat(...sizes: number[] | [readonly number[]]): Tensor;
    /** Like repeat, but fewer sizes than dims are padded with 1s in front (torch.tile). */
    tile(...dims: number[] | [readonly number[]]): Tensor;
    /** Lower triangle of the last two dims (j - i <= diagonal), zeros elsewhere. */
    tril(diagonal?: number): Tensor;
    /** Upper triangle of the last two dims (j - i >= diagonal), zeros elsewhere. */
    triu(diagonal?: number): Tensor;
    /** The k largest (or smallest) elements along `dim` and their int64 indices. */
    topk(k: number, dim?: number, largest?: boolean, sorted?: boolean): TopKResult;
    /** Views of chunks of `size` elements along `dim` (the last may be smaller), or of the listed sizes. */
    split(splitSizeOrSections: number | readonly number[], dim?: number): Tensor[];
    /** Up to `chunks` views of equal size ceil(n / chunks) along `dim` (the last may be smaller). */
    chunk(chunks: number, dim?: number): Tensor[];
    /** out[i][j] = x[index[i][j]][j] for dim 0 (torch.gather = ONNX GatherElements). */
    gather(dim: number, index: Tensor): Tensor;
    /** The entries of `index` (1-D) along `dim` (torch.index_select = ONNX Gather). */
    indexSelect(dim: number, index: Tensor): Tensor;
    /** A copy with `src` (tensor or scalar) written at `index` along `dim` (torch.scatter). */
    scatter(dim: number, index: Tensor, src: Tensor | number): Tensor;
    /** A copy with `src` added at `index` along `dim`; duplicates accumulate (torch.scatter_add). */
    scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor;
    /** torch.nn.functional.pad: `pads` pairs start from the last dim ([left, right, top, bottom, ...]). */
    pad(pads: readonly number[], mode?: TorchPadMode, value?: number): Tensor;
    /** int64 [count, ndim] coordinates of the nonzero elements (torch.nonzero). */
    nonzero(): Tensor;
  }
}

const I64_MIN = Number.MIN_SAFE_INTEGER;

function dimsOf(args: number[] | [readonly number[]]): number[] {
  return shapeArgs(args);
}

/** Slice along one dim with ONNX clamping (the eager methods pass in-range values). */
function sliceDim(x: Tensor, dim: number, start: number, end: number, step = 1): Tensor {
  return dispatch1('Slice', [x, int64s([start]), int64s([end]), int64s([dim]), int64s([step])]);
}

Tensor.prototype.permute = function (this: Tensor, ...dims) {
  const perm = dimsOf(dims);
  if (perm.length !== this.ndim) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `permute: got ${perm.length} dims [${perm.join(', ')}], expected ${this.ndim} (the tensor's rank)`,
    );
  }
  return dispatch1('Transpose', [this], { perm: perm.map((d) => normAxis(d, this.ndim, 'permute')) });
};

Tensor.prototype.transpose = function (this: Tensor, dim0, dim1) {
  const rank = Math.max(this.ndim, 1);
  const a = normAxis(dim0, rank, 'transpose');
  const b = normAxis(dim1, rank, 'transpose');
  const perm = this.shape.map((_, i) => (i === a ? b : i === b ? a : i));
  return dispatch1('Transpose', [this], { perm });
};

Tensor.prototype.t = function (this: Tensor) {
  if (this.ndim > 2) {
    throw new TesseraError('INVALID_ARGUMENT', `t(): expects a tensor with <= 2 dims, got ${this.ndim}`);
  }
  return dispatch1('Transpose', [this]);
};

Object.defineProperty(Tensor.prototype, 'mT', {
  get(this: Tensor) {
    if (this.ndim < 2) {
      throw new TesseraError('INVALID_ARGUMENT', `mT: expects a tensor with >= 2 dims, got ${this.ndim}`);
    }
    return this.transpose(-2, -1);
  },
  configurable: true,
});
Object.defineProperty(Tensor.prototype, 'T', {
  get(this: Tensor) {
    return dispatch1('Transpose', [this]);
  },
  configurable: true,
});

Tensor.prototype.flatten = function (this: Tensor, startDim = 0, endDim = -1) {
  if (this.ndim === 0) return this.reshape([1]);
  const s = normAxis(startDim, this.ndim, 'flatten');
  const e = normAxis(endDim, this.ndim, 'flatten');
  if (s > e) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `flatten: startDim (${startDim}) comes after endDim (${endDim})`,
    );
  }
  const shape = [...this.shape.slice(0, s), numel(this.shape.slice(s, e + 1)), ...this.shape.slice(e + 1)];
  return this.reshape(shape);
};

Tensor.prototype.squeeze = function (this: Tensor, dim) {
  if (dim === undefined) return dispatch1('Squeeze', [this]);
  const list = (Array.isArray(dim) ? dim : [dim]).map((d) => normAxis(d, Math.max(this.ndim, 1), 'squeeze'));
  const axes = [...new Set(list)].filter((d) => d < this.ndim && this.shape[d] === 1);
  // ONNX Squeeze with no axes squeezes everything; torch leaves the tensor as it is.
  if (axes.length === 0) return dispatch1('Identity', [this]);
  return dispatch1('Squeeze', [this, int64s(axes)]);
};

Tensor.prototype.unsqueeze = function (this: Tensor, dim) {
  return dispatch1('Unsqueeze', [this, int64s([normAxis(dim, this.ndim + 1, 'unsqueeze')])]);
};

Tensor.prototype.narrow = function (this: Tensor, dim, start, length) {
  const d = normAxis(dim, this.ndim, 'narrow');
  const n = this.shape[d]!;
  if (!Number.isInteger(start) || start < -n || start > n) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `narrow: start ${start} is out of range for dim ${d} of size ${n}`,
    );
  }
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(length) || length < 0 || s + length > n) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `narrow: start (${s}) + length (${length}) exceeds dim ${d} of size ${n}`,
    );
  }
  return sliceDim(this, d, s, s + length);
};

Tensor.prototype.flip = function (this: Tensor, ...dims) {
  const list = [...new Set(dimsOf(dims).map((d) => normAxis(d, this.ndim, 'flip')))];
  if (list.length === 0) return this.clone();
  const view = dispatch1('Slice', [
    this,
    int64s(list.map(() => -1)),
    int64s(list.map(() => I64_MIN)),
    int64s(list),
    int64s(list.map(() => -1)),
  ]);
  return view.clone();
};

Tensor.prototype.roll = function (this: Tensor, shifts, dims) {
  if (dims === undefined) {
    const s = Array.isArray(shifts) ? shifts : [shifts];
    if (s.length !== 1)
      throw new TesseraError('INVALID_ARGUMENT', 'roll: without dims, shifts must be one number');
    return this.flatten().roll(s[0]!, 0).reshape(this.shape);
  }
  const sh = (Array.isArray(shifts) ? shifts : [shifts]) as number[];
  const ds = (Array.isArray(dims) ? dims : [dims]) as number[];
  if (sh.length !== ds.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `roll: shifts (${sh.length} values) and dims (${ds.length} values) must have the same length`,
    );
  }
  let x: Tensor = this;
  sh.forEach((shift, i) => {
    const d = normAxis(ds[i]!, this.ndim, 'roll');
    const n = x.shape[d]!;
    const s = n === 0 ? 0 : ((shift % n) + n) % n;
    if (s === 0) return;
    x = dispatch1('Concat', [sliceDim(x, d, n - s, n), sliceDim(x, d, 0, n - s)], { axis: d });
  });
  return x === this ? this.clone() : x;
};

Tensor.prototype.repeat = function (this: Tensor, ...sizes) {
  const reps = dimsOf(sizes);
  if (reps.length < this.ndim) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `repeat: got ${reps.length} sizes for a tensor with ${this.ndim} dims; give at least one per dim`,
    );
  }
  const lead = reps.length - this.ndim;
  const x = lead > 0 ? this.reshape([...new Array<number>(lead).fill(1), ...this.shape]) : this;
  return dispatch1('Tile', [x, int64s(reps)]);
};

Tensor.prototype.tile = function (this: Tensor, ...dims) {
  const reps = dimsOf(dims);
  const full = [...new Array<number>(Math.max(0, this.ndim - reps.length)).fill(1), ...reps];
  return this.repeat(full);
};

Tensor.prototype.tril = function (this: Tensor, diagonal = 0) {
  return dispatch1('Trilu', [this, int64s([diagonal])], { upper: 0 });
};
Tensor.prototype.triu = function (this: Tensor, diagonal = 0) {
  return dispatch1('Trilu', [this, int64s([diagonal])], { upper: 1 });
};

Tensor.prototype.topk = function (this: Tensor, k, dim = -1, largest = true, sorted = true) {
  const axis = normAxis(dim, Math.max(this.ndim, 1), 'topk');
  const x = this.ndim === 0 ? this.reshape([1]) : this;
  let [values, indices] = dispatch('TopK', [x, int64s([k])], {
    axis,
    largest: largest ? 1 : 0,
    sorted: sorted ? 1 : 0,
  }) as [Tensor, Tensor];
  if (this.ndim === 0) {
    values = values.reshape([]);
    indices = indices.reshape([]);
  }
  return Object.assign([values, indices] as [Tensor, Tensor], { values, indices });
};

/** Sizes for torch.split: chunks of `size` (the last smaller), or the listed sections. */
function splitSizes(n: number, spec: number | readonly number[], who: string): number[] {
  if (typeof spec !== 'number') return [...spec];
  if (!Number.isInteger(spec) || spec < 0 || (spec === 0 && n !== 0)) {
    throw new TesseraError('INVALID_ARGUMENT', `${who}: split size must be a positive integer, got ${spec}`);
  }
  if (n === 0) return [0];
  const out: number[] = [];
  for (let s = 0; s < n; s += spec) out.push(Math.min(spec, n - s));
  return out;
}

Tensor.prototype.split = function (this: Tensor, splitSizeOrSections, dim = 0) {
  const d = normAxis(dim, this.ndim, 'split');
  const sizes = splitSizes(this.shape[d]!, splitSizeOrSections, 'split');
  return dispatch('Split', [this, int64s(sizes)], { axis: d }, { numOutputs: sizes.length });
};

Tensor.prototype.chunk = function (this: Tensor, chunks, dim = 0) {
  if (!Number.isInteger(chunks) || chunks < 1) {
    throw new TesseraError('INVALID_ARGUMENT', `chunk: chunks must be a positive integer, got ${chunks}`);
  }
  const d = normAxis(dim, this.ndim, 'chunk');
  const n = this.shape[d]!;
  if (n === 0) {
    const sizes = new Array<number>(chunks).fill(0);
    return dispatch('Split', [this, int64s(sizes)], { axis: d }, { numOutputs: chunks });
  }
  return this.split(Math.ceil(n / chunks), d);
};

function indexTensor(index: Tensor, who: string): Tensor {
  if (index.dtype !== 'int64' && index.dtype !== 'int32') {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${who}: index must be an int64 (or int32) tensor, got ${index.dtype}`,
    );
  }
  return index;
}

Tensor.prototype.gather = function (this: Tensor, dim, index) {
  const x = this.ndim === 0 ? this.reshape([1]) : this;
  const idx = indexTensor(index, 'gather');
  const i = idx.ndim === 0 ? idx.reshape([1]) : idx;
  const out = dispatch1('GatherElements', [x, i], { axis: normAxis(dim, x.ndim, 'gather') });
  return index.ndim === 0 ? out.reshape([]) : out;
};

Tensor.prototype.indexSelect = function (this: Tensor, dim, index) {
  const idx = indexTensor(index, 'indexSelect');
  if (idx.ndim > 1) {
    throw new TesseraError('INVALID_ARGUMENT', `indexSelect: index must be 1-D, got ${fmtShape(idx.shape)}`);
  }
  const x = this.ndim === 0 ? this.reshape([1]) : this;
  const out = dispatch1('Gather', [x, idx.ndim === 0 ? idx.reshape([1]) : idx], {
    axis: normAxis(dim, x.ndim, 'indexSelect'),
  });
  return this.ndim === 0 ? out.reshape([]) : out;
};

/** The part of `src` that `index` covers (torch lets src be larger than index). */
function srcFor(x: Tensor, index: Tensor, src: Tensor | number, who: string): Tensor {
  if (typeof src === 'number') return full(index.shape, src, { dtype: x.dtype, device: x.device });
  if (src.ndim !== index.ndim || src.shape.some((d, i) => d < index.shape[i]!)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: src ${fmtShape(src.shape)} must have index's rank and be at least as large as index ${fmtShape(index.shape)}`,
    );
  }
  let s = castTo(src, x.dtype);
  if (!sameShape(s.shape, index.shape)) {
    s = dispatch1('Slice', [s, int64s(index.shape.map(() => 0)), int64s([...index.shape])]);
  }
  return s;
}

function scatterWith(
  x: Tensor,
  dim: number,
  index: Tensor,
  src: Tensor | number,
  reduction: string,
  who: string,
) {
  const idx = indexTensor(index, who);
  const axis = normAxis(dim, Math.max(x.ndim, 1), who);
  const attrs = reduction === 'none' ? { axis } : { axis, reduction };
  return dispatch1('ScatterElements', [x, idx, srcFor(x, idx, src, who)], attrs);
}

Tensor.prototype.scatter = function (this: Tensor, dim, index, src) {
  return scatterWith(this, dim, index, src, 'none', 'scatter');
};
Tensor.prototype.scatterAdd = function (this: Tensor, dim, index, src) {
  return scatterWith(this, dim, index, src, 'add', 'scatterAdd');
};

const PAD_MODES: Record<TorchPadMode, string> = {
  constant: 'constant',
  reflect: 'reflect',
  replicate: 'edge',
  circular: 'wrap',
};

Tensor.prototype.pad = function (this: Tensor, pads, mode = 'constant', value = 0) {
  if (pads.length % 2 !== 0 || pads.length > 2 * this.ndim) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `pad: pads [${pads.join(', ')}] must have an even length of at most ${2 * this.ndim} (2 per dim)`,
    );
  }
  const onnxMode = PAD_MODES[mode];
  if (!onnxMode) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `pad: mode must be constant, reflect, replicate or circular, got '${mode}'`,
    );
  }
  const r = this.ndim;
  const full = new Array<number>(2 * r).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = r - 1 - i;
    full[d] = pads[2 * i]!;
    full[d + r] = pads[2 * i + 1]!;
  }
  const inputs = [this, int64s(full)];
  if (onnxMode === 'constant' && value !== 0) inputs.push(scalarLike(this.dtype, value));
  return dispatch1('Pad', inputs, { mode: onnxMode });
};

function scalarLike(dtype: DType, v: number): Tensor {
  return full([], v, { dtype });
}

Tensor.prototype.nonzero = function (this: Tensor) {
  const nz = dispatch1('NonZero', [this]);
  if (this.ndim === 0) return dispatch1('Reshape', [nz, int64s([nz.shape[1]!, 0])]);
  return dispatch1('Transpose', [nz]).contiguous();
};

// ---- top-level functions ----------------------------------------------------------------------

/** torch.cat: joins tensors along `dim` (dtypes promoted; legacy empty [0] tensors are skipped). */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0)
    throw new TesseraError('INVALID_ARGUMENT', 'cat: expects a non-empty list of tensors');
  tensors.forEach((t, i) => {
    if (t.ndim === 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `cat: zero-dimensional tensor (at position ${i}) cannot be concatenated`,
      );
    }
  });
  const dtype = tensors.map((t) => t.dtype).reduce((a, b) => promoteTypes(a, b));
  const real = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  const parts = (real.length ? real : [tensors[0]!]).map((t) => castTo(t, dtype));
  const axis = normAxis(dim, parts[0]!.ndim, 'cat');
  return dispatch1('Concat', parts, { axis });
}

/** torch.stack: joins equal-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0)
    throw new TesseraError('INVALID_ARGUMENT', 'stack: expects a non-empty list of tensors');
  const shape = tensors[0]!.shape;
  tensors.forEach((t, i) => {
    if (!sameShape(t.shape, shape)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `stack: expects each tensor to be equal size, but got ${fmtShape(shape)} at entry 0 and ${fmtShape(t.shape)} at entry ${i}`,
      );
    }
  });
  const axis = normAxis(dim, shape.length + 1, 'stack');
  return cat(
    tensors.map((t) => t.unsqueeze(axis)),
    axis,
  );
}

/** torch.split. */
export function split(x: Tensor, splitSizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  return x.split(splitSizeOrSections, dim);
}

/** torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  return x.chunk(chunks, dim);
}

/** torch.nn.functional.pad. */
export function pad(x: Tensor, pads: readonly number[], mode: TorchPadMode = 'constant', value = 0): Tensor {
  return x.pad(pads, mode, value);
}
