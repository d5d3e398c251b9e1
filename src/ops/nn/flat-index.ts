/**
 * com.tessera::FlatGather and com.tessera::FlatScatterAdd: reading and accumulating elements by
 * flat (row-major, whole-tensor) indices, the form MaxPool's Indices output takes. Each is the
 * other's gradient, which gives MaxPool, GlobalMaxPool and MaxUnpool gradients of every order.
 */
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, numel } from '../../runtime/shape.js';
import { attrInts, expectDType, input } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';
import { TESSERA_DOMAIN } from './domain.js';
import { floats, output } from './kernel-io.js';

const isIndex = (d: string) => d === 'int64' || d === 'int32';

function checkIndex(op: string, i: number, n: number): number {
  if (!Number.isInteger(i) || i < 0 || i >= n) {
    throw new TesseraError('INVALID_ARGUMENT', `${op}: index ${i} is out of range for ${n} elements`);
  }
  return i;
}

registerOp({
  name: 'FlatGather',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, _attrs, ctx) => {
      const data = input(inputs, 0, ctx.op);
      const idx = input(inputs, 1, ctx.op);
      expectDType(ctx.op, 'indices', idx, isIndex, 'int64 or int32');
      const d = floats(data);
      const ix = idx.numbers();
      const out = new Float64Array(ix.length);
      for (let i = 0; i < ix.length; i++) out[i] = d[checkIndex(ctx.op, ix[i]!, d.length)]!;
      return [output(out, idx.shape, data.dtype)];
    },
  },
  grad: ({ inputs }, [g]) => [
    dispatch1(
      'FlatScatterAdd',
      [g!, inputs[1]!],
      { shape: [...inputs[0]!.shape] },
      { domain: TESSERA_DOMAIN },
    ),
    null,
  ],
});

registerOp({
  name: 'FlatScatterAdd',
  domain: TESSERA_DOMAIN,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const values = input(inputs, 0, ctx.op);
      const idx = input(inputs, 1, ctx.op);
      expectDType(ctx.op, 'indices', idx, isIndex, 'int64 or int32');
      const shape = attrInts(attrs, 'shape');
      if (!shape) throw new TesseraError('INVALID_ARGUMENT', `${ctx.op}: attribute 'shape' is required`);
      if (values.numel() !== idx.numel()) {
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `${ctx.op}: values ${fmtShape(values.shape)} and indices ${fmtShape(idx.shape)} must have the same size`,
        );
      }
      const n = numel(shape);
      const v = floats(values);
      const ix = idx.numbers();
      const out = new Float64Array(n);
      for (let i = 0; i < ix.length; i++) out[checkIndex(ctx.op, ix[i]!, n)]! += v[i]!;
      return [output(out, shape, values.dtype)];
    },
  },
  grad: ({ inputs }, [g]) => [
    dispatch1('FlatGather', [g!, inputs[1]!], {}, { domain: TESSERA_DOMAIN }),
    null,
  ],
});
