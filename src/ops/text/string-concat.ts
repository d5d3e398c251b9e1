/** StringConcat (opset 20): elementwise concatenation of two string tensors, with broadcasting. */
import { forEachBroadcast } from '../../backends/cpu/elementwise.js';
import { broadcastShapes, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { stringsOf } from './string-input.js';

registerOp({
  name: 'StringConcat',
  since: 20,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu: (inputs) => {
      const x = input(inputs, 0, 'StringConcat');
      const y = input(inputs, 1, 'StringConcat');
      stringsOf('StringConcat', 'X', x);
      stringsOf('StringConcat', 'Y', y);
      const shape = broadcastShapes([x.shape, y.shape], 'StringConcat');
      const xs = x.storage.data as string[];
      const ys = y.storage.data as string[];
      const out = new Array<string>(numel(shape));
      forEachBroadcast([x, y], shape, (i, offs) => {
        out[i] = xs[offs[0]!]! + ys[offs[1]!]!;
      });
      return [Tensor.fromData(out, shape, 'string')];
    },
  },
});
