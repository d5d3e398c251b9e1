/** Registers every op. Each group's index lists its files: the table of contents of the op set. */
import './cast.js';
import './elementwise/index.js';
import './reduce/index.js';
import './linalg/index.js';
import './shape/index.js';
import './nn/index.js';
import './control/index.js';
import './transformer/index.js';
import './loss/index.js';
import './vision/index.js';
import './signal/index.js';
import './text/index.js';
import './ml/index.js';
import './rnn/index.js';
import './misc/index.js';
import './training/index.js';
import './quant/index.js';

export { dispatch, dispatch1, fallbackCounts, findOp, getOp, listOps, registerOp } from './registry.js';
export type { Attrs, AttrValue, GradContext, Kernel, KernelContext, OpDef, OpInputs } from './registry.js';
