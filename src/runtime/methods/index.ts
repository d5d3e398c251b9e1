/** Loads every chained-method group onto Tensor.prototype. */
import './core.js';
import './arith.js';
import './reduce.js';
