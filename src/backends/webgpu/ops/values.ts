/** Reading the few small values kernels need on the host (shapes, axes, scalar bounds) from CPU or GPU tensors. */
import { moveToDevice } from '../../../runtime/device.js';
import type { Tensor } from '../../../runtime/tensor.js';

/** `t` on the CPU: free for CPU tensors and small uploads (their shadow copy), a synchronous readback otherwise. */
export function onCpu(t: Tensor): Tensor {
  return t.device === 'cpu' ? t : moveToDevice(t, 'cpu');
}

export function readNumbers(t: Tensor): number[] {
  return Array.from(onCpu(t).numbers());
}

export function readScalar(t: Tensor): number {
  return readNumbers(t)[0]!;
}
