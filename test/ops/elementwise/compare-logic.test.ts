import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tensor } from '../../../src/index.js';
import { f64, run } from './util.js';

// All expectations by hand (truth tables, two's-complement bit patterns written in hex).

test('comparisons return bool, broadcast, and are false against NaN', () => {
  const a = f64([1, 2, Number.NaN]);
  const b = f64([2, 2, Number.NaN]);
  const eq = run('Equal', [a, b]);
  assert.equal(eq.dtype, 'bool');
  assert.deepEqual(eq.toArray(), [false, true, false]);
  assert.deepEqual(run('Less', [a, b]).toArray(), [true, false, false]);
  assert.deepEqual(run('LessOrEqual', [a, b]).toArray(), [true, true, false]);
  assert.deepEqual(run('Greater', [a, b]).toArray(), [false, false, false]);
  assert.deepEqual(run('GreaterOrEqual', [a, b]).toArray(), [false, true, false]);
  // [2, 1] against [3] -> [2, 3]
  assert.deepEqual(run('Greater', [f64([1, 3]).reshape(2, 1), f64([0, 1, 2])]).toArray(), [
    [true, false, false],
    [true, true, true],
  ]);
});

test('comparisons on ints are exact (int64 and uint64 past 2^53), on bool and on strings', () => {
  const a = tensor([9007199254740993n, -5n]);
  const b = tensor([9007199254740992n, -5n]);
  assert.deepEqual(run('Equal', [a, b]).toArray(), [false, true]);
  assert.deepEqual(run('Greater', [a, b]).toArray(), [true, false]);
  const u = tensor([18446744073709551615n], { dtype: 'uint64' });
  const v = tensor([18446744073709551614n], { dtype: 'uint64' });
  assert.deepEqual(run('Less', [v, u]).toArray(), [true]);
  assert.deepEqual(run('Equal', [tensor([true, false]), tensor([true])]).toArray(), [true, false]);
  assert.deepEqual(run('Equal', [tensor(['ab', 'b', 'c']), tensor(['ab'])]).toArray(), [true, false, false]);
  assert.deepEqual(
    run('Less', [tensor([200, 3], { dtype: 'uint8' }), tensor([100, 4], { dtype: 'uint8' })]).toArray(),
    [false, true],
  );
  assert.throws(
    () => run('Equal', [tensor([1], { dtype: 'float32' }), tensor([1], { dtype: 'int32' })]),
    /Equal: inputs must share one dtype, got float32, int32/,
  );
  assert.throws(
    () => run('Less', [tensor(['a']), tensor(['b'])]),
    /Less: input 0 must be a numeric tensor, got string/,
  );
});

test('opset 1 comparisons and logic use the broadcast/axis attributes', () => {
  const a = f64([1, 2, 3, 4, 5, 6]).reshape(2, 3);
  assert.deepEqual(run('Less', [a, f64([2, 5])], { broadcast: 1, axis: 0 }, 1).toArray(), [
    [true, false, false],
    [true, false, false],
  ]);
  const t = tensor([true, false, true, false]).reshape(2, 2);
  assert.deepEqual(run('And', [t, tensor([true, false])], { broadcast: 1, axis: 0 }, 1).toArray(), [
    [true, false],
    [false, false],
  ]);
});

test('And, Or, Xor truth tables with broadcasting; Not', () => {
  const a = tensor([true, false]).reshape(2, 1);
  const b = tensor([true, false]);
  assert.deepEqual(run('And', [a, b]).toArray(), [
    [true, false],
    [false, false],
  ]);
  assert.deepEqual(run('Or', [a, b]).toArray(), [
    [true, true],
    [true, false],
  ]);
  assert.deepEqual(run('Xor', [a, b]).toArray(), [
    [false, true],
    [true, false],
  ]);
  assert.throws(
    () => run('And', [tensor([1], { dtype: 'int32' }), tensor([1], { dtype: 'int32' })]),
    /And: input 0 must be a bool tensor, got int32/,
  );
});

