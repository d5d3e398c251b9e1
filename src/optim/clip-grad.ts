/** Gradient clipping, as torch.nn.utils.clip_grad_norm_ / clip_grad_value_: gradients change in place. */
import { encodeNumber, fromNumbers, needsConversion } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { Tensor } from '../runtime/tensor.js';

type ParamsArg = Tensor | Iterable<Tensor>;

function paramsWithGrad(params: ParamsArg): Tensor[] {
  const list = params instanceof Tensor ? [params] : [...params];
  return list.filter((p) => p.grad !== null);
}

/** Applies `f` to every element of p.grad: in its storage when it is a contiguous CPU tensor, else into a new one. */
function mapGrad(p: Tensor, f: (v: number) => number): void {
  const g = p.grad!;
  const vals = g.numbers();
  const out = new Float64Array(vals.length);
  for (let i = 0; i < vals.length; i++) out[i] = f(vals[i]!);
  if (g.device === 'cpu' && g.isContiguous() && g.storage.data !== undefined && g.isLeaf) {
    const data = g.storage.data as Float64Array;
    if (needsConversion(g.dtype)) {
      for (let i = 0; i < out.length; i++) (data as any)[g.offset + i] = encodeNumber(g.dtype, out[i]!);
    } else data.set(out, g.offset);
  } else {
    p.grad = Tensor.fromData(fromNumbers(g.dtype, out), g.shape, g.dtype);
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
  let total = 0;
  if (p === Number.POSITIVE_INFINITY) {
    for (const q of withGrad) {
      for (const v of q.grad!.numbers()) {
        const a = Math.abs(v);
        if (a > total || Number.isNaN(a)) total = a;
      }
    }
  } else {
    // Sum |g|^p over every element of every gradient: the same as the norm of the per-tensor norms.
    let acc = 0;
    for (const q of withGrad) for (const v of q.grad!.numbers()) acc += p === 2 ? v * v : Math.abs(v) ** p;
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
  if (coef < 1 || Number.isNaN(coef)) for (const q of withGrad) mapGrad(q, (v) => v * coef);
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
  for (const q of paramsWithGrad(params)) mapGrad(q, (v) => Math.min(Math.max(v, -c), c));
}
