/**
 * Optimizer specifications: an Optimizer instance, a factory of one, or plain data
 * (`{ name: 'adam', lr: 1e-3, betas: [0.9, 0.999] }`, snake_case keys accepted) that a training
 * job can carry in JSON and a worker thread can rebuild.
 */
import { Adagrad, Adam, AdamW, type Optimizer, RMSprop, SGD } from '../optim/index.js';
import { TesseraError } from '../runtime/errors.js';
import type { Tensor } from '../runtime/tensor.js';

export type OptimizerName = 'sgd' | 'adam' | 'adamw' | 'rmsprop' | 'adagrad';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['sgd', 'adam', 'adamw', 'rmsprop', 'adagrad'];

/** `{ name, ...hyper-parameters }`; unknown hyper-parameter names are rejected by name. */
export type OptimizerConfig = { name: OptimizerName | string } & Record<string, unknown>;

export type OptimizerSpec =
  | Optimizer<any>
  | ((params: Tensor[]) => Optimizer<any>)
  | OptimizerConfig
  | OptimizerName;

const HYPER: Record<OptimizerName, readonly string[]> = {
  sgd: ['lr', 'momentum', 'dampening', 'weightDecay', 'nesterov', 'maximize'],
  adam: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
  adamw: ['lr', 'betas', 'eps', 'weightDecay', 'amsgrad', 'maximize'],
  rmsprop: ['lr', 'alpha', 'eps', 'weightDecay', 'momentum', 'centered', 'maximize'],
  adagrad: ['lr', 'lrDecay', 'weightDecay', 'initialAccumulatorValue', 'eps', 'maximize'],
};

const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

export function optimizerName(s: string): OptimizerName {
  const key = String(s)
    .toLowerCase()
    .replace(/[_\s-]/g, '');
  const found = OPTIMIZER_NAMES.find((n) => n === key);
  if (!found) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `optimizer: unknown optimizer '${s}', expected one of ${OPTIMIZER_NAMES.join(', ')}`,
    );
  }
  return found;
}

/** Whether a spec is plain data (can be sent to a worker or stored in a checkpoint). */
export function isOptimizerConfig(spec: OptimizerSpec): spec is OptimizerConfig | OptimizerName {
  return (
    typeof spec === 'string' ||
    (typeof spec === 'object' && spec !== null && 'name' in spec && !('paramGroups' in spec))
  );
}

/** Builds the optimizer a spec describes over `params`. */
export function buildOptimizer(spec: OptimizerSpec, params: Tensor[]): Optimizer<any> {
  if (typeof spec === 'function') return spec(params);
  if (!isOptimizerConfig(spec)) return spec as Optimizer<any>;
  const config = typeof spec === 'string' ? { name: spec } : spec;
  const name = optimizerName(config.name);
  const hyper: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'name') continue;
    const key = camel(k);
    if (!HYPER[name].includes(key)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `optimizer: '${k}' is not a hyper-parameter of ${name}; it takes ${HYPER[name].join(', ')}`,
      );
    }
    hyper[key] = v;
  }
  if (params.length === 0)
    throw new TesseraError('INVALID_ARGUMENT', 'optimizer: there are no trainable parameters');
  switch (name) {
    case 'sgd':
      return new SGD(params, hyper);
    case 'adam':
      return new Adam(params, hyper);
    case 'adamw':
      return new AdamW(params, hyper);
    case 'rmsprop':
      return new RMSprop(params, hyper);
    case 'adagrad':
      return new Adagrad(params, hyper);
  }
}
