/**
 * MNIST-style digits made on the spot, so the examples need no download: each 28x28 image is a
 * digit drawn from a 5x7 bitmap font, scaled 3x, placed at a random offset with random ink,
 * a few strokes dropped, a slight shear, and Gaussian noise. Pixels are in [0, 1].
 *
 *   const { images, labels } = digits(1000, 7); // images [1000, 1, 28, 28] float32, labels [1000] int64
 */
import { Generator, Tensor } from '../src/index.js';

const FONT = [
  ['01110', '10001', '10011', '10101', '11001', '10001', '01110'],
  ['00100', '01100', '00100', '00100', '00100', '00100', '01110'],
  ['01110', '10001', '00001', '00010', '00100', '01000', '11111'],
  ['11111', '00010', '00100', '00010', '00001', '10001', '01110'],
  ['00010', '00110', '01010', '10010', '11111', '00010', '00010'],
  ['11111', '10000', '11110', '00001', '00001', '10001', '01110'],
  ['00110', '01000', '10000', '11110', '10001', '10001', '01110'],
  ['11111', '00001', '00010', '00100', '01000', '01000', '01000'],
  ['01110', '10001', '10001', '01110', '10001', '10001', '01110'],
  ['01110', '10001', '10001', '01111', '00001', '00010', '01100'],
];

export interface Digits {
  /** [n, 1, 28, 28] float32 in [0, 1]. */
  images: Tensor;
  /** [n] int64 class indices 0..9. */
  labels: Tensor;
}

export function digits(n: number, seed: number, opts: { scale?: number } = {}): Digits {
  const g = new Generator(seed);
  const scale = opts.scale ?? 1;
  const x = new Float32Array(n * 784);
  const y = new BigInt64Array(n);
  for (let i = 0; i < n; i++) {
    const d = i % 10;
    y[i] = BigInt(d);
    const img = x.subarray(i * 784, (i + 1) * 784);
    const ox = g.int(1, 11);
    const oy = g.int(1, 6);
    const ink = 0.6 + 0.4 * g.uniform();
    const shear = (g.uniform() - 0.5) * 0.3;
    FONT[d]!.forEach((row, r) => {
      for (let c = 0; c < 5; c++) {
        if (row[c] !== '1' || g.uniform() < 0.06) continue;
        for (let dy = 0; dy < 3; dy++) {
          const py = oy + 3 * r + dy;
          const sx = Math.round(shear * (py - 14));
          for (let dx = 0; dx < 3; dx++) {
            const px = ox + 3 * c + dx + sx;
            if (px >= 0 && px < 28) img[py * 28 + px] = ink;
          }
        }
      }
    });
    for (let p = 0; p < 784; p++) img[p] = scale * Math.min(1, Math.max(0, img[p]! + 0.12 * g.normal()));
  }
  return {
    images: Tensor.fromData(x, [n, 1, 28, 28], 'float32'),
    labels: Tensor.fromData(y, [n], 'int64'),
  };
}
