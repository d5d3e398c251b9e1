/**
 * Inputs made up from a model's declared inputs, for `bench` and `convert --check`: symbolic or
 * unknown dims take `batch` for dim 0 and `--shape`'s values (or 1) elsewhere; floats are standard
 * normal, integers small non-negative values (valid as indices for most models), bools coin flips.
 */
import { type DType, fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Generator } from '../../runtime/random.js';
import { Tensor } from '../../runtime/tensor.js';
import { UsageError } from './errors.js';
import type { InputSpec } from './tensor-files.js';

/** `--shape name=1,3,224,224` values. */
export function parseShapes(values: readonly string[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const v of values) {
    const m = /^([^=]+)=(\d+(?:[x,]\d+)*)$/.exec(v);
    if (!m) throw new UsageError(`--shape expects <input>=<dims>, e.g. image=1,3,224,224, got '${v}'`);
    out.set(m[1]!, m[2]!.split(/[x,]/).map(Number));
  }
  return out;
}

export function concreteShape(spec: InputSpec, batch: number, given?: number[]): number[] {
  if (given) return given;
  if (!spec.shape) {
    throw new UsageError(`input '${spec.name}' declares no shape; give one with --shape ${spec.name}=<dims>`);
  }
  return spec.shape.map((d, i) => (typeof d === 'number' && d >= 0 ? d : i === 0 ? batch : 1));
}

export function randomTensor(dtype: DType, shape: number[], g: Generator): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'string')
    throw new TesseraError('UNSUPPORTED', 'random string inputs cannot be made; give the input with --input');
  const vals = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    vals[i] = isFloat(dtype) ? g.normal() : dtype === 'bool' ? (g.uniform() < 0.5 ? 1 : 0) : g.int(0, 10);
  }
  return Tensor.fromData(fromNumbers(dtype, vals), shape, dtype);
}

export function randomInputs(
  specs: readonly InputSpec[],
  batch: number,
  shapes: Map<string, number[]>,
  seed = 0,
): Record<string, Tensor> {
  const g = new Generator(seed);
  for (const k of shapes.keys()) {
    if (!specs.some((s) => s.name === k)) {
      throw new UsageError(
        `--shape ${k}=...: the model has no input '${k}'; its inputs are ${specs.map((s) => s.name).join(', ')}`,
      );
    }
  }
  const out: Record<string, Tensor> = {};
  for (const s of specs)
    out[s.name] = randomTensor(s.dtype ?? 'float32', concreteShape(s, batch, shapes.get(s.name)), g);
  return out;
}
