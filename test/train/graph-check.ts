/**
 * Gradient checks of ops as ONNX nodes: a one-node Graph run by the graph executor with the
 * autograd tape on (the path TrainingSession trains imported models through), wrapped as a
 * function of its float inputs and compared with central finite differences by gradcheck.
 */
import { Generator, type Graph, gradcheck, randn, type Tensor } from '../../src/index.js';
import type { Attrs } from '../../src/ops/registry.js';
import { GraphExecutor, RunState } from '../../src/runtime/executor.js';

export interface NodeCheck {
  /** Number of node outputs (default 1). */
  outputs?: number;
  opset?: number;
  domain?: string;
  /** Which inputs get gradients checked (default: every float64 input). */
  diff?: boolean[];
  atol?: number;
  rtol?: number;
}

/** Runs op as a one-node graph; returns the node's outputs. */
export function nodeRunner(op: string, inputs: (Tensor | undefined)[], attrs: Attrs, opts: NodeCheck = {}) {
  const names = inputs.map((t, i) => (t ? `x${i}` : ''));
  const outs = Array.from({ length: opts.outputs ?? 1 }, (_, i) => `y${i}`);
  const graph: Graph = {
    name: op,
    nodes: [
      { name: `${op}_node`, opType: op, domain: opts.domain ?? '', inputs: names, outputs: outs, attrs },
    ],
    inputs: names.filter((n) => n).map((name) => ({ name })),
    outputs: outs.map((name) => ({ name })),
    initializers: new Map(),
    valueInfo: new Map(),
  };
  const exec = new GraphExecutor({ opsets: new Map([[opts.domain ?? '', opts.opset ?? 21]]), grad: true });
  const present = inputs.filter((t): t is Tensor => t !== undefined);
  const presentNames = names.filter((n) => n);
  return {
    present,
    run: (...xs: Tensor[]) =>
      exec.run(
        graph,
        new Map(presentNames.map((n, i) => [n, xs[i]!])),
        new RunState({}, new Set()),
      ) as Tensor[],
  };
}

/** gradcheck of op over its float64 inputs, run as an ONNX node through the executor with the tape on. */
export function checkNode(
  op: string,
  inputs: (Tensor | undefined)[],
  attrs: Attrs = {},
  opts: NodeCheck = {},
): true {
  const { present, run } = nodeRunner(op, inputs, attrs, opts);
  let k = 0;
  inputs.forEach((t, i) => {
    if (!t) return;
    const want = opts.diff ? (opts.diff[i] ?? false) : t.dtype === 'float64';
    if (want) t.requiresGrad_(true);
    k++;
  });
  if (k === 0) throw new Error('no inputs');
  return gradcheck(run, present, { atol: opts.atol ?? 1e-5, rtol: opts.rtol ?? 1e-3 });
}

/** Seeded random shapes and values for the checks. */
export class Rand {
  readonly g: Generator;
  constructor(seed: number) {
    this.g = new Generator(seed);
  }
  dim(lo = 1, hi = 4): number {
    return this.g.int(lo, hi + 1);
  }
  /** Standard normal values, float64. */
  normal(shape: number[]): Tensor {
    return randn(shape, { dtype: 'float64', generator: this.g });
  }
  /** Values in [lo, hi), float64. */
  uniform(shape: number[], lo: number, hi: number): Tensor {
    const t = this.normal(shape);
    const d = t.dataSync() as Float64Array;
    for (let i = 0; i < d.length; i++) d[i] = lo + (hi - lo) * this.g.uniform();
    return t;
  }
  /** Values whose magnitude is at least `gap` (keeps finite differences off kinks at 0). */
  awayFromZero(shape: number[], gap = 0.1): Tensor {
    const t = this.normal(shape);
    const d = t.dataSync() as Float64Array;
    for (let i = 0; i < d.length; i++)
      if (Math.abs(d[i]!) < gap) d[i] = d[i]! < 0 ? -gap - Math.abs(d[i]!) : gap + Math.abs(d[i]!);
    return t;
  }
}
