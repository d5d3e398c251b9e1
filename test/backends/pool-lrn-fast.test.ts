/**
 * The float32 2-D pooling and LRN fast paths (src/backends/cpu/pool2d.ts with the WASM kernels in
 * wasm/assembly/pool.ts, and src/backends/cpu/lrn.ts) against the plain TypeScript reference
 * kernels: the tap-list MaxPool/AveragePool (src/ops/nn/pool-taps.ts) and the direct LRN loop.
 * Random shapes with odd sizes, every attribute combination (pads, strides, dilations, ceil_mode,
 * count_include_pad, auto_pad), NaN and -inf in max windows, windows wholly in the padding; and
 * whole CNNs that pool and normalize this way against onnxruntime-node on random inputs.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import * as ort from 'onnxruntime-node';
import { lrnForward, lrnWasm } from '../../src/backends/cpu/lrn.js';
import { avgPool2d, maxPool2d, pool2dOf } from '../../src/backends/cpu/pool2d.js';
import { getNumThreads, setNumThreads } from '../../src/backends/cpu/threads/config.js';
import { native, setNativeGemm, wasm } from '../../src/backends/cpu/wasm/runtime.js';
import { exportModule } from '../../src/importers/onnx/export.js';
import { lrnReference } from '../../src/ops/nn/lp-norm-mvn-lrn.js';
import { maxPoolTaps } from '../../src/ops/nn/max-pool.js';
import { type Attrs, dispatch, dispatch1 } from '../../src/ops/registry.js';
import '../../src/ops/index.js';
import { avgPoolForward, windowTaps } from '../../src/ops/nn/pool-taps.js';
import { resolveWindow } from '../../src/ops/nn/window.js';
import { Generator } from '../../src/runtime/random.js';
import { InferenceSession } from '../../src/runtime/session.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { sharedDir } from '../conformance/harness.js';
import { poolRef } from '../ops/nn/reference.js';

const gen = new Generator(2024);
const randInt = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));

function rand(shape: number[], specials = false, scale = 1): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const r = gen.uniform();
    data[i] =
      specials && r < 0.05
        ? Number.NaN
        : specials && r < 0.1
          ? Number.NEGATIVE_INFINITY
          : (r * 4 - 2) * scale;
  }
  return Tensor.fromData(data, shape, 'float32');
}

/** A random 2-D pooling case: input shape and attributes, valid for resolveWindow. */
function randomCase() {
  for (;;) {
    const kH = randInt(1, 4);
    const kW = randInt(1, 4);
    const dH = gen.uniform() < 0.3 ? randInt(2, 3) : 1;
    const dW = gen.uniform() < 0.3 ? randInt(2, 3) : 1;
    const sH = randInt(1, 3);
    const sW = randInt(1, 3);
    const pads = [randInt(0, kH), randInt(0, kW), randInt(0, kH), randInt(0, kW)];
    const H = randInt(1, 19);
    const W = randInt(1, 23);
    const shape = [randInt(1, 2), randInt(1, 5), H, W];
    const ceil = gen.uniform() < 0.4;
    const r = gen.uniform();
    const auto_pad = r < 0.1 ? 'SAME_UPPER' : r < 0.2 ? 'SAME_LOWER' : r < 0.3 ? 'VALID' : 'NOTSET';
    const attrs = { strides: [sH, sW], dilations: [dH, dW], pads, auto_pad };
    try {
      const win = resolveWindow('Pool', [H, W], [kH, kW], attrs, ceil);
      return { shape, win, attrs, ceil };
    } catch {
      // the kernel does not fit the padded input: draw again
    }
  }
}

function assertSame(got: Tensor, want: Tensor, what: string): void {
  assert.deepEqual([...got.shape], [...want.shape], `${what}: shape`);
  const g = got.dataSync() as Float32Array;
  const w = want.dataSync() as Float32Array;
  for (let i = 0; i < w.length; i++) {
    if (Object.is(g[i], w[i]) || (Number.isNaN(g[i]) && Number.isNaN(w[i]))) continue;
    assert.fail(`${what}: element ${i}: got ${g[i]}, expected ${w[i]}`);
  }
}

