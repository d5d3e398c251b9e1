/**
 * com.tessera::AddRelu, the op the add-relu fusion pass (fuse-add-relu.ts) emits for the residual
 * Add (or two-input Sum) + Relu of ResNet and ShuffleNet blocks: Y = Relu(A + B). Two float32
 * tensors of one shape run one WASM SIMD pass (float32 add, then Relu: the values Add and Relu give
 * one by one); float64 runs the same loop in TypeScript; anything else, and other devices, run Add
 * and Relu through the registry.
 */
import { addReluF32Wasm } from '../../backends/cpu/wasm/elementwise.js';
import { input, sumToShape } from '../../ops/helpers.js';
import { expectNumeric } from '../../ops/reduce/layout.js';
import { dispatch1, type OpInputs, registerOp } from '../../ops/registry.js';
import { full } from '../creation.js';
import { allocate } from '../dtype.js';
import { Tensor } from '../tensor.js';
import { FUSED_DOMAIN } from './fused-ops.js';

type F = Float32Array | Float64Array;

/** Below this many elements the TypeScript loop beats copying into and out of WASM memory. */
const WASM_MIN = 256;

const composed = (a: Tensor, b: Tensor) => dispatch1('Relu', [dispatch1('Add', [a, b])]);

function dense(t: Tensor): F | null {
  const d = t.storage.data;
  return (d instanceof Float32Array || d instanceof Float64Array) && t.isContiguous() ? d : null;
}

function addRelu32(a: F, ao: number, b: F, bo: number, y: F): void {
  for (let i = 0; i < y.length; i++) {
    // Rounded to float32 first, as Add's output is, then compared by Relu.
    const v = Math.fround(a[ao + i]! + b[bo + i]!);
    // biome-ignore lint/complexity/useMathMinMax: the same values (-0 to +0, NaN kept), and faster in V8
    y[i] = v <= 0 ? 0 : v;
  }
}

function addRelu64(a: F, ao: number, b: F, bo: number, y: F): void {
  for (let i = 0; i < y.length; i++) {
    const v = a[ao + i]! + b[bo + i]!;
    // biome-ignore lint/complexity/useMathMinMax: the same values (-0 to +0, NaN kept), and faster in V8
    y[i] = v <= 0 ? 0 : v;
  }
}

/** Both inputs, checked here so a bad dtype is reported as AddRelu's, not as Add's or Relu's. */
function operands(inputs: OpInputs): [Tensor, Tensor] {
  const a = input(inputs, 0, 'AddRelu');
  const b = input(inputs, 1, 'AddRelu');
  expectNumeric('AddRelu', a);
  expectNumeric('AddRelu', b);
  return [a, b];
}

function cpu(inputs: OpInputs): Tensor[] {
  const [a, b] = operands(inputs);
  const da = dense(a);
  const db = dense(b);
  const same = a.ndim === b.ndim && a.shape.every((d, i) => d === b.shape[i]);
  const float = a.dtype === b.dtype && (a.dtype === 'float32' || a.dtype === 'float64');
  if (!da || !db || !same || !float) return [composed(a, b)];
  const n = a.numel();
  const y = allocate(a.dtype, n) as F;
  const wasm =
    y instanceof Float32Array &&
    n >= WASM_MIN &&
    addReluF32Wasm(da as Float32Array, a.offset, db as Float32Array, b.offset, y);
  if (!wasm) (y instanceof Float32Array ? addRelu32 : addRelu64)(da, a.offset, db, b.offset, y);
  return [Tensor.fromData(y, a.shape, a.dtype)];
}

registerOp({
  name: 'AddRelu',
  domain: FUSED_DOMAIN,
  since: 1,
  minInputs: 2,
  maxInputs: 2,
  kernels: {
    cpu,
    webgpu: (inputs) => [composed(...operands(inputs))],
  },
  grad: ({ inputs, outputs }, [dy]) => {
    const y = outputs[0]!;
    const zero = (like: Tensor) => full([], 0, { dtype: like.dtype, device: like.device });
    const g = dispatch1('Where', [dispatch1('Greater', [y, zero(y)]), dy!, zero(dy!)]);
    return inputs.map((t) => (t!.requiresGrad ? sumToShape(g, t!.shape) : null));
  },
});
