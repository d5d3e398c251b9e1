/**
 * LpPool and GlobalLpPool: y = (sum over the window of |x|^p)^(1/p), padding contributing zeros.
 * The gradient is the kernel com.tessera::LpPoolGrad (first order only).
 */
import { TesseraError } from '../../runtime/errors.js';
import type { Tensor } from '../../runtime/tensor.js';
import { attrFloat, expectFloat, expectSameDType, input } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';
import { expectShape, planes, type Taps, windowTaps } from './pool-taps.js';
import {
  ceilModeOf,
  expectNonNegativePads,
  expectSpatial,
  kernelShape,
  resolveWindow,
  type Window,
} from './window.js';

function pOf(op: string, attrs: Attrs): number {
  const p = attrFloat(attrs, 'p', 2);
  if (!(p > 0)) throw new TesseraError('INVALID_ARGUMENT', `${op}: p must be positive, got ${p}`);
  return p;
}

function lpWindow(op: string, x: Tensor, attrs: Attrs): { win: Window; taps: Taps } {
  expectFloat(op, 'X', x);
  expectSpatial(op, x);
  if (op.startsWith('Global')) {
    const sp = x.shape.slice(2);
    const win = resolveWindow(op, sp, sp, {});
    return { win, taps: windowTaps(win) };
  }
  expectNonNegativePads(op, attrs);
  const win = resolveWindow(op, x.shape.slice(2), kernelShape(op, attrs), attrs, ceilModeOf(attrs));
  return { win, taps: windowTaps(win) };
}

function lpPool(op: string, x: Tensor, attrs: Attrs): Tensor {
  const p = pOf(op, attrs);
  const { win, taps } = lpWindow(op, x, attrs);
  const xs = floats(x);
  const nPlanes = planes(x);
  const y = new Float64Array(nPlanes * taps.L);
  for (let q = 0; q < nPlanes; q++) {
    for (let l = 0; l < taps.L; l++) {
      let s = 0;
      for (let j = taps.starts[l]!; j < taps.starts[l + 1]!; j++)
        s += Math.abs(xs[q * taps.P + taps.offsets[j]!]!) ** p;
      y[q * taps.L + l] = s ** (1 / p);
    }
  }
  return output(y, [x.shape[0]!, x.shape[1]!, ...win.outSize], x.dtype);
}

function registerLp(name: string, since: number, defaults: Attrs, global: boolean) {
  registerOp({
    name,
    since,
    minInputs: 1,
    maxInputs: 1,
    defaults,
    kernels: { cpu: (inputs, attrs, ctx) => [lpPool(ctx.op, input(inputs, 0, ctx.op), attrs)] },
    grad: ({ inputs, outputs, attrs }, [dy]) => [
      dispatch1(
        'LpPoolGrad',
        [inputs[0]!, outputs[0]!, dy!],
        { ...attrs, global: global ? 1 : 0 },
        { domain: TESSERA_DOMAIN },
      ),
    ],
  });
}

// Opset 1 had a float `p`; from opset 2 it is an int with the same meaning.
registerLp('LpPool', 1, { auto_pad: 'NOTSET', ceil_mode: 0, p: 2 }, false);
registerLp('GlobalLpPool', 1, { p: 2 }, true);

/** dX of LpPool: dy * |x|^(p-1) * sign(x) / y^(p-1) summed over the windows containing x. */
registerOp({
  name: 'LpPoolGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 3,
  maxInputs: 3,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const [x, y, dy] = [0, 1, 2].map((i) => input(inputs, i, ctx.op)) as [Tensor, Tensor, Tensor];
      expectSameDType(ctx.op, [x, y, dy]);
      const op = attrs.global ? 'GlobalLpPool' : 'LpPool';
      const p = pOf(op, attrs);
      const { taps } = lpWindow(op, x, attrs);
      expectShape(ctx.op, 'dY', dy, y.shape);
      const xs = floats(x);
      const ys = floats(y);
      const dys = floats(dy);
      const nPlanes = planes(x);
      const dx = new Float64Array(x.numel());
      for (let q = 0; q < nPlanes; q++) {
        for (let l = 0; l < taps.L; l++) {
          const yv = ys[q * taps.L + l]!;
          if (yv === 0) continue;
          const g = dys[q * taps.L + l]! / yv ** (p - 1);
          for (let j = taps.starts[l]!; j < taps.starts[l + 1]!; j++) {
            const i = q * taps.P + taps.offsets[j]!;
            const v = xs[i]!;
            dx[i]! += g * Math.sign(v) * Math.abs(v) ** (p - 1);
          }
        }
      }
      return [output(dx, x.shape, x.dtype)];
    },
  },
});
