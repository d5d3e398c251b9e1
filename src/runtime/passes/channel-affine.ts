/**
 * com.tessera::ChannelAffine, the op the channel-affine fusion pass (fuse-channel-affine.ts) emits:
 *   Y = X * scale[c] + shift[c], then Relu when activation = 'Relu'
 * where c indexes X along `axis` (default 1) and scale, shift are 1-D of that axis' length (or 1,
 * one value for every channel). For float32 the product and the sum each round to float32, in the
 * WASM SIMD kernel and in the TypeScript loop alike; float64 computes in doubles; other dtypes, and
 * other devices, run Mul, Add and Relu through the registry (so autograd sees those ops there).
 */
import { channelAffineF32Wasm } from '../../backends/cpu/wasm/elementwise.js';
import { attrInt, attrString, input, sumToShape } from '../../ops/helpers.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../../ops/registry.js';
import { full, int64s } from '../creation.js';
import { allocateUnset } from '../dtype.js';
import { TesseraError } from '../errors.js';
import { fmtShape, normAxis, numel } from '../shape.js';
import { Tensor } from '../tensor.js';
import { FUSED_DOMAIN } from './fused-ops.js';

type F = Float32Array | Float64Array;

/** Below this many elements the TypeScript loop beats copying into and out of WASM memory. */
const WASM_MIN = 256;

interface Parts {
  x: Tensor;
  scale: Tensor;
  shift: Tensor;
  axis: number;
  relu: boolean;
}

function parts(inputs: OpInputs, attrs: Attrs): Parts {
  const x = input(inputs, 0, 'ChannelAffine');
  const scale = input(inputs, 1, 'ChannelAffine');
  const shift = input(inputs, 2, 'ChannelAffine');
  const axis = normAxis(attrInt(attrs, 'axis', 1), x.ndim, 'ChannelAffine');
  const act = attrString(attrs, 'activation', '');
  if (act !== '' && act !== 'Relu') {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `ChannelAffine: activation must be '' or 'Relu', got '${act}'`,
    );
  }
  const C = x.shape[axis]!;
  for (const [name, p] of [
    ['scale', scale],
    ['shift', shift],
  ] as const) {
    if (p.ndim !== 1 || (p.shape[0] !== C && p.shape[0] !== 1)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `ChannelAffine: ${name} must have shape [${C}] (axis ${axis} of X ${fmtShape(x.shape)}) or [1], got ${fmtShape(p.shape)}`,
      );
    }
    if (p.dtype !== x.dtype) {
      throw new TesseraError(
        'DTYPE_MISMATCH',
        `ChannelAffine: ${name} must be ${x.dtype} like X, got ${p.dtype}`,
      );
    }
  }
  return { x, scale, shift, axis, relu: act === 'Relu' };
}

/** [1, .., C or 1 at axis, .., 1]: a parameter laid along X. */
const viewShape = (p: Tensor, x: Tensor, axis: number) =>
  x.shape.map((_, d) => (d === axis ? p.shape[0]! : 1));

/** Mul, Add and Relu through the registry: any dtype, any device, recorded by autograd. */
function composed({ x, scale, shift, axis, relu }: Parts): Tensor {
  const view = (p: Tensor) => dispatch1('Reshape', [p, int64s(viewShape(p, x, axis))]);
  const y = dispatch1('Add', [dispatch1('Mul', [x, view(scale)]), view(shift)]);
  return relu ? dispatch1('Relu', [y]) : y;
}

/** The parameter's values as a dense array of X's float type, one per channel. */
function perChannel(p: Tensor, C: number, like: F): F {
  const v = p.numbers();
  const out = like instanceof Float32Array ? new Float32Array(C) : new Float64Array(C);
  for (let c = 0; c < C; c++) out[c] = v[v.length === 1 ? 0 : c]!;
  return out;
}

function affine32(
  x: Float32Array,
  xo: number,
  y: Float32Array,
  C: number,
  L: number,
  s: F,
  t: F,
  relu: boolean,
) {
  const P = L === 0 ? 0 : y.length / L;
  for (let p = 0, i = 0; p < P; p++) {
    const a = s[p % C]!;
    const b = t[p % C]!;
    for (let e = i + L; i < e; i++) {
      const v = Math.fround(Math.fround(x[xo + i]! * a) + b);
      y[i] = relu && v <= 0 ? 0 : v;
    }
  }
}

function affine64(
  x: Float64Array,
  xo: number,
  y: Float64Array,
  C: number,
  L: number,
  s: F,
  t: F,
  relu: boolean,
) {
  const P = L === 0 ? 0 : y.length / L;
  for (let p = 0, i = 0; p < P; p++) {
    const a = s[p % C]!;
    const b = t[p % C]!;
    for (let e = i + L; i < e; i++) {
      const v = x[xo + i]! * a + b;
      y[i] = relu && v <= 0 ? 0 : v;
    }
  }
}

function cpu(inputs: OpInputs, attrs: Attrs): Tensor[] {
  const p = parts(inputs, attrs);
  const { x, axis, relu } = p;
  const data = x.storage.data;
  const dense = (data instanceof Float32Array || data instanceof Float64Array) && x.isContiguous();
  if (!dense || (x.dtype !== 'float32' && x.dtype !== 'float64')) return [composed(p)];
  const C = x.shape[axis]!;
  const L = numel(x.shape.slice(axis + 1));
  const n = x.numel();
  const s = perChannel(p.scale, C, data);
  const t = perChannel(p.shift, C, data);
  if (data instanceof Float32Array) {
    // Every element is written (either path): no zeroing pass first.
    const y = allocateUnset('float32', n) as Float32Array;
    if (
      !(
        n >= WASM_MIN &&
        channelAffineF32Wasm(data, x.offset, y, C, L, s as Float32Array, t as Float32Array, relu)
      )
    )
      affine32(data, x.offset, y, C, L, s, t, relu);
    return [Tensor.fromData(y, x.shape, x.dtype)];
  }
  const y = allocateUnset('float64', n) as Float64Array;
  affine64(data, x.offset, y, C, L, s, t, relu);
  return [Tensor.fromData(y, x.shape, x.dtype)];
}

registerOp({
  name: 'ChannelAffine',
  domain: FUSED_DOMAIN,
  since: 1,
  minInputs: 3,
  maxInputs: 3,
  defaults: { axis: 1, activation: '' },
  validate: (inputs, attrs) => {
    parts(inputs, attrs);
  },
  kernels: { cpu, webgpu: (inputs, attrs) => [composed(parts(inputs, attrs))] },
  grad: ({ inputs, outputs, attrs }, [dy]) => {
    const { x, scale, shift, axis, relu } = parts(inputs, attrs);
    const y = outputs[0]!;
    const zero = (like: Tensor) => full([], 0, { dtype: like.dtype, device: like.device });
    // Relu passes the gradient where it passed the value.
    const g = relu ? dispatch1('Where', [dispatch1('Greater', [y, zero(y)]), dy!, zero(dy!)]) : dy!;
    const param = (p: Tensor, v: Tensor) =>
      dispatch1('Reshape', [sumToShape(v, viewShape(p, x, axis)), int64s(p.shape)]);
    const view = (p: Tensor) => dispatch1('Reshape', [p, int64s(viewShape(p, x, axis))]);
    return [
      x.requiresGrad ? dispatch1('Mul', [g, view(scale)]) : null,
      scale.requiresGrad ? param(scale, dispatch1('Mul', [g, x])) : null,
      shift.requiresGrad ? param(shift, g) : null,
    ];
  },
});
