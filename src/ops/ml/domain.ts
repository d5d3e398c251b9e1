/** The ONNX-ML operator domain. */
export const ML = 'ai.onnx.ml';
