/**
 * Streaming kernels split across the worker pool (src/backends/cpu/wasm/split.ts): a large float32
 * Concat and the per-channel affine give what one thread gives, bit for bit, and the definitions'
 * values (element-by-element references written here).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../src/index.js';
import { native } from '../../src/backends/cpu/wasm/runtime.js';
import { copySplit } from '../../src/backends/cpu/wasm/split.js';
import { dispatch1 } from '../../src/ops/registry.js';
import { Generator } from '../../src/runtime/random.js';
import { Tensor } from '../../src/runtime/tensor.js';
import { onThreads } from '../helpers/threads.js';

const gen = new Generator(77);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform() * 4 - 2);

function sameBits(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  assert.ok(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
      Buffer.from(b.buffer, b.byteOffset, b.byteLength),
    ),
    what,
  );
}

test('a large float32 Concat on two threads equals the element-by-element concatenation', () => {
  // Batch 1 along channels (one block per input), and batch 2 (blocks interleaved), with an input
  // that is a view at an offset into its storage.
  for (const [n, ca, cb] of [
    [1, 64, 96],
    [2, 40, 24],
  ] as const) {
    const hw = 33 * 35;
    const a = Tensor.fromData(rnd(n * ca * hw), [n, ca, 33, 35], 'float32');
    const big = rnd(n * cb * hw + 7);
    const b = Tensor.fromData(big, [big.length], 'float32').asStrided(
      [n, cb, 33, 35],
      [cb * hw, hw, 35, 1],
      7,
    );
    const got = onThreads(2, () => dispatch1('Concat', [a, b], { axis: 1 }).dataSync() as Float32Array);
    const one = onThreads(1, () => dispatch1('Concat', [a, b], { axis: 1 }).dataSync() as Float32Array);
    sameBits(got, one, `Concat ${n}x(${ca}+${cb}): two threads and one`);
    const want = new Float32Array(got.length);
    const av = a.dataSync() as Float32Array;
    for (let i = 0; i < n; i++) {
      want.set(av.subarray(i * ca * hw, (i + 1) * ca * hw), i * (ca + cb) * hw);
      want.set(big.subarray(7 + i * cb * hw, 7 + (i + 1) * cb * hw), (i * (ca + cb) + ca) * hw);
    }
    sameBits(got, want, `Concat ${n}x(${ca}+${cb}): values`);
  }
});

test('copySplit copies exactly its range, or declines small copies and a single thread', () => {
  if (!native) return;
  const src = rnd(300_000);
  const dst = new Float32Array(300_010).fill(-7);
  onThreads(2, () => assert.ok(copySplit(dst, 5, src, 3, 250_001), 'a large copy is split'));
  for (let i = 0; i < dst.length; i++) {
    const want = i >= 5 && i < 250_006 ? src[i - 2]! : -7;
    if (dst[i] !== want) assert.fail(`element ${i}: got ${dst[i]}, expected ${want}`);
  }
  onThreads(2, () => assert.equal(copySplit(dst, 0, src, 0, 1000), false, 'small: declined'));
  onThreads(1, () => assert.equal(copySplit(dst, 0, src, 0, 250_000), false, 'one thread: declined'));
});

test('the per-channel affine (+ Relu) on two threads equals one thread and x * scale + shift', () => {
  const [N, C, H, W] = [2, 48, 29, 31];
  const x = Tensor.fromData(rnd(N * C * H * W), [N, C, H, W], 'float32');
  const scale = Tensor.fromData(rnd(C), [C], 'float32');
  const shift = Tensor.fromData(rnd(C), [C], 'float32');
  for (const activation of ['', 'Relu']) {
    const run = () =>
      dispatch1(
        'ChannelAffine',
        [x, scale, shift],
        { activation },
        { domain: 'com.tessera' },
      ).dataSync() as Float32Array;
    const two = onThreads(2, run);
    sameBits(two, onThreads(1, run), `ChannelAffine ${activation || 'plain'}: two threads and one`);
    const xv = x.dataSync() as Float32Array;
    const s = scale.dataSync() as Float32Array;
    const t = shift.dataSync() as Float32Array;
    const L = H * W;
    for (let i = 0; i < xv.length; i++) {
      const c = Math.floor(i / L) % C;
      // A float32 multiply, then a float32 add (the ops it stands for), then Relu (+0 for <= 0).
      let v = Math.fround(Math.fround(xv[i]! * s[c]!) + t[c]!);
      if (activation && v <= 0) v = 0;
      if (!Object.is(two[i], v)) assert.fail(`${activation} element ${i}: got ${two[i]}, expected ${v}`);
    }
  }
});
