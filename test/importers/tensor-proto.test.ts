/** TensorProto decoding: every storage form, checked against values worked out by hand. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  decodeTensor,
  encodeMessage,
  encodeTensor,
  tensorFromProto,
} from '../../src/importers/onnx/index.js';
import { ONNX_DATA_PROTO, ONNX_PROTO } from '../../src/importers/onnx/onnx-schema.js';
import { decodeMessage, type TensorProto } from '../../src/importers/onnx/proto.js';
import { InferenceSession, Tensor, TesseraError, tensor } from '../../src/index.js';
import { node, T, vi } from './build.js';

const dec = (obj: object) => decodeTensor(encodeMessage('TensorProto', obj));
const le = (arr: ArrayBufferView) => new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength);

test('the embedded schema is the vendored onnx.proto and onnx-data.proto', () => {
  const dir = new URL('../../src/importers/onnx/', import.meta.url);
  assert.equal(ONNX_PROTO, readFileSync(new URL('onnx.proto', dir), 'utf8'));
  assert.equal(ONNX_DATA_PROTO, readFileSync(new URL('onnx-data.proto', dir), 'utf8'));
});

test('raw_data is read little-endian for every dtype', () => {
  // 1.5f is 0x3FC00000: bytes 00 00 C0 3F.
  const f = dec({ dims: [1], data_type: T.float, raw_data: Uint8Array.of(0, 0, 0xc0, 0x3f) });
  assert.deepEqual([...f.numbers()], [1.5]);
  // int16 -2 is 0xFFFE: bytes FE FF.
  assert.deepEqual(
    [...dec({ dims: [1], data_type: T.int16, raw_data: Uint8Array.of(0xfe, 0xff) }).numbers()],
    [-2],
  );
  // 2^53 + 1 survives as int64 (bytes 01 00 00 00 00 00 20 00).
  const big = dec({ dims: [], data_type: T.int64, raw_data: Uint8Array.of(1, 0, 0, 0, 0, 0, 0x20, 0) });
  assert.deepEqual([...(big.dataSync() as BigInt64Array)], [9007199254740993n]);
  assert.deepEqual(big.shape, []);
  // bool bytes other than 0/1 still read as true.
  assert.deepEqual(
    [...dec({ dims: [3], data_type: T.bool, raw_data: Uint8Array.of(0, 1, 7) }).dataSync()],
    [0, 1, 1],
  );
  // float16 0x3C00 = 1, 0xC000 = -2; bfloat16 0x4049 = 3.140625.
  assert.deepEqual(
    [...dec({ dims: [2], data_type: T.float16, raw_data: Uint8Array.of(0, 0x3c, 0, 0xc0) }).numbers()],
    [1, -2],
  );
  assert.deepEqual(
    [...dec({ dims: [1], data_type: T.bfloat16, raw_data: Uint8Array.of(0x49, 0x40) }).numbers()],
    [3.140625],
  );
  const u32 = dec({ dims: [1], data_type: T.uint32, raw_data: Uint8Array.of(0xff, 0xff, 0xff, 0xff) });
  assert.deepEqual([...u32.numbers()], [4294967295]);
  // Every numeric dtype round-trips through encodeTensor.
  for (const dtype of [
    'float32',
    'float64',
    'int8',
    'uint8',
    'int16',
    'uint16',
    'int32',
    'uint32',
    'int64',
    'uint64',
    'bool',
    'float16',
    'bfloat16',
  ] as const) {
    const t = tensor(
      [
        [1, 0],
        [3, 4],
      ],
      { dtype },
    );
    const back = decodeTensor(encodeTensor(t));
    assert.equal(back.dtype, dtype);
    assert.deepEqual(back.shape, [2, 2]);
    assert.deepEqual([...back.numbers()], dtype === 'bool' ? [1, 0, 1, 1] : [1, 0, 3, 4], dtype);
  }
});

test('typed fields: float_data, double_data, int64_data, uint64_data, string_data', () => {
  assert.deepEqual([...dec({ dims: [2], data_type: T.float, float_data: [0.5, -3] }).numbers()], [0.5, -3]);
  assert.deepEqual([...dec({ dims: [1], data_type: T.double, double_data: [0.1] }).numbers()], [0.1]);
  const i64 = dec({
    dims: [2],
    data_type: T.int64,
    int64_data: ['-9223372036854775808', '9007199254740993'],
  });
  assert.deepEqual([...(i64.dataSync() as BigInt64Array)], [-(2n ** 63n), 9007199254740993n]);
  const u64 = dec({ dims: [1], data_type: T.uint64, uint64_data: ['18446744073709551615'] });
  assert.deepEqual([...(u64.dataSync() as BigUint64Array)], [2n ** 64n - 1n]);
  assert.deepEqual(
    [...dec({ dims: [1], data_type: T.uint32, uint64_data: [4294967295] }).numbers()],
    [4294967295],
  );
  const s = dec({
    dims: [2],
    data_type: T.string,
    string_data: [new TextEncoder().encode('héllo'), new Uint8Array()],
  });
  assert.deepEqual(s.toArray(), ['héllo', '']);
});

test('int32_data packs int8, uint8, int16, uint16, bool and 16-bit float bit patterns', () => {
  assert.deepEqual([...dec({ dims: [2], data_type: T.int8, int32_data: [-3, 127] }).numbers()], [-3, 127]);
  assert.deepEqual([...dec({ dims: [1], data_type: T.uint8, int32_data: [255] }).numbers()], [255]);
  assert.deepEqual([...dec({ dims: [1], data_type: T.int16, int32_data: [-32768] }).numbers()], [-32768]);
  assert.deepEqual([...dec({ dims: [1], data_type: T.uint16, int32_data: [65535] }).numbers()], [65535]);
  assert.deepEqual(
    [...(dec({ dims: [3], data_type: T.bool, int32_data: [1, 0, 1] }).toArray() as boolean[])],
    [true, false, true],
  );
  assert.deepEqual(
    [...dec({ dims: [2], data_type: T.int32, int32_data: [-7, 2147483647] }).numbers()],
    [-7, 2147483647],
  );
  // float16 0x3555 = 2^-2 * (1 + 341/1024) = 0.333251953125; bfloat16 0x3F80 = 1.
  assert.deepEqual(
    [...dec({ dims: [1], data_type: T.float16, int32_data: [0x3555] }).numbers()],
    [0.333251953125],
  );
  assert.deepEqual([...dec({ dims: [1], data_type: T.bfloat16, int32_data: [0x3f80] }).numbers()], [1]);
});

test('sizes are checked against dims before anything is allocated', () => {
  const err = (obj: object, code: string, re: RegExp) =>
    assert.throws(
      () => dec(obj),
      (e: unknown) => e instanceof TesseraError && e.code === code && re.test(e.message),
    );
  err(
    { name: 'w', dims: [2, 3], data_type: T.float, raw_data: new Uint8Array(20) },
    'INVALID_MODEL',
    /tensor 'w': raw_data has 20 bytes, .* needs 24/,
  );
  err(
    { dims: [3], data_type: T.float, float_data: [1, 2] },
    'INVALID_MODEL',
    /float_data has 2 values, shape \[3\] needs 3/,
  );
  err(
    { dims: [100000, 100000, 100000], data_type: T.float, raw_data: new Uint8Array(4) },
    'RESOURCE_EXHAUSTED',
    /more than the limit/,
  );
  err({ dims: [-1], data_type: T.float }, 'INVALID_MODEL', /invalid dimension -1/);
  err(
    { dims: [1], data_type: 14, raw_data: new Uint8Array(8) },
    'UNSUPPORTED',
    /COMPLEX64 \(14\) is not supported/,
  );
  // maxElements is the caller's to choose.
  const p = decodeMessage<TensorProto>(
    'TensorProto',
    encodeMessage('TensorProto', { dims: [10], data_type: T.float, raw_data: new Uint8Array(40) }),
  );
  assert.throws(() => tensorFromProto(p, { maxElements: 5 }), /10 elements, more than the limit of 5/);
});

test('external data: location, offset and length beside the model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-ext-'));
  const w = Float32Array.of(1, 2, 3);
  writeFileSync(join(dir, 'weights.bin'), Buffer.concat([Buffer.alloc(8, 0xee), Buffer.from(le(w))]));
  const ext = (location: string, offset = '8', length = '12') => ({
    name: 'w',
    dims: [3],
    data_type: T.float,
    data_location: 1,
    external_data: [
      { key: 'location', value: location },
      { key: 'offset', value: offset },
      { key: 'length', value: length },
    ],
  });
  const build = (location: string, offset?: string, length?: string) => {
    const m = encodeMessage('ModelProto', {
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        node: [node('Add', ['x', 'w'], ['y'])],
        input: [vi('x', T.float, [3])],
        output: [vi('y', T.float, [3])],
        initializer: [ext(location, offset, length)],
      },
    });
    writeFileSync(join(dir, 'model.onnx'), m);
    return m;
  };
  build('weights.bin');
  const s = await InferenceSession.create(join(dir, 'model.onnx'));
  const { y } = await s.run({ x: tensor([10, 20, 30]) });
  assert.deepEqual([...y!.numbers()], [11, 22, 33]);

  const bytes = build('weights.bin');
  await assert.rejects(
    InferenceSession.create(bytes),
    /external file 'weights.bin', but the model was given as bytes/,
  );
  assert.deepEqual(
    [
      ...(
        await (await InferenceSession.create(bytes, { baseDir: dir })).run({ x: tensor([0, 0, 0]) })
      ).y!.numbers(),
    ],
    [1, 2, 3],
  );
  build('../outside.bin');
  await assert.rejects(
    InferenceSession.create(join(dir, 'model.onnx')),
    /points outside the model's directory/,
  );
  build('missing.bin');
  await assert.rejects(
    InferenceSession.create(join(dir, 'model.onnx')),
    (e: unknown) => e instanceof TesseraError && e.code === 'NOT_FOUND',
  );
  build('weights.bin', '16', '12');
  await assert.rejects(
    InferenceSession.create(join(dir, 'model.onnx')),
    /has 20 bytes, the tensor needs bytes 16..28/,
  );
  build('weights.bin', '8', '8');
  await assert.rejects(
    InferenceSession.create(join(dir, 'model.onnx')),
    /external data length 8 does not match the 12 bytes/,
  );
});

test('sparse initializers become dense tensors', async () => {
  // values [5, 7] at linear positions 1 and 4 of a [2, 3] tensor.
  const m = encodeMessage('ModelProto', {
    ir_version: 8,
    opset_import: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [node('Add', ['x', 's'], ['y'])],
      input: [vi('x', T.float, [2, 3])],
      output: [vi('y', T.float, [2, 3])],
      sparse_initializer: [
        {
          dims: [2, 3],
          values: { name: 's', dims: [2], data_type: T.float, float_data: [5, 7] },
          indices: { dims: [2], data_type: T.int64, int64_data: [1, 4] },
        },
      ],
    },
  });
  const s = await InferenceSession.create(m);
  const { y } = await s.run({ x: Tensor.fromData(new Float32Array(6), [2, 3], 'float32') });
  assert.deepEqual(y!.toArray(), [
    [0, 5, 0],
    [0, 7, 0],
  ]);
});
