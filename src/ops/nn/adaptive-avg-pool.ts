/**
 * com.tessera::AdaptiveAveragePool (not in ONNX; backs nn.AdaptiveAvgPool1d/2d/3d): averages
 * windows [floor(i*in/out), ceil((i+1)*in/out)) per spatial axis to reach `output_size`. Its adjoint
 * com.tessera::AdaptiveAveragePoolGrad has AdaptiveAveragePool as gradient.
 */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import { attrInts, expectFloat, input } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';
import { adaptiveTaps, avgPoolBackward, avgPoolForward, expectShape, planes } from './pool-taps.js';
import { expectSpatial } from './window.js';

function outputSize(op: string, attrs: Attrs, inShape: readonly number[]): number[] {
  const size = attrInts(attrs, 'output_size');
  const r = inShape.length - 2;
  if (!size || size.length !== r || size.some((s) => !Number.isInteger(s) || s < 1)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: output_size must hold ${r} positive integers (one per spatial axis of ${fmtShape(inShape)}), got ${size ? fmtShape(size) : 'none'}`,
    );
  }
  return size;
}

function taps(inShape: readonly number[], out: number[]) {
  const t = adaptiveTaps(inShape.slice(2), out);
  const div = Float64Array.from({ length: t.L }, (_, l) => t.starts[l + 1]! - t.starts[l]!);
  return { t, div };
}

registerOp({
  name: 'AdaptiveAveragePool',
  domain: TESSERA_DOMAIN,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'X', x);
      expectSpatial(ctx.op, x);
      const out = outputSize(ctx.op, attrs, x.shape);
      const { t, div } = taps(x.shape, out);
      return [
        output(avgPoolForward(floats(x), planes(x), t, div), [x.shape[0]!, x.shape[1]!, ...out], x.dtype),
      ];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [
    dispatch1(
      'AdaptiveAveragePoolGrad',
      [dy!],
      { output_size: attrs.output_size, input_shape: [...inputs[0]!.shape] },
      { domain: TESSERA_DOMAIN },
    ),
  ],
});

registerOp({
  name: 'AdaptiveAveragePoolGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const dy = input(inputs, 0, ctx.op);
      const shape = attrInts(attrs, 'input_shape');
      if (!shape)
        throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: attribute 'input_shape' is required`);
      const out = outputSize(ctx.op, attrs, shape);
      expectShape(ctx.op, 'dY', dy, [shape[0]!, shape[1]!, ...out]);
      const { t, div } = taps(shape, out);
      return [output(avgPoolBackward(floats(dy), planes(dy), t, div), shape, dy.dtype)];
    },
  },
  grad: ({ attrs }, [g]) => [
    dispatch1('AdaptiveAveragePool', [g!], { output_size: attrs.output_size }, { domain: TESSERA_DOMAIN }),
  ],
});
