/**
 * A small runner for the ONNX backend conformance data (../shared/onnx-tests): decodes a test's
 * model.onnx and its data sets with protobufjs and onnx.proto, runs the graph's nodes in order
 * through `dispatch` at the model's opset, and returns expected and actual outputs. It is a test
 * aid for single-op node tests, not the project's importer (that lives in src/importers).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { type DType, fromNumbers, Tensor } from '../../../src/index.js';
import { ONNX_DTYPE } from '../../../src/ops/cast.js';
import { type Attrs, dispatch, findOp } from '../../../src/ops/registry.js';

const here = dirname(fileURLToPath(import.meta.url));
export const ONNX_TESTS = join(here, '../../../../shared/onnx-tests');

let root: protobuf.Root | null = null;
function proto(): protobuf.Root {
  root ??= protobuf.loadSync(join(ONNX_TESTS, 'onnx.proto'));
  return root;
}

export function decodeTensor(msg: any): Tensor {
  const dtype: DType | undefined = ONNX_DTYPE[msg.dataType];
  if (!dtype) throw new Error(`unsupported TensorProto data type ${msg.dataType}`);
  const dims: number[] = (msg.dims ?? []).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const raw: Uint8Array | undefined = msg.rawData?.length ? msg.rawData : undefined;
  if (raw) {
    const buf = raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength) as ArrayBuffer;
    const views: Record<string, (b: ArrayBuffer) => any> = {
      float32: (b) => new Float32Array(b),
      float64: (b) => new Float64Array(b),
      float16: (b) => new Uint16Array(b),
      bfloat16: (b) => new Uint16Array(b),
      int8: (b) => new Int8Array(b),
      uint8: (b) => new Uint8Array(b),
      int16: (b) => new Int16Array(b),
      uint16: (b) => new Uint16Array(b),
      int32: (b) => new Int32Array(b),
      uint32: (b) => new Uint32Array(b),
      int64: (b) => new BigInt64Array(b),
      uint64: (b) => new BigUint64Array(b),
      bool: (b) => new Uint8Array(b),
    };
    return Tensor.fromData(views[dtype]!(buf), dims, dtype);
  }
  let vals: number[] = [];
  if (dtype === 'float32') vals = msg.floatData ?? [];
  else if (dtype === 'float64') vals = msg.doubleData ?? [];
  else if (dtype === 'int64') vals = (msg.int64Data ?? []).map(Number);
  else if (dtype === 'uint64' || dtype === 'uint32') vals = (msg.uint64Data ?? []).map(Number);
  else if (dtype === 'float16' || dtype === 'bfloat16') {
    const bits = Uint16Array.from(msg.int32Data ?? []);
    return Tensor.fromData(bits, dims, dtype);
  } else vals = msg.int32Data ?? [];
  if (vals.length !== n) throw new Error(`tensor has ${vals.length} values, expected ${n}`);
  return Tensor.fromData(fromNumbers(dtype, vals), dims, dtype);
}

function decodeAttr(a: any): Attrs[string] {
  switch (a.type) {
    case 1:
      return a.f;
    case 2:
      return Number(a.i);
    case 3:
      return Buffer.from(a.s).toString('utf8');
    case 4:
      return decodeTensor(a.t);
    case 6:
      return [...a.floats];
    case 7:
      return a.ints.map(Number);
    case 8:
      return a.strings.map((s: Uint8Array) => Buffer.from(s).toString('utf8'));
    default:
      throw new Error(`unsupported attribute type ${a.type} (${a.name})`);
  }
}

export interface NodeCase {
  name: string;
  opset: number;
  opTypes: string[];
  /** Expected and actual outputs of every data set. */
  run(): { expected: Tensor[]; actual: Tensor[] }[];
}

export function loadNodeCase(dir: string): NodeCase {
  const M = proto().lookupType('onnx.ModelProto');
  const T = proto().lookupType('onnx.TensorProto');
  const model: any = M.decode(readFileSync(join(dir, 'model.onnx')));
  const opset = Number(
    model.opsetImport.find((o: any) => (o.domain ?? '') === '' || o.domain === 'ai.onnx')?.version ?? 1,
  );
  const graph = model.graph;
  const inits = new Map<string, Tensor>();
  for (const t of graph.initializer ?? []) inits.set(t.name, decodeTensor(t));
  const inputNames: string[] = graph.input.map((v: any) => v.name).filter((n: string) => !inits.has(n));
  const outputNames: string[] = graph.output.map((v: any) => v.name);
  return {
    name: dir.split('/').pop()!,
    opset,
    opTypes: graph.node.map((n: any) => n.opType),
    run() {
      const sets = readdirSync(dir).filter((d) => d.startsWith('test_data_set_'));
      return sets.map((set) => {
        const env = new Map<string, Tensor>(inits);
        inputNames.forEach((name, i) => {
          const p = join(dir, set, `input_${i}.pb`);
          if (existsSync(p)) env.set(name, decodeTensor(T.decode(readFileSync(p))));
        });
        for (const node of graph.node) {
          const attrs: Attrs = {};
          for (const a of node.attribute ?? []) attrs[a.name] = decodeAttr(a);
          const ins = node.input.map((n: string) => (n === '' ? undefined : env.get(n)));
          const outs = dispatch(node.opType, ins, attrs, { opset, domain: node.domain ?? '' });
          node.output.forEach((n: string, i: number) => {
            if (n !== '' && outs[i]) env.set(n, outs[i]!);
          });
        }
        const expected = outputNames.map((_, i) =>
          decodeTensor(T.decode(readFileSync(join(dir, set, `output_${i}.pb`)))),
        );
        const actual = outputNames.map((n) => env.get(n)!);
        return { expected, actual };
      });
    },
  };
}

/** True when every op the case uses is registered at its opset. */
export function supported(c: NodeCase): boolean {
  return c.opTypes.every((t) => findOp(t, c.opset) !== undefined);
}
