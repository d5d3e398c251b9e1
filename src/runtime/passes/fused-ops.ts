/**
 * The fused ops the activation-fusion pass emits, in domain 'com.tessera': FusedConv, FusedGemm and
 * FusedMatMul run their base op and then an activation, both through the registry, so every backend
 * that has the two ops runs the fused one too, and autograd records the two inner ops as usual.
 * FusedConv takes an optional fourth input Z (onnxruntime's FusedConv has it too; the conv-add
 * fusion, fuse-conv-add.ts, gives it a ResNet block's shortcut): Y = activation(Conv + Z).
 */
import { reluFloats } from '../../backends/cpu/fast-float.js';
import { gemmReluCpu } from '../../ops/linalg/gemm.js';
import { convReluCpu } from '../../ops/nn/conv.js';
import { type Attrs, dispatch1, type OpInputs, registerOp } from '../../ops/registry.js';
import { isGradEnabled } from '../autograd.js';
import { fromNumbers } from '../dtype.js';
import { TesseraError } from '../errors.js';
import { Tensor } from '../tensor.js';

export const FUSED_DOMAIN = 'com.tessera';

/** Activations a producer can absorb, and how many float parameters each takes. */
export const FUSABLE_ACTIVATIONS: Readonly<Record<string, number>> = {
  Relu: 0,
  Sigmoid: 0,
  Tanh: 0,
  LeakyRelu: 1, // alpha
  HardSigmoid: 2, // alpha, beta
  Clip: 2, // min, max
};

function activate(y: Tensor, attrs: Attrs, op: string): Tensor {
  const act = attrs.activation;
  const p = (attrs.activation_params as number[] | undefined) ?? [];
  switch (act) {
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
      return dispatch1(act, [y]);
    case 'LeakyRelu':
      return dispatch1('LeakyRelu', [y], { alpha: p[0] ?? 0.01 });
    case 'HardSigmoid':
      return dispatch1('HardSigmoid', [y], { alpha: p[0] ?? 0.2, beta: p[1] ?? 0.5 });
    case 'Clip': {
      const bound = (v: number | undefined) =>
        v === undefined ? undefined : Tensor.fromData(fromNumbers(y.dtype, [v]), [], y.dtype);
      return dispatch1('Clip', [y, bound(p[0]), bound(p[1])]);
    }
    default:
      throw new TesseraError('INVALID_ARGUMENT', `${op}: unknown activation '${String(act)}'`);
  }
}

/** The base op's attributes: everything but the activation's. */
function baseAttrs(attrs: Attrs): Attrs {
  const { activation: _a, activation_params: _p, ...rest } = attrs;
  return rest;
}

/**
 * Relu applied in place to `y` when that is safe: a fresh float array of the base op (not a view of
 * an input) that autograd does not record. Returns false when the caller must dispatch Relu.
 */
function reluInPlace(y: Tensor, inputs: OpInputs): boolean {
  if (y.device !== 'cpu' || y.requiresGrad || !y.isContiguous()) return false;
  if (inputs.some((t) => t?.storage === y.storage)) return false;
  const d = y.storage.data;
  if (!(d instanceof Float32Array || d instanceof Float64Array)) return false;
  if (y.offset !== 0 || d.length !== y.numel()) return false;
  reluFloats(d);
  return true;
}

/** Whether gemmReluCpu computes this FusedGemm: float inputs (its Relu is the Relu kernel's for those). */
function gemmReluApplies(inputs: OpInputs): boolean {
  const a = inputs[0];
  return !!a && (a.dtype === 'float32' || a.dtype === 'float64') && a.device === 'cpu';
}

/** The base op's output plus FusedConv's residual input Z, when it has one. */
function withResidual(y: Tensor, inputs: OpInputs): Tensor {
  const z = inputs[3];
  return z ? dispatch1('Add', [y, z]) : y;
}

function fused(name: string, base: string) {
  const residual = base === 'Conv';
  const baseInputs = (inputs: OpInputs) => (residual ? inputs.slice(0, 3) : inputs);
  const kernel = (inputs: OpInputs, attrs: Attrs) => [
    activate(withResidual(dispatch1(base, baseInputs(inputs), baseAttrs(attrs)), inputs), attrs, name),
  ];
  // On the CPU, Relu runs in place on the base op's fresh output (no second buffer, no dispatch).
  const cpu = (inputs: OpInputs, attrs: Attrs) => {
    // Conv (+ Z) + Relu: one pass over each output tile (float32 2-D), unless autograd has to
    // record the ops.
    const untracked = !(isGradEnabled() && inputs.some((t) => t?.requiresGrad));
    if (residual && attrs.activation === 'Relu' && untracked) {
      const fast = convReluCpu(inputs, baseAttrs(attrs));
      if (fast) return [fast];
    }
    // Gemm + Relu: the GEMM applies the Relu as it stores (a dense float output of the base op).
    if (base === 'Gemm' && attrs.activation === 'Relu' && untracked && gemmReluApplies(inputs))
      return [gemmReluCpu(inputs, baseAttrs(attrs))];
    const y = withResidual(dispatch1(base, baseInputs(inputs), baseAttrs(attrs)), inputs);
    if (attrs.activation === 'Relu' && reluInPlace(y, inputs)) return [y];
    return [activate(y, attrs, name)];
  };
  registerOp({
    name,
    domain: FUSED_DOMAIN,
    since: 1,
    minInputs: 2,
    maxInputs: residual ? 4 : 3,
    // Composed of registry ops, so the same function serves every device.
    kernels: { cpu, webgpu: kernel },
  });
}

fused('FusedConv', 'Conv');
fused('FusedGemm', 'Gemm');
fused('FusedMatMul', 'MatMul');
