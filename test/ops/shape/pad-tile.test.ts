import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arange, gradcheck, int64s, ops, pad, randn, tensor } from '../../../src/index.js';

const run = (op: string, inputs: any[], attrs = {}, opset?: number) =>
  ops.dispatch1(op, inputs, attrs, { opset });
const onnxPad = (x: any, pads: number[], mode = 'constant', extra: any[] = []) =>
  run('Pad', [x, int64s(pads), ...extra], { mode });

test('Pad 1-D modes match numpy.pad, including pads longer than the axis (numpy 2.4 values)', () => {
  const a = tensor([1, 2, 3]);
  // np.pad([1, 2, 3], (5, 4), mode)
  assert.deepEqual(onnxPad(a, [5, 4], 'reflect').toArray(), [2, 1, 2, 3, 2, 1, 2, 3, 2, 1, 2, 3]);
  assert.deepEqual(onnxPad(a, [5, 4], 'edge').toArray(), [1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3, 3]);
  assert.deepEqual(onnxPad(a, [5, 4], 'wrap').toArray(), [2, 3, 1, 2, 3, 1, 2, 3, 1, 2, 3, 1]);
  assert.deepEqual(onnxPad(a, [1, 2]).toArray(), [0, 1, 2, 3, 0, 0]);
  assert.deepEqual(onnxPad(a, [1, 0], 'constant', [tensor(-7)]).toArray(), [-7, 1, 2, 3]);
});

test('Pad 2-D modes match numpy.pad (numpy 2.4 values on arange(6).reshape(2, 3))', () => {
  const b = arange(6).reshape(2, 3);
  // ONNX pads are [begin_0, begin_1, end_0, end_1]
  assert.deepEqual(onnxPad(b, [1, 2, 1, 2], 'reflect').toArray(), [
    [5, 4, 3, 4, 5, 4, 3],
    [2, 1, 0, 1, 2, 1, 0],
    [5, 4, 3, 4, 5, 4, 3],
    [2, 1, 0, 1, 2, 1, 0],
  ]);
  assert.deepEqual(onnxPad(b, [0, 1, 1, 0], 'edge').toArray(), [
    [0, 0, 1, 2],
    [3, 3, 4, 5],
    [3, 3, 4, 5],
  ]);
  assert.deepEqual(onnxPad(b, [1, 0, 0, 2], 'wrap').toArray(), [
    [3, 4, 5, 3, 4],
    [0, 1, 2, 0, 1],
    [3, 4, 5, 3, 4],
  ]);
  const seven = tensor(7, { dtype: 'int64' });
  assert.deepEqual(onnxPad(b, [1, 0, 0, 1], 'constant', [seven]).toArray(), [
    [7, 7, 7, 7],
    [0, 1, 2, 7],
    [3, 4, 5, 7],
  ]);
});

test('Pad: negative pads crop; opset 18 axes; opset 2 attributes; errors name the op', () => {
  const x = arange(5);
  assert.deepEqual(onnxPad(x, [-1, -2]).toArray(), [1, 2]);
  // crop the first element, then edge-pad the end of what is left
  assert.deepEqual(onnxPad(x, [-1, 2], 'edge').toArray(), [1, 2, 3, 4, 4, 4]);
  const m = arange(4).reshape(2, 2);
  assert.deepEqual(run('Pad', [m, int64s([1, 1]), undefined, int64s([-1])]).toArray(), [
    [0, 0, 1, 0],
    [0, 2, 3, 0],
  ]);
  const old = run('Pad', [m], { pads: [0, 1, 0, 0], mode: 'constant', value: 9 }, 2);
  assert.deepEqual(old.toArray(), [
    [9, 0, 1],
    [9, 2, 3],
  ]);
  assert.throws(() => onnxPad(m, [1, 1]), /Pad: pads \[1, 1\] must hold 2 integers per axis, expected 4/);
  assert.throws(() => onnxPad(x, [-3, -3]), /Pad: pads \[-3, -3\] crop input \[5\] to a negative size/);
  assert.throws(
    () => onnxPad(x, [1, 1], 'mirror'),
    /Pad: mode must be constant, reflect, edge or wrap, got 'mirror'/,
  );
  assert.throws(
    () => run('Pad', [x, int64s([1, 1])], { mode: 'wrap' }, 18),
    /Pad: mode 'wrap' needs opset 19/,
  );
  assert.throws(() => onnxPad(tensor([]), [1, 1], 'reflect'), /Pad: mode 'reflect' cannot pad axis 0/);
});

