/**
 * Gather (take along one axis), GatherElements (torch.gather) and GatherND (with batch_dims). Each
 * builds an index map and copies raw elements; gradients scatter-add back along the same map.
 * Negative indices count from the end; out-of-range indices are an error.
 */
import { isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape, normAxis, numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectDType, input, readInts } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { gatherFlat, movementGrad } from './layout.js';

/** Index values of `t` (int32/int64) checked against `dim`, with negatives wrapped. */
export function readIndices(op: string, t: Tensor, dim: number, what: string): number[] {
  expectDType(op, 'indices', t, isInt, 'an integer tensor');
  return readInts(t).map((v) => {
    if (v < -dim || v >= dim) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: index ${v} is out of range for ${what} of size ${dim}, expected [${-dim}, ${dim - 1}]`,
      );
    }
    return v < 0 ? v + dim : v;
  });
}

export function gatherKernel(x: Tensor, indices: Tensor, axisAttr: number): Tensor {
  if (x.ndim === 0)
    throw new TesseraError('INVALID_ARGUMENT', 'Gather: data must have rank >= 1, got rank 0');
  const axis = normAxis(axisAttr, x.ndim, 'Gather');
  const dim = x.shape[axis]!;
  const idx = readIndices('Gather', indices, dim, `axis ${axis}`);
  const outer = numel(x.shape.slice(0, axis));
  const inner = numel(x.shape.slice(axis + 1));
  const n = idx.length;
  const map = new Int32Array(outer * n * inner);
  let p = 0;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < n; j++) {
      const base = (o * dim + idx[j]!) * inner;
      for (let k = 0; k < inner; k++) map[p++] = base + k;
    }
  }
  const shape = [...x.shape.slice(0, axis), ...indices.shape, ...x.shape.slice(axis + 1)];
  return gatherFlat(x, map, shape);
}

export function gatherElementsKernel(
  x: Tensor,
  indices: Tensor,
  axisAttr: number,
  op = 'GatherElements',
): Tensor {
  if (indices.ndim !== x.ndim || x.ndim === 0) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: indices ${fmtShape(indices.shape)} must have the rank of data ${fmtShape(x.shape)} (>= 1)`,
    );
  }
  const axis = normAxis(axisAttr, x.ndim, op);
  for (let d = 0; d < x.ndim; d++) {
    if (d !== axis && indices.shape[d]! > x.shape[d]!) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: indices ${fmtShape(indices.shape)} exceed data ${fmtShape(x.shape)} on axis ${d}`,
      );
    }
  }
  const idx = readIndices(op, indices, x.shape[axis]!, `axis ${axis}`);
  const map = new Int32Array(idx.length);
  const xs = contiguousStrides(x.shape);
  const shape = indices.shape;
  const rank = shape.length;
  const coord = new Array<number>(rank).fill(0);
  for (let i = 0; i < idx.length; i++) {
    let p = 0;
    for (let d = 0; d < rank; d++) p += (d === axis ? idx[i]! : coord[d]!) * xs[d]!;
    map[i] = p;
    for (let d = rank - 1; d >= 0; d--) {
      if (++coord[d]! < shape[d]!) break;
      coord[d] = 0;
    }
  }
  return gatherFlat(x, map, shape);
}

/** The flat positions (in data) of every index tuple of GatherND/ScatterND, and the slice each addresses. */
export function ndTuples(
  op: string,
  dataShape: readonly number[],
  indices: Tensor,
  batchDims: number,
): { bases: Int32Array; sliceShape: number[]; tupleShape: number[] } {
  const r = dataShape.length;
  const q = indices.ndim;
  const b = batchDims;
  expectDType(op, 'indices', indices, isInt, 'an integer tensor');
  if (r < 1 || q < 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: data ${fmtShape(dataShape)} and indices ${fmtShape(indices.shape)} must have rank >= 1`,
    );
  }
  if (!Number.isInteger(b) || b < 0 || b >= Math.min(r, q)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: batch_dims ${b} must be in [0, ${Math.min(r, q) - 1}]`,
    );
  }
  const k = indices.shape[q - 1]!;
  if (k < 1 || k > r - b) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: the last dim of indices ${fmtShape(indices.shape)} is ${k}, expected [1, ${r - b}] for data ${fmtShape(dataShape)}`,
    );
  }
  for (let d = 0; d < b; d++) {
    if (indices.shape[d] !== dataShape[d]) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: batch dim ${d} is ${indices.shape[d]} in indices and ${dataShape[d]} in data`,
      );
    }
  }
  const raw = readInts(indices);
  const cs = contiguousStrides(dataShape);
  const tupleShape = indices.shape.slice(0, q - 1);
  const nTuples = numel(tupleShape);
  const perBatch = numel(indices.shape.slice(b, q - 1));
  const batchStride = numel(dataShape.slice(b));
  const bases = new Int32Array(nTuples);
  for (let t = 0; t < nTuples; t++) {
    let p = perBatch === 0 ? 0 : Math.floor(t / perBatch) * batchStride;
    for (let j = 0; j < k; j++) {
      const dim = dataShape[b + j]!;
      let v = raw[t * k + j]!;
      if (v < -dim || v >= dim) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${op}: index ${v} is out of range for data axis ${b + j} of size ${dim}, expected [${-dim}, ${dim - 1}]`,
        );
      }
      if (v < 0) v += dim;
      p += v * cs[b + j]!;
    }
    bases[t] = p;
  }
  return { bases, sliceShape: dataShape.slice(b + k), tupleShape };
}

export function gatherNDKernel(x: Tensor, indices: Tensor, batchDims: number, op = 'GatherND'): Tensor {
  const { bases, sliceShape, tupleShape } = ndTuples(op, x.shape, indices, batchDims);
  const size = numel(sliceShape);
  const map = new Int32Array(bases.length * size);
  for (let t = 0; t < bases.length; t++) for (let s = 0; s < size; s++) map[t * size + s] = bases[t]! + s;
  return gatherFlat(x, map, [...tupleShape, ...sliceShape]);
}

type Run = (x: Tensor, indices: Tensor, attrs: Attrs) => Tensor;

function registerGather(name: string, since: number, run: Run, defaults: Attrs): void {
  registerOp({
    name,
    since,
    minInputs: 2,
    maxInputs: 2,
    defaults,
    kernels: {
      cpu: (inputs: OpInputs, attrs) => [run(input(inputs, 0, name), input(inputs, 1, name), attrs)],
    },
    grad: ({ inputs, attrs }, [dy]) => [
      // Indices on a device (class targets on webgpu): the index map is gathered there too.
      movementGrad(inputs[0]!, dy!, (ids) =>
        inputs[1]!.device === 'cpu' ? run(ids, inputs[1]!, attrs) : dispatch1(name, [ids, inputs[1]!], attrs),
      ),
      null,
    ],
  });
}

registerGather('Gather', 1, (x, i, a) => gatherKernel(x, i, attrInt(a, 'axis', 0)), { axis: 0 });
registerGather('GatherElements', 11, (x, i, a) => gatherElementsKernel(x, i, attrInt(a, 'axis', 0)), {
  axis: 0,
});
registerGather('GatherND', 11, (x, i, a) => gatherNDKernel(x, i, attrInt(a, 'batch_dims', 0)), {
  batch_dims: 0,
});
