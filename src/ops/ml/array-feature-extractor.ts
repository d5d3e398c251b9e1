/**
 * ai.onnx.ml ArrayFeatureExtractor (opset 1): selects entries of X's last axis by the int64 indices
 * Y (flattened). Output X.shape[:-1] + [count]; a 1-D X gives [1, count], as ONNX Runtime does.
 */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input, readInts } from '../helpers.js';
import { registerOp } from '../registry.js';
import { ML } from './domain.js';

const OP = 'ArrayFeatureExtractor';

registerOp({
  name: OP,
  domain: ML,
  since: 1,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs) => {
      const x = input(inputs, 0, OP);
      const y = input(inputs, 1, OP);
      if (y.dtype !== 'int64')
        throw new TesseraError('DTYPE_MISMATCH', `${OP}: Y must be int64, got ${y.dtype}`);
      if (x.ndim === 0)
        throw new TesseraError('SHAPE_MISMATCH', `${OP}: X must have rank >= 1, got a scalar`);
      const idx = readInts(y);
      const last = x.shape[x.ndim - 1]!;
      for (const i of idx) {
        if (i < 0 || i >= last)
          throw new TesseraError(
            'INVALID_ARGUMENT',
            `${OP}: index ${i} is out of range for a last axis of ${last}`,
          );
      }
      const rows = x.numel() / Math.max(last, 1);
      const src = x.dataSync() as ArrayLike<unknown>;
      const out = new (src.constructor as new (n: number) => unknown[])(rows * idx.length) as unknown[];
      for (let r = 0; r < rows; r++)
        for (let j = 0; j < idx.length; j++) out[r * idx.length + j] = src[r * last + idx[j]!];
      const shape = x.ndim === 1 ? [1, idx.length] : [...x.shape.slice(0, -1), idx.length];
      return [Tensor.fromData(out as never, shape, x.dtype)];
    },
  },
});
