/** Registers every op. One file per op or op family; this list is the table of contents. */
import './cast.js';
import './elementwise/arith.js';
import './elementwise/unary.js';
import './reduce/reduce-sum.js';
import './shape/reshape.js';

export type { Attrs, AttrValue, GradContext, Kernel, KernelContext, OpDef, OpInputs } from './registry.js';
export { dispatch, dispatch1, fallbackCounts, findOp, getOp, listOps, registerOp } from './registry.js';
