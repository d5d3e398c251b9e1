/** Shared helpers for the elementwise op tests. */
import { Generator, ops, rand, type Tensor, tensor } from '../../../src/index.js';
import type { Attrs } from '../../../src/ops/index.js';

/** Runs one op through the registry (newest opset unless given). */
export function run(name: string, inputs: (Tensor | undefined)[], attrs: Attrs = {}, opset?: number): Tensor {
  return ops.dispatch1(name, inputs, attrs, { opset });
}

export const f64 = (values: number[]) => tensor(values, { dtype: 'float64' });

const gen = new Generator(20240611);
/** A float64 leaf requiring grad with elements uniform in [lo, hi). */
export function leaf(shape: number[], lo = -2, hi = 2): Tensor {
  const u = rand(shape, { dtype: 'float64', generator: gen });
  const t = u
    .mul(hi - lo)
    .add(lo)
    .detach();
  return t.requiresGrad_(true);
}
