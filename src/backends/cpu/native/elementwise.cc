// Float32 elementwise kernels on the tensors' own arrays (main thread, no copies into WASM memory):
// the per-channel affine (+ Relu) of BatchNormalization chains, Add + Relu and Relu. Compiled with
// -ffp-contract=off: x * s + t is a float32 multiply then a float32 add, exactly as Mul then Add
// give it (a fused multiply-add would round once). Relu is v <= 0 ? +0 : v (-0 to +0, NaN kept).
#include <cstdint>

#include "elementwise.h"

void channelAffineF32(const float* x, float* y, long P, long C, long L, const float* scale, const float* shift,
                      bool relu) {
  for (long p = 0; p < P; p++) {
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
