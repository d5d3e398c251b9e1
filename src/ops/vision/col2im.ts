/**
 * Col2Im (opset 18): rearranges column blocks [N, C * prod(block_shape), L] into an image
 * [N, C, *image_shape], summing where blocks overlap; the inverse layout of an im2col with the
 * given dilations, pads ([begin..., end...]) and strides. L must be the number of block
 * positions those give.
 */
import { fromNumbers } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInts, expectFloat, input, readInts } from '../helpers.js';
import { floats } from '../nn/kernel-io.js';
import { registerOp } from '../registry.js';

const OP = 'Col2Im';

registerOp({
  name: OP,
  since: 18,
  minInputs: 3,
  maxInputs: 3,
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, OP);
      expectFloat(OP, 'input', x);
      const image = readInts(input(inputs, 1, OP));
      const block = readInts(input(inputs, 2, OP));
      const r = image.length;
      if (block.length !== r || r === 0) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: image_shape and block_shape must have the same non-zero length, got ${r} and ${block.length}`,
        );
      }
      const dil = attrInts(attrs, 'dilations', new Array(r).fill(1));
      const str = attrInts(attrs, 'strides', new Array(r).fill(1));
      const pads = attrInts(attrs, 'pads', new Array(2 * r).fill(0));
      if (dil.length !== r || str.length !== r || pads.length !== 2 * r) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: dilations and strides need ${r} values and pads ${2 * r}, got ${dil.length}, ${str.length} and ${pads.length}`,
        );
      }
      const K = block.reduce((a, b) => a * b, 1);
      // Block positions per dimension.
      const counts = image.map(
        (d, i) => Math.floor((d + pads[i]! + pads[i + r]! - (dil[i]! * (block[i]! - 1) + 1)) / str[i]!) + 1,
      );
      const L = counts.reduce((a, b) => a * b, 1);
      if (x.ndim !== 3 || x.shape[1]! % K !== 0 || x.shape[2] !== L || counts.some((c) => c <= 0)) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${OP}: input must have shape [N, C * ${K}, ${L}] for image_shape [${image.join(', ')}] and block_shape [${block.join(', ')}], got ${fmtShape(x.shape)}`,
        );
      }
      const N = x.shape[0]!;
      const C = x.shape[1]! / K;
      const S = image.reduce((a, b) => a * b, 1);
      const istr = image.map((_, i) => image.slice(i + 1).reduce((a, b) => a * b, 1));
      const xs = floats(x);
      const out = new Float64Array(N * C * S);
      const kIdx = new Array<number>(r).fill(0);
      const lIdx = new Array<number>(r).fill(0);
      const next = (idx: number[], lim: readonly number[]) => {
        for (let d = r - 1; d >= 0; d--) {
          if (++idx[d]! < lim[d]!) return;
          idx[d] = 0;
        }
      };
      for (let n = 0; n < N; n++)
        for (let c = 0; c < C; c++) {
          const obase = (n * C + c) * S;
          kIdx.fill(0);
          for (let k = 0; k < K; k++) {
            const row = ((n * C + c) * K + k) * L;
            lIdx.fill(0);
            for (let l = 0; l < L; l++) {
              let off = 0;
              let inside = true;
              for (let d = 0; d < r; d++) {
                const pos = lIdx[d]! * str[d]! - pads[d]! + kIdx[d]! * dil[d]!;
                if (pos < 0 || pos >= image[d]!) {
                  inside = false;
                  break;
                }
                off += pos * istr[d]!;
              }
              if (inside) out[obase + off]! += xs[row + l]!;
              next(lIdx, counts);
            }
            next(kIdx, block);
          }
        }
      return [Tensor.fromData(fromNumbers(x.dtype, out), [N, C, ...image], x.dtype)];
    },
  },
});
