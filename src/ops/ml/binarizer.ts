/** ai.onnx.ml Binarizer (opset 1): 1 where X > threshold (default 0), else 0, in X's dtype. */
import { mapUnary } from '../../backends/cpu/elementwise.js';
import { TesseraError } from '../../runtime/errors.js';
import { attrFloat, input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { ML } from './domain.js';

registerOp({
  name: 'Binarizer',
  domain: ML,
  since: 1,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'Binarizer');
      if (x.dtype === 'string' || x.dtype === 'bool')
        throw new TesseraError('DTYPE_MISMATCH', `Binarizer: X must be numeric, got ${x.dtype}`);
      const th = attrFloat(attrs, 'threshold', 0);
      return [mapUnary(x, (v) => (v > th ? 1 : 0))];
    },
  },
});
