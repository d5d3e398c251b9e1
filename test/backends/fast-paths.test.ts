/**
 * The float fast paths against the generic TypeScript kernels they bypass: broadcasting binary
 * arithmetic and unary ops (src/backends/cpu/fast-float.ts) against mapBinary/mapUnary, and the
 * direct 2-D max pool (src/backends/cpu/pool2d.ts) against the tap-list kernel, on random shapes,
 * broadcast patterns, strided views, NaN and -inf, padding, dilation and ceil mode.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapBinary, mapUnary } from '../../src/backends/cpu/elementwise.js';
import { floatBinary, floatUnary, floatWhere } from '../../src/backends/cpu/fast-float.js';
import { maxPool2d } from '../../src/backends/cpu/pool2d.js';
import { native, nativeGemmOn, setNativeGemm } from '../../src/backends/cpu/wasm/runtime.js';
import { maxPoolTaps } from '../../src/ops/nn/max-pool.js';
import { windowTaps } from '../../src/ops/nn/pool-taps.js';
import { resolveWindow } from '../../src/ops/nn/window.js';
import { softmaxKernel } from '../../src/ops/reduce/softmax.js';
import { Generator } from '../../src/runtime/random.js';
import { Tensor } from '../../src/runtime/tensor.js';

const gen = new Generator(99);
const randInt = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));

function rand(shape: number[], dtype: 'float32' | 'float64', specials = false): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = gen.uniform();
    data[i] = specials && r < 0.05 ? Number.NaN : specials && r < 0.1 ? Number.NEGATIVE_INFINITY : r * 4 - 2;
  }
  return Tensor.fromData(data, shape, dtype);
}

/** Bitwise equality of two tensors' values and shapes (NaN equal to NaN). */
function assertSame(got: Tensor, want: Tensor, what: string): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  const g = got.dataSync() as Float64Array;
  const w = want.dataSync() as Float64Array;
  for (let i = 0; i < w.length; i++) {
    if (Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i]))) continue;
    assert.fail(`${what}: element ${i}: got ${g[i]}, expected ${w[i]}`);
  }
}

const OPS: [string, (x: number, y: number) => number][] = [
  ['Add', (x, y) => x + y],
  ['Sub', (x, y) => x - y],
  ['Mul', (x, y) => x * y],
  ['Div', (x, y) => x / y],
];

test('floatBinary equals mapBinary on random broadcast shapes, both float dtypes', () => {
  for (let r = 0; r < 40; r++) {
    const rank = randInt(0, 4);
    const out = Array.from({ length: rank }, () => randInt(1, 5));
    // Each operand drops leading dims and sets some dims to 1 (NumPy broadcasting).
    const operand = () => out.slice(randInt(0, rank)).map((d) => (gen.uniform() < 0.3 ? 1 : d));
    for (const dtype of ['float32', 'float64'] as const) {
      const a = rand(operand(), dtype, true);
      const b = rand(operand(), dtype, true);
      for (const [op, f] of OPS) {
        const fast = floatBinary(op, a, b);
        assert.ok(fast, `${op} has a fast path for ${dtype}`);
        assertSame(fast, mapBinary(a, b, f, dtype, op), `${op} ${a.shape} ${b.shape} ${dtype}`);
      }
    }
  }
});

test('comparisons give the generic kernel bool tensors (NaN compares false)', () => {
  const cmps: [string, (x: number, y: number) => number][] = [
    ['Greater', (x, y) => (x > y ? 1 : 0)],
    ['Less', (x, y) => (x < y ? 1 : 0)],
    ['GreaterOrEqual', (x, y) => (x >= y ? 1 : 0)],
    ['LessOrEqual', (x, y) => (x <= y ? 1 : 0)],
    ['Equal', (x, y) => (x === y ? 1 : 0)],
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    const a = rand([4, 1, 3], dtype, true);
    const b = rand([5, 1], dtype, true);
    const same = a.asStrided([4, 1, 3], a.strides); // equal values in places, for Equal
    for (const [op, f] of cmps) {
      assertSame(floatBinary(op, a, b)!, mapBinary(a, b, f, 'bool', op), `${op} ${dtype}`);
      assertSame(floatBinary(op, a, same)!, mapBinary(a, same, f, 'bool', op), `${op} self ${dtype}`);
    }
  }
});

