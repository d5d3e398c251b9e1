/** Tessera's public API. */
export * from './runtime/index.js';
export * as ops from './ops/index.js';
export * as nn from './nn/index.js';
export * as optim from './optim/index.js';
export * as metrics from './metrics/index.js';
export * from './importers/index.js';
export * as train from './train/index.js';
export { Trainer, TrainingSession } from './train/index.js';
export { trace, type Traceable, type TraceOptions } from './runtime/trace.js';
export * as io from './io/index.js';
export {
  createGpuWorker,
  disposeWebGPU,
  initWebGPU,
  webgpuAvailable,
  webgpuInfo,
  webgpuStats,
} from './backends/webgpu/index.js';
