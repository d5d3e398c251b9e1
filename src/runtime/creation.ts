/** Tensor factories: tensor(), zeros, ones, full, arange, linspace, eye, rand, randn, randint, ... */
import {
  allocate,
  type DataArray,
  DEFAULT_FLOAT,
  type DType,
  dtypeOfArray,
  encodeNumber,
  fromNumbers,
  isBigInt,
  isDType,
  isFloat,
  type TypedArray,
} from './dtype.js';
import { TesseraError } from './errors.js';
import { defaultGenerator, type Generator } from './random.js';
import { fmtShape, numel, type Shape } from './shape.js';
import { type Device, type NestedArray, Tensor } from './tensor.js';

export interface TensorOptions {
  dtype?: DType;
  device?: Device;
  requiresGrad?: boolean;
}
export interface RandomOptions extends TensorOptions {
  generator?: Generator;
}

// Moving to another device is provided by the device layer (src/runtime/device.ts).
let toDevice: (t: Tensor, d: Device) => Tensor = (t, d) => {
  if (d !== 'cpu') throw new TesseraError('UNSUPPORTED', `device ${d} is not available`);
  return t;
};
export function setCreationDeviceMover(f: (t: Tensor, d: Device) => Tensor): void {
  toDevice = f;
}

function finish(t: Tensor, opts: TensorOptions): Tensor {
  if (opts.device && opts.device !== 'cpu') t = toDevice(t, opts.device);
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function checkDType(d: DType | undefined): void {
  if (d !== undefined && !isDType(d))
    throw new TesseraError('INVALID_ARGUMENT', `unknown dtype '${String(d)}'`);
}

/** Infers shape of a nested array, checking it is rectangular. */
function nestedShape(x: NestedArray): number[] {
  const shape: number[] = [];
  let cur: NestedArray = x;
  while (Array.isArray(cur)) {
    shape.push(cur.length);
    if (cur.length === 0) break;
    cur = cur[0]!;
  }
  return shape;
}

function flatten(
  x: NestedArray,
  shape: number[],
  depth: number,
  out: (number | boolean | bigint | string)[],
): void {
  if (depth === shape.length) {
    if (Array.isArray(x)) throw new TesseraError('INVALID_ARGUMENT', 'tensor(): ragged nested array');
    out.push(x);
    return;
  }
  if (!Array.isArray(x) || x.length !== shape[depth]) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `tensor(): ragged nested array: expected length ${shape[depth]} at depth ${depth}, got ${Array.isArray(x) ? x.length : 'a scalar'}`,
    );
  }
  for (const e of x) flatten(e, shape, depth + 1, out);
}

/**
 * Creates a tensor from nested arrays, a scalar, or a TypedArray (copied; see fromTypedArray to
 * share). Without a dtype: booleans give bool, bigints int64, strings string, and JS numbers
 * float32 (JS has no integer literal, so `tensor(3.)` and `tensor(3)` are the same call: like
 * tfjs, numbers default to float; pass {dtype: 'int64'} for integers).
 */
export function tensor(data: NestedArray | TypedArray, opts: TensorOptions & { shape?: Shape } = {}): Tensor {
  checkDType(opts.dtype);
  if (ArrayBuffer.isView(data)) {
    const src = data as TypedArray;
    const own = src.slice() as TypedArray;
    const shape = opts.shape ?? [src.length];
    const t = Tensor.fromData(own, shape, dtypeOfArray(own));
    return finish(opts.dtype && opts.dtype !== t.dtype ? castCopy(t, opts.dtype) : t, opts);
  }
  const shape = nestedShape(data);
  const flat: (number | boolean | bigint | string)[] = [];
  flatten(data, shape, 0, flat);
  let dtype = opts.dtype;
  if (!dtype) {
    if (flat.length > 0 && flat.every((v) => typeof v === 'boolean')) dtype = 'bool';
    else if (flat.length > 0 && flat.every((v) => typeof v === 'string')) dtype = 'string';
    else if (flat.length > 0 && flat.every((v) => typeof v === 'bigint')) dtype = 'int64';
    else dtype = DEFAULT_FLOAT;
  }
  const store = allocate(dtype, flat.length);
  for (let i = 0; i < flat.length; i++) {
    const v = flat[i]!;
    if (dtype === 'string') (store as string[])[i] = String(v);
    else if (typeof v === 'bigint' && isBigInt(dtype)) (store as BigInt64Array)[i] = v;
    else {
      const num = typeof v === 'boolean' ? (v ? 1 : 0) : Number(v);
      if (typeof v === 'string' && Number.isNaN(num)) {
        throw new TesseraError('INVALID_ARGUMENT', `tensor(): '${v}' is not a number`);
      }
      (store as any)[i] = encodeNumber(dtype, num);
    }
  }
  return finish(Tensor.fromData(store, shape, dtype), opts);
}