test('floatWhere equals the generic Where for masks with scalar operands, declines other broadcasts', () => {
  const x = rand([3, 4], 'float32', true);
  const y = rand([3, 4], 'float32');
  const zero = Tensor.fromData(new Float32Array([0]), [], 'float32');
  const mask = floatBinary('Greater', x, zero)!;
  const pick = (c: Tensor, a: Tensor, b: Tensor) => {
    const cd = c.dataSync() as Uint8Array;
    const ad = a.dataSync() as Float32Array;
    const bd = b.dataSync() as Float32Array;
    return Tensor.fromData(
      Float32Array.from({ length: 12 }, (_, i) =>
        cd[i] ? ad[a.numel() === 1 ? 0 : i]! : bd[b.numel() === 1 ? 0 : i]!,
      ),
      [3, 4],
      'float32',
    );
  };
  assertSame(floatWhere(mask, y, zero)!, pick(mask, y, zero), 'mask, y, 0');
  assertSame(floatWhere(mask, zero, y)!, pick(mask, zero, y), 'mask, 0, y');
  assertSame(floatWhere(mask, x, y)!, pick(mask, x, y), 'mask, x, y');
  assert.equal(floatWhere(mask, rand([4], 'float32'), y), null, 'row broadcast goes to the generic kernel');
});

test('floatBinary on strided views (transposed, offset) and empty tensors', () => {
  const base = rand([6, 5], 'float32');
  const t = base.asStrided([5, 6], [1, 5]);
  const off = base.asStrided([2, 5], [5, 1], 10);
  const b = rand([5, 1], 'float32');
  assertSame(
    floatBinary('Mul', t, b)!,
    mapBinary(t, b, (x, y) => x * y, 'float32', 'Mul'),
    'transposed',
  );
  const row = rand([5], 'float32');
  assertSame(
    floatBinary('Sub', off, row)!,
    mapBinary(off, row, (x, y) => x - y, 'float32', 'Sub'),
    'offset',
  );
  const e = floatBinary('Add', rand([0, 3], 'float64'), rand([3], 'float64'))!;
  assert.deepEqual([...e.shape], [0, 3]);
});

test('floatBinary and floatUnary decline other dtypes and mixed dtypes', () => {
  const i = Tensor.fromData(new Int32Array([1, 2]), [2], 'int32');
  assert.equal(floatBinary('Add', i, i), null);
  assert.equal(floatBinary('Add', rand([2], 'float32'), rand([2], 'float64')), null);
  assert.equal(floatBinary('Pow', rand([2], 'float32'), rand([2], 'float32')), null);
  assert.equal(floatUnary('Relu', i), null);
  assert.equal(floatUnary('Relu', rand([3, 2], 'float32').asStrided([2, 3], [1, 2])), null);
});

test('floatUnary equals mapUnary with the generic kernels own functions', () => {
  const fns: [string, (x: number) => number][] = [
    ['Relu', (x) => Math.max(0, x)],
    ['Neg', (x) => -x],
    ['Abs', Math.abs],
    ['Sqrt', Math.sqrt],
    ['Exp', Math.exp],
    ['Tanh', Math.tanh],
    ['Sigmoid', (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)))],
  ];
  for (const dtype of ['float32', 'float64'] as const) {
    const x = rand([3, 7, 5], dtype, true);
    for (const [op, f] of fns) assertSame(floatUnary(op, x)!, mapUnary(x, f), `${op} ${dtype}`);
  }
  // Hand-checked: Relu(-0) is +0 as Math.max(0, -0); Relu(NaN) is NaN.
  const r = floatUnary('Relu', Tensor.fromData(new Float32Array([-0, Number.NaN, -3, 2.5]), [4], 'float32'))!;
  assert.ok(Object.is(r.dataSync()[0], 0));
  assert.ok(Number.isNaN(r.dataSync()[1] as number));
  assert.deepEqual([...(r.dataSync() as Float32Array).slice(2)], [0, 2.5]);
});