test('BitwiseAnd/Or/Xor/Not over signed, unsigned and 64-bit ints', () => {
  const i32 = (v: number[]) => tensor(v, { dtype: 'int32' });
  assert.deepEqual(run('BitwiseAnd', [i32([-1, 12]), i32([5, 10])]).toArray(), [5, 8]);
  assert.deepEqual(run('BitwiseOr', [i32([12, -8]), i32([3, 1])]).toArray(), [15, -7]);
  assert.deepEqual(run('BitwiseXor', [i32([12, -1]), i32([10, 1])]).toArray(), [6, -2]);
  // 0xF0F0F0F0 & 0xFFFF0000 = 0xF0F00000 = 4042260480
  const u32 = (v: number[]) => tensor(v, { dtype: 'uint32' });
  assert.deepEqual(run('BitwiseAnd', [u32([0xf0f0f0f0]), u32([0xffff0000])]).toArray(), [0xf0f00000]);
  assert.deepEqual(run('BitwiseNot', [tensor([5, 0], { dtype: 'uint8' })]).toArray(), [250, 255]);
  assert.deepEqual(run('BitwiseNot', [tensor([5, -1], { dtype: 'int8' })]).toArray(), [-6, 0]);
  assert.deepEqual(run('BitwiseNot', [tensor([0n], { dtype: 'uint64' })]).toArray(), [18446744073709551615n]);
  assert.deepEqual(run('BitwiseNot', [tensor([0n, 9007199254740993n])]).toArray(), [-1, -9007199254740994n]);
  // 0x8000000000000001 | 0x2 = 0x8000000000000003, broadcast over [2]
  const u64 = tensor([9223372036854775809n, 4n], { dtype: 'uint64' });
  assert.deepEqual(run('BitwiseOr', [u64, tensor([2n], { dtype: 'uint64' })]).toArray(), [
    9223372036854775811n,
    6,
  ]);
  assert.throws(
    () => run('BitwiseAnd', [f64([1]), f64([1])]),
    /BitwiseAnd: input 0 must be an integer tensor, got float64/,
  );
});

test('BitShift: wraps at the type width; shifts by the width or more give 0', () => {
  const u8 = (v: number[]) => tensor(v, { dtype: 'uint8' });
  // ONNX's example: [16, 4, 1] << [1, 2, 3] = [32, 16, 8]; >> gives [8, 1, 0].
  assert.deepEqual(
    run('BitShift', [u8([16, 4, 1]), u8([1, 2, 3])], { direction: 'LEFT' }).toArray(),
    [32, 16, 8],
  );
  assert.deepEqual(
    run('BitShift', [u8([16, 4, 1]), u8([1, 2, 3])], { direction: 'RIGHT' }).toArray(),
    [8, 1, 0],
  );
  // 200 << 1 = 400 = 0x190 -> 0x90 = 144 in uint8; 1 << 8 -> 0.
  assert.deepEqual(run('BitShift', [u8([200, 1]), u8([1, 8])], { direction: 'LEFT' }).toArray(), [144, 0]);
  const u32 = (v: number[]) => tensor(v, { dtype: 'uint32' });
  assert.deepEqual(
    run('BitShift', [u32([1, 0x80000000, 1]), u32([31, 31, 32])], { direction: 'LEFT' }).toArray(),
    [0x80000000, 0, 0],
  );
  assert.deepEqual(
    run('BitShift', [u32([0x80000000, 0xffffffff]), u32([31, 32])], { direction: 'RIGHT' }).toArray(),
    [1, 0],
  );
  const u64 = (v: bigint[]) => tensor(v, { dtype: 'uint64' });
  assert.deepEqual(
    run('BitShift', [u64([1n, 3n, 1n]), u64([63n, 63n, 64n])], { direction: 'LEFT' }).toArray(),
    [9223372036854775808n, 9223372036854775808n, 0],
  );
  assert.deepEqual(
    run('BitShift', [u64([18446744073709551615n]), u64([60n])], { direction: 'RIGHT' }).toArray(),
    [15],
  );
  assert.throws(
    () => run('BitShift', [u8([1]), u8([1])], { direction: 'left' }),
    /BitShift: direction must be 'LEFT' or 'RIGHT', got 'left'/,
  );
  assert.throws(() => run('BitShift', [u8([1]), u8([1])]), /attribute 'direction' is required/);
  assert.throws(
    () =>
      run('BitShift', [tensor([1], { dtype: 'int32' }), tensor([1], { dtype: 'int32' })], {
        direction: 'LEFT',
      }),
    /BitShift: input 0 must be an unsigned integer tensor, got int32/,
  );
});
