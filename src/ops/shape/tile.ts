/** Tile: repeats the input `repeats[d]` times along each axis. */
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape, numel } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { input, readInts } from '../helpers.js';
import { registerOp } from '../registry.js';
import { gatherFlat, movementGrad } from './layout.js';

export function tileKernel(x: Tensor, repeats: readonly number[]): Tensor {
  if (repeats.length !== x.ndim || repeats.some((r) => !Number.isInteger(r) || r < 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Tile: repeats [${repeats.join(', ')}] must hold one non-negative integer per axis of ${fmtShape(x.shape)}`,
    );
  }
  const r = x.ndim;
  const outShape = x.shape.map((d, i) => d * repeats[i]!);
  const cs = contiguousStrides(x.shape);
  const total = numel(outShape);
  const map = new Int32Array(total);
  const coord = new Array<number>(r).fill(0);
  for (let i = 0; i < total; i++) {
    let p = 0;
    for (let d = 0; d < r; d++) p += (coord[d]! % x.shape[d]!) * cs[d]!;
    map[i] = p;
    for (let d = r - 1; d >= 0; d--) {
      if (++coord[d]! < outShape[d]!) break;
      coord[d] = 0;
    }
  }
  return gatherFlat(x, map, outShape);
}

registerOp({
  name: 'Tile',
  since: 6,
  minInputs: 2,
  maxInputs: 2,
  kernels: { cpu: (inputs) => [tileKernel(input(inputs, 0, 'Tile'), readInts(input(inputs, 1, 'Tile')))] },
  grad: ({ inputs }, [dy]) => {
    const reps = readInts(inputs[1]!);
    return [movementGrad(inputs[0]!, dy!, (ids) => tileKernel(ids, reps)), null];
  },
});
