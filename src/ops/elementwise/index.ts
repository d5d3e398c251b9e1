/** Elementwise ops: arithmetic, math functions, activations, comparisons, logic. */
import './arith.js';
import './pow.js';
import './mod.js';
import './unary.js';
import './activations.js';
import './variadic.js';
import './compare.js';
import './logic.js';
import './where.js';
import './clip.js';
