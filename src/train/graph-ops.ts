/**
 * Training-mode forms of the ops whose behaviour depends on the mode, for imported graphs. An
 * inference model says BatchNormalization (often at an opset before 14, which has no training
 * mode) and Dropout (often before 12, always the identity); TrainingSession's training graph
 * rewrites those nodes to these ops of the 'tessera.training' domain, which run the newest
 * registry definition in training mode: its kernel and its gradient, so the tape works as usual.
 * The inference graph is left as it was, and export writes that one.
 */

import {
  type Attrs,
  findOp,
  type GradContext,
  type KernelContext,
  type OpDef,
  type OpInputs,
  registerOp,
} from '../ops/registry.js';
import { full, scalar } from '../runtime/creation.js';
import { TesseraError } from '../runtime/errors.js';
import type { Tensor } from '../runtime/tensor.js';

export const TRAINING_DOMAIN = 'tessera.training';

function newest(name: string): OpDef {
  const d = findOp(name);
  if (!d?.grad)
    throw new TesseraError('INTERNAL', `training graph: op ${name} has no gradient in the registry`);
  return d;
}

// ---- BatchNormalization: batch statistics, and the updated running statistics as outputs 1 and 2.

export function bnAttrs(def: OpDef, attrs: Attrs): Attrs {
  const a: Attrs = { ...(def.defaults ?? {}) };
  if (attrs.epsilon !== undefined) a.epsilon = attrs.epsilon;
  if (attrs.momentum !== undefined) a.momentum = attrs.momentum;
  a.training_mode = 1;
  return a;
}

registerOp({
  name: 'BatchNormalization',
  domain: TRAINING_DOMAIN,
  minInputs: 5,
  maxInputs: 5,
  kernels: {
    cpu: (inputs: OpInputs, attrs: Attrs, ctx: KernelContext) => {
      const def = newest('BatchNormalization');
      const a = bnAttrs(def, attrs);
      const c = { ...ctx, op: 'BatchNormalization', opset: def.since ?? 1 };
      def.validate?.(inputs, a, c);
      return def.kernels.cpu(inputs, a, c);
    },
  },
  grad: (g: GradContext, dys) => {
    const def = newest('BatchNormalization');
    return def.grad!({ ...g, attrs: bnAttrs(def, g.attrs), opset: def.since ?? 1 }, dys);
  },
});

// ---- Dropout: opset-12 form with training_mode = true; older nodes carry the ratio as an attribute.

function dropoutInputs(inputs: OpInputs, attrs: Attrs): OpInputs {
  const x = inputs[0];
  if (!x) throw new TesseraError('INVALID_ARGUMENT', 'Dropout: input 0 is required');
  const ratio = inputs[1] ?? scalar(typeof attrs.ratio === 'number' ? attrs.ratio : 0.5, x.dtype);
  return [x, ratio, full([], true, { dtype: 'bool' })];
}

registerOp({
  name: 'Dropout',
  domain: TRAINING_DOMAIN,
  minInputs: 1,
  maxInputs: 3,
  kernels: {
    cpu: (inputs, attrs, ctx) => {
      const def = newest('Dropout');
      const seed = typeof attrs.seed === 'number' ? { seed: attrs.seed } : {};
      return def.kernels.cpu(dropoutInputs(inputs, attrs), seed, {
        ...ctx,
        op: 'Dropout',
        opset: def.since ?? 1,
      });
    },
  },
  grad: (g, dys) => {
    const def = newest('Dropout');
    const all = def.grad!({ ...g, inputs: dropoutInputs(g.inputs, g.attrs), opset: def.since ?? 1 }, dys);
    return g.inputs.map((_, i) => (i === 0 ? (all[0] as Tensor | null) : null));
  },
});