test('maxPool2d equals the tap-list MaxPool on random windows, pads, dilations and ceil mode', () => {
  for (let r = 0; r < 60; r++) {
    const H = randInt(1, 9);
    const W = randInt(1, 9);
    const kH = randInt(1, Math.min(3, H));
    const kW = randInt(1, Math.min(3, W));
    const attrs = {
      strides: [randInt(1, 3), randInt(1, 3)],
      dilations: [randInt(1, 2), randInt(1, 2)],
      pads: [randInt(0, kH - 1), randInt(0, kW - 1), randInt(0, kH - 1), randInt(0, kW - 1)],
    };
    const ceil = gen.uniform() < 0.5;
    let win: ReturnType<typeof resolveWindow>;
    try {
      win = resolveWindow('MaxPool', [H, W], [kH, kW], attrs, ceil);
    } catch {
      continue; // a window larger than the padded input: the op's own error
    }
    if (win.outSize.some((d) => d <= 0)) continue;
    const dtype = r % 2 ? 'float32' : 'float64';
    const x = rand([randInt(1, 2), randInt(1, 3), H, W], dtype, true);
    const [kh, kw] = win.kernel as [number, number];
    const fast = maxPool2d(x, {
      kH: kh,
      kW: kw,
      sH: win.strides[0]!,
      sW: win.strides[1]!,
      dH: win.dilations[0]!,
      dW: win.dilations[1]!,
      pH: win.padsBegin[0]!,
      pW: win.padsBegin[1]!,
      oH: win.outSize[0]!,
      oW: win.outSize[1]!,
    })!;
    const [y, ind] = maxPoolTaps(x, windowTaps(win), win.outSize);
    const what = `H=${H} W=${W} k=${kh}x${kw} ${JSON.stringify(attrs)} ceil=${ceil}`;
    assertSame(fast[0], y, `${what} Y`);
    assert.deepEqual(
      [...(fast[1].dataSync() as BigInt64Array)],
      [...(ind.dataSync() as BigInt64Array)],
      `${what} I`,
    );
  }
});

test('maxPool2d by hand: 2x2 stride 2 over a 4x4 plane, values and flat indices', () => {
  // Plane 0..15 row-major; each 2x2 window's max is its bottom-right element.
  const x = Tensor.fromData(
    Float32Array.from({ length: 16 }, (_, i) => i),
    [1, 1, 4, 4],
    'float32',
  );
  const [y, ind] = maxPool2d(x, { kH: 2, kW: 2, sH: 2, sW: 2, dH: 1, dW: 1, pH: 0, pW: 0, oH: 2, oW: 2 })!;
  assert.deepEqual([...(y.dataSync() as Float32Array)], [5, 7, 13, 15]);
  assert.deepEqual([...(ind.dataSync() as BigInt64Array)], [5n, 7n, 13n, 15n]);
});

test('native softmax and log-softmax rows equal the TypeScript kernel within one float32 rounding', (t) => {
  if (!native) {
    t.skip('the native addon is not loaded');
    return;
  }
  const ulp = (v: number) => 2 ** (Math.floor(Math.log2(Math.max(Math.abs(v), 2 ** -126))) - 23);
  for (let r = 0; r < 60; r++) {
    const len = r < 3 ? [1, 2, 1100][r]! : randInt(1, 300);
    const rows = randInt(1, 4);
    const shape = r % 2 ? [rows, len] : [rows, 1, len, 1];
    const x = rand(shape, 'float32', r % 3 === 0);
    const xs = x.dataSync() as Float32Array;
    // Large magnitudes, a +inf now and then: exp(v - max) must not overflow, and inf - inf is NaN.
    for (let i = 0; i < xs.length; i++) {
      if (r % 4 === 1) xs[i]! *= 40;
      if (r % 10 === 7 && i % 17 === 3) xs[i] = Number.POSITIVE_INFINITY;
    }
    for (const kind of ['softmax', 'log'] as const) {
      const name = kind === 'log' ? 'LogSoftmax' : 'Softmax';
      // Legacy (opset < 13) axis 1 flattens the trailing dims into each row; opset 13 takes the last axis.
      const axis = r % 2 ? -1 : 1;
      const legacy = r % 2 === 0;
      const fast = softmaxKernel(name, kind, x, axis, legacy);
      const was = nativeGemmOn();
      setNativeGemm(false);
      let slow: Tensor;
      try {
        slow = softmaxKernel(name, kind, x, axis, legacy);
      } finally {
        setNativeGemm(was);
      }
      assert.deepEqual([...fast.shape], [...slow.shape]);
      const g = fast.dataSync() as Float32Array;
      const w = slow.dataSync() as Float32Array;
      for (let i = 0; i < w.length; i++) {
        if (Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i]))) continue;
        assert.ok(
          Math.abs(g[i]! - w[i]!) <= ulp(w[i]!),
          `${name} case ${r} (${shape}) element ${i}: native ${g[i]}, TypeScript ${w[i]}`,
        );
      }
    }
  }
});
