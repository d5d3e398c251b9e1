// Entry point of the Tessera WASM kernels: everything exported here is callable from
// src/backends/cpu/wasm/kernels.ts. Pointers are byte offsets into the shared memory.
export { sgemm, sgemmPackB, sgemmPacked, sgemmPackedBytes, sgemmPanelWidth, sgemmScratchBytes } from './gemm';
export { conv2dScratchBytes, conv2dUnits, depthwise2dUnits, depthwiseScratchBytes, im2colTile } from './conv';
export { avgPool2dF32, globalPoolF32, maxPool2dArgF32, maxPool2dF32, pool2dScratchBytes } from './pool';
export { lrnF32 } from './lrn';
export { addReluF32, channelAffineF32, clipF32, leakyReluF32, reluF32 } from './elementwise';
