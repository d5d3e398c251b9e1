/** Small ONNX models written on the fly for server tests (through the importer's protobuf schema). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeMessage } from '../../src/importers/onnx/proto.js';
import { tensorToProto } from '../../src/importers/onnx/tensor-proto.js';
import { Tensor } from '../../src/index.js';

const valueInfo = (name: string, elemType: number, dims: (number | string)[]) => ({
  name,
  type: {
    tensor_type: {
      elem_type: elemType,
      shape: { dim: dims.map((d) => (typeof d === 'string' ? { dim_param: d } : { dim_value: d })) },
    },
  },
});

function write(dir: string, graph: object): string {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'model.onnx');
  writeFileSync(
    file,
    encodeMessage('ModelProto', { ir_version: 8, opset_import: [{ domain: '', version: 13 }], graph }),
  );
  return file;
}

/** x [n, d] -> `depth` MatMuls with one d x d weight: slow enough to keep a worker busy. */
export function writeMatmulChain(dir: string, d: number, depth: number): string {
  const w = new Float32Array(d * d).map((_, i) => (((i * 7919) % 13) / 13 - 0.5) / Math.sqrt(d));
  const nodes = [];
  let prev = 'x';
  for (let i = 0; i < depth; i++) {
    nodes.push({ op_type: 'MatMul', input: [prev, 'w'], output: [i === depth - 1 ? 'y' : `h${i}`] });
    prev = `h${i}`;
  }
  return write(dir, {
    name: 'chain',
    node: nodes,
    initializer: [tensorToProto(Tensor.fromData(w, [d, d], 'float32'), 'w')],
    input: [valueInfo('x', 1, ['n', d])],
    output: [valueInfo('y', 1, ['n', d])],
  });
}

/** text [n] (string) -> Identity -> echo [n]. */
export function writeStringEcho(dir: string): string {
  return write(dir, {
    name: 'echo',
    node: [{ op_type: 'Identity', input: ['text'], output: ['echo'] }],
    input: [valueInfo('text', 8, ['n'])],
    output: [valueInfo('echo', 8, ['n'])],
  });
}
