/**
 * MaxUnpool: places X at the flat indices I (MaxPool's Indices) of a zero tensor, whose shape is
 * the optional output_shape input or the inverse of the pooling geometry. The gradient reads dY back
 * at the same indices (com.tessera::FlatGather).
 */
import { TesseraError } from '../../runtime/errors.js';
import { contiguousStrides, fmtShape, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { expectDType, expectFloat, input, readInts } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';
import { expectNonNegativePads, expectSpatial, kernelShape, windowAttrs } from './window.js';

interface Unpool {
  x: Tensor;
  /** Flat indices into the output, mapped from the inferred shape the indices refer to. */
  target: Float64Array;
  shape: number[];
}

/**
 * Indices refer to the shape the pooling geometry infers; a larger output_shape holds that block
 * in its leading corner (as the ONNX reference does).
 */
function unpoolSetup(op: string, inputs: readonly (Tensor | undefined)[], attrs: Attrs): Unpool {
  const x = input(inputs, 0, op);
  const ind = input(inputs, 1, op);
  expectFloat(op, 'X', x);
  expectSpatial(op, x);
  expectDType(op, 'I', ind, (d) => d === 'int64', 'an int64 tensor');
  if (ind.ndim !== x.ndim || ind.shape.some((d, i) => d !== x.shape[i])) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: I has shape ${fmtShape(ind.shape)}, expected X's ${fmtShape(x.shape)}`,
    );
  }
  expectNonNegativePads(op, attrs);
  const r = x.ndim - 2;
  const kernel = kernelShape(op, attrs);
  const { strides, pads } = windowAttrs(op, attrs, r);
  const inferred = [
    x.shape[0]!,
    x.shape[1]!,
    ...x.shape.slice(2).map((n, i) => (n - 1) * strides[i]! + kernel[i]! - pads[i]! - pads[i + r]!),
  ];
  let shape = inferred;
  if (inputs[2]) {
    shape = readInts(inputs[2]);
    if (shape.length !== x.ndim || shape.some((d, i) => d < inferred[i]!)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `${op}: output_shape must have ${x.ndim} values, each at least the inferred ${fmtShape(inferred)}; got ${fmtShape(shape)}`,
      );
    }
  }
  const nInf = numel(inferred);
  const ix = ind.numbers();
  const target = new Float64Array(ix.length);
  const strOut = contiguousStrides(shape);
  for (let i = 0; i < ix.length; i++) {
    let k = ix[i]!;
    if (!Number.isInteger(k) || k < 0 || k >= nInf) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: index ${k} is out of range for shape ${fmtShape(inferred)}`,
      );
    }
    let t = 0;
    for (let a = inferred.length - 1; a >= 0; a--) {
      const c = k % inferred[a]!;
      k = (k - c) / inferred[a]!;
      t += c * strOut[a]!;
    }
    target[i] = t;
  }
  return { x, target, shape };
}

registerOp({
  name: 'MaxUnpool',
  since: 9,
  minInputs: 2,
  maxInputs: 3,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const { x, target, shape } = unpoolSetup(ctx.op, inputs, attrs);
      const y = new Float64Array(numel(shape));
      const xs = floats(x);
      for (let i = 0; i < target.length; i++) y[target[i]!] = xs[i]!;
      return [output(y, shape, x.dtype)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const { x, target } = unpoolSetup('MaxUnpool', inputs, attrs);
    const idx = Tensor.fromData(
      BigInt64Array.from(target, (v) => BigInt(v)),
      x.shape,
      'int64',
    );
    return [dispatch1('FlatGather', [dy!, idx], {}, { domain: TESSERA_DOMAIN }), null, null];
  },
});
