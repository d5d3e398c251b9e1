/** ai.onnx.preview.training ops. */
import './optimizers.js'; // Adagrad, Momentum, Adam
