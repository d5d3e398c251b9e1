/** Where: condition ? X : Y, broadcasting all three; X and Y share one dtype (any, strings included). */
import { forEachBroadcast } from '../../backends/cpu/elementwise.js';
import { floatWhere } from '../../backends/cpu/fast-float.js';
import { allocate } from '../../runtime/dtype.js';
import { broadcastShapes, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { input, sumToShape } from '../helpers.js';
import { registerOp } from '../registry.js';
import { boolTypes, checkSame, checkTypes, op, scalarLike } from './kernels.js';

/** Copies raw storage values (16-bit float bits, BigInt, strings) without converting them. */
export function whereKernel(cond: Tensor, x: Tensor, y: Tensor): Tensor {
  const fast = floatWhere(cond, x, y);
  if (fast) return fast;
  const shape = broadcastShapes([cond.shape, x.shape, y.shape], 'Where');
  const out = allocate(x.dtype, numel(shape)) as any;
  const [c, a, b] = [cond.storage.data as Uint8Array, x.storage.data as any, y.storage.data as any];
  forEachBroadcast([cond, x, y], shape, (i, o) => {
    out[i] = c[o[0]!] ? a[o[1]!] : b[o[2]!];
  });
  return Tensor.fromData(out, shape, x.dtype);
}

registerOp({
  name: 'Where',
  since: 9,
  minInputs: 3,
  maxInputs: 3,
  validate(inputs) {
    checkTypes('Where', [inputs[0]], boolTypes, 'a bool tensor');
    checkSame('Where', [inputs[1], inputs[2]]);
  },
  kernels: {
    cpu: (inputs) => [
      whereKernel(input(inputs, 0, 'Where'), input(inputs, 1, 'Where'), input(inputs, 2, 'Where')),
    ],
  },
  grad: ({ inputs }, [dy]) => {
    const [c, x, y] = [inputs[0]!, inputs[1]!, inputs[2]!];
    const zero = scalarLike(0, dy!);
    return [
      null,
      x.requiresGrad ? sumToShape(op('Where', c, dy!, zero), x.shape) : null,
      y.requiresGrad ? sumToShape(op('Where', c, zero, dy!), y.shape) : null,
    ];
  },
});
