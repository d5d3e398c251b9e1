/**
 * Registers RNN, GRU and LSTM (one definition each: their inputs are the same in every opset;
 * `layout` appeared in opset 14 and is 0 before it). The kernels are plain loops; gradients come
 * from the same computation rebuilt with registry ops (grad.ts).
 */
import { registerOp } from '../registry.js';
import { recurrentGrad } from './grad.js';
import { type Kind, recurrent } from './recurrent.js';

for (const [kind, maxInputs] of [
  ['RNN', 6],
  ['GRU', 6],
  ['LSTM', 8],
] as [Kind, number][]) {
  registerOp({
    name: kind,
    since: 1,
    minInputs: 3,
    maxInputs,
    defaults: { direction: 'forward', layout: 0 },
    kernels: { cpu: (inputs, attrs) => recurrent(kind, inputs, attrs) },
    grad: (ctx, dys) => recurrentGrad(kind, ctx, dys),
  });
}
