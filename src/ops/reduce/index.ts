/** Reductions, arg-reductions, softmax family, cumulative ops. */
import './reduce-sum.js';
import './indicator.js';
import './reduce-stats.js';
import './reduce-minmax.js';
import './arg-minmax.js';
import './softmax.js';
import './cumsum.js';
