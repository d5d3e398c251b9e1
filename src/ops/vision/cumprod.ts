/**
 * CumProd (opset 26): running product along the axis given as a 0-d (or one-element) int32/int64
 * input, with `exclusive` (each output leaves out its own element; the first is 1) and `reverse`.
 * Integers wrap like C (int64/uint64 exactly in BigInt). The gradient is exact with zeros in the
 * input: com.tessera::CumProdGrad sums dy_i times the product of the other factors of y_i.
 */
import { allocate, fromNumbers, isBigInt, isFloat, isInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, normAxis } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectDType, input, readInts } from '../helpers.js';
import { TESSERA_DOMAIN } from '../nn/domain.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';

const OP = 'CumProd';

function readAxis(t: Tensor, rank: number): number {
  expectDType(OP, 'axis', t, (d) => d === 'int32' || d === 'int64', 'an int32 or int64 tensor');
  const v = readInts(t);
  if (v.length !== 1 || t.ndim > 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: axis must be a 0-d tensor holding one axis, got shape ${fmtShape(t.shape)}`,
    );
  }
  return normAxis(v[0]!, rank, OP);
}

/** Visits every line along `axis` as (start offset, stride, length), in the order the flags ask. */
function forEachLine(
  shape: readonly number[],
  axis: number,
  visit: (at: (k: number) => number, len: number) => void,
  reverse: boolean,
): void {
  const len = shape[axis]!;
  let inner = 1;
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i]!;
  let outer = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i]!;
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * len * inner + i;
      visit((k) => base + (reverse ? len - 1 - k : k) * inner, len);
    }
}

function cumprodKernel(x: Tensor, axis: number, exclusive: boolean, reverse: boolean): Tensor {
  const n = x.numel();
  if (isBigInt(x.dtype)) {
    const src = x.dataSync() as BigInt64Array;
    const out = allocate(x.dtype, n) as BigInt64Array;
    const wrap =
      x.dtype === 'int64' ? (v: bigint) => BigInt.asIntN(64, v) : (v: bigint) => BigInt.asUintN(64, v);
    forEachLine(
      x.shape,
      axis,
      (at, len) => {
        let acc = 1n;
        for (let k = 0; k < len; k++) {
          const p = at(k);
          if (exclusive) {
            out[p] = acc;
            acc = wrap(acc * src[p]!);
          } else {
            acc = wrap(acc * src[p]!);
            out[p] = acc;
          }
        }
      },
      reverse,
    );
    return Tensor.fromData(out, x.shape, x.dtype);
  }
  const src = x.numbers();
  const out = new Float64Array(n);
  // 32-bit and narrower ints keep the low 32 bits of every product (Math.imul); they wrap on write.
  const times = isInt(x.dtype) ? (a: number, b: number) => Math.imul(a, b) : (a: number, b: number) => a * b;
  forEachLine(
    x.shape,
    axis,
    (at, len) => {
      let acc = 1;
      for (let k = 0; k < len; k++) {
        const p = at(k);
        if (exclusive) {
          out[p] = acc;
          acc = times(acc, src[p]!);
        } else {
          acc = times(acc, src[p]!);
          out[p] = acc;
        }
      }
    },
    reverse,
  );
  return Tensor.fromData(fromNumbers(x.dtype, out), x.shape, x.dtype);
}

registerOp({
  name: OP,
  since: 26,
  minInputs: 2,
  maxInputs: 2,
  defaults: { exclusive: 0, reverse: 0 },
  validate: (inputs) =>
    expectDType(OP, 'x', input(inputs, 0, OP), (d) => isFloat(d) || isInt(d), 'a numeric tensor'),
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, OP);
      return [
        cumprodKernel(
          x,
          readAxis(input(inputs, 1, OP), x.ndim),
          attrInt(attrs, 'exclusive') !== 0,
          attrInt(attrs, 'reverse') !== 0,
        ),
      ];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1('CumProdGrad', [inputs[0]!, dy!, inputs[1]!], attrs, { domain: TESSERA_DOMAIN }),
    null,
  ],
});

/** dx_j = sum over outputs i whose product includes x_j of dy_i * (that product without x_j). */
function cumprodGrad(x: Tensor, dy: Tensor, axis: number, attrs: Attrs): Tensor {
  const exclusive = attrInt(attrs, 'exclusive', 0) !== 0;
  const xs = floats(x);
  const gs = floats(dy);
  const dx = new Float64Array(xs.length);
  forEachLine(
    x.shape,
    axis,
    (at, len) => {
      let prefix = 1; // product of the factors before j
      for (let j = 0; j < len; j++) {
        let others = prefix; // the product of y_i's factors except x_j
        let sum = 0;
        for (let i = exclusive ? j + 1 : j; i < len; i++) {
          if (i > j && !(exclusive && i === j + 1)) others *= xs[at(exclusive ? i - 1 : i)]!;
          sum += gs[at(i)]! * others;
        }
        dx[at(j)] = sum;
        prefix *= xs[at(j)]!;
      }
    },
    attrInt(attrs, 'reverse', 0) !== 0,
  );
  return Tensor.fromData(fromNumbers(x.dtype, dx), x.shape, x.dtype);
}

registerOp({
  name: 'CumProdGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 3,
  maxInputs: 3,
  defaults: { exclusive: 0, reverse: 0 },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'CumProdGrad');
      return [
        cumprodGrad(
          x,
          input(inputs, 1, 'CumProdGrad'),
          readAxis(input(inputs, 2, 'CumProdGrad'), x.ndim),
          attrs,
        ),
      ];
    },
  },
});
