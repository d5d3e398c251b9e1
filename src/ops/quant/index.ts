/** Quantization ops and low-precision reinterpretation. */
import './quantize-linear.js'; // QuantizeLinear, DequantizeLinear
import './dynamic-quantize-linear.js'; // DynamicQuantizeLinear
import './qlinear-matmul.js'; // QLinearMatMul
import './conv-integer.js'; // ConvInteger, QLinearConv
import './bitcast.js'; // BitCast
