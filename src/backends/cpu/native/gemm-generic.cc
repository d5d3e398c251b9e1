// Portable build of gemm-kernel.inc (SSE2 on x86-64, NEON on arm64): 4-float vectors, 6 x 8 tiles.
#define ISA generic
#define ISA_NAME "generic"
#define ISA_TABLE gemmGeneric
#define VW 4
#define MR 6
#include "gemm-kernel.inc"
