/** Reductions, arg-reductions, softmax family, cumulative ops. */
import './reduce-sum.js';