/**
 * |got - want| within rtol relative plus `slack[i]` absolute (a float32 sum's rounding bound: the
 * reference sums in float64, the fast path in float32 and in another order).
 */
function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  rtol: number,
  what: string,
  slack?: ArrayLike<number>,
): void {
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i]!;
    const w = want[i]!;
    if ((Number.isNaN(w) && Number.isNaN(g)) || g === w) continue;
    if (Math.abs(g - w) <= rtol * Math.abs(w) + (slack?.[i] ?? 0)) continue;
    assert.fail(`${what}: element ${i}: got ${g}, expected ${w}`);
  }
}

test('the WASM kernels are loaded (the fast paths below are what runs)', () => {
  assert.ok(wasm, 'WASM build missing: run npm run build:wasm');
});

test('MaxPool fast path equals the tap-list kernel on random windows, NaN and -inf included', () => {
  for (let r = 0; r < 400; r++) {
    const { shape, win, attrs } = randomCase();
    const x = rand(shape, r % 2 === 0);
    const fast = maxPool2d(x, pool2dOf(win), false);
    assert.ok(fast && fast.length === 1, 'fast path taken');
    const [want] = maxPoolTaps(x, windowTaps(win), win.outSize);
    assertSame(fast[0]!, want!, `case ${r} ${JSON.stringify({ shape, attrs, win })}`);
  }
});

test('MaxPool over large planes (split across threads) equals the tap-list kernel, windows of only NaN and -inf included', () => {
  const saved = getNumThreads();
  setNumThreads(2);
  try {
    // 3x3 at stride 2 without pads reads the planes in place (squeezenet's 55x55 included); the last
    // two: 2x2 pools of a small CNN's maps, output rows of 14 and 7 (shorter than a vector).
    for (const [k, s, d, pad, H, W] of [
      [3, 2, 1, 1, 45, 51],
      [3, 2, 1, 0, 45, 51],
      [3, 2, 1, 0, 55, 55],
      [2, 2, 1, 0, 45, 51],
      [3, 1, 2, 2, 45, 51],
      [5, 3, 1, 2, 45, 51],
      [2, 2, 1, 0, 28, 28],
      [2, 2, 1, 0, 14, 14],
    ] as const) {
      const shape = [2, 24, H, W];
      const n = shape.reduce((p, q) => p * q, 1);
      const data = new Float32Array(n);
      // Runs of NaN and -inf long enough to fill whole windows, between random values.
      for (let i = 0; i < n; i++) {
        const r = (i >> 4) % 7;
        data[i] = r === 0 ? Number.NaN : r === 1 ? Number.NEGATIVE_INFINITY : gen.uniform() * 4 - 2;
      }
      const x = Tensor.fromData(data, shape, 'float32');
      const attrs = { strides: [s, s], dilations: [d, d], pads: [pad, pad, pad, pad] };
      const win = resolveWindow('Pool', [H, W], [k, k], attrs, false);
      const fast = maxPool2d(x, pool2dOf(win), false);
      assert.ok(fast, 'fast path taken');
      const [want] = maxPoolTaps(x, windowTaps(win), win.outSize);
      assertSame(fast[0]!, want!, `${k}x${k} stride ${s} dilation ${d} pad ${pad} on ${H}x${W}`);
    }
  } finally {
    setNumThreads(saved);
  }
});

