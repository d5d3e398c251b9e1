// Float32 elementwise kernels on the tensors' own arrays (main thread, no copies into WASM memory):
// the per-channel affine (+ Relu) of BatchNormalization chains, Add + Relu and Relu; and the global
// pools, reductions in the WASM kernel's order. Compiled with
// -ffp-contract=off: x * s + t is a float32 multiply then a float32 add, exactly as Mul then Add
// give it (a fused multiply-add would round once). Relu is v <= 0 ? +0 : v (-0 to +0, NaN kept).
#include <cmath>
#include <cstdint>
#include <vector>

#include "elementwise.h"

void channelAffineF32(const float* x, float* y, long p0, long p1, long C, long L, const float* scale,
                      const float* shift, bool relu) {
  for (long p = p0; p < p1; p++) {
    const float s = scale[p % C];
    const float t = shift[p % C];
    const float* xr = x + p * L;
    float* yr = y + p * L;
    if (relu) {
      for (long l = 0; l < L; l++) {
        const float v = xr[l] * s + t;
        yr[l] = v <= 0.0f ? 0.0f : v;
      }
    } else {
      for (long l = 0; l < L; l++) yr[l] = xr[l] * s + t;
    }
  }
}

void addReluF32(const float* a, const float* b, float* y, long n) {
  for (long i = 0; i < n; i++) {
    const float v = a[i] + b[i];
    y[i] = v <= 0.0f ? 0.0f : v;
  }
}

void reluF32(const float* x, float* y, long n) {
  for (long i = 0; i < n; i++) y[i] = x[i] <= 0.0f ? 0.0f : x[i];
}

// y[q] = mean (or max) of plane q of x (P floats a plane), in assembly/pool.ts globalPoolF32's order,
// so both give the same bits: the mean sums in float64 in four lanes (p mod 4) over whole groups of
// four, lanes (0 + 2) + (1 + 3), then the rest in order; the max keeps a lane's first of equal
// values (pmax), then takes lanes 0..3 and the rest with v > best (NaN skipped; a plane of only NaN
// or -inf gives its first value).
void globalPoolF32(const float* x, float* y, long planes, long P, bool max) {
  const long P4 = P & ~3L;
  for (long q = 0; q < planes; q++) {
    const float* s = x + q * P;
    if (max) {
      const float ninf = -__builtin_inff();
      float m[4] = {ninf, ninf, ninf, ninf};
      for (long p = 0; p < P4; p += 4)
        for (int l = 0; l < 4; l++) m[l] = m[l] < s[p + l] ? s[p + l] : m[l];
      float best = ninf;
      for (int l = 0; l < 4; l++)
        if (m[l] > best) best = m[l];
      for (long p = P4; p < P; p++)
        if (s[p] > best) best = s[p];
      if (best == ninf && P > 0) best = s[0];
      y[q] = best;
    } else {
      double a[4] = {0, 0, 0, 0};
      for (long p = 0; p < P4; p += 4)
        for (int l = 0; l < 4; l++) a[l] += (double)s[p + l];
      double sum = (a[0] + a[2]) + (a[1] + a[3]);
      for (long p = P4; p < P; p++) sum += (double)s[p];
      y[q] = (float)(sum / (double)P);
    }
  }
}

// Rows of len floats: y = softmax (log: log-softmax) of each row, as src/ops/reduce/softmax.ts
// computes it: the row's first maximum (a NaN counts as the maximum), exp(v - max) in float64 summed
// in order, then e / sum (log: v - max - log(sum)) rounded to float32 once.
void softmaxRowsF32(const float* x, float* y, long rows, long len, bool log) {
  static thread_local std::vector<double> e;
  if (!log && (long)e.size() < len) e.resize(len);
  for (long r = 0; r < rows; r++) {
    const float* xr = x + r * len;
    float* yr = y + r * len;
    double m = xr[0];
    for (long a = 1; a < len; a++) {
      const double v = xr[a];
      if (v > m || (std::isnan(v) && !std::isnan(m))) m = v;
    }
    double s = 0;
    if (log) {
      for (long a = 0; a < len; a++) s += std::exp((double)xr[a] - m);
      const double ls = std::log(s);
      for (long a = 0; a < len; a++) yr[a] = (float)((double)xr[a] - m - ls);
      continue;
    }
    for (long a = 0; a < len; a++) s += (e[a] = std::exp((double)xr[a] - m));
    for (long a = 0; a < len; a++) yr[a] = (float)(e[a] / s);
  }
}
