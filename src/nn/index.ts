/** nn: Module, layers, losses, initializers, functional API. */
export * as functional from './functional/index.js';
export * as init from './init.js';
export * from './layers/index.js';
export * from './losses/index.js';
export { addIndent, type LoadResult, Module, type StateDict } from './module.js';
export { Parameter } from './parameter.js';