test('MaxPool with Indices equals the tap-list kernel: values and first-maximum indices, ties included', () => {
  for (let r = 0; r < 300; r++) {
    const { shape, win, attrs } = randomCase();
    const x = rand(shape, r % 2 === 0);
    // Few distinct values, so windows hold ties: the index must be the first maximum in row-major order.
    if (r % 3 !== 2) {
      const xs = x.dataSync() as Float32Array;
      for (let i = 0; i < xs.length; i++) if (Number.isFinite(xs[i]!)) xs[i] = Math.round(xs[i]!);
    }
    const fast = maxPool2d(x, pool2dOf(win), true);
    assert.ok(fast && fast.length === 2, 'fast path taken');
    const [want, wantInd] = maxPoolTaps(x, windowTaps(win), win.outSize);
    const what = `case ${r} ${JSON.stringify({ shape, attrs, win })}`;
    assertSame(fast[0]!, want!, what);
    assert.equal(fast[1]!.dtype, 'int64');
    assert.deepEqual(
      [...(fast[1]!.dataSync() as BigInt64Array)],
      [...(wantInd!.dataSync() as BigInt64Array)],
      what,
    );
  }
});

test('AveragePool fast path equals the tap-list kernel, count_include_pad both ways', () => {
  for (let r = 0; r < 400; r++) {
    const { shape, win, attrs } = randomCase();
    const x = rand(shape);
    const taps = windowTaps(win);
    for (const includePad of [false, true]) {
      const fast = avgPool2d(x, pool2dOf(win), includePad);
      assert.ok(fast, 'fast path taken');
      const div = includePad
        ? taps.padCounts
        : Float64Array.from({ length: taps.L }, (_, l) => taps.starts[l + 1]! - taps.starts[l]!);
      const xs = x.dataSync() as Float32Array;
      const nPlanes = shape[0]! * shape[1]!;
      const want = avgPoolForward(xs, nPlanes, taps, div);
      // Rounding bound of a float32 sum of at most 16 taps: 16 ulp of the mean magnitude.
      const slack = avgPoolForward(xs.map(Math.abs), nPlanes, taps, div).map((m) => 16 * 2 ** -24 * m);
      assert.deepEqual([...fast.shape], [shape[0], shape[1], ...win.outSize]);
      assertClose(
        fast.dataSync() as Float32Array,
        Float32Array.from(want),
        1e-6,
        `case ${r} pad=${includePad} ${JSON.stringify({ shape, attrs })}`,
        slack,
      );
    }
  }
});

/** A random LRN case: shape of rank 3 to 5 with odd sizes, and its attributes. */
function lrnCase(beta: number, bias: number) {
  const rank = randInt(3, 5);
  const shape = [randInt(1, 3), randInt(1, 21), ...Array.from({ length: rank - 2 }, () => randInt(1, 9))];
  const size = randInt(1, 8);
  const alpha = [1e-4, 0.01, 0.5, 3][randInt(0, 3)]!;
  return { shape, attrs: { size, alpha, beta, bias } };
}

function lrnParams(shape: number[], attrs: { size: number; alpha: number; beta: number; bias: number }) {
  const S = shape.slice(2).reduce((a, b) => a * b, 1);
  return { N: shape[0]!, C: shape[1]!, S, ...attrs };
}

test('LRN in WASM equals the reference loop within 1e-6 relative (beta 0.75, 0.5, 1)', () => {
  for (let r = 0; r < 120; r++) {
    const { shape, attrs } = lrnCase([0.75, 0.5, 1][r % 3]!, [1, 2, 0.25][randInt(0, 2)]!);
    // Scaled up so the channel sums matter next to the bias.
    const x = rand(shape, false, randInt(1, 20));
    const got = lrnWasm(x.dataSync() as Float32Array, lrnParams(shape, attrs));
    assert.ok(got, 'WASM path taken');
    const want = lrnReference(x, attrs);
    assertClose(got, want.dataSync() as Float32Array, 1e-6, `case ${r} ${JSON.stringify({ shape, attrs })}`);
  }
});

