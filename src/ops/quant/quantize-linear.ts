/**
 * QuantizeLinear and DequantizeLinear (opsets 10 to 25 in one definition each: the later opsets only
 * add attributes whose defaults keep the older behaviour). Per-tensor, per-axis and blocked scales;
 * int8/uint8/int16/uint16/int4/uint4/int2/uint2 and float8/float4 quantized types.
 *
 *   QuantizeLinear:   y = saturate(rint(x / y_scale) + y_zero_point)    (float8/float4: nearest even)
 *   DequantizeLinear: y = (x - x_zero_point) * x_scale
 *
 * The division runs in the precision of `precision` (default: y_scale's dtype) and the
 * multiplication in the output dtype, as the specification says. DequantizeLinear is
 * differentiable with respect to x_scale (learned scales); x and the zero points are not.
 */
import { int64s, onesLike } from '../../runtime/creation.js';
import { allocate, type DType, fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, input } from '../helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import {
  dtypeAttr,
  expectScale,
  isQuantType,
  makeSaturator,
  type QuantLayout,
  quantLayout,
  roundTo,
} from './common.js';

const Q = 'QuantizeLinear';
const DQ = 'DequantizeLinear';

/** The dtype QuantizeLinear produces: the zero point's, else output_dtype, else uint8. */
function quantizeTarget(zp: Tensor | undefined, attrs: Attrs): DType {
  const od = dtypeAttr(Q, 'output_dtype', attrs.output_dtype);
  if (zp && od && zp.dtype !== od) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${Q}: output_dtype is ${od} but y_zero_point is ${zp.dtype}; they must agree`,
    );
  }
  const to = zp?.dtype ?? od ?? 'uint8';
  if (!isQuantType(to)) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${Q}: the quantized type must be int8, uint8, int16, uint16, int4, uint4, int2, uint2 or a float8/float4 type, got ${to}`,
    );
  }
  return to;
}

export function quantizeLinear(inputs: OpInputs, attrs: Attrs): Tensor {
  const x = input(inputs, 0, Q);
  const scale = input(inputs, 1, Q);
  const zp = inputs[2];
  if (!isFloat(x.dtype) && x.dtype !== 'int32') {
    throw new TesseraError('DTYPE_MISMATCH', `${Q}: x must be a float (or int32) tensor, got ${x.dtype}`);
  }
  expectScale(Q, 'y_scale', scale);
  const to = quantizeTarget(zp, attrs);
  const prec = dtypeAttr(Q, 'precision', attrs.precision) ?? scale.dtype;
  if (!isFloat(prec))
    throw new TesseraError('DTYPE_MISMATCH', `${Q}: precision must be a float type, got ${prec}`);
  const layout = quantLayout(Q, x, scale, zp, attrInt(attrs, 'axis', 1), attrInt(attrs, 'block_size', 0), {
    scale: 'y_scale',
    zp: 'y_zero_point',
  });
  const sat = makeSaturator(Q, to, attrInt(attrs, 'saturate', 1) !== 0);
  const xs = x.numbers();
  const ss = scale.numbers();
  const zs = zp?.numbers();
  const out = allocate(to, xs.length) as Int8Array;
  for (let i = 0; i < xs.length; i++) {
    const p = layout.paramIndex(i);
    out[i] = sat(roundTo(prec, xs[i]! / ss[p]!), zs ? zs[p]! : 0);
  }
  return Tensor.fromData(out, x.shape, to);
}

