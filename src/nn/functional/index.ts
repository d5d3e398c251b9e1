/** nn.functional: PyTorch's functional API (camelCase names) over the nn ops of the registry. */
export type { IntOrTuple } from './args.js';
export * from './conv.js';
export * from './dropout.js';
export * from './interpolate.js';
export * from './normalization.js';
export * from './pooling.js';
// Loss functions, as torch.nn.functional has them (F.cross_entropy -> functional.crossEntropy).
export * from '../losses/binary.js';
export * from '../losses/classification.js';
export * from '../losses/kl.js';
export * from '../losses/regression.js';
