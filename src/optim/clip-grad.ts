/**
 * Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_: gradients change in place.
 * Gradients on a device with optimizer kernels (webgpu) are reduced and rescaled there: the norm
 * costs one 4-byte read-back per device, the rescaling none.
 */
import { encodeNumber, fromNumbers, needsConversion } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { type Device, Tensor } from '../runtime/tensor.js';
import { type DeviceOptimKernels, optimKernels } from './device-optim.js';

type ParamsArg = Tensor | Iterable<Tensor>;

function paramsWithGrad(params: ParamsArg): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  return list.filter((p) => p.grad !== null);
}

/** The device kernels that can change p.grad in place, if it is a contiguous leaf on such a device. */
function inPlaceKernels(p: Tensor): DeviceOptimKernels | undefined {
  const g = p.grad!;
  if (g.device === 'cpu' || !g.isContiguous() || !g.isLeaf) return undefined;
  const k = optimKernels(g.device);
  return k?.supports(g.dtype) ? k : undefined;
}

/** Device gradients whose device has kernels for their dtype, by device; the others are read on the CPU. */
function splitByDevice(grads: Tensor[]): { host: Tensor[]; devices: Map<Device, Tensor[]> } {
  const host: Tensor[] = [];
  const devices = new Map<Device, Tensor[]>();
  for (const g of grads) {
    const k = g.device === 'cpu' ? undefined : optimKernels(g.device);
    if (!k?.supports(g.dtype)) host.push(g);
    else {
      let l = devices.get(g.device);
      if (!l) devices.set(g.device, (l = []));
      l.push(g);
    }
  }
  return { host, devices };
}

/** Applies `f` to every element of p.grad: in its storage when it is a contiguous CPU tensor, else into a new one (on its device). */
function mapGrad(p: Tensor, f: (v: number) => number): void {
  const g = p.grad!;
  const vals = (g.device === 'cpu' ? g : g.to('cpu')).numbers();
  const out = new Float64Array(vals.length);
  for (let i = 0; i < vals.length; i++) out[i] = f(vals[i]!);
  if (g.device === 'cpu' && g.isContiguous() && g.storage.data !== undefined && g.isLeaf) {
    const data = g.storage.data as Float64Array;
    if (needsConversion(g.dtype)) {
      for (let i = 0; i < out.length; i++) (data as any)[g.offset + i] = encodeNumber(g.dtype, out[i]!);
    } else data.set(out, g.offset);
  } else {
    const t = Tensor.fromData(fromNumbers(g.dtype, out), g.shape, g.dtype);
    p.grad = g.device === 'cpu' ? t : t.to(g.device);
  }
}

/**
 * Rescales the gradients of `params` so that their joint `normType`-norm (the norm of the vector of
 * all gradient elements) is at most `maxNorm`: each is multiplied by min(1, maxNorm / (total + 1e-6)).
 * Returns the total norm before clipping. `normType` is a positive number or Infinity ('inf').
 */
export function clipGradNorm(
  params: ParamsArg,
  maxNorm: number,
  normType: number | 'inf' = 2,
  errorIfNonfinite = false,
): number {
  const p = normType === 'inf' ? Number.POSITIVE_INFINITY : normType;
  if (typeof p !== 'number' || !(p > 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `clipGradNorm: normType must be a positive number or Infinity, got ${String(normType)}`,
    );
  }
  if (typeof maxNorm !== 'number' || Number.isNaN(maxNorm)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `clipGradNorm: maxNorm must be a number, got ${String(maxNorm)}`,
    );
  }
  const withGrad = paramsWithGrad(params);
  if (withGrad.length === 0) return 0;
  const { host, devices } = splitByDevice(withGrad.map((q) => q.grad!));
  // Per device, its kernels' sum of |g|^p (or largest |g|) over its gradients, read back once.
  const onDevices = [...devices].map(([d, gs]) => optimKernels(d)!.sumPow(gs, p));
  const values = (g: Tensor) => (g.device === 'cpu' ? g : g.to('cpu')).numbers();
  let total = 0;
  if (p === Number.POSITIVE_INFINITY) {
    for (const g of host) {
      for (const v of values(g)) {
        const a = Math.abs(v);
        if (a > total || Number.isNaN(a)) total = a;
      }
    }
    for (const a of onDevices) if (a > total || Number.isNaN(a)) total = a;
  } else {
    // Sum |g|^p over every element of every gradient: the same as the norm of the per-tensor norms.
    let acc = 0;
    for (const g of host) for (const v of values(g)) acc += p === 2 ? v * v : Math.abs(v) ** p;
    for (const a of onDevices) acc += a;
    total = p === 2 ? Math.sqrt(acc) : p === 1 ? acc : acc ** (1 / p);
  }
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `clipGradNorm: the total norm of order ${p} of the gradients is ${total}, so they cannot be clipped; pass errorIfNonfinite=false to clip anyway`,
    );
  }
  const coef = maxNorm / (total + 1e-6);
  // torch multiplies by the coefficient clamped to 1; multiplying by exactly 1 changes nothing.
  if (coef < 1 || Number.isNaN(coef)) {
    for (const q of withGrad) {
      const k = inPlaceKernels(q);
      if (k) k.scale(q.grad!, coef);
      else mapGrad(q, (v) => v * coef);
    }
  }
  return total;
}

/** Clamps every gradient element of `params` into [-clipValue, clipValue]. */
export function clipGradValue(params: ParamsArg, clipValue: number): void {
  if (typeof clipValue !== 'number' || !(clipValue >= 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `clipGradValue: clipValue must be a number >= 0, got ${String(clipValue)}`,
    );
  }
  const c = clipValue;
  for (const q of paramsWithGrad(params)) {
    const k = inPlaceKernels(q);
    if (k) k.clamp(q.grad!, c);
    else mapGrad(q, (v) => Math.min(Math.max(v, -c), c));
  }
}