function dequantizeSetup(inputs: OpInputs, attrs: Attrs) {
  const x = input(inputs, 0, DQ);
  const scale = input(inputs, 1, DQ);
  const zp = inputs[2];
  if (!isQuantType(x.dtype) && x.dtype !== 'int32') {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${DQ}: x must be a quantized type (int8, uint8, int16, uint16, int32, int4, uint4, int2, uint2, float8, float4), got ${x.dtype}`,
    );
  }
  expectScale(DQ, 'x_scale', scale);
  if (zp && zp.dtype !== x.dtype) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${DQ}: x_zero_point must have x's dtype ${x.dtype}, got ${zp.dtype}`,
    );
  }
  const to = dtypeAttr(DQ, 'output_dtype', attrs.output_dtype) ?? scale.dtype;
  if (!isFloat(to))
    throw new TesseraError('DTYPE_MISMATCH', `${DQ}: output_dtype must be a float type, got ${to}`);
  const layout = quantLayout(DQ, x, scale, zp, attrInt(attrs, 'axis', 1), attrInt(attrs, 'block_size', 0), {
    scale: 'x_scale',
    zp: 'x_zero_point',
  });
  return { x, scale, zp, to, layout };
}

export function dequantizeLinear(inputs: OpInputs, attrs: Attrs): Tensor {
  const { x, scale, zp, to, layout } = dequantizeSetup(inputs, attrs);
  const xs = x.numbers();
  const ss = scale.numbers();
  const zs = zp?.numbers();
  const vals = new Float64Array(xs.length);
  for (let i = 0; i < xs.length; i++) {
    const p = layout.paramIndex(i);
    vals[i] = (xs[i]! - (zs ? zs[p]! : 0)) * ss[p]!;
  }
  // One rounding of the exact product to the output dtype (16-bit floats through float32, as numpy).
  return Tensor.fromData(fromNumbers(to, vals), x.shape, to);
}

/** Sums g (X's shape) onto the scale's layout: everything, all but the axis, or each block. */
function sumToScale(g: Tensor, scale: Tensor, layout: QuantLayout): Tensor {
  const rank = g.ndim;
  if (layout.mode === 'tensor') {
    const s = dispatch1('ReduceSum', [g, int64s([])], { keepdims: 0 });
    return dispatch1('Reshape', [s, int64s([...scale.shape])]);
  }
  const axis = layout.axis;
  if (layout.mode === 'axis') {
    const others = Array.from({ length: rank }, (_, i) => i).filter((i) => i !== axis);
    return others.length ? dispatch1('ReduceSum', [g, int64s(others)], { keepdims: 0 }) : g;
  }
  const D = g.shape[axis]!;
  const S = scale.shape[axis]!;
  const B = layout.blockSize;
  let p = g;
  if (S * B !== D) {
    // The last block is short: pad it with zeros so every block has B elements.
    const pads = new Array<number>(2 * rank).fill(0);
    pads[rank + axis] = S * B - D;
    p = dispatch1('Pad', [g, int64s(pads)], { mode: 'constant' });
  }
  const split = [...g.shape.slice(0, axis), S, B, ...g.shape.slice(axis + 1)];
  const r = dispatch1('Reshape', [p, int64s(split)]);
  return dispatch1('ReduceSum', [r, int64s([axis + 1])], { keepdims: 0 });
}

const QUANT_DEFAULTS = { axis: 1, saturate: 1, block_size: 0, output_dtype: 0, precision: 0 };

registerOp({
  name: Q,
  since: 10,
  minInputs: 2,
  maxInputs: 3,
  defaults: QUANT_DEFAULTS,
  kernels: { cpu: (inputs, attrs) => [quantizeLinear(inputs, attrs)] },
});

registerOp({
  name: DQ,
  since: 10,
  minInputs: 2,
  maxInputs: 3,
  defaults: { axis: 1, block_size: 0, output_dtype: 0 },
  kernels: { cpu: (inputs, attrs) => [dequantizeLinear(inputs, attrs)] },
  grad: ({ inputs, attrs }, [dy]) => {
    const { x, scale, zp, layout } = dequantizeSetup(inputs, attrs);
    if (!dy || !scale.requiresGrad) return [null, null, null];
    // dy/dscale = x - zero point, summed over the elements that share each scale.
    const centered = dispatch1(DQ, [x, onesLike(scale), zp], attrs);
    let g = sumToScale(dispatch1('Mul', [dy, centered]), scale, layout);
    if (g.dtype !== scale.dtype) g = dispatch1('Cast', [g], { to: scale.dtype });
    return [null, g, null];
  },
});
