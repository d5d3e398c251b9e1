/**
 * BitCast (opset 26): the bits of each element read as another dtype of the same width (little
 * endian, as the specification requires). Tessera keeps one element per byte for the 4- and 2-bit
 * types, so those reinterpret their low 4 (2) bits, sign-extending for int4/int2; bool keeps its
 * 0/1 storage contract (a nonzero byte becomes true).
 */
import { allocate, bitWidth, type DType, type TypedArray } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';
import { input } from '../helpers.js';
import { registerOp } from '../registry.js';

const OP = 'BitCast';
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function target(to: unknown): DType {
  const d = typeof to === 'number' ? ONNX_DTYPE[to] : undefined;
  if (!d || d === 'string') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: 'to' must be a non-string ONNX data type number, got ${String(to)}`,
    );
  }
  return d;
}

export function bitCast(x: Tensor, to: DType): Tensor {
  if (x.dtype === 'string')
    throw new TesseraError('DTYPE_MISMATCH', `${OP}: string tensors have no bit pattern`);
  const bits = bitWidth(x.dtype);
  if (bitWidth(to) !== bits) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${OP}: ${x.dtype} is ${bits} bits wide, ${to} is ${bitWidth(to)}; BitCast needs equal widths`,
    );
  }
  if (!LITTLE_ENDIAN && bits > 8)
    throw new TesseraError('UNSUPPORTED', `${OP}: big-endian hosts are not supported`);
  const src = x.dataSync() as TypedArray;
  const n = x.numel();
  const out = allocate(to, n) as TypedArray;
  if (bits < 8) {
    const mask = (1 << bits) - 1;
    const signed = to === 'int4' || to === 'int2';
    const o = out as Int8Array;
    for (let i = 0; i < n; i++) {
      const v = (src as Int8Array)[i]! & mask;
      o[i] = signed && v > mask >> 1 ? v - mask - 1 : v;
    }
  } else {
    new Uint8Array(out.buffer, out.byteOffset, out.byteLength).set(
      new Uint8Array(src.buffer, src.byteOffset, n * src.BYTES_PER_ELEMENT),
    );
    if (to === 'bool') for (let i = 0; i < n; i++) (out as Uint8Array)[i] = out[i] ? 1 : 0;
  }
  return Tensor.fromData(out, x.shape, to);
}

registerOp({
  name: OP,
  since: 26,
  minInputs: 1,
  maxInputs: 1,
  kernels: { cpu: (inputs, attrs) => [bitCast(input(inputs, 0, OP), target(attrs.to))] },
});
