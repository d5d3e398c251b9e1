/**
 * Second-order check: the Hessian-vector product autograd gives (backward with createGraph, then
 * backward again) against central differences of the first gradient, all in float64.
 */
import { Generator, randn, type Tensor } from '../../../src/index.js';

const gen = new Generator(99);
const rnd = (shape: readonly number[]) => randn([...shape], { dtype: 'float64', generator: gen });

/** max |H v - (g(x + eps v) - g(x - eps v)) / 2 eps| / max |H v| for L(x) = sum(w * f(x)). */
export function hvpError(f: (x: Tensor) => Tensor, x0: Tensor): number {
  const w = rnd([...f(x0).shape]);
  const v = rnd([...x0.shape]);
  const grad = (x: Tensor, create: boolean) => {
    f(x).mul(w).sum().backward(undefined, { createGraph: create });
    return x.grad!;
  };
  const x = x0.detach().requiresGrad_();
  const g = grad(x, true);
  x.grad = null;
  g.mul(v).sum().backward();
  const hv = x.grad!.numbers();
  const eps = 1e-5;
  const gp = grad(x0.add(v.mul(eps)).detach().requiresGrad_(), false).numbers();
  const gm = grad(x0.sub(v.mul(eps)).detach().requiresGrad_(), false).numbers();
  let err = 0;
  let scale = 1e-8;
  for (let i = 0; i < hv.length; i++) {
    err = Math.max(err, Math.abs((gp[i]! - gm[i]!) / (2 * eps) - hv[i]!));
    scale = Math.max(scale, Math.abs(hv[i]!));
  }
  return err / scale;
}
