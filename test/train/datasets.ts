/** Generated data sets for the end-to-end training tests, drawn from a seeded Generator. */
import { Generator, type Tensor, tensor } from '../../src/index.js';

export interface Dataset {
  x: Tensor;
  y: Tensor;
}

/**
 * Two interleaved spirals (Lang & Witbrock's task): class c's points are
 * r(t) * (cos(t + c*pi), sin(t + c*pi)) for t along `turns` turns, r growing with t, plus noise.
 */
export function twoSpirals(perClass: number, seed: number, { turns = 2, noise = 0.04 } = {}): Dataset {
  const g = new Generator(seed);
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let i = 0; i < perClass; i++) {
    // Start a little away from the centre, where the two arms are still apart.
    const u = 0.1 + (0.9 * i) / perClass;
    const t = u * turns * 2 * Math.PI;
    for (let c = 0; c < 2; c++) {
      const a = t + c * Math.PI;
      xs.push([u * Math.cos(a) + noise * g.normal(), u * Math.sin(a) + noise * g.normal()]);
      ys.push(c);
    }
  }
  return { x: tensor(xs), y: tensor(ys, { dtype: 'int64' }) };
}

/**
 * 16x16 single-channel images of two classes: 0 = the outline of a square, 1 = a cross (a plus
 * sign), each at a random position and size, on a background of Gaussian noise.
 */
export function squaresAndCrosses(count: number, seed: number, { size = 16, noise = 0.25 } = {}): Dataset {
  const g = new Generator(seed);
  const pixels = new Float32Array(count * size * size);
  const labels: number[] = [];
  for (let n = 0; n < count; n++) {
    const img = pixels.subarray(n * size * size, (n + 1) * size * size);
    for (let i = 0; i < img.length; i++) img[i] = noise * g.normal();
    const cls = n % 2;
    const s = g.int(5, 11); // side length 5..10
    const r0 = g.int(0, size - s + 1);
    const c0 = g.int(0, size - s + 1);
    const set = (r: number, c: number) => {
      img[r * size + c] = 1 + noise * g.normal();
    };
    if (cls === 0) {
      for (let k = 0; k < s; k++) {
        set(r0, c0 + k);
        set(r0 + s - 1, c0 + k);
        set(r0 + k, c0);
        set(r0 + k, c0 + s - 1);
      }
    } else {
      const mid = Math.floor(s / 2);
      for (let k = 0; k < s; k++) {
        set(r0 + mid, c0 + k);
        set(r0 + k, c0 + mid);
      }
    }
    labels.push(cls);
  }
  return { x: tensor(pixels, { shape: [count, 1, size, size] }), y: tensor(labels, { dtype: 'int64' }) };
}

/** Shuffled minibatches of `d` (one epoch), drawn with the seeded generator `g`. */
export function* minibatches(d: Dataset, batchSize: number, g: Generator): IterableIterator<Dataset> {
  const n = d.x.shape[0]!;
  const row = d.x.numel() / n;
  const xs = d.x.numbers();
  const ys = d.y.numbers();
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = g.int(0, i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  for (let start = 0; start < n; start += batchSize) {
    const idx = order.slice(start, start + batchSize);
    const bx = new Float32Array(idx.length * row);
    idx.forEach((k, r) => {
      bx.set(xs.subarray(k * row, (k + 1) * row), r * row);
    });
    yield {
      x: tensor(bx, { shape: [idx.length, ...d.x.shape.slice(1)] }),
      y: tensor(
        idx.map((k) => ys[k]!),
        { dtype: 'int64' },
      ),
    };
  }
}
