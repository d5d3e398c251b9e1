/** Registers every op. Each group's index lists its files: the table of contents of the op set. */
import './cast.js';
import './elementwise/index.js';
import './reduce/index.js';
import './linalg/index.js';
import './shape/index.js';
import './nn/index.js';
import './control/index.js';

export { dispatch, dispatch1, fallbackCounts, findOp, getOp, listOps, registerOp } from './registry.js';
export type { Attrs, AttrValue, GradContext, Kernel, KernelContext, OpDef, OpInputs } from './registry.js';
