// Elementwise kernels of elementwise.cc (float32, on any memory; y may be x).
#pragma once

// Planes [p0, p1) of x (L floats each; plane p has channel p % C) into the same planes of y.
void channelAffineF32(const float* x, float* y, long p0, long p1, long C, long L, const float* scale,
                      const float* shift, bool relu);
void addReluF32(const float* a, const float* b, float* y, long n);
void reluF32(const float* x, float* y, long n);
void globalPoolF32(const float* x, float* y, long planes, long P, bool max);
// Rows of len floats: softmax (log: log-softmax) of each row into the same row of y.
void softmaxRowsF32(const float* x, float* y, long rows, long len, bool log);
