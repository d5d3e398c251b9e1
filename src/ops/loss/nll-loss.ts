/**
 * NegativeLogLikelihoodLoss (opset 12; later opsets only widen the types): loss[n, d] =
 * -input[n, target[n, d], d] * weight[target[n, d]], 0 where the target is ignore_index; reduced
 * by 'none', 'sum' or 'mean' (mean divides by the summed weights of the counted targets). The
 * gradient w.r.t. the input is the constant pick tensor times the incoming gradient (class-loss.ts).
 */
import { int64s } from '../../runtime/creation.js';
import type { Tensor } from '../../runtime/tensor.js';
import { floats } from '../nn/kernel-io.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../registry.js';
import { classLoss, pickTensor, planClassLoss } from './class-loss.js';

const OP = 'NegativeLogLikelihoodLoss';

/** d loss / d input for a loss computed from input (log-probabilities) laid out [N, C, d...]. */
export function pickGrad(op: string, inputs: OpInputs, attrs: Attrs, dy: Tensor): Tensor {
  const x = inputs[0]!;
  const plan = planClassLoss(op, inputs, attrs);
  const pick = pickTensor(plan, x.shape, x.dtype);
  const g = plan.reduction === 'none' ? dispatch1('Unsqueeze', [dy, int64s([1])]) : dy;
  return dispatch1('Mul', [pick, g]);
}

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
      return [classLoss(plan, floats(x), x.dtype)];
    },
  },
  grad: ({ inputs, attrs }, [dy]) => [dy ? pickGrad(OP, inputs, attrs, dy) : null, null, null],
});
