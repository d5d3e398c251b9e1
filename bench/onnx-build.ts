/**
 * Builds the small ONNX models the benchmark feeds to every runtime (a GEMM, an MLP, a CNN), so
 * Tessera, onnxruntime-node and onnxruntime-web run the very same bytes. Weights are seeded random.
 */
import { encodeMessage } from '../src/importers/onnx/proto.js';
import { tensorToProto } from '../src/importers/onnx/tensor-proto.js';
import { Generator, Tensor } from '../src/index.js';

const INT = 2;
const INTS = 7;
const FLOAT = 1;

export interface OnnxNode {
  op_type: string;
  input: string[];
  output: string[];
  name: string;
  attribute: object[];
}

export function node(
  op: string,
  input: string[],
  output: string[],
  attrs: Record<string, number | number[]> = {},
): OnnxNode {
  const attribute = Object.entries(attrs).map(([name, v]) =>
    Array.isArray(v) ? { name, type: INTS, ints: v } : { name, type: INT, i: v },
  );
  return { op_type: op, input, output, name: `${op.toLowerCase()}_${output[0]}`, attribute };
}

function valueInfo(name: string, dims: number[]) {
  return {
    name,
    type: { tensor_type: { elem_type: FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } },
  };
}

/** Uniform(-a, a) weights with a = 1/sqrt(fanIn), as PyTorch's default init, from a fixed seed. */
export function weight(shape: number[], fanIn: number, gen: Generator): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const a = 1 / Math.sqrt(fanIn);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (gen.uniform() * 2 - 1) * a;
  return Tensor.fromData(data, shape, 'float32');
}

export interface OnnxGraph {
  nodes: OnnxNode[];
  weights: Record<string, Tensor>;
  inputs: [string, number[]][];
  outputs: [string, number[]][];
}

export function encodeModel(name: string, g: OnnxGraph): Uint8Array {
  return encodeMessage('ModelProto', {
    ir_version: 8,
    opset_import: [{ domain: '', version: 13 }],
    producer_name: 'tessera bench',
    graph: {
      name,
      node: g.nodes,
      initializer: Object.entries(g.weights).map(([n, t]) => tensorToProto(t, n)),
      input: g.inputs.map(([n, d]) => valueInfo(n, d)),
      output: g.outputs.map(([n, d]) => valueInfo(n, d)),
    },
  });
}

/** Y = A @ B with both operands fed per run. */
export function matmulModel(n: number): Uint8Array {
  return encodeModel(`gemm${n}`, {
    nodes: [node('MatMul', ['A', 'B'], ['Y'])],
    weights: {},
    inputs: [
      ['A', [n, n]],
      ['B', [n, n]],
    ],
    outputs: [['Y', [n, n]]],
  });
}

export interface MlpSpec {
  inputs: number;
  hidden: number;
  outputs: number;
}

/** Gemm(transB=1) + Relu + Gemm(transB=1): how PyTorch exports nn.Linear layers. */
export function mlpModel(
  batch: number,
  s: MlpSpec,
  seed = 1,
): { bytes: Uint8Array; weights: Record<string, Tensor> } {
  const gen = new Generator(seed);
  const weights = {
    w1: weight([s.hidden, s.inputs], s.inputs, gen),
    b1: weight([s.hidden], s.inputs, gen),
    w2: weight([s.outputs, s.hidden], s.hidden, gen),
    b2: weight([s.outputs], s.hidden, gen),
  };
  const bytes = encodeModel('mlp', {
    nodes: [
      node('Gemm', ['x', 'w1', 'b1'], ['h'], { transB: 1 }),
      node('Relu', ['h'], ['r']),
      node('Gemm', ['r', 'w2', 'b2'], ['y'], { transB: 1 }),
    ],
    weights,
    inputs: [['x', [batch, s.inputs]]],
    outputs: [['y', [batch, s.outputs]]],
  });
  return { bytes, weights };
}

export interface CnnSpec {
  size: number;
  c1: number;
  c2: number;
  hidden: number;
  classes: number;
}

/** Two Conv(3x3, pad 1) + Relu + MaxPool(2) blocks, Flatten, Gemm + Relu, Gemm. */
export function cnnModel(
  batch: number,
  s: CnnSpec,
  seed = 2,
): { bytes: Uint8Array; weights: Record<string, Tensor> } {
  const gen = new Generator(seed);
  const flat = s.c2 * (s.size / 4) * (s.size / 4);
  const weights = {
    k1: weight([s.c1, 1, 3, 3], 9, gen),
    c1b: weight([s.c1], 9, gen),
    k2: weight([s.c2, s.c1, 3, 3], 9 * s.c1, gen),
    c2b: weight([s.c2], 9 * s.c1, gen),
    w1: weight([s.hidden, flat], flat, gen),
    b1: weight([s.hidden], flat, gen),
    w2: weight([s.classes, s.hidden], s.hidden, gen),
    b2: weight([s.classes], s.hidden, gen),
  };
  const conv = { kernel_shape: [3, 3], pads: [1, 1, 1, 1] };
  const pool = { kernel_shape: [2, 2], strides: [2, 2] };
  const bytes = encodeModel('cnn', {
    nodes: [
      node('Conv', ['x', 'k1', 'c1b'], ['a1'], conv),
      node('Relu', ['a1'], ['r1']),
      node('MaxPool', ['r1'], ['p1'], pool),
      node('Conv', ['p1', 'k2', 'c2b'], ['a2'], conv),
      node('Relu', ['a2'], ['r2']),
      node('MaxPool', ['r2'], ['p2'], pool),
      node('Flatten', ['p2'], ['f'], { axis: 1 }),
      node('Gemm', ['f', 'w1', 'b1'], ['h'], { transB: 1 }),
      node('Relu', ['h'], ['hr']),
      node('Gemm', ['hr', 'w2', 'b2'], ['y'], { transB: 1 }),
    ],
    weights,
    inputs: [['x', [batch, 1, s.size, s.size]]],
    outputs: [['y', [batch, s.classes]]],
  });
  return { bytes, weights };
}
