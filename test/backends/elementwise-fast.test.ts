/**
 * The float32/float64 elementwise and normalization fast paths against independent references:
 * the WASM SIMD Relu / LeakyRelu / Clip and the JS loops against mapUnary with the generic kernels'
 * own functions (sizes on both sides of the WASM threshold, odd lengths, offsets, NaN, -0, +-inf,
 * subnormals); the broadcast patterns a CNN uses against mapBinary; the variadic Sum / Mean / Max /
 * Min against a fold written here; BatchNormalization in float32 against its float64 result
 * rounded; com.tessera::ChannelAffine against Mul, Add and Relu dispatched one by one, and its
 * gradient against finite differences; com.tessera::AddRelu against Relu(Add). Outputs are also
 * checked when allocate() hands out recycled arrays full of garbage, so a kernel must write every
 * element.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mapBinary, mapUnary } from '../../src/backends/cpu/elementwise.js';
import {
  floatBinary,
  floatClip,
  floatLeakyRelu,
  floatUnary,
  floatVariadic,
} from '../../src/backends/cpu/fast-float.js';
import { hasWasmElementwise } from '../../src/backends/cpu/wasm/elementwise.js';
import { dispatch1 } from '../../src/ops/registry.js';
import '../../src/index.js';
import { type ArrayCtor, setArrayPool, type TypedArray } from '../../src/runtime/dtype.js';
import { gradcheck } from '../../src/runtime/gradcheck.js';
import { Generator } from '../../src/runtime/random.js';
import { Tensor } from '../../src/runtime/tensor.js';

const gen = new Generator(2024);
const randInt = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));

const SPECIALS = [
  Number.NaN,
  -0,
  0,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  1e-40,
  -1e-40,
  3e38,
  -3e38,
];

/** Random values in [-2, 2), with about 10% special values when `specials`. */
function rand(shape: number[], dtype: 'float32' | 'float64', specials = false): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const r = gen.uniform();
    data[i] = specials && r < 0.1 ? SPECIALS[Math.floor(r * 90)]! : gen.uniform() * 4 - 2;
  }
  return Tensor.fromData(data, shape, dtype);
}

/** Bitwise equality (NaN equal to NaN, -0 unequal to +0), shapes and dtypes. */
function assertSame(got: Tensor, want: Tensor, what: string): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  assert.equal(got.dtype, want.dtype, `${what}: dtype`);
  const g = got.numbers();
  const w = want.numbers();
  assert.equal(g.length, w.length, `${what}: length`);
  for (let i = 0; i < w.length; i++) {
    if (Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i]))) continue;
    assert.fail(`${what}: element ${i}: got ${g[i]}, expected ${w[i]}`);
  }
}

/** Runs `f` with allocate() drawing arrays pre-filled with garbage (a pool of recycled arrays). */
function withDirtyPool<T>(f: () => T): T {
  const prev = setArrayPool({
    take(ctor: ArrayCtor, n: number): TypedArray | undefined {
      const a = new ctor(n) as TypedArray;
      if (a instanceof BigInt64Array || a instanceof BigUint64Array) return undefined;
      (a as Float64Array).fill(a instanceof Uint8Array ? 7 : 12345.5);
      return a;
    },
  });
  try {
    return f();
  } finally {
    setArrayPool(prev);
  }
}

/** A contiguous view starting `off` elements into a larger array (a non-zero storage offset). */
function offsetView(t: Tensor, off: number): Tensor {
  const n = t.numel();
  const src = t.dataSync() as Float32Array | Float64Array;
  const big = new (src.constructor as Float64ArrayConstructor)(n + off + 3).fill(99);
  big.set(src, off);
  const base = Tensor.fromData(big, [n + off + 3], t.dtype);
  const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((p, s) => p * s, 1));
  return base.asStrided([...t.shape], strides, off);
}

// Sizes straddling the WASM threshold (256) with odd tails.
const SIZES = [[1], [3], [5, 7], [255], [257], [3, 5, 17], [2, 3, 37, 41]];

