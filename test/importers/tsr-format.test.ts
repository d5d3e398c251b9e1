/**
 * The .tsr format: safetensors layout read back by an independent parser written here from the
 * format's description, lossless round trips of imported ONNX models (the re-exported ModelProto
 * is byte-identical, subgraphs and every attribute kind included), and clear errors on corrupt
 * files.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  decodeTsr,
  encodeTsr,
  exportOnnx,
  InferenceSession,
  importOnnxBytes,
  importOnnxFile,
  loadTsr,
  onnx,
  saveTsr,
  Tensor,
  tensor,
  tsr,
} from '../../src/index.js';
import { assertClose } from '../helpers/close.js';

const SHARED = new URL('../../../shared/', import.meta.url).pathname;

/** A safetensors reader written from the format description: 8-byte LE header size, JSON header, data. */
function parseSafetensors(bytes: Uint8Array): { header: Record<string, any>; data: Uint8Array } {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8'));
  return { header, data: bytes.subarray(8 + n) };
}

test('a .tsr file is a safetensors file: weights under their names, F32 little-endian, graph JSON in __metadata__', () => {
  const m = importOnnxFile(`${SHARED}models/mnist_mlp_batchnorm/model.onnx`);
  const bytes = encodeTsr(m);
  const { header, data } = parseSafetensors(bytes);
  assert.equal(header.__metadata__.format, 'tessera.tsr');
  const w = header['22'];
  assert.equal(w.dtype, 'F32');
  assert.deepEqual(w.shape, [784, 64]);
  const [b, e] = w.data_offsets;
  assert.equal(e - b, 784 * 64 * 4);
  const copy = data.slice(b, e);
  const f32 = new Float32Array(copy.buffer, 0, 784 * 64);
  assertClose(Tensor.fromData(f32, [784, 64], 'float32'), m.graph.initializers.get('22')!, {
    rtol: 0,
    atol: 0,
  });
  // The header's data starts 8-byte aligned, as the reference writer pads it.
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const graph = JSON.parse(header.__metadata__['tessera.graph']);
  assert.equal(graph.graph.nodes.length, m.graph.nodes.length);
});

for (const name of [
  'models/mnist_mlp_batchnorm',
  'models/mnist8_cntk',
  'models/super_resolution',
  'onnx-tests/node/test_if',
  'onnx-tests/node/test_loop11',
  'onnx-tests/node/test_scan_sum',
]) {
  test(`ONNX -> .tsr -> ONNX is lossless: ${name} re-exports byte-identical`, () => {
    const bytes = readFileSync(`${SHARED}${name}/model.onnx`);
    const direct = importOnnxBytes(bytes);
    const viaTsr = decodeTsr(encodeTsr(importOnnxBytes(bytes)));
    assert.deepEqual(Buffer.from(exportOnnx(viaTsr)), Buffer.from(exportOnnx(direct)));
    assert.deepEqual([...viaTsr.opsets], [...direct.opsets]);
    assert.equal(viaTsr.irVersion, direct.irVersion);
  });
}

test('.tsr keeps what JSON alone would lose: NaN and infinite attributes, string tensors, int64 beyond 2^53, bool', () => {
  const big = Tensor.fromData(BigInt64Array.from([9007199254740993n, -3n]), [2], 'int64');
  const model = {
    graph: {
      name: 'g',
      nodes: [
        {
          name: 'c',
          opType: 'Constant',
          domain: '',
          inputs: [],
          outputs: ['s'],
          attrs: { value: tensor(['a', 'é', ''], { dtype: 'string' }) },
        },
        { name: 'k', opType: 'Constant', domain: '', inputs: [], outputs: ['b'], attrs: { value: big } },
        {
          name: 'f',
          opType: 'Foo',
          domain: 'x',
          inputs: ['b'],
          outputs: ['y'],
          attrs: { a: Number.NaN, b: [Number.POSITIVE_INFINITY, -0.5], c: true, d: ['p', 'q'] },
        },
      ],
      inputs: [],
      outputs: [{ name: 'y' }],
      initializers: new Map([['mask', tensor([true, false, true], { dtype: 'bool' })]]),
      valueInfo: new Map([
        [
          'b',
          { name: 'b', type: { kind: 'tensor' as const, dtype: 'int64' as const, shape: ['N', null, 2] } },
        ],
      ]),
    },
    opsets: new Map([
      ['', 18],
      ['x', 1],
    ]),
    irVersion: 8,
    producerName: 'p',
    producerVersion: '1',
    modelVersion: 3,
    docString: 'doc',
    metadata: { k: 'v' },
  };
  const back = decodeTsr(encodeTsr(model));
  const attrs = back.graph.nodes[2]!.attrs;
  assert.ok(Number.isNaN(attrs.a as number));
  assert.deepEqual(attrs.b, [Number.POSITIVE_INFINITY, -0.5]);
  assert.equal(attrs.c, true);
  assert.deepEqual(attrs.d, ['p', 'q']);
  assert.deepEqual((back.graph.nodes[0]!.attrs.value as Tensor).toArray(), ['a', 'é', '']);
  assert.deepEqual(Array.from((back.graph.nodes[1]!.attrs.value as Tensor).dataSync() as BigInt64Array), [
    9007199254740993n,
    -3n,
  ]);
  assert.deepEqual(back.graph.initializers.get('mask')!.toArray(), [true, false, true]);
  assert.deepEqual(back.graph.valueInfo.get('b')!.type, {
    kind: 'tensor',
    dtype: 'int64',
    shape: ['N', null, 2],
  });
  assert.deepEqual(back.metadata, { k: 'v' });
  assert.equal(back.modelVersion, 3);
});

