/** Matrix products: MatMul, Gemm, ... */
export {};