test('Relu, LeakyRelu and Clip fast paths equal mapUnary with the generic functions', () => {
  const fns: [string, (x: Tensor) => Tensor | null, (v: number) => number][] = [
    ['Relu', (x) => floatUnary('Relu', x), (v) => Math.max(0, v)],
    ['LeakyRelu f32 alpha', (x) => floatLeakyRelu(x, 0.125), (v) => (v < 0 ? 0.125 * v : v)],
    // 0.01 is no float32 value: the JS loop (double product) serves float32 too.
    ['LeakyRelu 0.01', (x) => floatLeakyRelu(x, 0.01), (v) => (v < 0 ? 0.01 * v : v)],
    ['Clip', (x) => floatClip(x, -0.7, 1.3), (v) => Math.min(Math.max(v, -0.7), 1.3)],
    ['Clip -0/+0', (x) => floatClip(x, -0, 0), (v) => Math.min(Math.max(v, -0), 0)],
    ['Clip lo > hi', (x) => floatClip(x, 1, -1), (v) => Math.min(Math.max(v, 1), -1)],
    [
      'Clip no bounds',
      (x) => floatClip(x, Number.NEGATIVE_INFINITY, Number.POSITIVE_INFINITY),
      (v) => Math.min(Math.max(v, Number.NEGATIVE_INFINITY), Number.POSITIVE_INFINITY),
    ],
    ['Clip 1e39', (x) => floatClip(x, -1e39, 1e39), (v) => Math.min(Math.max(v, -1e39), 1e39)],
  ];
  for (const shape of SIZES) {
    for (const dtype of ['float32', 'float64'] as const) {
      const x = rand(shape, dtype, true);
      for (const view of [x, offsetView(x, randInt(1, 5))]) {
        for (const [name, fast, f] of fns) {
          const want = mapUnary(view, f);
          assertSame(fast(view)!, want, `${name} ${dtype} [${shape}] offset ${view.offset}`);
          assertSame(
            withDirtyPool(() => fast(view)!),
            want,
            `${name} ${dtype} [${shape}] dirty pool`,
          );
        }
      }
    }
  }
});

test('Relu by hand: -0 gives +0, NaN stays, subnormals pass, on both sides of the WASM threshold', () => {
  for (const n of [4, 1000]) {
    const vals = Float32Array.from({ length: n }, (_, i) => [-0, Number.NaN, -3, 2.5, 1e-40, -1e-40][i % 6]!);
    const r = floatUnary('Relu', Tensor.fromData(vals, [n], 'float32'))!.dataSync() as Float32Array;
    for (let i = 0; i < n; i++) {
      const want = [0, Number.NaN, 0, 2.5, Math.fround(1e-40), 0][i % 6]!;
      assert.ok(Object.is(r[i], want), `n=${n} element ${i}: got ${r[i]}, expected ${want}`);
    }
  }
  assert.equal(typeof hasWasmElementwise, 'boolean');
});

test('floatBinary equals mapBinary on the broadcast patterns of a CNN, with recycled output arrays', () => {
  const OPS: [string, (x: number, y: number) => number][] = [
    ['Add', (x, y) => x + y],
    ['Sub', (x, y) => x - y],
    ['Mul', (x, y) => x * y],
    ['Div', (x, y) => x / y],
  ];
  for (let r = 0; r < 6; r++) {
    const [N, C, H, W] = [randInt(1, 3), randInt(1, 9), randInt(1, 13), randInt(1, 17)];
    const x = [N, C, H, W];
    const patterns: [string, number[], number[]][] = [
      ['same', x, x],
      ['per-channel [C,1,1]', x, [C, 1, 1]],
      ['per-channel [1,C,1,1]', x, [1, C, 1, 1]],
      ['per-channel first', [C, 1, 1], x],
      ['scalar', x, []],
      ['scalar first', [1], x],
      ['row [W]', x, [W]],
      ['column [H,1]', x, [H, 1]],
      ['outer [N,1,1,1]', x, [N, 1, 1, 1]],
      ['both broadcast', [N, 1, H, 1], [1, C, 1, W]],
      ['empty', [N, 0, H, W], [1, 1, W]],
    ];
    for (const dtype of ['float32', 'float64'] as const) {
      for (const [what, sa, sb] of patterns) {
        const a = rand(sa, dtype, true);
        const b = rand(sb, dtype, true);
        for (const [op, f] of OPS) {
          const want = mapBinary(a, b, f);
          assertSame(floatBinary(op, a, b)!, want, `${op} ${what} ${dtype}`);
          assertSame(
            withDirtyPool(() => floatBinary(op, a, b)!),
            want,
            `${op} ${what} ${dtype} dirty pool`,
          );
        }
      }
    }
  }
});

