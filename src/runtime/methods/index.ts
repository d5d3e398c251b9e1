/** Loads every chained-method group onto Tensor.prototype. */
import './core.js';
import './arith.js';
import './math.js';
import './compare.js';
import './reduce.js';
import './linalg.js';
import './shape.js';
import './indexing.js';
