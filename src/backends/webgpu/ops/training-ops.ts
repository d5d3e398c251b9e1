/**
 * WebGPU kernels of the training-mode ops TrainingSession's training graph uses
 * (src/train/graph-ops.ts, domain 'tessera.training'). Its BatchNormalization runs the newest
 * BatchNormalization definition in training mode, here its WebGPU kernel (norm-ops.ts: batch
 * mean and biased variance per channel as two reductions, one normalize pass, the running
 * averages as two small elementwise passes), so a training step keeps X, Y and the running
 * statistics on the GPU. The gradient needs nothing here: the registry's gradient is written
 * with ops that have WebGPU kernels (Moments, ReduceSum, Mul, Sub, Expand...).
 */
import { findOp } from '../../../ops/registry.js';
import { TesseraError } from '../../../runtime/errors.js';
import { bnAttrs, TRAINING_DOMAIN } from '../../../train/graph-ops.js';
import { gpuKernel } from '../fallback.js';

export function registerTrainingKernels(): void {
  gpuKernel(
    'BatchNormalization',
    (inputs, attrs, ctx) => {
      const def = findOp('BatchNormalization');
      const gpu = def?.kernels.webgpu;
      if (!def || !gpu) throw new TesseraError('INTERNAL', 'webgpu: BatchNormalization has no WebGPU kernel');
      const a = bnAttrs(def, attrs);
      const c = { ...ctx, op: 'BatchNormalization', opset: def.since ?? 1 };
      def.validate?.(inputs, a, c);
      // The definition's own WebGPU kernel, which falls back (counted) where it cannot serve a case.
      return gpu(inputs, a, c);
    },
    { domain: TRAINING_DOMAIN },
  );
}
