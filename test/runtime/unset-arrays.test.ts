/**
 * allocateUnset: the kernels that take a dead intermediate's array without zeroing it, or a large
 * new one straight from malloc (Conv on every path, Concat, MatMul and Gemm, the pools, Softmax, the
 * channel affine, strided copies, the binary and unary fast paths) write every element. Each runs
 * once with a pool that hands those callers arrays full of garbage (NaN, large values) and once with
 * fresh arrays, and must give the same bits.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../src/index.js';
import { setNumThreads } from '../../src/backends/cpu/threads/config.js';
import { native } from '../../src/backends/cpu/wasm/runtime.js';
import { markConstant } from '../../src/backends/cpu/wasm/sgemm.js';
import { type Attrs, dispatch1 } from '../../src/ops/registry.js';
import { type ArrayCtor, setArrayPool, type TypedArray } from '../../src/runtime/dtype.js';
import { FUSED_DOMAIN } from '../../src/runtime/passes/fused-ops.js';
import { Generator } from '../../src/runtime/random.js';
import { Tensor } from '../../src/runtime/tensor.js';

const gen = new Generator(4242);
const rnd = (n: number) => Float32Array.from({ length: n }, () => gen.uniform() * 2 - 1);
const f32 = (shape: number[]) => Tensor.fromData(rnd(shape.reduce((a, b) => a * b, 1)), shape, 'float32');

/**
 * Runs `f` with allocate() zeroing as promised and allocateUnset() handing out garbage; with
 * `mustTake`, fails unless the kernel took such an array (so the check cannot pass vacuously).
 */
function withDirtyPool<T>(f: () => T, mustTake = true): T {
  let dirty = 0;
  const prev = setArrayPool({
    take(ctor: ArrayCtor, n: number, zero = true): TypedArray | undefined {
      if (zero) return undefined;
      const a = new ctor(n) as TypedArray;
      if (a instanceof BigInt64Array || a instanceof BigUint64Array) return undefined;
      if (a instanceof Float32Array || a instanceof Float64Array)
        for (let i = 0; i < n; i++) a[i] = i % 3 ? 1e30 : Number.NaN;
      else (a as Uint8Array).fill(7);
      dirty++;
      return a;
    },
  });
  try {
    const out = f();
    if (mustTake) assert.ok(dirty > 0, 'the kernel took an unzeroed array');
    return out;
  } finally {
    setArrayPool(prev);
  }
}

function sameBits(got: Tensor, want: Tensor, what: string): void {
  assert.deepEqual(got.shape, want.shape, `${what}: shape`);
  const g = got.dataSync() as Float32Array;
  const w = want.dataSync() as Float32Array;
  assert.ok(
    Buffer.from(g.buffer, g.byteOffset, g.byteLength).equals(
      Buffer.from(w.buffer, w.byteOffset, w.byteLength),
    ),
    what,
  );
}

