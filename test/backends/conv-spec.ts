/**
 * The 2-D convolution geometry the WASM conv tests share, written from the ONNX Conv definition
 * (independent of the output-size code in src/ops/nn/conv.ts, which the tests check).
 */

/** One convolution: input [N, C, H, W], M output channels, pads before (pH, pW) and after (peH, peW). */
export interface ConvSpec {
  N: number;
  C: number;
  H: number;
  W: number;
  M: number;
  group: number;
  kH: number;
  kW: number;
  sH: number;
  sW: number;
  dH: number;
  dW: number;
  pH: number;
  pW: number;
  peH: number;
  peW: number;
}

/** Output extent of one axis: input n, kernel k, stride s, dilation d, pads p0 and p1. */
export const outDim = (n: number, k: number, s: number, d: number, p0: number, p1: number) =>
  Math.floor((n + p0 + p1 - (d * (k - 1) + 1)) / s) + 1;
