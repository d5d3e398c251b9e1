/**
 * Rounding to a float dtype's precision. The transformer kernels compute in float64 but round
 * where the ONNX function body (which the conformance data follows) stores an intermediate in
 * the op's dtype, so 16-bit models give the values a graph of primitive ops would.
 */
import { bf16ToF32, type DType, f16ToF32, f32ToBf16, f32ToF16 } from '../../runtime/dtype.js';

export type Rounder = (v: number) => number;

const identity: Rounder = (v) => v;

export function rounderFor(dtype: DType): Rounder {
  switch (dtype) {
    case 'float32':
      return Math.fround;
    case 'float16':
      return (v) => f16ToF32(f32ToF16(v));
    case 'bfloat16':
      return (v) => bf16ToF32(f32ToBf16(v));
    default:
      return identity;
  }
}
