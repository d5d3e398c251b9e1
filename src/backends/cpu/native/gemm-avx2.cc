// AVX2 + FMA build of gemm-kernel.inc: 16 ymm registers hold a 6 x 16 tile (12 accumulators).
#define ISA avx2
#define ISA_NAME "avx2"
#define ISA_TABLE gemmAvx2
#define VW 8
#define MR 6
#include "gemm-kernel.inc"
