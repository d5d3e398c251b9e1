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

/** A 3x3 convolution with unit strides and dilations, one group, pads [before H, before W, after H, after W]. */
export function spec3x3(
  N: number,
  C: number,
  H: number,
  W: number,
  M: number,
  pads = [1, 1, 1, 1],
): ConvSpec {
  const [pH = 1, pW = 1, peH = 1, peW = 1] = pads;
  return { N, C, H, W, M, group: 1, kH: 3, kW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pH, pW, peH, peW };
}
