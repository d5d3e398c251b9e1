/**
 * MaxPool (kernel_shape, strides, pads, dilations, ceil_mode, auto_pad, storage_order, Indices
 * output) and GlobalMaxPool. The gradient scatters dY to the argmax positions with
 * com.tessera::FlatScatterAdd.
 */
import { globalPool, maxPool2d, pool2dOf } from '../../backends/cpu/pool2d.js';
import { isGradEnabled, noGrad } from '../../runtime/autograd.js';
import { type DType, fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, expectDType, input } from '../helpers.js';
import { type Attrs, dispatch, dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';
import { planes, type Taps, windowTaps } from './pool-taps.js';
import { ceilModeOf, expectNonNegativePads, expectSpatial, kernelShape, resolveWindow } from './window.js';

const maxPoolable = (d: DType) => isFloat(d) || d === 'int8' || d === 'uint8';

/** Row-major in-plane offset -> column-major offset (storage_order = 1: the first spatial axis varies fastest). */
function columnMajor(off: number, inSize: readonly number[]): number {
  const r = inSize.length;
  const idx = new Array<number>(r);
  for (let a = r - 1; a >= 0; a--) {
    idx[a] = off % inSize[a]!;
    off = (off - idx[a]!) / inSize[a]!;
  }
  let out = 0;
  let mul = 1;
  for (let a = 0; a < r; a++) {
    out += idx[a]! * mul;
    mul *= inSize[a]!;
  }
  return out;
}

/** Max of each window and the flat (whole-tensor) index of the first maximum. */
export function maxPoolTaps(
  x: Tensor,
  t: Taps,
  outSpatial: readonly number[],
  storageOrder = 0,
): [Tensor, Tensor] {
  const xs = floats(x);
  const nPlanes = planes(x);
  const y = new Float64Array(nPlanes * t.L);
  const ind = new BigInt64Array(nPlanes * t.L);
  const inSize = x.shape.slice(2);
  for (let q = 0; q < nPlanes; q++) {
    const base = q * t.P;
    for (let l = 0; l < t.L; l++) {
      let best = Number.NEGATIVE_INFINITY;
      let arg = -1;
      // NaNs are skipped (as ONNX Runtime); a window of only NaN or -inf reports its first tap.
      for (let j = t.starts[l]!; j < t.starts[l + 1]!; j++) {
        const off = t.offsets[j]!;
        const v = xs[base + off]!;
        if (v > best) {
          best = v;
          arg = off;
        }
      }
      if (arg < 0 && t.starts[l + 1]! > t.starts[l]!) {
        arg = t.offsets[t.starts[l]!]!;
        best = xs[base + arg]!;
      }
      y[q * t.L + l] = best;
      const spatial = arg < 0 ? 0 : storageOrder === 1 ? columnMajor(arg, inSize) : arg;
      ind[q * t.L + l] = BigInt(base + spatial);
    }
  }
  const shape = [x.shape[0]!, x.shape[1]!, ...outSpatial];
  const yT = isFloat(x.dtype)
    ? output(y, shape, x.dtype)
    : Tensor.fromData(fromNumbers(x.dtype, y), shape, x.dtype);
  return [yT, Tensor.fromData(ind, shape, 'int64')];
}

function maxPool(
  op: string,
  inputs: readonly (Tensor | undefined)[],
  attrs: Attrs,
  wantIndices = true,
): Tensor[] {
  const x = input(inputs, 0, op);
  expectDType(op, 'X', x, maxPoolable, 'a float, int8 or uint8 tensor');
  expectSpatial(op, x);
  expectNonNegativePads(op, attrs);
  const win = resolveWindow(op, x.shape.slice(2), kernelShape(op, attrs), attrs, ceilModeOf(attrs));
  const storageOrder = attrInt(attrs, 'storage_order', 0);
  if (storageOrder !== 0 && storageOrder !== 1) {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: storage_order must be 0 or 1, got ${storageOrder}`);
  }
  // storage_order only changes Indices: without them the row-major fast path serves both.
  if ((storageOrder === 0 || !wantIndices) && win.kernel.length === 2) {
    // float NCHW: the direct 2-D loops (null when they do not apply).
    const fast = maxPool2d(x, pool2dOf(win), wantIndices);
    if (fast) return fast;
  }
  return maxPoolTaps(x, windowTaps(win), win.outSize, storageOrder);
}

/** dX of a max pooling: dY scattered to the (row-major) argmax indices. */
function scatterToArgmax(x: Tensor, dy: Tensor, rowMajorIndices: Tensor): Tensor {
  return dispatch1(
    'FlatScatterAdd',
    [dy, rowMajorIndices],
    { shape: [...x.shape] },
    { domain: TESSERA_DOMAIN },
  );
}

registerOp({
  name: 'MaxPool',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  defaults: { auto_pad: 'NOTSET', ceil_mode: 0, storage_order: 0 },
  kernels: {
    // Indices are made when the caller reads them or the gradient will (a graph node with one
    // output, run without autograd, gets [Y] alone).
    cpu: (inputs, attrs, ctx) =>
      maxPool(
        ctx.op,
        inputs,
        attrs,
        (ctx.numOutputs ?? 2) >= 2 || (isGradEnabled() && inputs.some((t) => t?.requiresGrad)),
      ),
  },
  grad: ({ inputs, outputs, attrs }, [dy]) => {
    const x = inputs[0]!;
    if (!dy) return [null];
    const indices =
      attrs.storage_order === 1
        ? noGrad(() => dispatch('MaxPool', [x.detach()], { ...attrs, storage_order: 0 })[1]!)
        : outputs[1]!;
    return [scatterToArgmax(x, dy, indices)];
  },
});

function globalSetup(op: string, x: Tensor): Attrs {
  expectSpatial(op, x);
  return { kernel_shape: x.shape.slice(2) };
}

registerOp({
  name: 'GlobalMaxPool',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, _attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectDType(ctx.op, 'X', x, maxPoolable, 'a float, int8 or uint8 tensor');
      expectSpatial(ctx.op, x);
      return [globalPool(x, 'max') ?? maxPool(ctx.op, [x], globalSetup(ctx.op, x), false)[0]!];
    },
  },
  grad: ({ inputs }, [dy]) => {
    const x = inputs[0]!;
    const indices = noGrad(() => maxPool('GlobalMaxPool', [x.detach()], globalSetup('GlobalMaxPool', x))[1]);
    return [scatterToArgmax(x, dy!, indices)];
  },
});
