// One instruction set's GEMM entry points (gemm-kernel.inc), picked at load time by addon.cc.
// Pointers are into the WASM memory; strides are in elements.
#pragma once
#include <cstddef>
#include <cstdint>

struct GemmIsa {
  const char* name;
  int nr;  // columns per packed B panel
  int mr;  // rows per packed A panel
  size_t (*packedBytes)(int K, int N);
  void (*packB)(int K, int N, const float* b, long rsB, long csB, float* dst);
  // relu: Relu applied to C at the end (a Gemm fused with its activation); colBias (may be null):
  // N floats added to every row of the product (a Gemm's C input as one row), before the Relu.
  void (*gemm)(int M, int N, int K, const float* a, long rsA, long csA, const float* b, long rsB, long csB,
               float* c, long ldc, int accumulate, int relu, const float* colBias);
  void (*gemmPacked)(int M, int N, int K, const float* a, long rsA, long csA, const float* bp, int np, int j0,
                     float* c, long ldc, int accumulate, int relu, const float* colBias);
  void (*packA)(int M, int K, const float* a, long rsA, long csA, float* dst);
  // Convolution work units [u0, u1) described by the parameter block p (conv-kernel.inc).
  void (*convUnits)(const int32_t* p, int u0, int u1);
  // Depthwise convolution output planes [u0, u1), same parameter block, raw weights (conv-kernel.inc).
  void (*depthwiseUnits)(const int32_t* p, int u0, int u1);
  // MaxPool (values) of planes [u0, u1), the same parameter block's geometry, X and Y (conv-kernel.inc).
  void (*maxPoolUnits)(const int32_t* p, int u0, int u1);
  // A transposed convolution's cols^T, packed whole, of units (image, input channel) [u0, u1).
  void (*convPackUnits)(const int32_t* p, int u0, int u1);
  // The first row of an M-row A's last panels (panelRows): every panel before starts at a multiple of mr.
  int (*tailStart)(int M);
};

extern const GemmIsa gemmAvx512;
extern const GemmIsa gemmAvx2;
extern const GemmIsa gemmGeneric;
