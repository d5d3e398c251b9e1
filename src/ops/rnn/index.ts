/** Recurrent layers. Shared (no op): activations.ts (named activation functions), recurrent.ts (the driver and cells). */
import './ops.js'; // RNN, GRU, LSTM
