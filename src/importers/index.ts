/** Importers and exporters: ONNX, the own .tsr format. */
export {};
