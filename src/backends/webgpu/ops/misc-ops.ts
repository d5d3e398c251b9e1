/**
 * WebGPU kernels for Identity, Dropout (inference), ConstantOfShape and Cast/CastLike.
 * ConstantOfShape asks the CPU kernel for a single element (exact dtype and value semantics) and
 * fills the GPU buffer with its stored words. Cast converts with the CPU's C-like rules (truncation
 * toward zero, wrap-around, NaN is true) on every dtype the GPU holds except float64 and strings.
 */
import { ONNX_DTYPE } from '../../../ops/cast.js';
import { findOp } from '../../../ops/registry.js';
import { int64s } from '../../../runtime/creation.js';
import { type DType, fromNumbers, isDType } from '../../../runtime/dtype.js';
import { TesseraError } from '../../../runtime/errors.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { contiguousCopy, elementwise } from '../kernels/elementwise.js';
import { encodeForGpu, gpuHolds } from '../repr.js';
import { Params } from '../runtime.js';
import { fromWord, kindOf, load, store } from '../wgsl.js';
import { readNumbers, readScalar } from './values.js';

/** A GPU tensor of `shape` with every element's stored words equal to `words`. */
export function fill(shape: readonly number[], dtype: DType, words: Uint32Array): Tensor {
  return elementwise({
    inputs: [],
    loads: [],
    expr: fromWord('cu0', dtype, 'cu1'),
    outDtype: dtype,
    rawOut: true,
    outShape: shape,
    consts: new Params().u(...words),
  });
}

/** `value` as a filled GPU tensor of `dtype`. */
export function fillValue(shape: readonly number[], dtype: DType, value: number | boolean): Tensor {
  return fill(shape, dtype, new Uint32Array(encodeForGpu(dtype, fromNumbers(dtype, [Number(value)]))));
}

function targetDType(to: unknown): DType {
  if (typeof to === 'number' && ONNX_DTYPE[to]) return ONNX_DTYPE[to]!;
  if (isDType(to)) return to;
  throw new TesseraError('UNSUPPORTED', `Cast: unsupported target type ${String(to)}`);
}

/** Cast on the GPU, or a reason it must run on the CPU. */
export function cast(x: Tensor, to: DType): Tensor | string {
  if (!gpuHolds(x.dtype) || !gpuHolds(to)) return `with ${gpuHolds(x.dtype) ? to : x.dtype}`;
  if (x.dtype === 'float64' || to === 'float64') return 'with float64';
  if (x.dtype === to) return contiguousCopy(x);
  const from = kindOf(x.dtype);
  const dst = kindOf(to);
  let expr: string;
  let rawOut = false;
  // A float input as an f32 value (float16 may be stored as f16).
  const f = load('v0', x.dtype, 'f');
  if (to === 'bool') {
    rawOut = true;
    expr =
      from === 'f'
        ? `select(0u, 1u, nonzero_(${f}))`
        : from === 'x'
          ? 'select(0u, 1u, any(v0 != vec2<u32>(0u)))'
          : 'select(0u, 1u, v0 != 0)';
    if (from === 'u') expr = 'select(0u, 1u, v0 != 0u)';
    return elementwise({ inputs: [x], loads: ['raw'], expr, outDtype: to, rawOut });
  }
  if (dst === 'x') {
    rawOut = true;
    if (from === 'x') expr = 'v0';
    else if (from === 'f') expr = to === 'uint64' ? `f32_to_u64(${f})` : `f32_to_i64(${f})`;
    else expr = load('v0', x.dtype, 'x');
    return elementwise({ inputs: [x], loads: ['raw'], expr, outDtype: to, rawOut });
  }
  // Every other target: convert the value to the target's kind, then store with its rounding/wrap.
  expr = load('v0', x.dtype, dst);
  if (x.dtype === 'bool' && dst === 'f') expr = 'f32(v0)';
  return elementwise({ inputs: [x], loads: ['raw'], expr: store(expr, to), outDtype: to, rawOut: true });
}

export function registerMiscKernels(): void {
  gpuKernel('Identity', (inputs, attrs) => {
    const x = inputs[0]!;
    return [attrs.copy ? contiguousCopy(x) : x.asStrided(x.shape, x.strides)];
  });

  gpuKernel(
    'Dropout',
    (inputs, _attrs, ctx) => {
      const x = inputs[0]!;
      return [contiguousCopy(x), ...(ctx.numOutputs === 1 ? [] : [fillValue(x.shape, 'bool', true)])];
    },
    { since: 10 },
  );
  gpuKernel(
    'Dropout',
    (inputs) => {
      const x = inputs[0]!;
      return [contiguousCopy(x), fillValue(x.shape, x.dtype, 1)];
    },
    { since: 1 },
  );
  gpuKernel(
    'Dropout',
    (inputs, _attrs, ctx) => {
      const x = inputs[0]!;
      const ratio = inputs[1] ? readScalar(inputs[1]) : 0.5;
      const training = inputs[2] ? readScalar(inputs[2]) !== 0 : false;
      if (training && ratio > 0) return 'in training mode (random masks are drawn on the cpu)';
      if (!(ratio >= 0 && ratio <= 1))
        throw new TesseraError('INVALID_ARGUMENT', `Dropout: ratio must be in [0, 1], got ${ratio}`);
      return [contiguousCopy(x), ...(ctx.numOutputs === 1 ? [] : [fillValue(x.shape, 'bool', true)])];
    },
    { since: 12 },
  );

  gpuKernel('ConstantOfShape', (inputs, attrs, ctx) => {
    const shape = readNumbers(inputs[0]!);
    if (inputs[0]!.ndim > 1 || shape.some((d) => !Number.isInteger(d) || d < 0)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `ConstantOfShape: shape must be a 1-D tensor of non-negative integers, got [${shape.join(', ')}] with shape [${inputs[0]!.shape.join(', ')}]`,
      );
    }
    const def = findOp('ConstantOfShape', Number.isFinite(ctx.opset) ? ctx.opset : undefined)!;
    // One element from the CPU kernel gives the value and dtype with its exact semantics.
    const one = def.kernels.cpu([int64s([])], attrs, { ...ctx, device: 'cpu' })[0]!;
    if (one.dtype === 'string') return 'with strings';
    return [fill(shape, one.dtype, new Uint32Array(encodeForGpu(one.dtype, one.dataSync())))];
  });

  gpuKernel('Cast', (inputs, attrs) => {
    const r = cast(inputs[0]!, targetDType(attrs.to));
    return typeof r === 'string' ? r : [r];
  });
  gpuKernel('CastLike', (inputs) => {
    const r = cast(inputs[0]!, inputs[1]!.dtype);
    return typeof r === 'string' ? r : [r];
  });
}
