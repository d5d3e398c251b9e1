/**
 * Dropout. Opset 12+: optional `ratio` (default 0.5) and `training_mode` (default false) inputs and
 * a `seed` attribute; in training each element is kept with probability 1 - ratio and scaled by
 * 1 / (1 - ratio), and the bool mask output says which were kept. Inference (and every opset
 * before 12, whatever `is_test` says, as ONNX Runtime does) returns a copy of the input (a view in
 * a graph) and an all-true mask (of X's type before opset 10). Random draws come from
 * src/runtime/random.ts.
 */
import { copyContiguous } from '../../backends/cpu/elementwise.js';
import { full } from '../../runtime/creation.js';
import type { DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { defaultGenerator, Generator } from '../../runtime/random.js';
import { Tensor } from '../../runtime/tensor.js';
import { expectFloat, input } from '../helpers.js';
import { type Attrs, dispatch1, registerOp } from '../registry.js';
import { floats, output } from './kernel-io.js';

function scalarOf(op: string, what: string, t: Tensor | undefined, def: number): number {
  if (!t) return def;
  if (t.numel() !== 1)
    throw new TesseraError('SHAPE_MISMATCH', `${op}: ${what} must be a scalar, got ${t.numel()} elements`);
  return Number(t.item());
}

/**
 * Inference: a copy of the input and an all-kept mask. A graph node (the executor passes its output
 * count) gets a view of the input instead, as Identity gives one, and the mask only when the node
 * has that output: squeezenet's Dropout was a copy and a mask nobody read.
 */
function keepAll(x: Tensor, maskDtype: DType, numOutputs?: number): Tensor[] {
  const mask = () => full(x.shape, maskDtype === 'bool' ? true : 1, { dtype: maskDtype });
  if (numOutputs === undefined) return [copyContiguous(x), mask()];
  const y = x.asStrided(x.shape, x.strides);
  return numOutputs < 2 ? [y] : [y, mask()];
}

/** Training-mode dropout: [output, bool mask]. */
export function dropoutTrain(x: Tensor, ratio: number, attrs: Attrs): Tensor[] {
  const seed = attrs.seed;
  const gen = typeof seed === 'number' ? new Generator(Math.trunc(seed)) : defaultGenerator;
  const xs = floats(x);
  const n = xs.length;
  const y = new Float64Array(n);
  const mask = new Uint8Array(n);
  const scale = dropoutScale(ratio);
  for (let i = 0; i < n; i++) {
    if (gen.uniform() >= ratio) {
      mask[i] = 1;
      y[i] = xs[i]! * scale;
    }
  }
  return [output(y, x.shape, x.dtype), Tensor.fromData(mask, x.shape, 'bool')];
}

function dropoutScale(ratio: number): number {
  return ratio < 1 ? 1 / (1 - ratio) : 0;
}

for (const since of [1, 10]) {
  registerOp({
    name: 'Dropout',
    since,
    minInputs: 1,
    maxInputs: 1,
    kernels: {
      cpu: (inputs, _attrs, ctx) => {
        const x = input(inputs, 0, ctx.op);
        return keepAll(x, since >= 10 ? 'bool' : x.dtype, ctx.numOutputs);
      },
    },
    grad: (_ctx, [dy]) => [dy],
  });
}

function trainingArgs(op: string, inputs: readonly (Tensor | undefined)[]) {
  const ratio = scalarOf(op, 'ratio', inputs[1], 0.5);
  const training = scalarOf(op, 'training_mode', inputs[2], 0) !== 0;
  if (!(ratio >= 0 && ratio <= 1))
    throw new TesseraError('INVALID_ARGUMENT', `${op}: ratio must be in [0, 1], got ${ratio}`);
  return { ratio, training: training && ratio > 0 };
}

registerOp({
  name: 'Dropout',
  since: 12,
  minInputs: 1,
  maxInputs: 3,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const x = input(inputs, 0, ctx.op);
      expectFloat(ctx.op, 'data', x);
      const { ratio, training } = trainingArgs(ctx.op, inputs);
      return training ? dropoutTrain(x, ratio, attrs) : keepAll(x, 'bool', ctx.numOutputs);
    },
  },
  grad: ({ inputs, outputs }, [dy]) => {
    const x = inputs[0]!;
    const { ratio, training } = trainingArgs('Dropout', inputs);
    if (!training) return [dy, null, null];
    const kept = dispatch1('Mul', [dy!, dispatch1('Cast', [outputs[1]!], { to: x.dtype })]);
    return [
      dispatch1('Mul', [kept, full([], dropoutScale(ratio), { dtype: x.dtype, device: x.device })]),
      null,
      null,
    ];
  },
});
