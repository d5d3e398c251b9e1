/** Neural-network ops: convolution, pooling, normalization, dropout, resize. */
import './conv.js';
import './conv-transpose.js';
import './flat-index.js';
import './max-pool.js';
import './average-pool.js';
import './lp-pool.js';
import './max-unpool.js';
import './adaptive-avg-pool.js';
import './moments.js';
import './layer-norm.js';
import './batch-norm.js';
import './instance-group-norm.js';
import './lp-norm-mvn-lrn.js';
import './dropout.js';
import './resize.js';
