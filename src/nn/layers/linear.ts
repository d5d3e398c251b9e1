/** Linear, Bilinear and Identity. */
import { dispatch1 } from '../../ops/registry.js';
import { int64s, zeros } from '../../runtime/creation.js';
import { DEFAULT_FLOAT, type DType } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape } from '../../runtime/shape.js';
import type { Tensor } from '../../runtime/tensor.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from '../init.js';
import { Module } from '../module.js';
import { Parameter } from '../parameter.js';
import { checkFeatures } from './args.js';
import { pyBool } from './repr.js';

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  bias?: boolean;
  dtype?: DType;
}

/** y = x W^T + b, W of shape [outFeatures, inFeatures] (torch.nn.Linear). */
export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    checkFeatures('Linear', inFeatures, 'in_features');
    checkFeatures('Linear', outFeatures, 'out_features');
    const dtype = opts.dtype ?? DEFAULT_FLOAT;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = new Parameter(zeros([outFeatures, inFeatures], { dtype }));
    this.bias = opts.bias === false ? null : new Parameter(zeros([outFeatures], { dtype }));
    this.resetParameters();
  }

  /** torch's default: kaiming_uniform_(a=sqrt(5)) for W, U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for b. */
  resetParameters(): void {
    kaimingUniform_(this.weight, Math.sqrt(5));
    if (this.bias) {
      const { fanIn } = calculateFanInAndFanOut(this.weight);
      const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
      uniform_(this.bias, -bound, bound);
    }
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim === 0 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Linear: expected input of shape [*, ${this.inFeatures}] (in_features), got ${fmtShape(x.shape)}`,
      );
    }
    const b = this.bias ?? undefined;
    if (x.ndim === 2) return dispatch1('Gemm', [x, this.weight, b], { transB: 1 });
    const y = dispatch1('MatMul', [x, dispatch1('Transpose', [this.weight], { perm: [1, 0] })]);
    return b ? dispatch1('Add', [y, b]) : y;
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** y = x1^T A x2 + b, A of shape [outFeatures, in1Features, in2Features] (torch.nn.Bilinear). */
export class Bilinear extends Module {
  readonly in1Features: number;
  readonly in2Features: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  constructor(in1Features: number, in2Features: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    checkFeatures('Bilinear', in1Features, 'in1_features');
    checkFeatures('Bilinear', in2Features, 'in2_features');
    checkFeatures('Bilinear', outFeatures, 'out_features');
    const dtype = opts.dtype ?? DEFAULT_FLOAT;
    this.in1Features = in1Features;
    this.in2Features = in2Features;
    this.outFeatures = outFeatures;
    this.weight = new Parameter(zeros([outFeatures, in1Features, in2Features], { dtype }));
    this.bias = opts.bias === false ? null : new Parameter(zeros([outFeatures], { dtype }));
    this.resetParameters();
  }

  /** torch's default: U(-1/sqrt(in1), 1/sqrt(in1)) for both weight and bias. */
  resetParameters(): void {
    const bound = this.in1Features > 0 ? 1 / Math.sqrt(this.in1Features) : 0;
    uniform_(this.weight, -bound, bound);
    if (this.bias) uniform_(this.bias, -bound, bound);
  }

  override forward(x1: Tensor, x2: Tensor): Tensor {
    const [i1, i2, o] = [this.in1Features, this.in2Features, this.outFeatures];
    const lead = x1.shape.slice(0, -1);
    const sameLead = x2.ndim === x1.ndim && lead.every((d, i) => d === x2.shape[i]);
    if (x1.ndim === 0 || x1.shape[x1.ndim - 1] !== i1 || x2.shape[x2.ndim - 1] !== i2 || !sameLead) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Bilinear: expected inputs of shapes [*, ${i1}] and [*, ${i2}] with the same leading dims, got ${fmtShape(x1.shape)} and ${fmtShape(x2.shape)}`,
      );
    }
    const m = lead.reduce((a, b) => a * b, 1);
    const reshape = (t: Tensor, s: number[]) => dispatch1('Reshape', [t, int64s(s)]);
    // t[m, o, j] = sum_i x1[m, i] W[o, i, j]; y[m, o] = sum_j t[m, o, j] x2[m, j]
    const w = reshape(dispatch1('Transpose', [this.weight], { perm: [1, 0, 2] }), [i1, o * i2]);
    const t = reshape(dispatch1('MatMul', [reshape(x1, [m, i1]), w]), [m, o, i2]);
    const prod = dispatch1('Mul', [t, reshape(x2, [m, 1, i2])]);
    let y = dispatch1('ReduceSum', [prod, int64s([2])], { keepdims: 0 });
    if (this.bias) y = dispatch1('Add', [y, this.bias]);
    return reshape(y, [...lead, o]);
  }

  override extraRepr(): string {
    return `in1_features=${this.in1Features}, in2_features=${this.in2Features}, out_features=${this.outFeatures}, bias=${pyBool(this.bias !== null)}`;
  }
}

/** Returns its input unchanged (torch.nn.Identity); constructor arguments are ignored. */
export class Identity extends Module {
  constructor(..._args: unknown[]) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x;
  }
}
