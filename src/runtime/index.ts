/** The runtime: tensors, autograd and their wiring to the op registry. */
import '../ops/index.js';
import './format.js';
import './device.js';
import './methods/index.js';
import { copyContiguous } from '../backends/cpu/elementwise.js';
import { dispatch1 } from '../ops/registry.js';
import { setAutogradOps } from './autograd.js';
import { onesLike } from './creation.js';
import type { Tensor } from './tensor.js';

setAutogradOps({
  add: (a: Tensor, b: Tensor) => dispatch1('Add', [a, b]),
  onesLike: (t: Tensor) => onesLike(t),
  clone: (t: Tensor) => (t.device === 'cpu' ? copyContiguous(t) : dispatch1('Identity', [t], { copy: 1 })),
});

export * from './autograd.js';
export * from './creation.js';
export { hasDevice, moveToDevice, readToCpu, registerDeviceBackend } from './device.js';
export * from './dtype.js';
export * from './errors.js';
export { formatTensor } from './format.js';
export * from './random.js';
export * from './shape.js';
export * from './tensor.js';
export { gradcheck, type GradcheckOptions } from './gradcheck.js';
// Top-level functions that go with the method groups (where, cat, stack, matmul, ...).
export * from './methods/math.js';
export * from './methods/compare.js';
export * from './methods/reduce.js';
export * from './methods/linalg.js';
export * from './methods/shape.js';
export * from './methods/indexing.js';
// Graph IR, executor and InferenceSession (the ONNX runtime face).
export * from './graph.js';
export * from './session.js';
