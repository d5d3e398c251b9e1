/** The v2 protocol codecs: JSON and binary tensor data for every datatype, and request parsing errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { f16ToF32 } from '../../src/runtime/dtype.js';
import { parseAnyDatatype, toDType, V2_DATATYPES } from '../../src/server/datatypes.js';
import { HttpError } from '../../src/server/errors.js';
import { decodeBinaryData, encodeBinaryData } from '../../src/server/protocol/binary-codec.js';
import { decodeJsonData, encodeJsonData } from '../../src/server/protocol/json-codec.js';
import { decodeInput, parseInferRequest } from '../../src/server/protocol/request.js';
import { classify, encodeInferResponse } from '../../src/server/protocol/response.js';

const bad = (fn: () => unknown, pattern: RegExp) =>
  assert.throws(fn, (e: unknown) => e instanceof HttpError && e.status === 400 && pattern.test(e.message));

/** A request body with binary inputs after the JSON header, as tritonclient builds it. */
function binaryBody(json: object, blobs: Uint8Array[]): { body: Buffer; header: string } {
  const head = Buffer.from(JSON.stringify(json));
  return { body: Buffer.concat([head, ...blobs]), header: String(head.length) };
}

describe('JSON tensor data', () => {
  it('accepts flat and nested data, row-major', () => {
    const flat = decodeJsonData('x', 'FP32', 'float32', [2, 3], [1, 2, 3, 4, 5, 6]);
    const nested = decodeJsonData(
      'x',
      'FP32',
      'float32',
      [2, 3],
      [
        [1, 2, 3],
        [4, 5, 6],
      ],
    );
    assert.deepEqual([...(nested.data as Float32Array)], [...(flat.data as Float32Array)]);
    assert.ok(flat.data instanceof Float32Array);
  });

  it('decodes every datatype to its storage and back', () => {
    const cases: [string, unknown[], unknown[]][] = [
      ['BOOL', [true, false, true], [true, false, true]],
      ['UINT8', [0, 255], [0, 255]],
      ['INT8', [-128, 127], [-128, 127]],
      ['INT16', [-5, 300], [-5, 300]],
      ['UINT16', [65535, 1], [65535, 1]],
      ['INT32', [-2147483648, 7], [-2147483648, 7]],
      ['UINT32', [4294967295, 0], [4294967295, 0]],
      ['INT64', [-9007199254740991, 42], [-9007199254740991, 42]],
      ['UINT64', [9007199254740991, 0], [9007199254740991, 0]],
      ['FP16', [0.5, -2, 65504], [0.5, -2, 65504]],
      ['BF16', [1, -0.5], [1, -0.5]],
      ['FP32', [0.25, -1e10], [0.25, -1e10]],
      ['FP64', [Math.PI, 1e-300], [Math.PI, 1e-300]],
      ['BYTES', ['hello', ''], ['hello', '']],
    ];
    for (const [dt, input, expected] of cases) {
      const dtype = toDType(dt as 'FP32');
      const t = decodeJsonData('x', dt, dtype, [input.length], input);
      assert.deepEqual(encodeJsonData(dtype, t.data), expected, dt);
    }
  });

  it('rejects non-numeric data, wrong counts and out-of-range integers, naming the input', () => {
    bad(
      () => decodeJsonData('pixels', 'FP32', 'float32', [2], [1, 'a']),
      /input 'pixels'.*element 1.*"a".*number/,
    );
    bad(
      () => decodeJsonData('x', 'FP32', 'float32', [2, 2], [1, 2, 3]),
      /input 'x'.*needs 4 elements, got 3/,
    );
    bad(() => decodeJsonData('x', 'INT8', 'int8', [1], [200]), /element 0.*\[-128, 127\]/);
    bad(() => decodeJsonData('x', 'INT32', 'int32', [1], [1.5]), /integer/);
    bad(() => decodeJsonData('x', 'BOOL', 'bool', [1], ['yes']), /true or false/);
    bad(() => decodeJsonData('x', 'BYTES', 'string', [1], [3]), /a string/);
    bad(() => decodeJsonData('x', 'FP32', 'float32', [1], [null]), /null/);
  });

  it('refuses absurdly deep nesting without overflowing the stack', () => {
    let deep: unknown = [1];
    for (let i = 0; i < 100; i++) deep = [deep];
    bad(() => decodeJsonData('x', 'FP32', 'float32', [1], deep), /nested more than 64/);
  });
});

