/**
 * Signal-processing ops. Shared kernel (no op): fft.ts (radix-2 / direct complex transforms).
 */
import './dft.js'; // DFT (opset 17 and 20)
import './stft.js'; // STFT
import './windows.js'; // HannWindow, HammingWindow, BlackmanWindow
import './mel-weight-matrix.js'; // MelWeightMatrix
