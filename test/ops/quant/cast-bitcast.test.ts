/**
 * Cast / CastLike into and out of the low-precision dtypes (saturate, round_mode, truncation and
 * wrap-around for integers) and BitCast. Expected values are derived by hand from the formats'
 * definitions; the ONNX conformance data covers the same ops in conformance.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ops, Tensor, tensor } from '../../../src/index.js';

const { dispatch1 } = ops;
// ONNX TensorProto.DataType numbers.
const T = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT16: 5,
  INT32: 6,
  BOOL: 9,
  FLOAT16: 10,
  E4M3FN: 17,
  E4M3FNUZ: 18,
  E5M2: 19,
  UINT4: 21,
  INT4: 22,
  FLOAT4: 23,
  E8M0: 24,
  UINT2: 25,
  INT2: 26,
};

test('Cast float -> float8 saturates by default; saturate=0 gives NaN / Inf', () => {
  const x = tensor([1000, -1000, Number.POSITIVE_INFINITY, 0.3, Number.NaN]);
  const sat = dispatch1('Cast', [x], { to: T.E4M3FN });
  assert.equal(sat.dtype, 'float8e4m3fn');
  assert.deepEqual([...(sat.dataSync() as Uint8Array)], [0x7e, 0xfe, 0x7e, 0x2a, 0x7f]);
  const raw = dispatch1('Cast', [x], { to: T.E4M3FN, saturate: 0 });
  assert.deepEqual([...(raw.dataSync() as Uint8Array)], [0x7f, 0xff, 0x7f, 0x2a, 0x7f]);
  const e5 = dispatch1('Cast', [tensor([1000, 1e5, -1e5, 0.3])], { to: T.E5M2, saturate: 0 });
  assert.deepEqual(e5.toArray(), [
    1024, // 1000 = 1.953 * 2^9; two mantissa bits round up into 2^10
    Number.POSITIVE_INFINITY, // past 57344
    Number.NEGATIVE_INFINITY,
    0.3125, // 0.3 = 1.2 * 2^-2 -> 1.25 * 2^-2
  ]);
  const e5s = dispatch1('Cast', [tensor([1e5, Number.NEGATIVE_INFINITY])], { to: T.E5M2 });
  assert.deepEqual(e5s.toArray(), [57344, -57344]);
  const uz = dispatch1('Cast', [tensor([-0, 1e6])], { to: T.E4M3FNUZ, saturate: 0 });
  assert.deepEqual([...(uz.dataSync() as Uint8Array)], [0x00, 0x80]);
});

test('Cast float8/float4 -> float16/float32/int8 decodes exactly, truncating toward zero for ints', () => {
  const f8 = Tensor.fromData(Uint8Array.of(0x7e, 0xc4, 0x01, 0x7f), [4], 'float8e4m3fn');
  assert.deepEqual(dispatch1('Cast', [f8], { to: T.FLOAT }).toArray(), [448, -3, 2 ** -9, Number.NaN]);
  assert.deepEqual(dispatch1('Cast', [f8], { to: T.FLOAT16 }).toArray(), [448, -3, 2 ** -9, Number.NaN]);
  const f4 = Tensor.fromData(Uint8Array.of(0x3, 0xb, 0x7), [3], 'float4e2m1');
  assert.deepEqual(dispatch1('Cast', [f4], { to: T.INT8 }).toArray(), [1, -1, 6]); // 1.5, -1.5, 6
  assert.deepEqual(dispatch1('Cast', [f4], { to: T.BOOL }).toArray(), [true, true, true]);
  // float8 -> float8 goes through the exact value
  assert.deepEqual(dispatch1('Cast', [f8], { to: T.E5M2 }).toArray(), [448, -3, 2 ** -9, Number.NaN]);
});

test('Cast to int4/uint4/int2/uint2 truncates and wraps; back to int8 is exact', () => {
  const x = tensor([-9, -8.7, 7.9, 8, 17]);
  const i4 = dispatch1('Cast', [x], { to: T.INT4 });
  assert.equal(i4.dtype, 'int4');
  assert.deepEqual(i4.toArray(), [7, -8, 7, -8, 1]);
  assert.deepEqual(dispatch1('Cast', [x], { to: T.UINT4 }).toArray(), [7, 8, 7, 8, 1]);
  assert.deepEqual(dispatch1('Cast', [tensor([-3, -2, 2, 5])], { to: T.INT2 }).toArray(), [1, -2, -2, 1]);
  assert.deepEqual(dispatch1('Cast', [tensor([-1, 4, 6])], { to: T.UINT2 }).toArray(), [3, 0, 2]);
  assert.deepEqual(dispatch1('Cast', [i4], { to: T.INT8 }).toArray(), [7, -8, 7, -8, 1]);
  // int64 sources wrap the same way
  assert.deepEqual(
    dispatch1('Cast', [tensor([-9, 31], { dtype: 'int64' })], { to: T.INT4 }).toArray(),
    [7, -1],
  );
});

test('Cast to float8e8m0 with round_mode; CastLike passes saturate and round_mode on', () => {
  const x = tensor([3, 2.5, 0.124, 1]);
  assert.deepEqual(dispatch1('Cast', [x], { to: T.E8M0 }).toArray(), [4, 4, 0.125, 1]);
  assert.deepEqual(dispatch1('Cast', [x], { to: T.E8M0, round_mode: 'down' }).toArray(), [2, 2, 0.0625, 1]);
  assert.deepEqual(dispatch1('Cast', [x], { to: T.E8M0, round_mode: 'nearest' }).toArray(), [4, 2, 0.125, 1]);
  assert.throws(
    () => dispatch1('Cast', [x], { to: T.E8M0, round_mode: 'sideways' }),
    /round_mode must be 'up', 'down' or 'nearest', got "sideways"/,
  );
  const like = Tensor.fromData(new Uint8Array(1), [1], 'float8e4m3fn');
  assert.deepEqual(
    [...(dispatch1('CastLike', [tensor([500]), like], { saturate: 0 }).dataSync() as Uint8Array)],
    [0x7f],
  );
  assert.deepEqual([...(dispatch1('CastLike', [tensor([500]), like]).dataSync() as Uint8Array)], [0x7e]);
});

test('Cast string <-> float8', () => {
  const s = Tensor.fromData(['0.5', '-INF', 'NaN'], [3], 'string');
  const f = dispatch1('Cast', [s], { to: T.E4M3FN });
  assert.deepEqual([...(f.dataSync() as Uint8Array)], [0x30, 0xfe, 0x7f]);
  assert.deepEqual(dispatch1('Cast', [f], { to: 8 }).toArray(), ['0.5', '-448', 'NaN']);
});

test('BitCast reinterprets bits between equal widths (little endian)', () => {
  // 1.0f is 0x3F800000
  assert.deepEqual(
    dispatch1('BitCast', [tensor([1, -2])], { to: T.INT32 }).toArray(),
    [0x3f800000, -0x40000000],
  );
  assert.deepEqual(
    dispatch1('BitCast', [tensor([-1, -128], { dtype: 'int8' })], { to: T.UINT8 }).toArray(),
    [255, 128],
  );
  // float16 1.0 is 0x3C00; int16 -1 is 0xFFFF, a float16 NaN
  const h = dispatch1('BitCast', [tensor([0x3c00, -1], { dtype: 'int16' })], { to: T.FLOAT16 });
  assert.deepEqual(h.toArray(), [1, Number.NaN]);
  assert.deepEqual(
    dispatch1('BitCast', [tensor([0x7e, 0xc4], { dtype: 'uint8' })], { to: T.E4M3FN }).toArray(),
    [448, -3],
  );
  assert.deepEqual(dispatch1('BitCast', [tensor([0, 1, 2], { dtype: 'uint8' })], { to: T.BOOL }).toArray(), [
    false,
    true,
    true,
  ]);
  // 4-bit: int4 -1 is 1111b = uint4 15; uint4 8 = int4 -8; uint4 7 = float4 6.0
  assert.deepEqual(
    dispatch1('BitCast', [tensor([-1, 3], { dtype: 'int4' })], { to: T.UINT4 }).toArray(),
    [15, 3],
  );
  assert.deepEqual(
    dispatch1('BitCast', [tensor([8, 7], { dtype: 'uint4' })], { to: T.INT4 }).toArray(),
    [-8, 7],
  );
  assert.deepEqual(
    dispatch1('BitCast', [tensor([7, 15], { dtype: 'uint4' })], { to: T.FLOAT4 }).toArray(),
    [6, -6],
  );
  assert.deepEqual(
    dispatch1('BitCast', [tensor([3, 2], { dtype: 'uint2' })], { to: T.INT2 }).toArray(),
    [-1, -2],
  );
  const scalar = dispatch1('BitCast', [tensor(1)], { to: T.INT32 });
  assert.deepEqual(scalar.shape, []);
  assert.throws(
    () => dispatch1('BitCast', [tensor([1])], { to: T.INT16 }),
    /BitCast: float32 is 32 bits wide, int16 is 16; BitCast needs equal widths/,
  );
  assert.throws(
    () => dispatch1('BitCast', [tensor([1])], { to: 8 }),
    /BitCast: 'to' must be a non-string ONNX data type number, got 8/,
  );
});
