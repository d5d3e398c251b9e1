/** Registers every WebGPU kernel on the op registry (called once by initWebGPU). */
import { registerOptimKernels } from '../../optim/device-optim.js';
import { webgpuOptimKernels } from './kernels/optim.js';
import { registerConvKernels } from './ops/conv-ops.js';
import { registerDataKernels } from './ops/data-ops.js';
import { registerElementwiseKernels } from './ops/elementwise-ops.js';
import { registerExtraKernels } from './ops/extra-ops.js';
import { registerLayoutKernels } from './ops/layout-ops.js';
import { registerLinalgKernels } from './ops/linalg-ops.js';
import { registerMiscKernels } from './ops/misc-ops.js';
import { registerNormKernels } from './ops/norm-ops.js';
import { registerPoolKernels } from './ops/pool-ops.js';
import { registerReduceKernels } from './ops/reduce-ops.js';
import { registerTrainingKernels } from './ops/training-ops.js';

export function registerWebGPUKernels(): void {
  registerElementwiseKernels();
  registerLayoutKernels();
  registerMiscKernels();
  registerLinalgKernels();
  registerConvKernels();
  registerReduceKernels();
  registerPoolKernels();
  registerNormKernels();
  registerDataKernels();
  registerExtraKernels();
  registerTrainingKernels();
  // Optimizer steps, gradient clipping and zeroGrad on GPU parameters (src/optim/device-optim.ts).
  registerOptimKernels('webgpu', webgpuOptimKernels);
}