test('kernels given unzeroed arrays write every element: Conv (each plan), Concat, MaxPool, Add, Relu', () => {
  setNumThreads(2);
  const convs: [string, number[], number[], Attrs][] = [
    // Few positions, many channels (the native driver's transposed product), 3x3 and 1x1.
    ['3x3 on 7x7', [1, 32, 7, 7], [96, 32, 3, 3], { pads: [1, 1, 1, 1] }],
    ['1x1 on 5x5', [2, 48, 5, 5], [64, 48, 1, 1], {}],
    // Tiles of positions and row blocks of channels.
    ['3x3 on 30x33', [1, 16, 30, 33], [20, 16, 3, 3], { pads: [1, 1, 1, 1], strides: [1, 2] }],
    ['depthwise', [1, 12, 17, 19], [12, 1, 3, 3], { pads: [1, 1, 1, 1], group: 12 }],
  ];
  for (const [what, xs, ws, attrs] of convs) {
    const x = f32(xs);
    const w = f32(ws);
    const b = f32([ws[0]!]);
    for (const constant of [false, true]) {
      if (constant) markConstant(w.dataSync() as Float32Array);
      const want = dispatch1('Conv', [x, w, b], attrs);
      sameBits(
        withDirtyPool(() => dispatch1('Conv', [x, w, b], attrs)),
        want,
        `Conv ${what}${constant ? ', constant weights' : ''}`,
      );
    }
  }
  const a = f32([2, 3, 5, 4]);
  const c = f32([2, 6, 5, 4]);
  for (const axis of [0, 1, 3]) {
    const other = axis === 1 ? c : a;
    sameBits(
      withDirtyPool(() => dispatch1('Concat', [a, other, a], { axis })),
      dispatch1('Concat', [a, other, a], { axis }),
      `Concat axis ${axis}`,
    );
  }
  const big = f32([1, 8, 40, 41]);
  const pool = { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] };
  // One output (no Indices): the values come out of WASM memory through the unzeroed copy.
  const maxPool = () => dispatch1('MaxPool', [big], pool, { numOutputs: 1 });
  sameBits(withDirtyPool(maxPool), maxPool(), 'MaxPool');
  const row = f32([5, 4]);
  sameBits(
    withDirtyPool(() => dispatch1('Add', [a, row])),
    dispatch1('Add', [a, row]),
    'Add',
  );
  sameBits(
    withDirtyPool(() => dispatch1('Relu', [big])),
    dispatch1('Relu', [big]),
    'Relu',
  );
});

test('kernels given unzeroed arrays write every element: MatMul, Gemm, pools, Softmax, ChannelAffine, copies, compares', () => {
  setNumThreads(2);
  // mustTake false: a path that allocates zeroed arrays (Softmax without the native addon).
  const same = (what: string, f: () => Tensor, mustTake = true) =>
    sameBits(withDirtyPool(f, mustTake), f(), what);
  const empty = (shape: number[]) => Tensor.fromData(new Float32Array(0), shape, 'float32');
  // Products: split across threads, one row, batched, and an empty inner dimension (all zeros, or
  // the bias alone), on whichever GEMM is loaded.
  const a = f32([70, 33]);
  const b = f32([33, 90]);
  same('MatMul', () => a.matmul(b));
  const row = f32([1, 33]);
  same('MatMul one row', () => row.matmul(b));
  const a3 = f32([3, 5, 33]);
  const b3 = f32([3, 33, 7]);
  same('MatMul batched', () => a3.matmul(b3));
  same('MatMul K = 0', () => empty([40, 0]).matmul(empty([0, 30])));
  const bias = f32([90]);
  same('Gemm', () => dispatch1('Gemm', [a, b, bias], { alpha: 0.5 }));
  const at = f32([33, 70]);
  const bt = f32([90, 33]);
  same('Gemm transposed', () => dispatch1('Gemm', [at, bt, bias], { transA: 1, transB: 1 }));
  same('Gemm K = 0', () => dispatch1('Gemm', [empty([70, 0]), empty([0, 90]), bias]));
  const x = f32([2, 6, 13, 11]);
  same('GlobalAveragePool', () => dispatch1('GlobalAveragePool', [x]));
  same('GlobalMaxPool', () => dispatch1('GlobalMaxPool', [x]));
  same('AveragePool', () => dispatch1('AveragePool', [x], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] }));
  same('Softmax', () => dispatch1('Softmax', [x], { axis: -1 }), native !== null);
  same('LogSoftmax', () => dispatch1('LogSoftmax', [a], { axis: -1 }), native !== null);
  const scale = f32([6]);
  const shift = f32([6]);
  same('ChannelAffine', () =>
    dispatch1('ChannelAffine', [x, scale, shift], { activation: 'Relu' }, { domain: FUSED_DOMAIN }),
  );
  same('strided copy', () => x.permute([0, 2, 3, 1]).contiguous());
  const row11 = f32([11]);
  same('Greater', () => dispatch1('Greater', [x, row11]));
  same('Exp', () => dispatch1('Exp', [x]));
});
