/** Loss functions and their Module forms. */
export * from './binary.js';
export * from './classification.js';
export * from './kl.js';
export * from './modules.js';
export type { Reduction } from './reduction.js';
export * from './regression.js';
