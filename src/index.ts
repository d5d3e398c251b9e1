/** Tessera's public API. */

export * as ops from './ops/index.js';
export * from './runtime/index.js';
