/**
 * ai.onnx.preview.training optimizer steps, each over n tensors at once. Inputs: R (learning rate,
 * scalar), T (update count, int64 scalar), then X1..Xn, G1..Gn and the state tensors; outputs the
 * new X's then the new states. Computed in float64 per element, written in each X's dtype.
 *
 *   Adagrad:  r = R / (1 + T decay_factor); g = norm_coefficient X + G; H' = H + g^2;
 *             X' = X - r g / (sqrt(H') + epsilon)
 *   Momentum: g = norm_coefficient X + G; b = T > 0 ? beta : 1; V' = alpha V + b g;
 *             X' = X - R V' (standard) or X - R (g + alpha V') (nesterov)
 *   Adam:     g = norm_coefficient X + G; V' = alpha V + (1 - alpha) g; H' = beta H + (1 - beta) g^2;
 *             r = T > 0 ? R sqrt(1 - beta^T) / (1 - alpha^T) : R;
 *             X' = (1 - norm_coefficient_post) (X - r V' / (sqrt(H') + epsilon))
 */
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { sameShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrFloat, attrString } from '../helpers.js';
import { type Attrs, type OpInputs, registerOp } from '../registry.js';

export const TRAINING = 'ai.onnx.preview.training';

/** Per-element update: reads x, g and the states at i, writes the new x and states. */
type Step = (x: number, g: number, states: number[], r: number, t: number) => [number, number[]];

function optimizer(op: string, nStates: number, make: (attrs: Attrs) => Step) {
  return (inputs: OpInputs, attrs: Attrs): Tensor[] => {
    const per = 2 + nStates;
    if (inputs.length < 2 + per || (inputs.length - 2) % per !== 0) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${op}: expects R, T and ${per} inputs per optimized tensor, got ${inputs.length} inputs`,
      );
    }
    const [R, T] = inputs;
    if (R?.numel() !== 1 || !isFloat(R.dtype))
      throw new TesseraError('INVALID_ARGUMENT', `${op}: R must be a float scalar`);
    if (T?.numel() !== 1 || T.dtype !== 'int64')
      throw new TesseraError('INVALID_ARGUMENT', `${op}: T must be an int64 scalar`);
    const r = R.numbers()[0]!;
    const t = T.numbers()[0]!;
    const n = (inputs.length - 2) / per;
    const step = make(attrs);
    const xs: Tensor[] = [];
    const states: Tensor[][] = Array.from({ length: nStates }, () => []);
    for (let k = 0; k < n; k++) {
      const group = Array.from({ length: per }, (_, j) => inputs[2 + j * n + k]);
      const [x, g, ...ss] = group;
      if (!x || !g || ss.some((s) => !s))
        throw new TesseraError('INVALID_ARGUMENT', `${op}: tensor ${k} has a missing input`);
      for (const s of [g, ...ss] as Tensor[]) {
        if (!sameShape(s.shape, x.shape) || s.dtype !== x.dtype) {
          throw new TesseraError(
            'SHAPE_MISMATCH',
            `${op}: the gradient and states of tensor ${k} must be ${x.dtype} of shape [${x.shape.join(', ')}], got ${s.dtype} of shape [${s.shape.join(', ')}]`,
          );
        }
      }
      if (!isFloat(x.dtype))
        throw new TesseraError('DTYPE_MISMATCH', `${op}: X${k + 1} must be a float tensor, got ${x.dtype}`);
      const xv = x.numbers();
      const gv = g.numbers();
      const sv = (ss as Tensor[]).map((s) => s.numbers());
      const nx = new Float64Array(xv.length);
      const ns = sv.map(() => new Float64Array(xv.length));
      for (let i = 0; i < xv.length; i++) {
        const [x1, s1] = step(
          xv[i]!,
          gv[i]!,
          sv.map((a) => a[i]!),
          r,
          t,
        );
        nx[i] = x1;
        s1.forEach((v, j) => {
          ns[j]![i] = v;
        });
      }
      xs.push(Tensor.fromData(fromNumbers(x.dtype, nx), x.shape, x.dtype));
      ns.forEach((a, j) => {
        states[j]!.push(Tensor.fromData(fromNumbers(x.dtype, a), x.shape, x.dtype));
      });
    }
    return [...xs, ...states.flat()];
  };
}

registerOp({
  name: 'Adagrad',
  domain: TRAINING,
  since: 1,
  minInputs: 5,
  defaults: { decay_factor: 0, epsilon: 1e-6, norm_coefficient: 0 },
  kernels: {
    cpu: optimizer('Adagrad', 1, (a) => {
      const decay = attrFloat(a, 'decay_factor');
      const eps = attrFloat(a, 'epsilon');
      const norm = attrFloat(a, 'norm_coefficient');
      return (x, g, [h], r, t) => {
        const lr = r / (1 + t * decay);
        const gr = norm * x + g;
        const h1 = h! + gr * gr;
        return [x - (lr * gr) / (Math.sqrt(h1) + eps), [h1]];
      };
    }),
  },
});

registerOp({
  name: 'Momentum',
  domain: TRAINING,
  since: 1,
  minInputs: 5,
  kernels: {
    cpu: optimizer('Momentum', 1, (a) => {
      const alpha = attrFloat(a, 'alpha');
      const beta = attrFloat(a, 'beta');
      const norm = attrFloat(a, 'norm_coefficient');
      const mode = attrString(a, 'mode');
      if (mode !== 'standard' && mode !== 'nesterov')
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Momentum: mode must be 'standard' or 'nesterov', got '${mode}'`,
        );
      return (x, g, [v], r, t) => {
        const gr = norm * x + g;
        const v1 = alpha * v! + (t > 0 ? beta : 1) * gr;
        return [mode === 'standard' ? x - r * v1 : x - r * (gr + alpha * v1), [v1]];
      };
    }),
  },
});

registerOp({
  name: 'Adam',
  domain: TRAINING,
  since: 1,
  minInputs: 6,
  defaults: { alpha: 0.9, beta: 0.999, epsilon: 1e-6, norm_coefficient: 0, norm_coefficient_post: 0 },
  kernels: {
    cpu: optimizer('Adam', 2, (a) => {
      const alpha = attrFloat(a, 'alpha');
      const beta = attrFloat(a, 'beta');
      const eps = attrFloat(a, 'epsilon');
      const norm = attrFloat(a, 'norm_coefficient');
      const post = attrFloat(a, 'norm_coefficient_post');
      return (x, g, [v, h], r, t) => {
        const gr = norm * x + g;
        const v1 = alpha * v! + (1 - alpha) * gr;
        const h1 = beta * h! + (1 - beta) * gr * gr;
        const lr = t > 0 ? (r * Math.sqrt(1 - beta ** t)) / (1 - alpha ** t) : r;
        return [(1 - post) * (x - (lr * v1) / (Math.sqrt(h1) + eps)), [v1, h1]];
      };
    }),
  },
});
