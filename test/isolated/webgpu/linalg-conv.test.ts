/**
 * MatMul, Gemm, Einsum, Conv, ConvTranspose and ConvWeightGrad on the GPU against the CPU kernels:
 * odd sizes that straddle the 64x64 / 8x128 tiles, batch broadcasting, 1-D operands, transposed
 * (strided) operands, groups, depthwise, dilations, strides, auto_pad, 1-D/3-D convolutions.
 */
import { before, test } from 'node:test';
import { explicitWindowAttrs, resolveWindow } from '../../../src/ops/nn/window.js';
import { dispatch1 } from '../../../src/ops/registry.js';
import { compareOp, gpuReady, rn } from './helpers.js';

before(async () => {
  await gpuReady();
});

const TOL = { rtol: 1e-4, atol: 1e-4 };

test('MatMul: tiles, odd sizes, 1-D operands, batch broadcasting', async () => {
  const cases: [number[], number[]][] = [
    [
      [3, 5],
      [5, 7],
    ],
    [
      [67, 33],
      [33, 129],
    ],
    [
      [1, 300],
      [300, 77],
    ],
    [[9], [9, 4]],
    [[4, 9], [9]],
    [[9], [9]],
    [
      [2, 1, 4, 9],
      [3, 9, 5],
    ],
    [
      [5, 3, 17],
      [17, 2],
    ],
    [
      [0, 4],
      [4, 3],
    ],
  ];
  for (const [a, b] of cases) await compareOp('MatMul', [rn(a), rn(b)], {}, TOL);
  // A transposed view is read through its strides (no copy).
  const t = dispatch1('Transpose', [rn([6, 10]).to('webgpu')], { perm: [1, 0] });
  await compareOp('MatMul', [t.to('cpu'), rn([6, 3])], {}, TOL);
  await compareOp(
    'MatMul',
    [rn([4, 6]).to('float16'), rn([6, 5]).to('float16')],
    {},
    { rtol: 1e-2, atol: 1e-2 },
  );
});

test('Gemm: transA/transB, alpha/beta, every broadcastable C', async () => {
  const [M, K, N] = [7, 19, 10];
  for (const [ta, tb] of [
    [0, 0],
    [1, 0],
    [0, 1],
    [1, 1],
  ]) {
    const a = rn(ta ? [K, M] : [M, K]);
    const b = rn(tb ? [N, K] : [K, N]);
    for (const c of [undefined, rn([N]), rn([M, 1]), rn([1]), rn([M, N]), rn([])]) {
      await compareOp('Gemm', [a, b, c], { transA: ta, transB: tb, alpha: 0.5, beta: 1.5 }, TOL);
    }
  }
  await compareOp('Gemm', [rn([1, 200]), rn([50, 200]), rn([50])], { transB: 1 }, TOL);
});

test('Einsum: batched contractions as GEMM, diagonals and reductions directly', async () => {
  const cases: [string, number[][]][] = [
    [
      'ij,jk->ik',
      [
        [3, 4],
        [4, 5],
      ],
    ],
    [
      'bij,bjk->bik',
      [
        [2, 3, 4],
        [2, 4, 5],
      ],
    ],
    [
      'mn,kn->mk',
      [
        [6, 7],
        [3, 7],
      ],
    ],
    [
      '...mn,...kn->...mk',
      [
        [2, 6, 7],
        [2, 3, 7],
      ],
    ],
    [
      'ij,ij->ij',
      [
        [3, 4],
        [3, 4],
      ],
    ],
    ['ii->i', [[4, 4]]],
    ['ij->', [[3, 5]]],
    ['i,j->ij', [[3], [4]]],
    [
      'bhqd,bhkd->bhqk',
      [
        [1, 2, 5, 8],
        [1, 2, 6, 8],
      ],
    ],
    [
      'ij,jk,kl->il',
      [
        [2, 3],
        [3, 4],
        [4, 2],
      ],
    ],
  ];
  for (const [equation, shapes] of cases)
    await compareOp(
      'Einsum',
      shapes.map((s) => rn(s)),
      { equation },
      TOL,
    );
});

test('Conv: implicit GEMM and direct kernels, groups, strides, dilations, pads, 1-D and 3-D', async () => {
  const cases: [number[], number[], Record<string, unknown>][] = [
    [[2, 3, 9, 8], [20, 3, 3, 3], { pads: [1, 1, 1, 1] }],
    [[1, 4, 7, 7], [4, 1, 3, 3], { group: 4, strides: [2, 2], pads: [1, 0, 1, 2] }],
    [[2, 32, 5, 5], [24, 16, 1, 1], { group: 2 }],
    [[1, 16, 6, 6], [32, 16, 1, 1], {}],
    [[1, 2, 11], [18, 2, 3], { dilations: [2], auto_pad: 'SAME_UPPER' }],
    [[1, 2, 4, 5, 6], [17, 2, 2, 3, 2], { strides: [1, 2, 1] }],
    [[1, 3, 10, 10], [8, 3, 5, 5], { auto_pad: 'SAME_LOWER', strides: [3, 3] }],
    [[1, 3, 6, 6], [5, 3, 2, 2], { auto_pad: 'VALID', dilations: [2, 2] }],
  ];
  for (const [xs, ws, attrs] of cases) {
    const M = ws[0]!;
    await compareOp('Conv', [rn(xs), rn(ws), rn([M])], attrs as any, TOL);
    await compareOp('Conv', [rn(xs), rn(ws)], attrs as any, TOL);
    const win = resolveWindow('Conv', xs.slice(2), ws.slice(2), attrs as any);
    const wa = { ...explicitWindowAttrs(win), group: (attrs.group as number) ?? 1 };
    const y = [xs[0]!, M, ...win.outSize];
    await compareOp('ConvWeightGrad', [rn(xs), rn(y)], wa, { ...TOL, domain: 'com.tessera' });
  }
});

test('ConvTranspose: strides, output_padding, groups, dilations, output_shape, auto_pad', async () => {
  const cases: [number[], number[], Record<string, unknown>][] = [
    [[2, 20, 4, 5], [20, 3, 3, 3], { strides: [2, 2], pads: [1, 1, 0, 0], output_padding: [1, 0] }],
    [[1, 4, 5, 5], [4, 8, 3, 3], { group: 2, strides: [2, 1] }],
    [[1, 3, 6], [3, 32, 4], { strides: [3], dilations: [2] }],
    [[1, 2, 3, 3], [2, 3, 3, 3], { strides: [2, 2], output_shape: [7, 8] }],
    [[1, 2, 3, 3], [2, 20, 2, 2], { strides: [2, 2], auto_pad: 'SAME_UPPER' }],
  ];
  for (const [xs, ws, attrs] of cases) {
    const M = ws[1]! * ((attrs.group as number) ?? 1);
    await compareOp('ConvTranspose', [rn(xs), rn(ws), rn([M])], attrs as any, TOL);
  }
});

test('a 1x1 convolution of float16 rounds like the CPU', async () => {
  await compareOp(
    'Conv',
    [rn([1, 16, 4, 4]).to('float16'), rn([24, 16, 1, 1]).to('float16')],
    {},
    { rtol: 1e-2, atol: 1e-2 },
  );
});
