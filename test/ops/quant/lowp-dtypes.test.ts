/**
 * The low-precision dtypes: float8 (e4m3fn, e4m3fnuz, e5m2, e5m2fnuz), float8e8m0, float4e2m1 and the
 * 4-/2-bit integers. Bit patterns are derived by hand from each format's definition (sign,
 * exponent with its bias, mantissa; round to nearest even); TensorProto packing from onnx.proto's
 * description (first element in the low bits).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  bitWidth,
  encodeFloat8,
  encodeNumber,
  getNumber,
  onnx,
  ops,
  promoteTypes,
  Tensor,
  tensor,
  tsr,
} from '../../../src/index.js';

const { dispatch1 } = ops;
const bits = (dtype: Parameters<typeof getNumber>[0], b: number) => getNumber(dtype, Uint8Array.of(b), 0);

test('float8e4m3fn: bias 7, no Inf, NaN is S.1111.111, max 448', () => {
  assert.equal(bits('float8e4m3fn', 0x7e), 448); // 1.110b * 2^(15-7)
  assert.equal(bits('float8e4m3fn', 0x38), 1); // exponent 7
  assert.equal(bits('float8e4m3fn', 0x08), 2 ** -6); // smallest normal
  assert.equal(bits('float8e4m3fn', 0x01), 2 ** -9); // smallest subnormal: 1/8 * 2^-6
  assert.ok(Number.isNaN(bits('float8e4m3fn', 0x7f)));
  assert.ok(Number.isNaN(bits('float8e4m3fn', 0xff)));
  assert.ok(Object.is(bits('float8e4m3fn', 0x80), -0));
  assert.equal(bits('float8e4m3fn', 0xc4), -3); // 1.100b * 2^1

  const enc = (v: number, sat = false) => encodeFloat8('float8e4m3fn', v, sat);
  assert.equal(enc(448), 0x7e);
  assert.equal(enc(464), 0x7e); // halfway 448..480: the even mantissa (110) wins
  assert.equal(enc(465), 0x7f); // rounds to 480, which does not exist: NaN
  assert.equal(enc(-465), 0xff); // NaN keeps the sign in e4m3fn
  assert.equal(enc(465, true), 0x7e); // saturate
  assert.equal(enc(Number.NEGATIVE_INFINITY, true), 0xfe);
  assert.equal(enc(2 ** -10), 0x00); // half the smallest subnormal: tie to even (0)
  assert.equal(enc(3 * 2 ** -10), 0x02); // 1.5 subnormal steps: tie to even (2)
  assert.equal(enc(-1e-7), 0x80);
  assert.equal(enc(Number.NaN), 0x7f);
  assert.equal(enc(0.3), 0x2a); // 0.3 = 1.2 * 2^-2; 1.2 * 8 = 9.6 -> mantissa 010 rounds to 1.25: 0.3125
});

test('float8e4m3fnuz and float8e5m2fnuz: no -0, 0x80 is the only NaN', () => {
  assert.equal(bits('float8e4m3fnuz', 0x7f), 240); // 1.111b * 2^(15-8)
  assert.equal(bits('float8e4m3fnuz', 0x01), 2 ** -10);
  assert.ok(Number.isNaN(bits('float8e4m3fnuz', 0x80)));
  assert.equal(encodeFloat8('float8e4m3fnuz', -0, false), 0x00);
  assert.equal(encodeFloat8('float8e4m3fnuz', -1e-9, false), 0x00);
  assert.equal(encodeFloat8('float8e4m3fnuz', 1000, false), 0x80);
  assert.equal(encodeFloat8('float8e4m3fnuz', -1000, true), 0xff);
  assert.equal(encodeFloat8('float8e4m3fnuz', Number.POSITIVE_INFINITY, false), 0x80);
  assert.equal(bits('float8e5m2fnuz', 0x7f), 57344); // 1.11b * 2^(31-16)
  assert.equal(bits('float8e5m2fnuz', 0x01), 2 ** -17);
  assert.ok(Number.isNaN(bits('float8e5m2fnuz', 0x80)));
  assert.equal(encodeFloat8('float8e5m2fnuz', 1, false), 0x40); // exponent 16
});

test('float8e5m2: IEEE-like with Inf, max 57344', () => {
  assert.equal(bits('float8e5m2', 0x7b), 57344);
  assert.equal(bits('float8e5m2', 0x7c), Number.POSITIVE_INFINITY);
  assert.equal(bits('float8e5m2', 0xfc), Number.NEGATIVE_INFINITY);
  assert.ok(Number.isNaN(bits('float8e5m2', 0x7e)));
  assert.equal(bits('float8e5m2', 0x3c), 1);
  assert.equal(encodeFloat8('float8e5m2', 61440, false), 0x7c); // tie 57344 (mantissa 11) / 65536: even is Inf
  assert.equal(encodeFloat8('float8e5m2', 61439, false), 0x7b);
  assert.equal(encodeFloat8('float8e5m2', 61440, true), 0x7b);
  assert.equal(encodeFloat8('float8e5m2', Number.NEGATIVE_INFINITY, false), 0xfc);
  assert.equal(encodeFloat8('float8e5m2', Number.NaN, false), 0x7e);
});

test('float4e2m1: the 16 values, ties to even, always saturating, NaN -> 0b1000', () => {
  const values = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
  for (let b = 0; b < 8; b++) {
    assert.equal(bits('float4e2m1', b), values[b]);
    assert.equal(bits('float4e2m1', b | 8), -values[b]!);
  }
  const enc = (v: number) => encodeFloat8('float4e2m1', v, false);
  assert.equal(enc(0.25), 0); // tie 0 / 0.5
  assert.equal(enc(0.75), 2); // tie 0.5 / 1: mantissa of 1.0 is even
  assert.equal(enc(2.5), 4); // tie 2 / 3
  assert.equal(enc(5), 6); // tie 4 / 6
  assert.equal(enc(-3.5), 0xe); // tie 3 / 4 -> -4
  assert.equal(enc(7), 7);
  assert.equal(enc(Number.POSITIVE_INFINITY), 7);
  assert.equal(enc(-1e9), 0xf);
  assert.equal(enc(Number.NaN), 8);
  assert.equal(enc(-0), 8);
});

test('float8e8m0: powers of two, 2^(b-127), with round_mode up/down/nearest', () => {
  assert.equal(bits('float8e8m0', 127), 1);
  assert.equal(bits('float8e8m0', 0), 2 ** -127);
  assert.equal(bits('float8e8m0', 254), 2 ** 127);
  assert.ok(Number.isNaN(bits('float8e8m0', 255)));
  const e = (v: number, mode: 'up' | 'down' | 'nearest', sat = true) =>
    encodeFloat8('float8e8m0', v, sat, mode);
  assert.equal(e(2, 'up'), 128);
  assert.equal(e(3, 'up'), 129); // 1.5 * 2^1 -> 4
  assert.equal(e(3, 'down'), 128); // -> 2
  assert.equal(e(3, 'nearest'), 129); // 1.5: guard bit set -> up
  assert.equal(e(2.5, 'nearest'), 128); // 1.25: guard bit clear -> down
  assert.equal(e(-4, 'up'), 129); // the sign is dropped
  assert.equal(e(Number.POSITIVE_INFINITY, 'up'), 255);
  assert.equal(e(3 * 2 ** 126, 'up', true), 254); // would carry past 2^127: saturate keeps 0xFE
  assert.equal(e(3 * 2 ** 126, 'up', false), 255);
});

test('4-/2-bit integers store values and wrap like a C cast', () => {
  assert.deepEqual(
    [-9, -8, 7, 8, 15, 16, 2.9, -2.9].map((v) => encodeNumber('int4', v)),
    [7, -8, 7, -8, -1, 0, 2, -2],
  );
  assert.deepEqual(
    [-1, 16, 17].map((v) => encodeNumber('uint4', v)),
    [15, 0, 1],
  );
  assert.deepEqual(
    [-3, -2, 1, 2].map((v) => encodeNumber('int2', v)),
    [1, -2, 1, -2],
  );
  assert.deepEqual(
    [-1, 4, 5].map((v) => encodeNumber('uint2', v)),
    [3, 0, 1],
  );
  const t = tensor([-9, 7, 8], { dtype: 'int4' });
  assert.deepEqual(t.toArray(), [7, 7, -8]);
  assert.equal(bitWidth('int4'), 4);
  assert.equal(bitWidth('uint2'), 2);
  assert.equal(bitWidth('float8e5m2'), 8);
});

test('generic ops carry low-precision tensors: Reshape, Transpose, Gather, Identity, Concat', () => {
  const t = tensor([0.5, 1, -2, 448], { dtype: 'float8e4m3fn' });
  const r = dispatch1('Reshape', [t, tensor([2, 2], { dtype: 'int64' })]);
  assert.equal(r.dtype, 'float8e4m3fn');
  assert.deepEqual(dispatch1('Transpose', [r]).toArray(), [
    [0.5, -2],
    [1, 448],
  ]);
  assert.deepEqual(dispatch1('Gather', [t, tensor([3, 0], { dtype: 'int64' })]).toArray(), [448, 0.5]);
  const i4 = tensor([1, -2, 3], { dtype: 'int4' });
  assert.deepEqual(dispatch1('Concat', [i4, i4], { axis: 0 }).toArray(), [1, -2, 3, 1, -2, 3]);
  assert.deepEqual(dispatch1('Identity', [i4]).toArray(), [1, -2, 3]);
});

test('low-precision dtypes do not promote', () => {
  assert.throws(() => promoteTypes('float8e4m3fn', 'float32'), /cannot promote float8e4m3fn with float32/);
  assert.throws(() => promoteTypes('int8', 'int4'), /cannot promote/);
  assert.equal(promoteTypes('int4', 'int4'), 'int4');
});

test('TensorProto packing: 4-bit two per byte, 2-bit four per byte, first element in the low bits', () => {
  const i4 = Tensor.fromData(Int8Array.of(-8, 7, -1), [3], 'int4');
  const p = onnx.tensorToProto(i4) as { raw_data: Uint8Array; data_type: number };
  assert.equal(p.data_type, 22);
  assert.deepEqual([...p.raw_data], [0x78, 0x0f]); // -8 -> 1000b, 7 -> 0111b; -1 -> 1111b, pad 0
  const back = onnx.decodeTensor(onnx.encodeTensor(i4));
  assert.equal(back.dtype, 'int4');
  assert.deepEqual(back.toArray(), [-8, 7, -1]);

  const u2 = Tensor.fromData(Uint8Array.of(1, 2, 3, 0, 1), [5], 'uint2');
  const q = onnx.tensorToProto(u2) as { raw_data: Uint8Array };
  assert.deepEqual([...q.raw_data], [1 | (2 << 2) | (3 << 4), 1]);
  assert.deepEqual(onnx.decodeTensor(onnx.encodeTensor(u2)).toArray(), [1, 2, 3, 0, 1]);

  const proto = (fields: object) => onnx.decodeTensor(onnx.encodeMessage('TensorProto', fields));
  // int32_data: one packed byte per value for 4-bit types; one pattern per value for float8.
  assert.deepEqual(proto({ data_type: 22, dims: [3], int32_data: [0x78, 0x0f] }).toArray(), [-8, 7, -1]);
  assert.deepEqual(proto({ data_type: 17, dims: [2], int32_data: [0x7e, 0xc4] }).toArray(), [448, -3]);
  assert.deepEqual(
    proto({ data_type: 23, dims: [3], raw_data: Uint8Array.of(0x7f, 0x01) }).toArray(),
    [-6, 6, 0.5],
  );
  assert.deepEqual(
    proto({ data_type: 26, dims: [3], raw_data: Uint8Array.of(0b100111) }).toArray(),
    [-1, 1, -2],
  );
  assert.throws(
    () => proto({ data_type: 22, dims: [5], raw_data: Uint8Array.of(1, 2) }),
    /raw_data has 2 bytes, shape \[5\] of int4 needs 3/,
  );
});

test('safetensors (.tsr weights) keep low-precision tensors, one element per byte', () => {
  const f8 = Tensor.fromData(Uint8Array.of(0x7e, 0xc4), [2], 'float8e4m3fn');
  const i4 = tensor([-8, 7, 1], { dtype: 'int4' });
  const back = tsr.decodeSafetensors(
    tsr.encodeSafetensors([
      ['f8', f8],
      ['i4', i4],
    ]),
  ).tensors;
  assert.equal(back.get('f8')!.dtype, 'float8e4m3fn');
  assert.deepEqual(back.get('f8')!.toArray(), [448, -3]);
  assert.equal(back.get('i4')!.dtype, 'int4');
  assert.deepEqual(back.get('i4')!.toArray(), [-8, 7, 1]);
});
