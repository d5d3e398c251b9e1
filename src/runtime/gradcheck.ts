/**
 * gradcheck: compares the gradients autograd computes with central finite differences in
 * float64 (as torch.autograd.gradcheck). The function's outputs are reduced with fixed random
 * weights, so every output element contributes.
 */
import { appendFileSync } from 'node:fs';
import { setDispatchObserver } from '../ops/registry.js';
import { noGrad } from './autograd.js';
import { TesseraError } from './errors.js';
import { Generator } from './random.js';
import { Tensor } from './tensor.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Seed of the output weights. */
  seed?: number;
}

type Fn = (...inputs: Tensor[]) => Tensor | Tensor[];

function outputsOf(fn: Fn, inputs: Tensor[]): Tensor[] {
  const r = fn(...inputs);
  return Array.isArray(r) ? r : [r];
}

/** Weighted sum of all float outputs, computed in float64 on plain numbers (no autograd). */
function weightedValue(outs: Tensor[], weights: Float64Array[]): number {
  let s = 0;
  outs.forEach((o, k) => {
    if (!weights[k]) return;
    const v = o.numbers();
    for (let i = 0; i < v.length; i++) s += v[i]! * weights[k]![i]!;
  });
  return s;
}

/**
 * Throws a TesseraError describing the first mismatching element; returns true when the analytical
 * and numerical gradients agree. Inputs that require grad must be contiguous float64 leaves.
 */
export function gradcheck(fn: Fn, inputs: Tensor[], opts: GradcheckOptions = {}): true {
  const eps = opts.eps ?? 1e-6;
  const atol = opts.atol ?? 1e-5;
  const rtol = opts.rtol ?? 1e-3;
  const gen = new Generator(opts.seed ?? 1234);
  for (const t of inputs) {
    if (t.requiresGrad && (t.dtype !== 'float64' || !t.isContiguous() || !t.isLeaf)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        'gradcheck: inputs requiring grad must be contiguous float64 leaves',
      );
    }
    t.grad = null;
  }
  // The ops this check exercises with gradients (recorded to TESSERA_GRADCHECK_LOG when set, so
  // scripts/gradcheck-coverage.mjs can list differentiable ops that no gradcheck covers).
  const used = new Set<string>();
  const prevObserver = setDispatchObserver((call) => {
    if (call.outputs.some((o) => o.requiresGrad)) used.add(call.name);
    prevObserver?.(call);
  });
  let outs: Tensor[];
  try {
    outs = outputsOf(fn, inputs);
  } finally {
    setDispatchObserver(prevObserver);
  }
  const weights = outs.map((o) =>
    o.requiresGrad
      ? Float64Array.from({ length: o.numel() }, () => gen.uniform() * 2 - 1)
      : (undefined as never),
  );
  // Analytical: backward of sum(w * out) for every differentiable output.
  let loss: Tensor | null = null;
  outs.forEach((o, k) => {
    if (!weights[k]) return;
    const w = Tensor.fromData(Float64Array.from(weights[k]!), o.shape, 'float64');
    const term = o.to('float64').mul(w).sum();
    loss = loss ? loss.add(term) : term;
  });
  if (!loss) throw new TesseraError('INVALID_ARGUMENT', 'gradcheck: no output requires grad');
  (loss as Tensor).backward();

  inputs.forEach((t, idx) => {
    if (!t.requiresGrad) return;
    const data = t.storage.data as Float64Array;
    const analytical = t.grad ? t.grad.numbers() : new Float64Array(t.numel());
    for (let i = 0; i < t.numel(); i++) {
      const p = t.offset + i;
      const orig = data[p]!;
      data[p] = orig + eps;
      const plus = noGrad(() => weightedValue(outputsOf(fn, inputs), weights));
      data[p] = orig - eps;
      const minus = noGrad(() => weightedValue(outputsOf(fn, inputs), weights));
      data[p] = orig;
      const numerical = (plus - minus) / (2 * eps);
      const a = analytical[i]!;
      if (!(Math.abs(a - numerical) <= atol + rtol * Math.abs(numerical))) {
        throw new TesseraError(
          'INTERNAL',
          `gradcheck: input ${idx}, element ${i}: analytical ${a} vs numerical ${numerical} (shape [${t.shape.join(', ')}])`,
        );
      }
    }
  });
  const log = process.env.TESSERA_GRADCHECK_LOG;
  if (log && used.size) appendFileSync(log, `${[...used].join('\n')}\n`);
  return true;
}
