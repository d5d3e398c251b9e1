/**
 * Independent reference implementations for the nn op tests: direct definitions with plain
 * loops over index tuples (no im2col, no tap lists, no separable passes), slow and obvious.
 */

/** Every index tuple of `shape`, row-major. */
export function* indices(shape: readonly number[]): Generator<number[]> {
  const n = shape.reduce((a, b) => a * b, 1);
  const idx = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    yield [...idx];
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

export function flatIndex(idx: readonly number[], shape: readonly number[]): number {
  let f = 0;
  for (let d = 0; d < shape.length; d++) f = f * shape[d]! + idx[d]!;
  return f;
}

export interface ConvSpec {
  strides: number[];
  pads: number[];
  dilations: number[];
  group: number;
}

/** y[n, m, o...] = b[m] + sum_{c in group, k...} x[n, c, o*s - p + k*d] * w[m, c', k...]. */
export function convRef(
  x: ArrayLike<number>,
  xShape: number[],
  w: ArrayLike<number>,
  wShape: number[],
  b: ArrayLike<number> | null,
  s: ConvSpec,
): { y: number[]; shape: number[] } {
  const r = xShape.length - 2;
  const [N, C] = xShape as [number, number];
  const M = wShape[0]!;
  const Cg = C / s.group;
  const Mg = M / s.group;
  const k = wShape.slice(2);
  const out = xShape
    .slice(2)
    .map(
      (n, i) =>
        Math.floor((n + s.pads[i]! + s.pads[i + r]! - (k[i]! - 1) * s.dilations[i]! - 1) / s.strides[i]!) + 1,
    );
  const shape = [N, M, ...out];
  const y: number[] = [];
  for (const [n, m, ...o] of indices(shape)) {
    const g = Math.floor(m! / Mg);
    let acc = b ? b[m!]! : 0;
    for (let cc = 0; cc < Cg; cc++) {
      for (const kk of indices(k)) {
        const pos = o.map((oi, i) => oi * s.strides[i]! - s.pads[i]! + kk[i]! * s.dilations[i]!);
        if (pos.some((p, i) => p < 0 || p >= xShape[i + 2]!)) continue;
        acc += x[flatIndex([n!, g * Cg + cc, ...pos], xShape)]! * w[flatIndex([m!, cc, ...kk], wShape)]!;
      }
    }
    y.push(acc);
  }
  return { y, shape };
}

/**
 * Transposed convolution by its definition: every input element scatters x * w into the output
 * at o*s - p + k*d. `outSpatial` is the output spatial size.
 */
export function convTransposeRef(
  x: ArrayLike<number>,
  xShape: number[],
  w: ArrayLike<number>,
  wShape: number[],
  b: ArrayLike<number> | null,
  s: ConvSpec,
  outSpatial: number[],
): number[] {
  const [N, C] = xShape as [number, number];
  const Mg = wShape[1]!;
  const M = Mg * s.group;
  const Cg = C / s.group;
  const k = wShape.slice(2);
  const shape = [N, M, ...outSpatial];
  const y = new Array<number>(shape.reduce((a, v) => a * v, 1)).fill(0);
  for (const [n, c, ...i] of indices(xShape)) {
    const g = Math.floor(c! / Cg);
    for (let mm = 0; mm < Mg; mm++) {
      for (const kk of indices(k)) {
        const pos = i.map((ii, a) => ii * s.strides[a]! - s.pads[a]! + kk[a]! * s.dilations[a]!);
        if (pos.some((p, a) => p < 0 || p >= outSpatial[a]!)) continue;
        y[flatIndex([n!, g * Mg + mm, ...pos], shape)]! +=
          x[flatIndex([n!, c!, ...i], xShape)]! * w[flatIndex([c!, mm, ...kk], wShape)]!;
      }
    }
  }
  if (b) for (const idx of indices(shape)) y[flatIndex(idx, shape)]! += b[idx[1]!]!;
  return y;
}

/** Values of every window tap inside the input, per output position (pads, strides, dilations, ceil mode). */
export function poolRef(
  x: ArrayLike<number>,
  xShape: number[],
  kernel: number[],
  s: { strides: number[]; pads: number[]; dilations: number[]; ceil?: boolean },
  reduce: (vals: number[], padCount: number, positions: number[][]) => number,
): { y: number[]; shape: number[] } {
  const r = kernel.length;
  const out = xShape.slice(2).map((n, i) => {
    const span = n + s.pads[i]! + s.pads[i + r]! - (kernel[i]! - 1) * s.dilations[i]! - 1;
    let o = (s.ceil ? Math.ceil(span / s.strides[i]!) : Math.floor(span / s.strides[i]!)) + 1;
    if (s.ceil && (o - 1) * s.strides[i]! >= n + s.pads[i]!) o--;
    return o;
  });
  const shape = [xShape[0]!, xShape[1]!, ...out];
  const y: number[] = [];
  for (const [n, c, ...o] of indices(shape)) {
    const vals: number[] = [];
    const positions: number[][] = [];
    let padCount = 0;
    for (const kk of indices(kernel)) {
      const pos = o.map((oi, i) => oi * s.strides[i]! - s.pads[i]! + kk[i]! * s.dilations[i]!);
      if (pos.every((p, i) => p >= -s.pads[i]! && p < xShape[i + 2]! + s.pads[i + r]!)) padCount++;
      if (pos.some((p, i) => p < 0 || p >= xShape[i + 2]!)) continue;
      vals.push(x[flatIndex([n!, c!, ...pos], xShape)]!);
      positions.push(pos);
    }
    y.push(reduce(vals, padCount, positions));
  }
  return { y, shape };
}

/** A deterministic pseudo-random vector (a linear congruential sequence in [-1, 1)). */
export function seq(n: number, seed = 1): number[] {
  let s = seed >>> 0;
  return Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s / 2 ** 32) * 2 - 1;
  });
}
