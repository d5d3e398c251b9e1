/**
 * The 3x3 depthwise WASM kernel's two-rows-at-a-time paths (unit strides with input rows shared by
 * both output rows; other strides and dilations with the general pair loop), their odd last row and
 * their partial stores at the end of each output row (widths 1..21, so every tail of 1..7 lanes),
 * against the TypeScript reference path (the float64 Conv: im2col + the TypeScript GEMM), with and
 * without bias and Relu, on one thread and split across two (a tail store must not reach the next
 * plane, which another job writes).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getNumThreads, setNumThreads } from '../../src/backends/cpu/threads/config.js';
import { type Conv2dShape, conv2dWasm, planConv2d } from '../../src/backends/cpu/wasm/conv.js';
import { wasm } from '../../src/backends/cpu/wasm/runtime.js';
import { PARALLEL_MIN_MACS } from '../../src/backends/cpu/wasm/sgemm.js';
import '../../src/index.js';
import { dispatch1 } from '../../src/ops/registry.js';
import { Generator } from '../../src/runtime/random.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { outDim } from './conv-spec.js';

const gen = new Generator(2711);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform() * 2 - 1);
const randInt = (lo: number, hi: number) => lo + Math.floor(gen.uniform() * (hi - lo + 1));

interface Spec {
  N: number;
  C: number;
  H: number;
  W: number;
  mult: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  pads: [number, number, number, number];
}

const shapeOf = (s: Spec): Conv2dShape => ({
  N: s.N,
  C: s.C,
  H: s.H,
  W: s.W,
  M: s.C * s.mult,
  group: s.C,
  kH: 3,
  kW: 3,
  sH: s.sH,
  sW: s.sW,
  dH: s.dH,
  dW: s.dW,
  pH: s.pads[0],
  pW: s.pads[1],
  oH: outDim(s.H, 3, s.sH, s.dH, s.pads[0], s.pads[2]),
  oW: outDim(s.W, 3, s.sW, s.dW, s.pads[1], s.pads[3]),
});

/** The TypeScript reference: Conv on float64 tensors, then Relu. */
function reference(s: Spec, x: Float32Array, w: Float32Array, b: Float32Array | undefined, relu: boolean) {
  const M = s.C * s.mult;
  const y = dispatch1(
    'Conv',
    [
      Tensor.fromData(Float64Array.from(x), [s.N, s.C, s.H, s.W], 'float64'),
      Tensor.fromData(Float64Array.from(w), [M, 1, 3, 3], 'float64'),
      b ? Tensor.fromData(Float64Array.from(b), [M], 'float64') : undefined,
    ],
    { kernel_shape: [3, 3], strides: [s.sH, s.sW], dilations: [s.dH, s.dW], pads: s.pads, group: s.C },
  );
  const v = y.dataSync() as Float64Array;
  return relu ? v.map((e) => Math.max(e, 0)) : v;
}

function check(s: Spec, threads: number, what: string): void {
  const sh = shapeOf(s);
  assert.ok(planConv2d(sh, threads).depthwise, `${what}: takes the depthwise kernel`);
  const x = rnd(s.N * s.C * s.H * s.W);
  const w = rnd(sh.M * 9);
  const b = rnd(sh.M);
  const saved = getNumThreads();
  setNumThreads(threads);
  try {
    for (const [bias, relu] of [
      [true, true],
      [false, false],
    ] as const) {
      const got = conv2dWasm(sh, x, w, bias ? b : undefined, relu)!;
      const want = reference(s, x, w, bias ? b : undefined, relu);
      assert.equal(got.length, want.length, `${what}: length`);
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i]! - want[i]!);
        if (!(d <= 2e-5 * (1 + Math.abs(want[i]!))))
          assert.fail(`${what} bias=${bias} relu=${relu}: element ${i}: got ${got[i]}, expected ${want[i]}`);
      }
    }
  } finally {
    setNumThreads(saved);
  }
}

test('3x3 depthwise, unit strides: every output width 1..21 with odd and even heights, pads and multipliers', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  for (let W = 1; W <= 21; W++) {
    const s: Spec = {
      N: randInt(1, 2),
      C: randInt(2, 5),
      H: randInt(1, 9),
      W,
      mult: randInt(1, 3),
      sH: 1,
      sW: 1,
      dH: 1,
      dW: randInt(1, 2),
      pads: [randInt(0, 2), randInt(0, 2), randInt(0, 2), randInt(0, 2)],
    };
    const sh = shapeOf(s);
    if (sh.oH < 1 || sh.oW < 1) continue;
    check(s, 1, `stride 1 W=${W} ${JSON.stringify(s)}`);
  }
});

test('3x3 depthwise, other strides and row dilations: the general two-row loop and its odd last row', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  let ran = 0;
  while (ran < 40) {
    const s: Spec = {
      N: randInt(1, 2),
      C: randInt(2, 6),
      H: randInt(3, 17),
      W: randInt(3, 37),
      mult: randInt(1, 2),
      sH: randInt(1, 3),
      sW: randInt(1, 3),
      dH: randInt(1, 2),
      dW: randInt(1, 2),
      pads: [randInt(0, 2), randInt(0, 2), randInt(0, 2), randInt(0, 2)],
    };
    if (s.sH === 1 && s.sW === 1 && s.dH === 1) continue; // the test above
    const sh = shapeOf(s);
    if (sh.oH < 1 || sh.oW < 1) continue;
    check(s, 1, `general ${ran} ${JSON.stringify(s)}`);
    ran++;
  }
});

test('3x3 depthwise split across two threads: odd widths, tails next to another job planes', (t) => {
  if (!wasm) return t.skip('WASM kernels not built');
  for (const [st, W] of [
    [1, 39],
    [2, 45],
  ] as const) {
    const s: Spec = { N: 1, C: 96, H: 41, W, mult: 2, sH: st, sW: st, dH: 1, dW: 1, pads: [1, 1, 1, 1] };
    const sh = shapeOf(s);
    const macs = sh.M * sh.oH * sh.oW * 9;
    if (macs >= PARALLEL_MIN_MACS) assert.ok(planConv2d(sh, 2).threads === 2, 'split across two threads');
    check(s, 2, `two threads stride ${st} W=${W}`);
  }
});
