/**
 * One-dimensional complex discrete Fourier transforms on float64 arrays, the kernel under DFT and
 * STFT: an iterative radix-2 FFT for power-of-two lengths and a direct sum over an exact twiddle
 * table (index k*n mod N, so no phase drift) for the other lengths.
 */

/** Twiddles cos/sin(2*pi*j/n) for j in [0, n), cached per length. */
const twiddleCache = new Map<number, { cos: Float64Array; sin: Float64Array }>();
function twiddles(n: number): { cos: Float64Array; sin: Float64Array } {
  let t = twiddleCache.get(n);
  if (!t) {
    const cos = new Float64Array(n);
    const sin = new Float64Array(n);
    for (let j = 0; j < n; j++) {
      cos[j] = Math.cos((2 * Math.PI * j) / n);
      sin[j] = Math.sin((2 * Math.PI * j) / n);
    }
    t = { cos, sin };
    if (twiddleCache.size > 64) twiddleCache.clear();
    twiddleCache.set(n, t);
  }
  return t;
}

const isPow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * In place: (re, im) <- sum_n x[n] * exp(sign * 2*pi*i*k*n/N), sign -1 forward and +1 inverse
 * (unnormalized; the caller divides by N for the inverse transform).
 */
export function fftInPlace(re: Float64Array, im: Float64Array, inverse: boolean): void {
  const n = re.length;
  if (n <= 1) return;
  const { cos, sin } = twiddles(n);
  const s = inverse ? 1 : -1;
  if (!isPow2(n)) {
    const or = new Float64Array(n);
    const oi = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      let ar = 0;
      let ai = 0;
      let j = 0; // (k * t) mod n, advanced incrementally
      for (let t = 0; t < n; t++) {
        const c = cos[j]!;
        const w = s * sin[j]!;
        ar += re[t]! * c - im[t]! * w;
        ai += re[t]! * w + im[t]! * c;
        j += k;
        if (j >= n) j -= n;
      }
      or[k] = ar;
      oi[k] = ai;
    }
    re.set(or);
    im.set(oi);
    return;
  }
  // Bit-reversal permutation, then butterflies.
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i]!;
      re[i] = re[j]!;
      re[j] = t;
      t = im[i]!;
      im[i] = im[j]!;
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const half = len >> 1;
    const step = n / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < half; k++) {
        const c = cos[k * step]!;
        const w = s * sin[k * step]!;
        const a = i + k;
        const b = a + half;
        const xr = re[b]! * c - im[b]! * w;
        const xi = re[b]! * w + im[b]! * c;
        re[b] = re[a]! - xr;
        im[b] = im[a]! - xi;
        re[a] = re[a]! + xr;
        im[a] = im[a]! + xi;
      }
    }
  }
}