/** The variadic ops' reference: a left-to-right fold in doubles, rounded once (NumPy's maximum/minimum for NaN). */
function foldRef(op: 'Sum' | 'Mean' | 'Max' | 'Min', xs: Tensor[]): Tensor {
  const vals = xs.map((t) => t.numbers());
  const n = vals[0]!.length;
  const out = xs[0]!.dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let acc = vals[0]![i]!;
    for (let j = 1; j < xs.length; j++) {
      const v = vals[j]![i]!;
      if (op === 'Max') acc = acc > v || Number.isNaN(acc) ? acc : v;
      else if (op === 'Min') acc = acc < v || Number.isNaN(acc) ? acc : v;
      else acc += v;
    }
    out[i] = op === 'Mean' ? acc / xs.length : acc;
  }
  return Tensor.fromData(out, [...xs[0]!.shape], xs[0]!.dtype);
}

test('Sum, Mean, Max and Min of 2 to 5 same-shape inputs equal a double fold rounded once', () => {
  for (const shape of [[1], [7], [3, 5, 11], [2, 3, 1000], [0, 4]]) {
    for (const dtype of ['float32', 'float64'] as const) {
      for (let k = 2; k <= 5; k++) {
        const xs = Array.from({ length: k }, () => rand(shape, dtype, true));
        // Ties of +0 and -0: Max and Min take the later operand, as the generic fold.
        if (xs[0]!.numel() > 1) {
          (xs[0]!.dataSync() as Float32Array)[0] = 0;
          (xs[1]!.dataSync() as Float32Array)[0] = -0;
        }
        const views = xs.map((t, j) => (j % 2 ? offsetView(t, j) : t));
        for (const op of ['Sum', 'Mean', 'Max', 'Min'] as const) {
          const want = foldRef(op, views);
          assertSame(floatVariadic(op, views)!, want, `${op} k=${k} ${dtype} [${shape}]`);
          // The registered op (Sum of two goes through Add) gives the same.
          assertSame(dispatch1(op, views), want, `${op} op k=${k} ${dtype} [${shape}]`);
        }
      }
    }
  }
  // Mixed shapes and dtypes are the generic kernel's.
  assert.equal(floatVariadic('Sum', [rand([2, 3], 'float32'), rand([3], 'float32')]), null);
  assert.equal(floatVariadic('Max', [rand([3], 'float32'), rand([3], 'float64')]), null);
});

test('BatchNormalization in float32 is its float64 result rounded once, odd shapes and ranks', () => {
  for (const shape of [
    [1, 3],
    [2, 5, 7],
    [3, 4, 5, 9],
    [1, 64, 3, 3],
    [2, 3, 2, 3, 5],
  ]) {
    const C = shape[1]!;
    const x = rand(shape, 'float32');
    const ps = [rand([C], 'float32'), rand([C], 'float32'), rand([C], 'float32'), rand([C], 'float32').abs()];
    const f64 = (t: Tensor) => dispatch1('Cast', [t], { to: 11 });
    const y32 = withDirtyPool(() => dispatch1('BatchNormalization', [x, ...ps], { epsilon: 1e-3 }));
    const y64 = dispatch1('BatchNormalization', [f64(x), ...ps.map(f64)], { epsilon: 1e-3 });
    assertSame(y32, dispatch1('Cast', [y64], { to: 1 }), `[${shape}]`);
    // Hand-derived on element 0: (x - mean) / sqrt(var + eps) * scale + B.
    const [s, b, m, v] = ps.map((p) => p.numbers()[0]!);
    const x0 = x.numbers()[0]!;
    assert.ok(Math.abs(y64.numbers()[0]! - ((x0 - m!) / Math.sqrt(v! + 1e-3)) * s! - b!) < 1e-12);
  }
});

test('ChannelAffine equals Mul, Add and Relu one by one (float32 exactly, float64 exactly), any axis', () => {
  for (const [shape, axis] of [
    [[2, 3, 5, 7], 1],
    [[1, 64, 9, 11], 1],
    [[4, 6], 1],
    [[3, 5, 17], 1],
    [[2, 3, 4, 5], 2],
    [[2, 3, 4, 5], 3],
    [[5, 2, 31], 0],
    [[1, 0, 4, 4], 1],
  ] as [number[], number][]) {
    for (const dtype of ['float32', 'float64'] as const) {
      const C = shape[axis]!;
      const x = rand(shape, dtype, true);
      for (const [sLen, tLen] of [
        [C, C],
        [1, C],
        [C, 1],
      ]) {
        const scale = rand([sLen], dtype);
        const shift = rand([tLen], dtype);
        const view = (p: Tensor) =>
          Tensor.fromData(
            p.dataSync(),
            shape.map((_, d) => (d === axis ? p.shape[0]! : 1)),
            dtype,
          );
        for (const relu of [false, true]) {
          const attrs = { axis, activation: relu ? 'Relu' : '' };
          const got = withDirtyPool(() =>
            dispatch1('ChannelAffine', [x, scale, shift], attrs, { domain: 'com.tessera' }),
          );
          let want = mapBinary(
            mapBinary(x, view(scale), (a, b) => a * b),
            view(shift),
            (a, b) => a + b,
          );
          if (relu) want = mapUnary(want, (v) => Math.max(0, v));
          assertSame(got, want, `[${shape}] axis ${axis} ${dtype} relu=${relu} scale ${sLen} shift ${tLen}`);
        }
      }
    }
  }
});

