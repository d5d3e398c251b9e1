/**
 * AveragePool (count_include_pad, ceil_mode, auto_pad, dilations from opset 19) with its adjoint
 * com.tessera::AveragePoolGrad, and GlobalAveragePool. Average pooling is linear, so the adjoint's
 * gradient is AveragePool again.
 */
import { avgPool2d, globalPool, pool2dOf } from '../../backends/cpu/pool2d.js';
import { full, int64s } from '../../runtime/creation.js';
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, expectFloat, input } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';
import { avgPoolBackward, avgPoolForward, expectShape, planes, type Taps, windowTaps } from './pool-taps.js';
import {
  ceilModeOf,
  expectNonNegativePads,
  expectSpatial,
  kernelShape,
  resolveWindow,
  type Window,
} from './window.js';

function avgWindow(
  op: string,
  inShape: readonly number[],
  attrs: Attrs,
): { win: Window; taps: Taps; div: Float64Array } {
  expectNonNegativePads(op, attrs);
  const win = resolveWindow(op, inShape.slice(2), kernelShape(op, attrs), attrs, ceilModeOf(attrs));
  const taps = windowTaps(win);
  const includePad = attrInt(attrs, 'count_include_pad', 0) !== 0;
  const div = includePad
    ? taps.padCounts
    : Float64Array.from({ length: taps.L }, (_, l) => taps.starts[l + 1]! - taps.starts[l]!);
  return { win, taps, div };
}

registerOp({
  name: 'AveragePool',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  defaults: { auto_pad: 'NOTSET', ceil_mode: 0, count_include_pad: 0 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'X', x);
      expectSpatial(ctx.op, x);
      if (x.ndim === 4 && x.dtype === 'float32') {
        // float32 NCHW: the separable WASM loop (null when it does not apply).
        expectNonNegativePads(ctx.op, attrs);
        const win = resolveWindow(
          ctx.op,
          x.shape.slice(2),
          kernelShape(ctx.op, attrs),
          attrs,
          ceilModeOf(attrs),
        );
        // A window over the whole plane, with no padding, is a global average (resnet50's 7x7 head):
        // the plain sum of each plane instead of the separable loop's row and column passes.
        const whole = win.kernel.every((k, i) => k === win.inSize[i] && win.dilations[i] === 1);
        const unpadded = [...win.padsBegin, ...win.padsEnd].every((p) => p === 0);
        const fast =
          (whole && unpadded ? globalPool(x, 'avg') : null) ??
          avgPool2d(x, pool2dOf(win), attrInt(attrs, 'count_include_pad', 0) !== 0);
        if (fast) return [fast];
      }
      const { win, taps, div } = avgWindow(ctx.op, x.shape, attrs);
      const y = avgPoolForward(floats(x), planes(x), taps, div);
      return [output(y, [x.shape[0]!, x.shape[1]!, ...win.outSize], x.dtype)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1(
      'AveragePoolGrad',
      [dy!],
      { ...attrs, input_shape: [...inputs[0]!.shape] },
      { domain: TESSERA_DOMAIN },
    ),
  ],
});

/** The adjoint of AveragePool: dY [N, C, ...out] -> dX of shape `input_shape`, same pooling attributes. */
registerOp({
  name: 'AveragePoolGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 1,
  maxInputs: 1,
  defaults: { auto_pad: 'NOTSET', ceil_mode: 0, count_include_pad: 0 },
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const dy = input(inputs, 0, ctx.op);
      const shape = attrInts(attrs, 'input_shape');
      if (!shape)
        throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: attribute 'input_shape' is required`);
      const { win, taps, div } = avgWindow(ctx.op, shape, attrs);
      expectShape(ctx.op, 'dY', dy, [shape[0]!, shape[1]!, ...win.outSize]);
      return [output(avgPoolBackward(floats(dy), planes(dy), taps, div), shape, dy.dtype)];
    },
  },
  grad: ({ attrs }, [g]) => {
    const { input_shape: _, ...poolAttrs } = attrs;
    return [dispatch1('AveragePool', [g!], poolAttrs)];
  },
});

function spatialAxes(x: Tensor): number[] {
  return x.shape.slice(2).map((_, i) => i + 2);
}

registerOp({
  name: 'GlobalAveragePool',
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, _attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'X', x);
      expectSpatial(ctx.op, x);
      const fast = globalPool(x, 'avg');
      if (fast) return [fast];
      const P = x.shape.slice(2).reduce((a, b) => a * b, 1);
      const xs = floats(x);
      const nPlanes = planes(x);
      const y = new Float64Array(nPlanes);
      for (let q = 0; q < nPlanes; q++) {
        let s = 0;
        for (let p = 0; p < P; p++) s += xs[q * P + p]!;
        y[q] = s / P;
      }
      return [output(y, [x.shape[0]!, x.shape[1]!, ...x.shape.slice(2).map(() => 1)], x.dtype)];
    },
  },
  grad: ({ inputs }, [dy]) => {
    const x = inputs[0]!;
    const P = spatialAxes(x).reduce((a, ax) => a * x.shape[ax]!, 1);
    const spread = dispatch1('Expand', [dy!, int64s(x.shape)]);
    return [dispatch1('Mul', [spread, full([], 1 / P, { dtype: x.dtype, device: x.device })])];
  },
});
