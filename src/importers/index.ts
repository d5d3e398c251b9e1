/** Importers and exporters: ONNX, the own .tsr format. */
export * as onnx from './onnx/index.js';
export { importOnnxBytes, importOnnxFile, type OnnxLoadOptions } from './onnx/index.js';