test('LRN in TypeScript equals the reference loop within 1e-6 relative, any beta, float32 and float64', () => {
  for (let r = 0; r < 120; r++) {
    const beta = [0.75, 0.5, 1, 0.6, 1.3][r % 5]!;
    // bias 0 sums each window directly: windows of zeros give 0 / 0 = NaN as the reference.
    const { shape, attrs } = lrnCase(beta, [1, 2, 0.25, 0][randInt(0, 3)]!);
    const x32 = rand(shape, false, randInt(1, 20));
    const xs = x32.dataSync() as Float32Array;
    if (r % 4 === 0) xs.fill(0, 0, Math.min(xs.length, randInt(1, 2 * (shape[2] ?? 1))));
    for (const x of [x32, Tensor.fromData(Float64Array.from(xs), shape, 'float64')]) {
      const src = x.dataSync() as Float32Array | Float64Array;
      const out = x.dtype === 'float32' ? new Float32Array(src.length) : new Float64Array(src.length);
      lrnForward(src, out, lrnParams(shape, attrs));
      const want = lrnReference(x, attrs).dataSync() as Float32Array | Float64Array;
      assertClose(
        out,
        want,
        x.dtype === 'float32' ? 1e-6 : 1e-12,
        `case ${r} ${x.dtype} ${JSON.stringify({ shape, attrs })}`,
      );
    }
  }
});

/** Max of a window's taps: NaN skipped, the first tap when nothing beats -inf, -inf when empty. */
function maxRule(vals: number[]): number {
  let best = Number.NEGATIVE_INFINITY;
  for (const v of vals) if (v > best) best = v;
  return best === Number.NEGATIVE_INFINITY && vals.length > 0 ? vals[0]! : best;
}

test('MaxPool and AveragePool through dispatch (float32) equal the window-by-window reference', () => {
  for (let r = 0; r < 150; r++) {
    const kH = randInt(1, 4);
    const kW = randInt(1, 4);
    const dilations = [gen.uniform() < 0.3 ? 2 : 1, gen.uniform() < 0.3 ? 3 : 1];
    const strides = [randInt(1, 3), randInt(1, 3)];
    const pads = [randInt(0, kH - 1), randInt(0, kW - 1), randInt(0, kH - 1), randInt(0, kW - 1)];
    const ceil = r % 2 === 1;
    const shape = [
      randInt(1, 2),
      randInt(1, 4),
      randInt(kH * dilations[0]!, 17),
      randInt(kW * dilations[1]!, 21),
    ];
    const x = rand(shape, r % 3 === 0);
    const xs = x.dataSync() as Float32Array;
    const base = { kernel_shape: [kH, kW], strides, pads, dilations, ceil_mode: ceil ? 1 : 0 };
    const spec = { strides, pads, dilations, ceil };
    const what = `case ${r} ${JSON.stringify({ shape, ...base })}`;

    const [y] = dispatch('MaxPool', [x], base, { numOutputs: 1 });
    const want = poolRef(xs, shape, [kH, kW], spec, maxRule);
    assert.deepEqual([...y!.shape], want.shape, what);
    assertSame(y!, Tensor.fromData(Float32Array.from(want.y), want.shape, 'float32'), `MaxPool ${what}`);
    // storage_order only changes Indices, so the values-only fast path serves it too.
    const [y1] = dispatch('MaxPool', [x], { ...base, storage_order: 1 }, { numOutputs: 1 });
    assertSame(y1!, y!, `MaxPool storage_order 1 ${what}`);

    if (r % 3 === 0) continue; // NaN / -inf inputs are for max only
    for (const includePad of [0, 1]) {
      const [a] = dispatch('AveragePool', [x], { ...base, count_include_pad: includePad });
      const ref = poolRef(
        xs,
        shape,
        [kH, kW],
        spec,
        (v, pc) => v.reduce((p, q) => p + q, 0) / (includePad ? pc : v.length),
      );
      const mag = poolRef(
        xs,
        shape,
        [kH, kW],
        spec,
        (v, pc) => v.reduce((p, q) => p + Math.abs(q), 0) / (includePad ? pc : v.length),
      );
      assert.deepEqual([...a!.shape], ref.shape, what);
      assertClose(
        a!.dataSync() as Float32Array,
        Float32Array.from(ref.y),
        1e-6,
        `AveragePool count_include_pad=${includePad} ${what}`,
        mag.y.map((m) => 16 * 2 ** -24 * m),
      );
    }
  }
});

