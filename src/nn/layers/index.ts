/** Every layer module. */
export * from './activation.js';
export * from './container.js';
export * from './conv.js';
export * from './dropout.js';
export * from './embedding.js';
export * from './flatten.js';
export * from './linear.js';
export * from './normalization.js';
export * from './pooling.js';
