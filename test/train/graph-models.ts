/** Small hand-built ONNX-style models (Graph IR) for the TrainingSession and export tests. */
import { Generator, type Graph, type Model, type Node, randn, type Tensor } from '../../src/index.js';
import type { Attrs } from '../../src/ops/registry.js';

export function node(opType: string, inputs: string[], outputs: string[], attrs: Attrs = {}): Node {
  return { name: `${opType}_${outputs[0]}`, opType, domain: '', inputs, outputs, attrs };
}

export function model(graph: Omit<Graph, 'valueInfo' | 'name'> & { name?: string }, opset = 17): Model {
  return {
    graph: { name: graph.name ?? 'g', valueInfo: new Map(), ...graph },
    opsets: new Map([['', opset]]),
    irVersion: 8,
    producerName: 'test',
    producerVersion: '',
    modelVersion: 0,
    docString: '',
    metadata: {},
  };
}

/** x[N, inF] -> Gemm -> Tanh -> Gemm -> y[N, outF], weights drawn from `seed`. */
export function mlpModel(
  inF: number,
  hidden: number,
  outF: number,
  seed: number,
  dtype: 'float32' | 'float64' = 'float32',
): Model {
  const g = new Generator(seed);
  const w = (shape: number[]) => randn(shape, { dtype, generator: g }).mul(1 / Math.sqrt(shape.at(-1)!));
  return model({
    nodes: [
      node('Gemm', ['x', 'fc1.weight', 'fc1.bias'], ['h'], { transB: 1 }),
      node('Tanh', ['h'], ['a']),
      node('Gemm', ['a', 'fc2.weight', 'fc2.bias'], ['y'], { transB: 1 }),
    ],
    inputs: [{ name: 'x', type: { kind: 'tensor', dtype, shape: ['N', inF] } }],
    outputs: [{ name: 'y', type: { kind: 'tensor', dtype, shape: ['N', outF] } }],
    initializers: new Map<string, Tensor>([
      ['fc1.weight', w([hidden, inF])],
      ['fc1.bias', w([hidden])],
      ['fc2.weight', w([outF, hidden])],
      ['fc2.bias', w([outF])],
    ]),
  });
}