test('GlobalAveragePool and GlobalMaxPool (float32, ranks 3 to 5) equal plane-by-plane loops', () => {
  for (let r = 0; r < 60; r++) {
    const rank = randInt(3, 5);
    const shape = [randInt(1, 3), randInt(1, 6), ...Array.from({ length: rank - 2 }, () => randInt(1, 11))];
    const x = rand(shape, r % 2 === 0);
    const xs = x.dataSync() as Float32Array;
    const planes = shape[0]! * shape[1]!;
    const P = xs.length / planes;
    const [gm] = dispatch('GlobalMaxPool', [x]);
    const [ga] = dispatch('GlobalAveragePool', [x]);
    const outShape = [shape[0], shape[1], ...shape.slice(2).map(() => 1)];
    assert.deepEqual([...gm!.shape], outShape);
    assert.deepEqual([...ga!.shape], outShape);
    const wantMax = new Float32Array(planes);
    const wantMean = new Float32Array(planes);
    for (let q = 0; q < planes; q++) {
      const plane = [...xs.subarray(q * P, (q + 1) * P)];
      wantMax[q] = maxRule(plane);
      wantMean[q] = plane.reduce((a, b) => a + b, 0) / P;
    }
    assertSame(gm!, Tensor.fromData(wantMax, gm!.shape, 'float32'), `GlobalMaxPool case ${r}`);
    assertClose(ga!.dataSync() as Float32Array, wantMean, 1e-6, `GlobalAveragePool case ${r}`);
    if (native) {
      // The native loops (in place) and the WASM ones (on a copy) sum in one order: the same bits.
      setNativeGemm(false);
      try {
        assertSame(dispatch('GlobalMaxPool', [x])[0]!, gm!, `GlobalMaxPool case ${r}, WASM`);
        assertSame(dispatch('GlobalAveragePool', [x])[0]!, ga!, `GlobalAveragePool case ${r}, WASM`);
      } finally {
        setNativeGemm(true);
      }
    }
  }
});

test('global pools by hand: mean and max of a 2x2 plane, NaN and -inf planes', () => {
  const x = Tensor.fromData(
    Float32Array.of(
      1,
      2,
      3,
      4,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NaN,
      Number.NEGATIVE_INFINITY,
      Number.NaN,
      5,
      Number.NaN,
    ),
    [1, 3, 2, 2],
    'float32',
  );
  const [gm] = dispatch('GlobalMaxPool', [x]);
  const [ga] = dispatch('GlobalAveragePool', [x]);
  // Plane 0: max 4, mean 2.5. Plane 1: only NaN -> NaN. Plane 2: NaN skipped -> 5.
  assert.deepEqual([...gm!.dataSync()], [4, Number.NaN, 5]);
  assert.deepEqual([...ga!.dataSync()].slice(0, 1), [2.5]);
  const y = Tensor.fromData(
    Float32Array.of(Number.NEGATIVE_INFINITY, Number.NaN, Number.NaN, Number.NEGATIVE_INFINITY),
    [1, 2, 2],
    'float32',
  );
  // Nothing beats -inf: the first element, -inf in the first plane and NaN in the second.
  assert.deepEqual(
    [...dispatch('GlobalMaxPool', [y])[0]!.dataSync()],
    [Number.NEGATIVE_INFINITY, Number.NaN],
  );
});

