/**
 * SoftmaxCrossEntropyLoss (opset 12; 13 only widened the types): log_prob = LogSoftmax(scores,
 * axis 1), then the negative log-likelihood loss of class-loss.ts, with the optional second
 * output log_prob. The gradient is written with ops (LogSoftmax, Exp, ReduceSum), so it covers
 * gradients arriving through log_prob too and can be differentiated again.
 */
import { int64s } from '../../runtime/creation.js';
import { floats } from '../nn/kernel-io.js';
import { softmaxKernel } from '../reduce/softmax.js';
import { dispatch1, registerOp } from '../registry.js';
import { classLoss, planClassLoss } from './class-loss.js';
import { pickGrad } from './nll-loss.js';

const OP = 'SoftmaxCrossEntropyLoss';

registerOp({
  name: OP,
  since: 12,
  minInputs: 2,
  maxInputs: 3,
  defaults: { reduction: 'mean' },
  kernels: {
    cpu: (inputs, attrs) => {
      const plan = planClassLoss(OP, inputs, attrs);
      const x = inputs[0]!;
      const logp = softmaxKernel(OP, 'log', x, 1, false);
      return [classLoss(plan, floats(logp), x.dtype), logp];
    },
  },
  grad: ({ inputs, outputs, attrs }, [dLoss, dLogp]) => {
    const x = inputs[0]!;
    // d/dlogp of the loss, plus whatever reached the log_prob output.
    let g = dLoss ? pickGrad(OP, [outputs[1]!, inputs[1], inputs[2]], attrs, dLoss) : null;
    if (dLogp) g = g ? dispatch1('Add', [g, dLogp]) : dLogp;
    if (!g) return [null, null, null];
    // LogSoftmax's adjoint: g - softmax(x) * sum_c g; softmax recomputed with ops for double backward.
    const logp = dispatch1('LogSoftmax', [x], { axis: 1 });
    const sum = dispatch1('ReduceSum', [g, int64s([1])], { keepdims: 1 });
    return [dispatch1('Sub', [g, dispatch1('Mul', [dispatch1('Exp', [logp]), sum])]), null, null];
  },
});
