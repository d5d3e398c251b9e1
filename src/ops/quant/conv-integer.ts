/**
 * ConvInteger and QLinearConv (opset 10): Conv on 8-bit quantized tensors.
 *   ConvInteger: y = conv(x - x_zero_point, w - w_zero_point), int32
 *   QLinearConv: y = saturate(rint(conv(x - x_zp, w - w_zp) + B) * (x_scale * w_scale / y_scale)) + y_zp)
 * x's zero point (and scale) is per tensor; w's may be per output channel ([M]). The convolution
 * itself is the registry's Conv (all its attributes: strides, pads, dilations, group, auto_pad) on
 * exact float64 values, so the integer sums are exact.
 */
import { fromNumbers, isFloat8 } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { expectScale, makeSaturator, roundTo } from './common.js';

const is8bit = (t: Tensor) => t.dtype === 'int8' || t.dtype === 'uint8';

const at = (v: ArrayLike<number> | undefined, i: number) => (v ? (v.length === 1 ? v[0]! : v[i]!) : 0);

function expect8bit(op: string, what: string, t: Tensor): void {
  if (!is8bit(t))
    throw new TesseraError('DTYPE_MISMATCH', `${op}: ${what} must be int8 or uint8, got ${t.dtype}`);
}

function expectZeroPoint(
  op: string,
  what: string,
  zp: Tensor | undefined,
  x: Tensor,
  perChannel: number,
): void {
  if (!zp) return;
  if (zp.dtype !== x.dtype) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${op}: ${what} must have the dtype of its input (${x.dtype}), got ${zp.dtype}`,
    );
  }
  if (zp.numel() !== 1 && (perChannel === 0 || zp.ndim !== 1 || zp.shape[0] !== perChannel)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: ${what} must be a scalar${perChannel ? ` or 1-D with ${perChannel} elements (one per output channel)` : ''}, got shape ${fmtShape(zp.shape)}`,
    );
  }
}

/** x - zp as float64; `channel(i)` picks the zero point of element i. */
function centered(x: Tensor, zp: Tensor | undefined, channel: (i: number) => number): Tensor {
  const xs = x.numbers();
  const zs = zp?.numbers();
  const out = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) out[i] = xs[i]! - at(zs, channel(i));
  return Tensor.fromData(out, x.shape, 'float64');
}

/** Conv's attributes only (the window and groups), so the inner Conv sees nothing else. */
function convAttrs(attrs: Attrs): Attrs {
  const { auto_pad, dilations, group, kernel_shape, pads, strides } = attrs;
  return { auto_pad, dilations, group, kernel_shape, pads, strides };
}

/** conv(x - x_zp, w - w_zp) + B in exact float64. */
function integerConv(
  op: string,
  x: Tensor,
  w: Tensor,
  xZp: Tensor | undefined,
  wZp: Tensor | undefined,
  bias: Tensor | undefined,
  attrs: Attrs,
): Tensor {
  expect8bit(op, 'x', x);
  expect8bit(op, 'w', w);
  const M = w.shape[0] ?? 0;
  expectZeroPoint(op, 'x_zero_point', xZp, x, 0);
  expectZeroPoint(op, 'w_zero_point', wZp, w, M);
  const perOut = w.numel() / Math.max(M, 1);
  const xc = centered(x, xZp, () => 0);
  const wc = centered(w, wZp, (i) => Math.floor(i / perOut));
  const b = bias ? Tensor.fromData(Float64Array.from(bias.numbers()), bias.shape, 'float64') : undefined;
  return dispatch1('Conv', b ? [xc, wc, b] : [xc, wc], convAttrs(attrs));
}

registerOp({
  name: 'ConvInteger',
  since: 10,
  minInputs: 2,
  maxInputs: 4,
  defaults: { auto_pad: 'NOTSET', group: 1 },
  kernels: {
    cpu: (inputs, attrs) => {
      const op = 'ConvInteger';
      const y = integerConv(
        op,
        input(inputs, 0, op),
        input(inputs, 1, op),
        inputs[2],
        inputs[3],
        undefined,
        attrs,
      );
      return [Tensor.fromData(fromNumbers('int32', y.numbers()), y.shape, 'int32')];
    },
  },
});

registerOp({
  name: 'QLinearConv',
  since: 10,
  minInputs: 8,
  maxInputs: 9,
  defaults: { auto_pad: 'NOTSET', group: 1 },
  kernels: {
    cpu: (inputs, attrs) => {
      const op = 'QLinearConv';
      const x = input(inputs, 0, op);
      const xScale = input(inputs, 1, op);
      const w = input(inputs, 3, op);
      const wScale = input(inputs, 4, op);
      const yScale = input(inputs, 6, op);
      const yZp = inputs[7];
      const bias = inputs[8];
      const M = w.shape[0] ?? 0;
      for (const [s, what] of [
        [xScale, 'x_scale'],
        [wScale, 'w_scale'],
        [yScale, 'y_scale'],
      ] as const) {
        expectScale(op, what, s);
        const perChannel = what === 'w_scale' && s.ndim === 1 && s.shape[0] === M;
        if (s.numel() !== 1 && !perChannel) {
          throw new TesseraError(
            'SHAPE_MISMATCH',
            `${op}: ${what} must be a scalar${what === 'w_scale' ? ` or 1-D with ${M} elements` : ''}, got shape ${fmtShape(s.shape)}`,
          );
        }
      }
      if (bias && (bias.dtype !== 'int32' || bias.ndim !== 1 || bias.shape[0] !== M)) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${op}: B must be int32 of shape [${M}], got ${bias.dtype} ${fmtShape(bias.shape)}`,
        );
      }
      const to = yZp?.dtype ?? x.dtype;
      if (!is8bit({ dtype: to } as Tensor) || isFloat8(to)) {
        throw new TesseraError('DTYPE_MISMATCH', `${op}: y_zero_point must be int8 or uint8, got ${to}`);
      }
      if (yZp && yZp.numel() !== 1) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${op}: y_zero_point must be a scalar, got shape ${fmtShape(yZp.shape)}`,
        );
      }
      const y = integerConv(op, x, w, inputs[2], inputs[5], bias, attrs);
      const ys = y.numbers();
      const L = y.shape.slice(2).reduce((a, b) => a * b, 1);
      const [xs, wsc, yss] = [xScale.numbers(), wScale.numbers(), yScale.numbers()];
      const sdt = xScale.dtype;
      const zp = yZp ? yZp.numbers()[0]! : 0;
      const sat = makeSaturator(op, to, true);
      const out = Tensor.empty(y.shape, to);
      const o = out.storage.data as Int8Array;
      for (let i = 0; i < ys.length; i++) {
        const m = Math.floor(i / L) % M;
        const mult = roundTo(sdt, roundTo(sdt, xs[0]! * at(wsc, m)) / yss[0]!);
        o[i] = sat(ys[i]! * mult, zp);
      }
      return [out];
    },
  },
});
