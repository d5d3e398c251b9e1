/**
 * ai.onnx.ml LabelEncoder: maps each element of X through a key -> value table, giving the default
 * where a key is missing. Opset 1: `classes_strings` (string -> its index, or int64 index -> the
 * string). Opset 2: keys_{strings,int64s,floats} and values_{...} with default_{string,int64,float}.
 * Opset 4 adds keys_tensor / values_tensor / default_tensor (any key and value dtype). NaN keys
 * match NaN inputs; the output dtype is the values' dtype.
 */
import { allocate, type DataArray, type DType, fromNumbers, isBigInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { ML } from './domain.js';

const OP = 'LabelEncoder';
type Val = string | number | bigint;

interface Table {
  keys: Val[];
  keyType: DType;
  values: Val[];
  valueType: DType;
  def: Val;
}

/** Elements of a tensor as plain JS values (strings, numbers; BigInt for 64-bit ints). */
function valuesOf(t: Tensor): Val[] {
  const d = t.dataSync();
  if (t.dtype === 'string' || isBigInt(t.dtype)) return Array.from(d as ArrayLike<Val>);
  return Array.from(t.numbers());
}

/** A key that compares int64 keys by value and floats with NaN == NaN (Map uses SameValueZero). */
const norm = (v: Val): Val => (typeof v === 'bigint' ? `i${v}` : v);

function fromAttrs(attrs: Attrs, opset: number, xType: DType): Table {
  if (opset < 2) {
    const classes = (attrs.classes_strings as string[] | undefined) ?? [];
    if (xType === 'string') {
      return {
        keys: classes,
        keyType: 'string',
        values: classes.map((_, i) => BigInt(i)),
        valueType: 'int64',
        def: BigInt(Number(attrs.default_int64 ?? -1)),
      };
    }
    return {
      keys: classes.map((_, i) => BigInt(i)),
      keyType: 'int64',
      values: classes,
      valueType: 'string',
      def: String(attrs.default_string ?? '_Unused'),
    };
  }
  const tensorAttr = (k: string) => (attrs[k] instanceof Tensor ? (attrs[k] as Tensor) : undefined);
  let keys: Val[] | undefined;
  let keyType: DType = 'string';
  const kt = tensorAttr('keys_tensor');
  if (kt) [keys, keyType] = [valuesOf(kt), kt.dtype];
  else if (attrs.keys_strings) [keys, keyType] = [attrs.keys_strings as string[], 'string'];
  else if (attrs.keys_int64s)
    [keys, keyType] = [(attrs.keys_int64s as number[]).map((v) => BigInt(v)), 'int64'];
  else if (attrs.keys_floats) [keys, keyType] = [attrs.keys_floats as number[], 'float32'];
  let values: Val[] | undefined;
  let valueType: DType = 'string';
  const vt = tensorAttr('values_tensor');
  if (vt) [values, valueType] = [valuesOf(vt), vt.dtype];
  else if (attrs.values_strings) [values, valueType] = [attrs.values_strings as string[], 'string'];
  else if (attrs.values_int64s)
    [values, valueType] = [(attrs.values_int64s as number[]).map((v) => BigInt(v)), 'int64'];
  else if (attrs.values_floats) [values, valueType] = [attrs.values_floats as number[], 'float32'];
  if (!keys || !values) {
    throw new TesseraError('INVALID_ARGUMENT', `${OP}: one keys_* and one values_* attribute are required`);
  }
  if (keys.length !== values.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: keys has ${keys.length} entries and values ${values.length}, expected the same count`,
    );
  }
  let def: Val;
  const dt = tensorAttr('default_tensor');
  if (dt) {
    if (dt.numel() !== 1 || dt.dtype !== valueType) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${OP}: default_tensor must hold one ${valueType} value, got ${dt.dtype} of shape [${dt.shape.join(', ')}]`,
      );
    }
    def = valuesOf(dt)[0]!;
  } else if (valueType === 'string') def = String(attrs.default_string ?? '_Unused');
  else if (isBigInt(valueType)) def = BigInt(Number(attrs.default_int64 ?? -1));
  else if (valueType === 'float32' || valueType === 'float64' || valueType.includes('float'))
    def = Number(attrs.default_float ?? -0);
  else def = Number(attrs.default_int64 ?? -1);
  return { keys, keyType, values, valueType, def };
}

function encode(x: Tensor, t: Table): Tensor {
  const sameKind =
    x.dtype === t.keyType ||
    (t.keyType === 'float32' && x.dtype === 'float64') ||
    (t.keyType === 'int64' && (x.dtype === 'int32' || x.dtype === 'int16'));
  if (!sameKind) {
    throw new TesseraError(
      'DTYPE_MISMATCH',
      `${OP}: X must be ${t.keyType} to match the keys, got ${x.dtype}`,
    );
  }
  const map = new Map<Val, Val>();
  t.keys.forEach((k, i) => {
    map.set(norm(typeof k === 'number' && isBigInt(t.keyType) ? BigInt(k) : k), t.values[i]!);
  });
  const xs = valuesOf(x).map((v) => (isBigInt(t.keyType) && typeof v === 'number' ? BigInt(v) : v));
  const got = xs.map((v) => map.get(norm(v)) ?? t.def);
  let data: DataArray;
  if (t.valueType === 'string') data = got.map(String);
  else if (isBigInt(t.valueType)) {
    const big = allocate(t.valueType, got.length) as BigInt64Array;
    got.forEach((v, i) => {
      big[i] = BigInt(v);
    });
    data = big;
  } else data = fromNumbers(t.valueType, got.map(Number));
  return Tensor.fromData(data, [...x.shape], t.valueType);
}

for (const since of [1, 2, 4]) {
  registerOp({
    name: OP,
    domain: ML,
    since,
    minInputs: 1,
    maxInputs: 1,
    kernels: {
      cpu: (inputs, attrs) => {
        const x = input(inputs, 0, OP);
        return [encode(x, fromAttrs(attrs, since, x.dtype))];
      },
    },
  });
}
