// AVX-512 build of gemm-kernel.inc: 32 zmm registers hold a 12 x 32 tile (24 accumulators).
#define ISA avx512
#define ISA_NAME "avx512"
#define ISA_TABLE gemmAvx512
#define VW 16
#define MR 12
#include "gemm-kernel.inc"
