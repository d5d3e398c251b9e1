/** Unary elementwise math ops, one table row each: kernel function and gradient. */
import { mapUnary } from '../../backends/cpu/elementwise.js';
import type { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';

interface UnarySpec {
  name: string;
  since?: number;
  f: (x: number) => number;
  /** dx given x, y = f(x) and dy. */
  grad?: (x: Tensor, y: Tensor, dy: Tensor) => Tensor;
}

const op = (name: string, ...xs: Tensor[]) => dispatch1(name, xs);

export function registerUnary(spec: UnarySpec): void {
  const g = spec.grad;
  registerOp({
    name: spec.name,
    since: spec.since ?? 6,
    minInputs: 1,
    maxInputs: 1,
    kernels: { cpu: (inputs) => [mapUnary(input(inputs, 0, spec.name), spec.f)] },
    grad: g ? ({ inputs, outputs }, [dy]) => [g(inputs[0]!, outputs[0]!, dy!)] : undefined,
  });
}

registerUnary({ name: 'Neg', f: (x) => -x, grad: (_x, _y, dy) => op('Neg', dy) });
registerUnary({ name: 'Exp', f: Math.exp, grad: (_x, y, dy) => op('Mul', dy, y) });
registerUnary({ name: 'Log', f: Math.log, grad: (x, _y, dy) => op('Div', dy, x) });