describe('binary tensor data', () => {
  it('round-trips every datatype in little-endian native size', () => {
    for (const dt of V2_DATATYPES) {
      const dtype = toDType(dt);
      const values = dt === 'BYTES' ? ['a', 'héllo', ''] : dt === 'BOOL' ? [true, false, true] : [1, 0, 3];
      const t = decodeJsonData('x', dt, dtype, [3], values);
      const bytes = encodeBinaryData(dtype, t.data);
      const back = decodeBinaryData('x', dt, dtype, [3], bytes);
      assert.deepEqual(encodeJsonData(dtype, back.data), encodeJsonData(dtype, t.data), dt);
    }
  });

  it('lays out FP16 as 2 bytes, BOOL as 1 byte, BYTES as 4-byte length + bytes', () => {
    const h = decodeBinaryData('x', 'FP16', 'float16', [2], new Uint8Array([0x00, 0x3c, 0x00, 0xc0]));
    assert.deepEqual(Array.from(h.data as Uint16Array, f16ToF32), [1, -2]);
    const b = decodeBinaryData('x', 'BOOL', 'bool', [2], new Uint8Array([1, 0]));
    assert.deepEqual([...(b.data as Uint8Array)], [1, 0]);
    const s = encodeBinaryData('string', ['ab', 'c']);
    assert.deepEqual([...s], [2, 0, 0, 0, 97, 98, 1, 0, 0, 0, 99]);
    const f = encodeBinaryData('float32', new Float32Array([1]));
    assert.deepEqual([...f], [0, 0, 0x80, 0x3f]);
  });

  it('copies unaligned slices of the body', () => {
    const body = Buffer.alloc(9);
    body.writeFloatLE(1.5, 1);
    body.writeFloatLE(-3, 5);
    const t = decodeBinaryData('x', 'FP32', 'float32', [2], body.subarray(1));
    assert.deepEqual([...(t.data as Float32Array)], [1.5, -3]);
  });

  it('rejects sizes that do not match the shape', () => {
    bad(
      () => decodeBinaryData('img', 'FP32', 'float32', [2], new Uint8Array(7)),
      /input 'img'.*needs 8 bytes.*got 7/,
    );
    bad(
      () => decodeBinaryData('s', 'BYTES', 'string', [2], new Uint8Array([1, 0, 0, 0, 97])),
      /needs 2 BYTES elements/,
    );
    bad(
      () => decodeBinaryData('s', 'BYTES', 'string', [1e12], new Uint8Array(8)),
      /needs 1000000000000 BYTES/,
    );
    bad(
      () => decodeBinaryData('s', 'BYTES', 'string', [2], new Uint8Array([1, 0, 0, 0, 97, 98, 99, 100])),
      /holds 1 elements/,
    );
    bad(
      () => decodeBinaryData('s', 'BYTES', 'string', [1], new Uint8Array([9, 0, 0, 0, 97])),
      /claims 9 bytes/,
    );
  });
});

