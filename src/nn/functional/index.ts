/** nn.functional: PyTorch's functional API (camelCase names) over the nn ops of the registry. */
export type { IntOrTuple } from './args.js';
export * from './conv.js';
export * from './dropout.js';
export * from './interpolate.js';
export * from './normalization.js';
export * from './pooling.js';