test('Pad gradients in every mode (gradcheck): reflected/wrapped sources accumulate', () => {
  const a = randn([3, 4], { dtype: 'float64', requiresGrad: true });
  for (const mode of ['constant', 'reflect', 'edge', 'wrap']) {
    assert.equal(
      gradcheck((x) => onnxPad(x, [2, 5, 1, -1], mode), [a]),
      true,
      mode,
    );
  }
  // edge padding by 2 on each side: the end elements are copied 3 times
  const v = tensor([1, 2, 3], { dtype: 'float64', requiresGrad: true });
  onnxPad(v, [2, 2], 'edge').sum().backward();
  assert.deepEqual(v.grad!.toArray(), [3, 1, 3]);
});

test('pad() takes torch.nn.functional.pad order (last dim first) and torch mode names', () => {
  const b = arange(6).reshape(2, 3);
  // F.pad(b, (1, 0)) pads the last dim on the left
  assert.deepEqual(b.pad([1, 0]).toArray(), [
    [0, 0, 1, 2],
    [0, 3, 4, 5],
  ]);
  // F.pad(b, (0, 0, 1, 0), value=9) pads dim 0 on top
  assert.deepEqual(pad(b, [0, 0, 1, 0], 'constant', 9).toArray(), [
    [9, 9, 9],
    [0, 1, 2],
    [3, 4, 5],
  ]);
  assert.deepEqual(b.pad([1, 1], 'replicate').toArray(), [
    [0, 0, 1, 2, 2],
    [3, 3, 4, 5, 5],
  ]);
  assert.deepEqual(b.pad([1, 1], 'circular').toArray(), [
    [2, 0, 1, 2, 0],
    [5, 3, 4, 5, 3],
  ]);
  assert.deepEqual(b.pad([2, 0], 'reflect').toArray(), [
    [2, 1, 0, 1, 2],
    [5, 4, 3, 4, 5],
  ]);
  assert.throws(() => b.pad([1, 1, 1]), /pad: pads \[1, 1, 1\] must have an even length/);
});

test('Tile, repeat and tile follow ONNX / torch', () => {
  const x = tensor([
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(run('Tile', [x, int64s([1, 2])]).toArray(), [
    [1, 2, 1, 2],
    [3, 4, 3, 4],
  ]);
  assert.deepEqual(run('Tile', [x, int64s([2, 1])]).toArray(), [
    [1, 2],
    [3, 4],
    [1, 2],
    [3, 4],
  ]);
  assert.deepEqual(run('Tile', [x, int64s([0, 1])]).shape, [0, 2]);
  assert.throws(
    () => run('Tile', [x, int64s([2])]),
    /Tile: repeats \[2\] must hold one non-negative integer per axis/,
  );
  // torch: tensor([1, 2, 3]).repeat(2, 2) -> shape [2, 6]
  assert.deepEqual(tensor([1, 2, 3]).repeat(2, 2).toArray(), [
    [1, 2, 3, 1, 2, 3],
    [1, 2, 3, 1, 2, 3],
  ]);
  assert.throws(() => x.repeat(2), /repeat: got 1 sizes for a tensor with 2 dims/);
  // torch.tile(x, (2,)) treats the reps as (1, 2)
  assert.deepEqual(x.tile(2).toArray(), [
    [1, 2, 1, 2],
    [3, 4, 3, 4],
  ]);
  assert.deepEqual(tensor([1, 2]).tile([2, 1]).toArray(), [
    [1, 2],
    [1, 2],
  ]);
});

test('Tile / repeat gradients sum over the copies (gradcheck)', () => {
  const a = randn([2, 3], { dtype: 'float64', requiresGrad: true });
  assert.equal(
    gradcheck((x) => run('Tile', [x, int64s([2, 3])]), [a]),
    true,
  );
  assert.equal(
    gradcheck((x) => x.repeat(2, 1, 2), [a]),
    true,
  );
});