test('ChannelAffine gradients match finite differences, with and without Relu', () => {
  for (const relu of [false, true]) {
    const x = rand([2, 3, 4, 5], 'float64');
    const s = rand([3], 'float64');
    const t = rand([3], 'float64');
    for (const p of [x, s, t]) p.requiresGrad = true;
    const attrs = { axis: 1, activation: relu ? 'Relu' : '' };
    assert.ok(
      gradcheck(
        (a, b, c) => dispatch1('ChannelAffine', [a, b, c], attrs, { domain: 'com.tessera' }),
        [x, s, t],
      ),
    );
  }
});

test('ChannelAffine rejects parameters of the wrong length or dtype', () => {
  const x = rand([2, 3, 4], 'float32');
  const call = (s: Tensor, t: Tensor) =>
    dispatch1('ChannelAffine', [x, s, t], { axis: 1 }, { domain: 'com.tessera' });
  assert.throws(() => call(rand([4], 'float32'), rand([3], 'float32')), /scale must have shape \[3\]/);
  assert.throws(() => call(rand([3], 'float64'), rand([3], 'float32')), /scale must be float32/);
  assert.throws(
    () =>
      dispatch1(
        'ChannelAffine',
        [x, rand([3], 'float32'), rand([3], 'float32')],
        { activation: 'Tanh' },
        {
          domain: 'com.tessera',
        },
      ),
    /activation must be/,
  );
});

test('AddRelu equals Relu(Add) exactly: odd sizes, offsets, special values, broadcasting falls back', () => {
  const relu = (t: Tensor) => mapUnary(t, (v) => Math.max(0, v));
  for (const shape of SIZES) {
    for (const dtype of ['float32', 'float64'] as const) {
      const a = rand(shape, dtype, true);
      const b = rand(shape, dtype, true);
      const want = relu(mapBinary(a, b, (x, y) => x + y));
      for (const [va, vb] of [
        [a, b],
        [offsetView(a, 3), offsetView(b, 1)],
      ] as const) {
        const got = withDirtyPool(() => dispatch1('AddRelu', [va, vb], {}, { domain: 'com.tessera' }));
        assertSame(got, want, `AddRelu ${dtype} [${shape}] offsets ${va.offset},${vb.offset}`);
      }
    }
  }
  // A per-channel operand (broadcast) goes through Add and Relu.
  const x = rand([2, 3, 5, 7], 'float32', true);
  const c = rand([3, 1, 1], 'float32');
  assertSame(
    dispatch1('AddRelu', [x, c], {}, { domain: 'com.tessera' }),
    relu(mapBinary(x, c, (p, q) => p + q)),
    'AddRelu broadcast',
  );
  // Hand-derived: 1 + (-1) = 0, -0 + -0 = -0 -> +0, 2 + NaN = NaN, 1e38 * 4 overflows to inf.
  const h = dispatch1(
    'AddRelu',
    [
      Tensor.fromData(new Float32Array([1, -0, 2, 3e38, -5]), [5], 'float32'),
      Tensor.fromData(new Float32Array([-1, -0, Number.NaN, 3e38, 4]), [5], 'float32'),
    ],
    {},
    { domain: 'com.tessera' },
  ).dataSync() as Float32Array;
  assert.ok(Object.is(h[0], 0) && Object.is(h[1], 0) && Number.isNaN(h[2]!));
  assert.equal(h[3], Number.POSITIVE_INFINITY);
  assert.equal(h[4], 0);
});

test('AddRelu gradients match finite differences, broadcast operand included', () => {
  const a = rand([2, 3, 4], 'float64');
  const b = rand([3, 1], 'float64');
  for (const p of [a, b]) p.requiresGrad = true;
  assert.ok(gradcheck((x, y) => dispatch1('AddRelu', [x, y], {}, { domain: 'com.tessera' }), [a, b]));
});
