/**
 * Optimizers on devices other than the CPU. A backend (the WebGPU one, `initWebGPU`) registers
 * fused update kernels here; an optimizer step then updates a parameter that lives on that device
 * in place, with its state (momentum buffers, Adam's moments...) as device tensors, so a training
 * loop reads nothing back. Each kernel computes the same rule as the CPU `update` of its optimizer,
 * in the device's arithmetic (f32 on WebGPU), with the per-step scalars (bias corrections, the
 * decayed learning rate) computed here in float64 and passed in.
 */
import type { DType } from '../runtime/dtype.js';
import type { Device, Tensor } from '../runtime/tensor.js';

/** A state buffer on the device; `fresh` when just allocated (the kernel starts it from the rule's initial value instead of reading it). */
export interface DeviceState {
  t: Tensor;
  fresh: boolean;
}

export interface SGDStep {
  lr: number;
  momentum: number;
  dampening: number;
  weightDecay: number;
  nesterov: boolean;
  maximize: boolean;
}

export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** AdamW: p <- p (1 - lr wd) instead of g <- g + wd p. */
  decoupled: boolean;
  maximize: boolean;
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  bc2Sqrt: number;
}

export interface RMSpropStep {
  lr: number;
  alpha: number;
  eps: number;
  weightDecay: number;
  momentum: number;
  maximize: boolean;
}

export interface AdagradStep {
  /** lr / (1 + (t - 1) lrDecay) */
  clr: number;
  weightDecay: number;
  eps: number;
  initialAccumulatorValue: number;
  maximize: boolean;
}

/** What a device backend provides. `p` is a contiguous device parameter, `g` its gradient on the same device with its shape. */
export interface DeviceOptimKernels {
  /** True when the fused kernels compute on parameters (and gradients) of this dtype. */
  supports(dtype: DType): boolean;
  /** A new state buffer for `p` (its shape, float32), contents undefined until a kernel writes it. */
  alloc(p: Tensor): Tensor;
  /** A state buffer for `p` holding `values` (state restored by loadStateDict, or moved from the CPU). */
  fromValues(p: Tensor, values: ArrayLike<number>): Tensor;
  /** Writes `values` into `p`'s storage in place (rounded to its dtype). */
  write(p: Tensor, values: Float64Array): void;
  /** Copies `src` (any layout and float dtype, same element count, on the device) into contiguous `dst` in place, rounded to dst's dtype. */
  assign(dst: Tensor, src: Tensor): void;
  sgd(p: Tensor, g: Tensor, momentumBuffer: DeviceState | null, h: SGDStep): void;
  adam(
    p: Tensor,
    g: Tensor,
    expAvg: DeviceState,
    expAvgSq: DeviceState,
    maxExpAvgSq: DeviceState | null,
    h: AdamStep,
  ): void;
  rmsprop(
    p: Tensor,
    g: Tensor,
    squareAvg: DeviceState,
    gradAvg: DeviceState | null,
    momentumBuffer: DeviceState | null,
    h: RMSpropStep,
  ): void;
  adagrad(p: Tensor, g: Tensor, sum: DeviceState, h: AdagradStep): void;
  /** Over every element of every tensor: the sum of |x|^order, or the largest |x| (NaN wins) when order is Infinity. One small read-back. */
  sumPow(ts: readonly Tensor[], order: number): number;
  /** In place on a contiguous device tensor: x <- x * c. */
  scale(t: Tensor, c: number): void;
  /** In place: x <- min(max(x, -c), c). */
  clamp(t: Tensor, c: number): void;
  /** In place: every element <- v. */
  fill(t: Tensor, v: number): void;
}

const registered = new Map<Device, DeviceOptimKernels>();

export function registerOptimKernels(device: Device, k: DeviceOptimKernels): void {
  registered.set(device, k);
}

export function optimKernels(device: Device): DeviceOptimKernels | undefined {
  return registered.get(device);
}