describe('parseInferRequest', () => {
  const request = {
    id: 'r1',
    inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }],
    outputs: [{ name: 'y', parameters: { binary_data: true } }],
  };

  it('parses a JSON request', () => {
    const r = parseInferRequest(Buffer.from(JSON.stringify(request)));
    assert.equal(r.id, 'r1');
    assert.equal(r.inputs[0]!.dtype, 'float32');
    assert.equal(r.outputs![0]!.binary, true);
    assert.deepEqual([...(decodeInput(r.inputs[0]!).data as Float32Array)], [1, 2]);
  });

  it('parses binary inputs after the JSON header', () => {
    const json = {
      inputs: [
        { name: 'a', shape: [2], datatype: 'INT32', parameters: { binary_data_size: 8 } },
        { name: 'b', shape: [1], datatype: 'BYTES', data: ['x'] },
        { name: 'c', shape: [1], datatype: 'BYTES', parameters: { binary_data_size: 7 } },
      ],
      parameters: { binary_data_output: true },
    };
    const { body, header } = binaryBody(json, [
      new Uint8Array(new Int32Array([7, -1]).buffer),
      encodeBinaryData('string', ['abc']),
    ]);
    const r = parseInferRequest(body, header);
    assert.equal(r.binaryOutput, true);
    assert.deepEqual([...(decodeInput(r.inputs[0]!).data as Int32Array)], [7, -1]);
    assert.deepEqual(decodeInput(r.inputs[1]!).data, ['x']);
    assert.deepEqual(decodeInput(r.inputs[2]!).data, ['abc']);
  });

  it('rejects malformed requests with a message that names the problem', () => {
    const p = (x: unknown, header?: string) => () =>
      parseInferRequest(Buffer.from(typeof x === 'string' ? x : JSON.stringify(x)), header);
    bad(p('{"inputs": ['), /malformed JSON/);
    bad(p(''), /empty/);
    bad(p([]), /JSON object/);
    bad(p({}), /'inputs' array/);
    bad(
      p({ inputs: [{ name: 'x', shape: [1], datatype: 'FP99', data: [1] }] }),
      /input 'x'.*unknown datatype "FP99"/,
    );
    bad(p({ inputs: [{ name: 'x', shape: [-1], datatype: 'FP32', data: [1] }] }), /input 'x'.*'shape'/);
    bad(p({ inputs: [{ name: 'x', shape: [1], datatype: 'FP32' }] }), /input 'x' has no 'data'/);
    bad(
      p({
        inputs: [
          { name: 'x', shape: [1], datatype: 'FP32', data: [1] },
          { name: 'x', shape: [1], datatype: 'FP32', data: [1] },
        ],
      }),
      /more than once/,
    );
    bad(p({ id: 3, inputs: [] }), /'id' must be a string/);
    bad(p({ inputs: [], outputs: [{}] }), /outputs\[0\]/);
    bad(p(request, 'abc'), /Inference-Header-Content-Length must be a non-negative integer/);
    bad(p(request, '100000'), /only \d+ bytes/);
    const { body, header } = binaryBody(
      { inputs: [{ name: 'x', shape: [2], datatype: 'FP32', parameters: { binary_data_size: 8 } }] },
      [new Uint8Array(4)],
    );
    bad(() => parseInferRequest(body, header), /input 'x'.*goes past the end/);
    const extra = binaryBody(
      { inputs: [{ name: 'x', shape: [1], datatype: 'FP32', parameters: { binary_data_size: 4 } }] },
      [new Uint8Array(6)],
    );
    bad(() => parseInferRequest(extra.body, extra.header), /6 bytes of binary data.*add up to 4/);
  });
});

describe('unsupported extensions', () => {
  it('shared memory is a 501', () => {
    const body = {
      inputs: [{ name: 'x', shape: [1], datatype: 'FP32', parameters: { shared_memory_region: 'r' } }],
    };
    assert.throws(
      () => parseInferRequest(Buffer.from(JSON.stringify(body))),
      (e: unknown) => e instanceof HttpError && e.status === 501 && /shared-memory/.test(e.message),
    );
  });
});

describe('responses', () => {
  it('puts binary outputs after the JSON header and says where it ends', () => {
    const r = encodeInferResponse({ modelName: 'm', modelVersion: '1', id: 'q' }, [
      { tensor: { name: 'y', dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }, binary: true },
      { tensor: { name: 'z', dtype: 'int64', shape: [1], data: new BigInt64Array([5n]) }, binary: false },
    ]);
    assert.equal(r.contentType, 'application/octet-stream');
    const head = JSON.parse(r.body.subarray(0, r.headerLength).toString());
    assert.deepEqual(head, {
      model_name: 'm',
      model_version: '1',
      id: 'q',
      outputs: [
        { name: 'y', datatype: 'FP32', shape: [2], parameters: { binary_data_size: 8 } },
        { name: 'z', datatype: 'INT64', shape: [1], data: [5] },
      ],
    });
    assert.deepEqual(
      [
        ...new Float32Array(
          r.body.buffer.slice(r.body.byteOffset + r.headerLength!, r.body.byteOffset + r.body.length),
        ),
      ],
      [1, 2],
    );
  });

  it('classification returns the top k as score:index[:label]', () => {
    const t = classify(
      {
        name: 'p',
        dtype: 'float32',
        shape: [2, 3],
        data: new Float32Array([0.1, 0.7, 0.2, 0.5, 0.25, 0.25]),
      },
      2,
      ['a', 'b', 'c'],
    );
    assert.deepEqual(t.shape, [2, 2]);
    assert.deepEqual(t.data, [`${Math.fround(0.7)}:1:b`, `${Math.fround(0.2)}:2:c`, '0.5:0:a', '0.25:1:b']);
  });

  it('maps config spellings of datatypes', () => {
    assert.equal(parseAnyDatatype('TYPE_FP32'), 'float32');
    assert.equal(parseAnyDatatype('TYPE_STRING'), 'string');
    assert.equal(parseAnyDatatype('INT64'), 'int64');
    assert.equal(parseAnyDatatype('float16'), 'float16');
    assert.equal(parseAnyDatatype('TYPE_NOPE'), undefined);
  });
});
