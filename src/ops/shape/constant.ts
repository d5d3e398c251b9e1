/** Constant, ConstantOfShape, Range and EyeLike: tensors made from attributes and shapes. */
import { copyContiguous } from '../../backends/cpu/elementwise.js';
import { allocate, type DType, fromNumbers, isBigInt, isDType, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { ONNX_DTYPE } from '../cast.js';
import { attrInt, input, readInts } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { rawValue } from './layout.js';

const CONSTANT_ATTRS = [
  'value',
  'value_float',
  'value_floats',
  'value_int',
  'value_ints',
  'value_string',
  'value_strings',
  'sparse_value',
] as const;

function isTensor(v: unknown): v is Tensor {
  return v instanceof Tensor;
}

export function constantFromAttrs(attrs: Attrs): Tensor {
  const set = CONSTANT_ATTRS.filter((k) => attrs[k] !== undefined);
  if (set.length !== 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Constant: exactly one of ${CONSTANT_ATTRS.join(', ')} must be set, got ${set.length ? set.join(', ') : 'none'}`,
    );
  }
  const key = set[0]!;
  const v = attrs[key];
  const bad = (what: string) =>
    new TesseraError('INVALID_ARGUMENT', `Constant: attribute '${key}' must be ${what}, got ${typeof v}`);
  switch (key) {
    case 'value':
      if (!isTensor(v)) throw bad('a tensor');
      return copyContiguous(v);
    case 'value_float':
      if (typeof v !== 'number') throw bad('a number');
      return Tensor.fromData(Float32Array.of(v), [], 'float32');
    case 'value_floats':
      if (!Array.isArray(v)) throw bad('a list of numbers');
      return Tensor.fromData(Float32Array.from(v as number[]), [v.length], 'float32');
    case 'value_int':
      if (typeof v !== 'number') throw bad('a number');
      return Tensor.fromData(BigInt64Array.of(BigInt(v)), [], 'int64');
    case 'value_ints':
      if (!Array.isArray(v)) throw bad('a list of numbers');
      return Tensor.fromData(
        BigInt64Array.from(v as number[], (x) => BigInt(x)),
        [v.length],
        'int64',
      );
    case 'value_string':
      if (typeof v !== 'string') throw bad('a string');
      return Tensor.fromData([v], [], 'string');
    case 'value_strings':
      if (!Array.isArray(v)) throw bad('a list of strings');
      return Tensor.fromData((v as string[]).map(String), [v.length], 'string');
    default:
      throw new TesseraError('UNSUPPORTED', 'Constant: sparse_value is not supported');
  }
}

registerOp({
  name: 'Constant',
  since: 1,
  minInputs: 0,
  maxInputs: 0,
  kernels: { cpu: (_inputs, attrs) => [constantFromAttrs(attrs)] },
});

/** A shape read from an int tensor, checked to be non-negative integers. */
export function shapeInput(op: string, t: Tensor): number[] {
  const dims = readInts(t);
  if (t.ndim > 1 || dims.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: shape must be a 1-D tensor of non-negative integers, got ${fmtShape(dims)} with shape ${fmtShape(t.shape)}`,
    );
  }
  return dims;
}

registerOp({
  name: 'ConstantOfShape',
  since: 9,
  minInputs: 1,
  maxInputs: 1,
  kernels: {
    cpu: (inputs, attrs) => {
      const shape = shapeInput('ConstantOfShape', input(inputs, 0, 'ConstantOfShape'));
      const v = attrs.value;
      let dtype: DType = 'float32';
      let raw: number | bigint | string = 0;
      if (v !== undefined) {
        if (!isTensor(v) || v.numel() !== 1) {
          throw new TesseraError(
            'INVALID_ARGUMENT',
            "ConstantOfShape: attribute 'value' must be a one-element tensor",
          );
        }
        dtype = v.dtype;
        raw = (v.dataSync() as any)[0];
      }
      const out = allocate(dtype, numel(shape)) as any;
      out.fill(raw);
      return [Tensor.fromData(out, shape, dtype)];
    },
  },
});

