/** The ONNX domain of Tessera's own ops: gradient kernels and ops ONNX lacks (AdaptiveAveragePool). */
export const TESSERA_DOMAIN = 'com.tessera';
