/**
 * Explicit CPU fallback for the WebGPU backend. An op with no WebGPU kernel at all falls back in
 * the registry's `dispatch`; a WebGPU kernel that cannot serve a case (float64, int64 arithmetic,
 * training-mode dropout...) returns null and comes here. Both count in the registry's
 * `fallbackCounts` under the op name and warn once per op, and both copy inputs to the CPU and the
 * outputs back, so the copies are visible in the transfer counters too.
 */

import {
  type Attrs,
  fallbackCounts,
  findOp,
  type Kernel,
  type KernelContext,
  type OpInputs,
  registerKernel,
} from '../../ops/registry.js';
import { moveToDevice } from '../../runtime/device.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { gpuHolds } from './repr.js';
import { BindingLimitError } from './runtime.js';

const warned = new Set<string>();

/** Runs the CPU kernel of op `name` (the definition valid at ctx.opset) with copies both ways. */
export function runOnCpu(
  name: string,
  domain: string | undefined,
  inputs: OpInputs,
  attrs: Attrs,
  ctx: KernelContext,
  why: string,
): Tensor[] {
  fallbackCounts.set(name, (fallbackCounts.get(name) ?? 0) + 1);
  const key = `${domain ?? ''}::${name}::${why}`;
  if (!warned.has(key)) {
    warned.add(key);
    process.emitWarning(`op ${name} on webgpu ${why}: running on cpu with copies`, 'TesseraFallback');
  }
  const def = findOp(name, Number.isFinite(ctx.opset) ? ctx.opset : undefined, domain);
  if (!def) throw new TesseraError('INTERNAL', `webgpu fallback: op ${name} is not registered`);
  const cpuInputs = inputs.map((t) => (t ? moveToDevice(t, 'cpu') : t));
  return def.kernels.cpu(cpuInputs, attrs, { ...ctx, device: 'cpu' }).map((t) => moveToDevice(t, 'webgpu'));
}

/** A WebGPU kernel body: its outputs, or a reason string when this case must run on the CPU. */
export type GpuKernel = (inputs: OpInputs, attrs: Attrs, ctx: KernelContext) => Tensor[] | string;

/** Registers `body` as the WebGPU kernel of op `name` (all its definitions unless narrowed), with the CPU fallback wired in. */
export function gpuKernel(
  name: string,
  body: GpuKernel,
  opts: { since?: number; minSince?: number; domain?: string } = {},
): void {
  const kernel: Kernel = (inputs, attrs, ctx) => {
    let r: Tensor[] | string;
    const odd = inputs.find((t) => t instanceof Tensor && !gpuHolds(t.dtype));
    try {
      r = odd ? `with ${odd.dtype}` : body(inputs, attrs, ctx);
    } catch (e) {
      if (!(e instanceof BindingLimitError)) throw e;
      r = `with a buffer over the adapter's binding limit (${e.limit} bytes)`;
    }
    return typeof r === 'string' ? runOnCpu(name, opts.domain, inputs, attrs, ctx, r) : r;
  };
  if (registerKernel(name, 'webgpu', kernel, opts) === 0) {
    throw new TesseraError(
      'INTERNAL',
      `webgpu: op ${opts.domain ? `${opts.domain}::` : ''}${name} is not registered`,
    );
  }
}