test('saveTsr writes atomically (no temporary file left) and loadTsr gives a model that runs like the original', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsr-'));
  try {
    const m = importOnnxFile(`${SHARED}models/mnist8_cntk/model.onnx`);
    const path = join(dir, 'model.tsr');
    saveTsr(m, path);
    assert.deepEqual(readdirSync(dir), ['model.tsr']);
    const input = onnx.readValueFile(`${SHARED}models/mnist8_cntk/test_data_set_0/input_0.pb`) as Tensor;
    const expected = onnx.readValueFile(`${SHARED}models/mnist8_cntk/test_data_set_0/output_0.pb`) as Tensor;
    const s = await InferenceSession.create(loadTsr(path));
    const out = await s.run({ Input3: input });
    assertClose(out.Plus214_Output_0!, expected, { rtol: 1e-4, atol: 1e-4 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('corrupt files are INVALID_MODEL errors that say what is wrong', () => {
  const good = encodeTsr(importOnnxFile(`${SHARED}models/mnist8_cntk/model.onnx`));
  assert.throws(() => decodeTsr(good.subarray(0, 4)), /too short/);
  assert.throws(() => decodeTsr(good.subarray(0, good.length - 10)), /ends at byte|cover/);
  const { header } = parseSafetensors(good);
  // A hole: shift one tensor's offsets.
  const name = Object.keys(header).find((k) => k !== '__metadata__')!;
  const h2 = structuredClone(header);
  h2[name].data_offsets = [h2[name].data_offsets[0] + 4, h2[name].data_offsets[1] + 4];
  const text = new TextEncoder().encode(JSON.stringify(h2));
  const bytes = new Uint8Array(
    8 +
      text.length +
      (good.length - 8 - Number(new DataView(good.buffer, good.byteOffset).getBigUint64(0, true))),
  );
  new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
  bytes.set(text, 8);
  assert.throws(
    () => decodeTsr(bytes),
    (e: Error & { code?: string }) =>
      e.code === 'INVALID_MODEL' && /hole|ends at byte|starts at byte/.test(e.message),
  );
  // A plain safetensors file without a graph.
  const plain = tsr.encodeSafetensors([['w', tensor([1, 2])]]);
  assert.throws(() => decodeTsr(plain), /without a graph/);
  assert.equal(tsr.isTsr(plain), false);
  assert.equal(tsr.isTsr(good), true);
  // A size that does not match the shape.
  const h3 = parseSafetensors(plain).header;
  h3.w.shape = [3];
  const t3 = new TextEncoder().encode(JSON.stringify(h3));
  const b3 = new Uint8Array(8 + t3.length + 8);
  new DataView(b3.buffer).setBigUint64(0, BigInt(t3.length), true);
  b3.set(t3, 8);
  assert.throws(() => tsr.decodeSafetensors(b3), /hold 8 bytes, shape \[3\] of float32 needs 12/);
});

test('safetensors round trip of every numeric dtype', () => {
  const ts: [string, Tensor][] = [
    ['f64', tensor([1.5, -2], { dtype: 'float64' })],
    ['f16', tensor([0.5, 65504], { dtype: 'float16' })],
    ['bf16', tensor([1, -3], { dtype: 'bfloat16' })],
    ['i8', tensor([-128, 127], { dtype: 'int8' })],
    ['u16', tensor([65535, 0], { dtype: 'uint16' })],
    [
      'i32',
      tensor(
        [
          [1, 2],
          [3, 4],
        ],
        { dtype: 'int32' },
      ),
    ],
    ['u64', Tensor.fromData(BigUint64Array.from([2n ** 64n - 1n]), [1], 'uint64')],
    ['b', tensor([true, false], { dtype: 'bool' })],
    ['empty', tensor([], { dtype: 'float32' }).reshape([0, 3])],
  ];
  const back = tsr.decodeSafetensors(tsr.encodeSafetensors(ts, { a: 'b' }));
  assert.deepEqual(back.metadata, { a: 'b' });
  for (const [k, t] of ts) {
    const b = back.tensors.get(k)!;
    assert.equal(b.dtype, t.dtype, k);
    assert.deepEqual(b.shape, t.shape, k);
    assert.deepEqual(
      Array.from(b.dataSync() as ArrayLike<unknown>),
      Array.from(t.dataSync() as ArrayLike<unknown>),
      k,
    );
  }
});
