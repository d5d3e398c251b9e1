/**
 * Recurrent layers. Shared (no op): activations.ts (named activation functions), recurrent.ts (the
 * driver and cells), grad.ts (the forward rebuilt from ops, for gradients).
 */
import './ops.js'; // RNN, GRU, LSTM