test('LRN by hand: size 3 over channels [1, 2, 3], alpha / size = 1, bias 1', () => {
  // Channel windows: {0,1} -> 1 + 4 = 5, {0,1,2} -> 14, {1,2} -> 13; base = 1 + sum.
  const x = Tensor.fromData(Float32Array.of(1, 2, 3), [1, 3, 1], 'float32');
  const attrs = { size: 3, alpha: 3, bias: 1 };
  const cases: [number, number[]][] = [
    [1, [1 / 6, 2 / 15, 3 / 14]],
    [0.5, [1 / Math.sqrt(6), 2 / Math.sqrt(15), 3 / Math.sqrt(14)]],
    [0.75, [6 ** -0.75, 2 * 15 ** -0.75, 3 * 14 ** -0.75]],
    [2, [1 / 36, 2 / 225, 3 / 196]],
  ];
  for (const [beta, want] of cases) {
    const [y] = dispatch('LRN', [x], { ...attrs, beta });
    assertClose(y!.dataSync() as Float32Array, want, 1e-6, `beta ${beta}`);
  }
});

test('LRN through dispatch equals the reference loop, float32 and float64', () => {
  for (let r = 0; r < 40; r++) {
    const { shape, attrs } = lrnCase([0.75, 0.5, 1, 0.6][r % 4]!, [1, 2][r % 2]!);
    const x32 = rand(shape, false, randInt(1, 20));
    const x64 = Tensor.fromData(Float64Array.from(x32.dataSync() as Float32Array), shape, 'float64');
    for (const x of [x32, x64]) {
      const [y] = dispatch('LRN', [x], attrs);
      assert.equal(y!.dtype, x.dtype);
      const want = lrnReference(x, attrs).dataSync() as Float32Array | Float64Array;
      assertClose(
        y!.dataSync() as Float32Array | Float64Array,
        want,
        x.dtype === 'float32' ? 1e-6 : 1e-12,
        `case ${r} ${x.dtype}`,
      );
    }
  }
});

// inception_v1: LRN, MaxPool with and without pads, AveragePool with end pads, GlobalAveragePool;
// squeezenet: MaxPool, GlobalAveragePool; densenet121: AveragePool 2x2, MaxPool with pads;
// shufflenet: AveragePool 3x3 stride 2 with pads. Float initializers are constants in these "light"
// copies, so channels within a layer agree and LRN's sums stay small next to its bias: this checks
// the ops in place (shapes, attributes as models set them); the test after it checks LRN's values.
const MODELS = ['inception_v1', 'squeezenet', 'densenet121', 'shufflenet'];

test(`whole CNNs agree with onnxruntime-node on random inputs (${MODELS.join(', ')})`, {
  timeout: 600_000,
}, async () => {
  for (const name of MODELS) {
    const bytes = new Uint8Array(
      readFileSync(join(sharedDir(), 'onnx-tests', 'light', `light_${name}.onnx`)),
    );
    const ours = await InferenceSession.create(bytes);
    const theirs = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const feeds: Record<string, Tensor> = {};
    for (const m of ours.inputMetadata) {
      assert.ok(m.isTensor, `${name}: input ${m.name} is a tensor`);
      const dims = m.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
      feeds[m.name] = rand(dims, false, 50);
    }
    const got = await ours.run(feeds);
    const want = await theirs.run(
      Object.fromEntries(
        Object.entries(feeds).map(([k, t]) => [
          k,
          new ort.Tensor('float32', t.dataSync() as Float32Array, [...t.shape]),
        ]),
      ),
    );
    for (const out of theirs.outputNames) {
      const w = want[out]!.data as Float32Array;
      const g = got[out]!.dataSync() as Float32Array;
      assert.deepEqual([...got[out]!.shape], [...want[out]!.dims], `${name} ${out}: shape`);
      const scale = w.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      // float32 accumulation through a deep network: relative to the output's magnitude.
      assertClose(g, w, 1e-3, `${name} ${out}`, new Float32Array(w.length).fill(1e-4 * scale));
    }
    await theirs.release();
  }
});

