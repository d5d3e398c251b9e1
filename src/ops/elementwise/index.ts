/** Elementwise ops: arithmetic, math functions, activations, comparisons, logic. */
import './arith.js';
import './unary.js';