function scalarOf(op: string, t: Tensor, what: string): number {
  if (t.numel() !== 1) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: ${what} must be a scalar, got shape ${fmtShape(t.shape)}`,
    );
  }
  return t.numbers()[0]!;
}

registerOp({
  name: 'Range',
  since: 11,
  minInputs: 3,
  maxInputs: 3,
  kernels: {
    cpu: (inputs) => {
      const [s, l, d] = [0, 1, 2].map((i) => input(inputs, i, 'Range')) as [Tensor, Tensor, Tensor];
      if (s.dtype !== l.dtype || s.dtype !== d.dtype) {
        throw new TesseraError(
          'DTYPE_MISMATCH',
          `Range: start, limit and delta must share one dtype, got ${s.dtype}, ${l.dtype}, ${d.dtype}`,
        );
      }
      const dtype = s.dtype;
      if (!isFloat(dtype) && !['int16', 'int32', 'int64'].includes(dtype)) {
        throw new TesseraError(
          'DTYPE_MISMATCH',
          `Range: expected a float or int16/32/64 dtype, got ${dtype}`,
        );
      }
      if (isBigInt(dtype)) {
        const [a, b, c] = [s, l, d].map((t) => (t.dataSync() as BigInt64Array)[0]!) as [
          bigint,
          bigint,
          bigint,
        ];
        if (c === 0n) throw new TesseraError('INVALID_ARGUMENT', 'Range: delta must be nonzero');
        const span = b - a;
        // ceil(span / c) for BigInt (which truncates toward zero).
        const q = span / c + (span % c !== 0n && span > 0n === c > 0n ? 1n : 0n);
        const n = q > 0n ? Number(q) : 0;
        const out = new BigInt64Array(n);
        for (let i = 0; i < n; i++) out[i] = a + BigInt(i) * c;
        return [Tensor.fromData(out, [n], dtype)];
      }
      const a = scalarOf('Range', s, 'start');
      const b = scalarOf('Range', l, 'limit');
      const c = scalarOf('Range', d, 'delta');
      if (c === 0) throw new TesseraError('INVALID_ARGUMENT', 'Range: delta must be nonzero');
      const n = Math.max(Math.ceil((b - a) / c), 0);
      const vals = new Float64Array(n);
      for (let i = 0; i < n; i++) vals[i] = a + i * c;
      return [Tensor.fromData(fromNumbers(dtype, vals), [n], dtype)];
    },
  },
});

registerOp({
  name: 'EyeLike',
  since: 9,
  minInputs: 1,
  maxInputs: 1,
  defaults: { k: 0 },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, 'EyeLike');
      if (x.ndim !== 2)
        throw new TesseraError('INVALID_ARGUMENT', `EyeLike: input must be 2-D, got ${fmtShape(x.shape)}`);
      let dtype = x.dtype;
      if (attrs.dtype !== undefined) {
        // An ONNX TensorProto type number, or a dtype name from eager callers.
        const d = isDType(attrs.dtype) ? attrs.dtype : ONNX_DTYPE[attrInt(attrs, 'dtype')];
        if (!d || d === 'string')
          throw new TesseraError('UNSUPPORTED', `EyeLike: unsupported dtype ${String(attrs.dtype)}`);
        dtype = d;
      }
      const k = attrInt(attrs, 'k', 0);
      const [rows, cols] = x.shape as [number, number];
      const out = allocate(dtype, rows * cols) as any;
      const one = rawValue(dtype, 1);
      for (let i = 0; i < rows; i++) {
        const j = i + k;
        if (j >= 0 && j < cols) out[i * cols + j] = one;
      }
      return [Tensor.fromData(out, [rows, cols], dtype)];
    },
  },
});
