/**
 * Ops whose CPU kernels only build views (Reshape, Flatten, Squeeze, Unsqueeze, Transpose, Slice,
 * Expand, Identity, Split) or read only metadata (Shape, Size): on WebGPU they run the same code on
 * the GPU tensor, so the result is a view of the same GPU buffer (no copy, no launch) with exactly
 * the CPU semantics. Small int inputs (shapes, axes, starts...) are read on the host. Consumers pack
 * strided views when they need contiguous data. Shape and Size give CPU tensors, as ONNX Runtime
 * keeps shape tensors in CPU memory, so shape arithmetic stays on the CPU.
 */
import { type Attrs, findOp, type KernelContext, type OpInputs } from '../../../ops/registry.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { packed } from '../runtime.js';
import { onCpu } from './values.js';

/** Runs the op's CPU kernel with input 0 on the GPU (packed when `pack`) and the other inputs on the host. */
function viewKernel(name: string, pack: boolean) {
  return (inputs: OpInputs, attrs: Attrs, ctx: KernelContext): Tensor[] => {
    const def = findOp(name, Number.isFinite(ctx.opset) ? ctx.opset : undefined)!;
    const args = inputs.map((t, i) => (t === undefined ? t : i === 0 ? (pack ? packed(t) : t) : onCpu(t)));
    return def.kernels.cpu(args, attrs, { ...ctx, device: 'webgpu' });
  };
}

export function registerLayoutKernels(): void {
  for (const name of ['Transpose', 'Squeeze', 'Unsqueeze', 'Slice', 'Expand', 'Split'])
    gpuKernel(name, viewKernel(name, false));
  // Reshape and Flatten view contiguous data; Identity's `copy` path packs too.
  for (const name of ['Reshape', 'Flatten', 'Identity']) gpuKernel(name, viewKernel(name, true));
  // Only the shape is read: the GPU tensor goes in as it is and a CPU tensor comes out.
  for (const name of ['Shape', 'Size']) gpuKernel(name, viewKernel(name, false));
}