/** Wraps `data` without copying: writes through either side are seen by the other (torch.from_numpy). */
export function fromTypedArray(data: TypedArray, shape: Shape = [data.length], dtype?: DType): Tensor {
  const d = dtype ?? dtypeOfArray(data);
  if (numel(shape) !== data.length) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `fromTypedArray: shape ${fmtShape(shape)} has ${numel(shape)} elements, the array has ${data.length}`,
    );
  }
  return Tensor.fromData(data, shape, d);
}

function castCopy(t: Tensor, dtype: DType): Tensor {
  return Tensor.fromData(fromNumbers(dtype, t.numbers()), t.shape, dtype);
}

function filled(shape: Shape, value: number, opts: TensorOptions): Tensor {
  checkDType(opts.dtype);
  const dtype = opts.dtype ?? DEFAULT_FLOAT;
  const data = allocate(dtype, numel(shape)) as TypedArray;
  if (value !== 0) (data as any).fill(encodeNumber(dtype, value));
  return finish(Tensor.fromData(data, shape, dtype), opts);
}

export function zeros(shape: Shape, opts: TensorOptions = {}): Tensor {
  return filled(shape, 0, opts);
}
export function ones(shape: Shape, opts: TensorOptions = {}): Tensor {
  return filled(shape, 1, opts);
}
/** A tensor filled with `value`; dtype defaults to bool for booleans, else float32 (as tensor()). */
export function full(shape: Shape, value: number | boolean, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? (typeof value === 'boolean' ? 'bool' : DEFAULT_FLOAT);
  return filled(shape, Number(value), { ...opts, dtype });
}
export function zerosLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return zeros(t.shape, { dtype: t.dtype, device: t.device, ...opts });
}
export function onesLike(t: Tensor, opts: TensorOptions = {}): Tensor {
  return ones(t.shape, { dtype: t.dtype, device: t.device, ...opts });
}
export function fullLike(t: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return filled(t.shape, value, { dtype: t.dtype, device: t.device, ...opts });
}

/** arange(end) or arange(start, end, step); int64 when all arguments are integers, as torch. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0) throw new TesseraError('INVALID_ARGUMENT', 'arange: step must be nonzero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = opts.dtype ?? ([start, end, step].every(Number.isInteger) ? 'int64' : DEFAULT_FLOAT);
  const vals = new Float64Array(n);
  for (let i = 0; i < n; i++) vals[i] = start + i * step;
  return finish(Tensor.fromData(fromNumbers(dtype, vals), [n], dtype), opts);
}

export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `linspace: steps must be a non-negative integer, got ${steps}`,
    );
  }
  const vals = new Float64Array(steps);
  const h = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Symmetric fill as torch does, so the last element is exactly `end`.
  for (let i = 0; i < steps; i++) vals[i] = i < steps / 2 ? start + i * h : end - (steps - 1 - i) * h;
  const dtype = opts.dtype ?? DEFAULT_FLOAT;
  return finish(Tensor.fromData(fromNumbers(dtype, vals), [steps], dtype), opts);
}

export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? DEFAULT_FLOAT;
  const vals = new Float64Array(n * m);
  for (let i = 0; i < Math.min(n, m); i++) vals[i * m + i] = 1;
  return finish(Tensor.fromData(fromNumbers(dtype, vals), [n, m], dtype), opts);
}

function randomFilled(shape: Shape, opts: RandomOptions, sample: (g: Generator) => number): Tensor {
  checkDType(opts.dtype);
  const dtype = opts.dtype ?? DEFAULT_FLOAT;
  if (!isFloat(dtype))
    throw new TesseraError('DTYPE_MISMATCH', `random floats need a float dtype, got ${dtype}`);
  const g = opts.generator ?? defaultGenerator;
  const vals = new Float64Array(numel(shape));
  for (let i = 0; i < vals.length; i++) vals[i] = sample(g);
  return finish(Tensor.fromData(fromNumbers(dtype, vals), shape, dtype), opts);
}

/** Uniform [0, 1). */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  return randomFilled(shape, opts, (g) => g.uniform());
}
/** Standard normal. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  return randomFilled(shape, opts, (g) => g.normal());
}
/** Integers uniform in [low, high); int64 by default. */
export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  if (!(high > low))
    throw new TesseraError('INVALID_ARGUMENT', `randint: high (${high}) must exceed low (${low})`);
  const dtype = opts.dtype ?? 'int64';
  const g = opts.generator ?? defaultGenerator;
  const vals = new Float64Array(numel(shape));
  for (let i = 0; i < vals.length; i++) vals[i] = g.int(low, high);
  return finish(Tensor.fromData(fromNumbers(dtype, vals), shape, dtype), opts);
}

/** A 0-d tensor holding `v` (dtype as `full` picks it). */
export function scalar(v: number | boolean, dtype?: DType): Tensor {
  return full([], v, { dtype });
}

/** An int64 1-d tensor from numbers: the form ONNX ops take for shapes, axes and pads. */
export function int64s(values: readonly number[]): Tensor {
  return Tensor.fromData(
    BigInt64Array.from(values, (v) => BigInt(v)),
    [values.length],
    'int64',
  );
}

export type { DataArray };
