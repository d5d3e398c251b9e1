/** Optimizers, learning-rate schedulers, gradient clipping. */
export { Adagrad, type AdagradOptions } from './adagrad.js';
export { Adam, type AdamOptions } from './adam.js';
export { AdamW, type AdamWOptions } from './adamw.js';
export { clipGradNorm, clipGradValue } from './clip-grad.js';
export {
  type DeviceOptimKernels,
  type DeviceState,
  optimKernels,
  registerOptimKernels,
} from './device-optim.js';
export { LRScheduler, type LrFormula, type Scheduler, type SchedulerStateDict } from './lr-scheduler.js';
export {
  type BaseHyper,
  type Closure,
  deviceState,
  Optimizer,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type Params,
} from './optimizer.js';
export { RMSprop, type RMSpropOptions } from './rmsprop.js';
export {
  ConstantLR,
  CosineAnnealingLR,
  ExponentialLR,
  LambdaLR,
  LinearLR,
  MultiStepLR,
  PolynomialLR,
  StepLR,
} from './schedulers.js';
export { SequentialLR } from './sequential-lr.js';
export { SGD, type SGDOptions } from './sgd.js';
