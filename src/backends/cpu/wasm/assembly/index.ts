// Entry point of the Tessera WASM kernels: everything exported here is callable from
// src/backends/cpu/wasm/kernels.ts. Pointers are byte offsets into the shared memory.
export { sgemm, sgemmScratchBytes } from './gemm';
export { biasRelu, im2col2d } from './conv';
export { maxPool2dF32 } from './pool';
