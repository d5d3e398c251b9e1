/**
 * FusedGemm with a Relu on the CPU: the GEMM applies the Relu as it stores each tile (native GEMM,
 * in place), or over the WASM result, or in the TypeScript loop for float64. Every path must give
 * exactly what Gemm then Relu give, including -0 (to +0) and NaN (kept), with alpha, beta, a
 * broadcast or full C, and transposes; and products big enough to be split across threads.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setNumThreads } from '../../../src/backends/cpu/threads/config.js';
import { native, nativeGemmOn, setNativeGemm } from '../../../src/backends/cpu/wasm/runtime.js';
import { Generator, ops, randn } from '../../../src/index.js';
import '../../../src/runtime/passes/fused-ops.js';

const g = new Generator(5);

function check(
  dtype: 'float32' | 'float64',
  M: number,
  N: number,
  K: number,
  attrs: Record<string, number>,
  c: 'none' | 'row' | 'full',
) {
  const ta = attrs.transA === 1;
  const tb = attrs.transB === 1;
  const a = randn(ta ? [K, M] : [M, K], { generator: g, dtype });
  const b = randn(tb ? [N, K] : [K, N], { generator: g, dtype });
  // Special values in A: a NaN row and zero rows (products of exactly 0, whose sign the Relu fixes).
  const ad = a.numbers() as Float32Array | Float64Array;
  if (!ta && M > 2) {
    ad.fill(Number.NaN, 0, K);
    ad.fill(-0, K, 2 * K);
  }
  const cs = c === 'none' ? undefined : randn(c === 'row' ? [N] : [M, N], { generator: g, dtype });
  const inputs = cs ? [a, b, cs] : [a, b];
  const want = ops.dispatch1('Relu', [ops.dispatch1('Gemm', inputs, attrs)]);
  const got = ops.dispatch1(
    'FusedGemm',
    inputs,
    { ...attrs, activation: 'Relu', activation_params: [] },
    { domain: 'com.tessera' },
  );
  const w = want.numbers();
  const r = got.numbers();
  const what = `${dtype} ${M}x${N}x${K} ${JSON.stringify(attrs)} C=${c}`;
  assert.equal(r.length, w.length, what);
  for (let i = 0; i < w.length; i++) {
    if (Object.is(r[i], w[i])) continue;
    assert.fail(`${what}: element ${i}: ${r[i]} vs ${w[i]}`);
  }
}

test('FusedGemm + Relu equals Gemm then Relu bit for bit on every path', () => {
  const shapes: [number, number, number][] = [
    [1, 512, 784],
    [7, 10, 33],
    [64, 40, 300],
    [130, 70, 600], // split across threads
  ];
  const variants: [Record<string, number>, 'none' | 'row' | 'full'][] = [
    [{}, 'none'],
    [{ transB: 1 }, 'row'],
    [{ transA: 1, transB: 1 }, 'full'],
    [{ alpha: 0.5 }, 'row'], // the Relu cannot go into the product: applied after alpha and C
    [{ beta: 2 }, 'full'],
  ];
  const engines = native ? [true, false] : [false];
  const was = nativeGemmOn();
  try {
    for (const threads of [1, 2]) {
      setNumThreads(threads);
      for (const nat of engines) {
        setNativeGemm(nat);
        for (const [M, N, K] of shapes)
          for (const [attrs, c] of variants) check('float32', M, N, K, attrs, c);
      }
    }
    for (const [attrs, c] of variants) check('float64', 9, 13, 17, attrs, c);
  } finally {
    setNativeGemm(was);
    setNumThreads(2);
  }
});