// Single ops with strong settings (large alpha, pads, ceil_mode, dilations, count_include_pad),
// traced to ONNX and run by onnxruntime-node: an independent implementation of each fast path.
const ORT_CASES: [string, number[], Attrs][] = [
  ['LRN', [2, 13, 9, 11], { size: 5, alpha: 0.1, beta: 0.75, bias: 2 }],
  ['LRN', [1, 7, 5, 3], { size: 5, alpha: 0.5, beta: 0.5, bias: 1 }], // ORT takes odd sizes only
  ['LRN', [1, 9, 13, 1], { size: 3, alpha: 1, beta: 1, bias: 1.5 }], // and 4-D inputs
  ['LRN', [1, 6, 4, 5], { size: 3, alpha: 0.3, beta: 0.6, bias: 1 }],
  ['MaxPool', [2, 3, 17, 15], { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 }],
  [
    'MaxPool',
    [1, 4, 13, 19],
    { kernel_shape: [2, 3], strides: [1, 2], dilations: [2, 2], pads: [0, 1, 1, 0] },
  ],
  ['MaxPool', [1, 5, 11, 11], { kernel_shape: [3, 3], auto_pad: 'SAME_UPPER' }],
  [
    'AveragePool',
    [2, 3, 17, 15],
    { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceil_mode: 1 },
  ],
  [
    'AveragePool',
    [1, 4, 13, 19],
    { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 2, 1], count_include_pad: 1, ceil_mode: 1 },
  ],
  ['AveragePool', [1, 5, 12, 9], { kernel_shape: [2, 2], strides: [2, 2] }],
  // A window over the whole plane (resnet50's head) takes the global-pool path.
  ['AveragePool', [2, 9, 7, 7], { kernel_shape: [7, 7] }],
  ['AveragePool', [1, 5, 6, 9], { kernel_shape: [6, 9], strides: [2, 3], count_include_pad: 1 }],
  ['GlobalAveragePool', [2, 7, 9, 11], {}],
  ['GlobalMaxPool', [2, 7, 9, 11], {}],
];

test('pooling and LRN fast paths agree with onnxruntime-node op by op', async () => {
  for (const [op, shape, attrs] of ORT_CASES) {
    const x = rand(shape, false, 3);
    const bytes = exportModule((t: Tensor) => dispatch1(op, [t], attrs), x);
    const session = await ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
    const want = await session.run({
      [session.inputNames[0]!]: new ort.Tensor('float32', x.dataSync() as Float32Array, [...x.shape]),
    });
    const w = want[session.outputNames[0]!]!;
    const got = dispatch1(op, [x], attrs);
    assert.deepEqual([...got.shape], [...w.dims], `${op} ${JSON.stringify(attrs)}: shape`);
    assertClose(
      got.dataSync() as Float32Array,
      w.data as Float32Array,
      2e-6,
      `${op} ${JSON.stringify(attrs)}`,
      new Float32Array(w.data.length).fill(1e-6),
    );
    await session.release();
  }
});

test('empty batches and channels give empty outputs of the right shape', () => {
  for (const shape of [
    [0, 3, 7, 5],
    [2, 0, 7, 5],
  ]) {
    const x = Tensor.fromData(new Float32Array(0), shape, 'float32');
    const pool = { kernel_shape: [3, 2], strides: [2, 1], pads: [1, 0, 1, 0] };
    const outPool = [shape[0], shape[1], 4, 4];
    assert.deepEqual([...dispatch('MaxPool', [x], pool, { numOutputs: 1 })[0]!.shape], outPool);
    const [y, ind] = dispatch('MaxPool', [x], pool, { numOutputs: 2 });
    assert.deepEqual([...y!.shape], outPool);
    assert.deepEqual([...ind!.shape], outPool);
    assert.deepEqual([...dispatch1('AveragePool', [x], { ...pool, count_include_pad: 1 }).shape], outPool);
    assert.deepEqual([...dispatch1('GlobalAveragePool', [x]).shape], [shape[0], shape[1], 1, 1]);
    assert.deepEqual([...dispatch1('GlobalMaxPool', [x]).shape], [shape[0], shape[1], 1, 1]);
    const lrn = dispatch1('LRN', [x], { size: 3 });
    assert.deepEqual([...lrn.shape], shape);
    assert.equal(lrn.numel(), 0);
  }
});
