/**
 * Index maps for data-movement ops, and the pair of linear ops built on them. A data-movement op
 * (Tile, Pad, Gather, DepthToSpace, ...) is fully described by a map from each output element to the
 * flat row-major index of the input element it copies (-1 where it writes a constant). Its gradient
 * is then `ScatterAddFlat(dy, map)`, whose own gradient is `GatherFlat(g, map)`: so every such op
 * gets first and higher-order gradients from one pair of kernels, on every backend.
 */
import { allocate, type DataArray, type DType, encodeNumber, fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInts, input } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';

/** Domain of Tessera's internal ops (gradient helpers that have no ONNX op type). */
export const TESSERA_DOMAIN = 'tessera';

/** The raw storage value a constant `v` has in `dtype` (bit pattern, BigInt, 0/1 or string). */
export function rawValue(dtype: DType, v: number | string): number | bigint | string {
  if (dtype === 'string') return typeof v === 'string' ? v : '';
  return encodeNumber(dtype, Number(v));
}

/** An int32 tensor of `shape` holding 0, 1, 2, ...: run a movement kernel on it to get its index map. */
export function elementIds(shape: readonly number[]): Tensor {
  const n = numel(shape);
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return Tensor.fromData(ids, shape, 'int32');
}

/**
 * out[i] = x[map[i]] (row-major flat indices into x), or `fill` where map[i] < 0. Copies raw storage
 * values, so it is exact for every dtype (int64, float16 bits, strings).
 */
export function gatherFlat(
  x: Tensor,
  map: ArrayLike<number>,
  outShape: readonly number[],
  fill: number | string = 0,
): Tensor {
  const src = x.dataSync() as any;
  const n = map.length;
  const out = allocate(x.dtype, n) as any;
  const f = rawValue(x.dtype, fill);
  for (let i = 0; i < n; i++) {
    const m = map[i]!;
    out[i] = m >= 0 ? src[m] : f;
  }
  return Tensor.fromData(out as DataArray, outShape, x.dtype);
}

/**
 * Flat row-major indices (in a contiguous tensor of `baseShape`) of the elements a strided view
 * with `shape`, `strides` (in units of that base's contiguous layout) and `offset` reads.
 */
export function stridedMap(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  if (n === 0) return out;
  const rank = shape.length;
  const idx = new Array<number>(rank).fill(0);
  let p = offset;
  for (let i = 0; i < n; i++) {
    out[i] = p;
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        p += strides[d]!;
        break;
      }
      p -= strides[d]! * (shape[d]! - 1);
      idx[d] = 0;
    }
  }
  return out;
}

/** A view of `x` with its dims permuted (no copy). */
export function permuteView(x: Tensor, perm: readonly number[]): Tensor {
  return x.asStrided(
    perm.map((p) => x.shape[p]!),
    perm.map((p) => x.strides[p]!),
  );
}

/** Contiguous strides of `shape`, re-exported for the movement ops. */
export { contiguousStrides };

function mapTensor(t: Tensor | undefined, op: string): Int32Array {
  const m = input([t], 0, op);
  if (m.dtype !== 'int32') {
    throw new TesseraError('DTYPE_MISMATCH', `${op}: the index map must be int32, got ${m.dtype}`);
  }
  return m.dataSync() as Int32Array;
}

function targetShape(attrs: Record<string, unknown>, op: string): number[] {
  const s = attrInts(attrs as any, 'shape');
  if (!s) throw new TesseraError('INVALID_ARGUMENT', `${op}: attribute 'shape' is required`);
  return s;
}

/** Scatter-adds `src` (any shape) into zeros of `shape` along `map` (one entry per src element). */
export function scatterAddFlat(src: Tensor, map: ArrayLike<number>, shape: readonly number[]): Tensor {
  if (map.length !== src.numel()) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `ScatterAddFlat: the map has ${map.length} entries, the source ${fmtShape(src.shape)} has ${src.numel()}`,
    );
  }
  const vals = src.numbers();
  const acc = new Float64Array(numel(shape));
  for (let i = 0; i < map.length; i++) {
    const m = map[i]!;
    if (m >= 0) acc[m]! += vals[i]!;
  }
  return Tensor.fromData(fromNumbers(src.dtype, acc), shape, src.dtype);
}

registerOp({
  name: 'GatherFlat',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'GatherFlat');
      const map = mapTensor(inputs[1], 'GatherFlat');
      return [gatherFlat(x, map, targetShape(attrs, 'GatherFlat'))];
    },
  },
  grad: ({ inputs }, [dy]) => [
    dispatch1(
      'ScatterAddFlat',
      [dy!, inputs[1]!],
      { shape: [...inputs[0]!.shape] },
      { domain: TESSERA_DOMAIN },
    ),
    null,
  ],
});

registerOp({
  name: 'ScatterAddFlat',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, attrs) => {
      const src = input(inputs, 0, 'ScatterAddFlat');
      return [
        scatterAddFlat(src, mapTensor(inputs[1], 'ScatterAddFlat'), targetShape(attrs, 'ScatterAddFlat')),
      ];
    },
  },
  grad: ({ inputs }, [dy]) => [
    dispatch1('GatherFlat', [dy!, inputs[1]!], { shape: [...inputs[0]!.shape] }, { domain: TESSERA_DOMAIN }),
    null,
  ],
});

/**
 * Gradient of a data-movement op w.r.t. its data input `x`: `run` applies the op (same attributes and
 * index inputs) to an int32 tensor and must write -1 where the op writes a constant.
 */
export function movementGrad(x: Tensor, dy: Tensor, run: (ids: Tensor) => Tensor): Tensor {
  const map = run(elementIds(x.shape));
  return dispatch1('ScatterAddFlat', [dy, map], { shape: [...x.shape] }, { domain: TESSERA_DOMAIN });
}

/** Gradient through a strided view of `x` (Slice, indexing): scatter dy back where the view reads. */
export function viewGrad(x: Tensor, dy: Tensor, strides: readonly number[], offset: number): Tensor {
  const map = Tensor.fromData(stridedMap(dy.shape, strides, offset), [dy.numel()], 'int32');
  return dispatch1('ScatterAddFlat', [dy, map], { shape: [...x.shape] }, { domain: TESSERA_DOMAIN });
}
