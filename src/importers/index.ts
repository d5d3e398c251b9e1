/** Importers and exporters: ONNX, the own .tsr format. */
export * as onnx from './onnx/index.js';
export { importOnnxBytes, importOnnxFile, type OnnxLoadOptions } from './onnx/index.js';
export * as tsr from './tsr/index.js';
export { decodeTsr, encodeTsr, loadTsr, saveTsr } from './tsr/index.js';
export { exportModule, exportOnnx, type OnnxExportOptions, saveOnnx } from './onnx/export.js';
