/**
 * Parameter: a leaf tensor a Module owns and trains (torch.nn.Parameter). Assigning one to a
 * Module property registers it (see module.ts). Also the in-place writers that initializers,
 * loadStateDict and zeroGrad use: they write a CPU tensor's storage through its strides, outside
 * the autograd tape, so every reference to the tensor (a Module's, an optimizer's) sees the values.
 */
import { type DataArray, encodeNumber, isBigInt, isFloat } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { fmtShape, numel, sameShape } from '../runtime/shape.js';
import { Tensor } from '../runtime/tensor.js';

export class Parameter extends Tensor {
  /**
   * Wraps `data` (sharing its storage, as torch does) as a leaf. Gradients are required by
   * default; only floating-point parameters can require them.
   */
  constructor(data: Tensor, requiresGrad = true) {
    if (!(data instanceof Tensor)) {
      throw new TesseraError('INVALID_ARGUMENT', `Parameter: expected a Tensor, got ${typeof data}`);
    }
    super(data.storage, data.shape, data.dtype, data.strides, data.offset);
    if (requiresGrad && !isFloat(data.dtype)) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `Parameter: only floating-point tensors can require gradients, got ${data.dtype} (pass requiresGrad = false)`,
      );
    }
    this.requiresGrad = requiresGrad;
  }

  override toString(): string {
    return `Parameter containing:\n${super.toString()}`;
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function cpuStorage(t: Tensor, who: string): DataArray {
  if (t.device !== 'cpu' || t.storage.data === undefined) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${who}: in-place writes need a cpu tensor, got one on ${t.device}; write on cpu, then move with to('${t.device}')`,
    );
  }
  return t.storage.data;
}

/** Calls `visit(i, p)` for the i-th element (row-major) of `t` at storage position p. */
function forEachPosition(t: Tensor, visit: (i: number, p: number) => void): void {
  const n = numel(t.shape);
  const rank = t.ndim;
  const idx = new Array<number>(rank).fill(0);
  let p = t.offset;
  for (let i = 0; i < n; i++) {
    visit(i, p);
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < t.shape[d]!) {
        p += t.strides[d]!;
        break;
      }
      p -= t.strides[d]! * (t.shape[d]! - 1);
      idx[d] = 0;
    }
  }
}

/** Writes `value(i)` into element i (row-major) of `t`, in place, converting to t's dtype. */
export function fillInPlace(t: Tensor, value: (i: number) => number, who: string): Tensor {
  const data = cpuStorage(t, who) as any;
  if (t.dtype === 'string')
    throw new TesseraError('DTYPE_MISMATCH', `${who}: cannot write numbers into a string tensor`);
  forEachPosition(t, (i, p) => {
    data[p] = encodeNumber(t.dtype, value(i));
  });
  return t;
}

/** Copies `src` into `dst` in place (torch's `dst.copy_(src)`): same shape, values cast to dst's dtype. */
export function copyInPlace(dst: Tensor, src: Tensor, who: string): Tensor {
  if (!sameShape(dst.shape, src.shape)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${who}: cannot copy a tensor of shape ${fmtShape(src.shape)} into one of shape ${fmtShape(dst.shape)}`,
    );
  }
  const data = cpuStorage(dst, who) as any;
  if (src.device !== 'cpu') {
    throw new TesseraError(
      'UNSUPPORTED',
      `${who}: the source tensor is on ${src.device}; move it to cpu first`,
    );
  }
  if (src.dtype === dst.dtype || (isBigInt(src.dtype) && isBigInt(dst.dtype))) {
    // Raw elements: keeps 64-bit integers and 16-bit float patterns exact.
    const raw = src.dataSync() as any;
    const big = dst.dtype === 'int64' ? BigInt.asIntN : BigInt.asUintN;
    forEachPosition(dst, (i, p) => {
      data[p] = isBigInt(dst.dtype) ? big(64, raw[i]) : raw[i];
    });
    return dst;
  }
  const vals = src.numbers();
  return fillInPlace(dst, (i) => vals[i]!, who);
}
