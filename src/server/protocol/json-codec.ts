/**
 * Tensor data in JSON: `data` may be flat or nested (row-major either way). Numbers are checked
 * against the datatype (integers in range for INT/UINT types, booleans for BOOL, strings for BYTES)
 * and every problem is a 400 that names the input, the element and what was expected.
 */
import { bf16ToF32, type DataArray, type DType, f16ToF32, f32ToBf16, f32ToF16 } from '../../runtime/dtype.js';
import { badRequest } from '../errors.js';
import type { TensorPayload } from './types.js';

const INT_RANGE: Partial<Record<DType, [number, number]>> = {
  int8: [-128, 127],
  uint8: [0, 255],
  int16: [-32768, 32767],
  uint16: [0, 65535],
  int32: [-2147483648, 2147483647],
  uint32: [0, 4294967295],
  int64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER],
};

/** Flattens nested arrays iteratively (no recursion, so deep nesting cannot overflow the stack). */
export function flattenJson(data: unknown, inputName: string): unknown[] {
  if (!Array.isArray(data)) {
    // A scalar is a one-element tensor's data written without brackets.
    return [data];
  }
  let nested = false;
  for (const v of data) {
    if (Array.isArray(v)) {
      nested = true;
      break;
    }
  }
  if (!nested) return data;
  const out: unknown[] = [];
  const stack: [unknown[], number][] = [[data, 0]];
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    if (top[1] >= top[0].length) {
      stack.pop();
      continue;
    }
    const v = top[0][top[1]++];
    if (Array.isArray(v)) {
      if (stack.length > 64)
        throw badRequest(`input '${inputName}': data is nested more than 64 levels deep`);
      stack.push([v, 0]);
    } else out.push(v);
  }
  return out;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}...` : v);
  if (v === null) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? 'an array' : 'an object';
  return String(v);
}

/** JSON `data` -> storage of `dtype`, checking every element. */
export function decodeJsonData(
  name: string,
  datatype: string,
  dtype: DType,
  shape: number[],
  data: unknown,
): TensorPayload {
  const flat = flattenJson(data, name);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (flat.length !== expected) {
    throw badRequest(
      `input '${name}': shape [${shape.join(',')}] needs ${expected} elements, got ${flat.length} in 'data'`,
    );
  }
  const bad = (i: number, what: string): never => {
    throw badRequest(
      `input '${name}': element ${i} of 'data' is ${describe(flat[i])}, expected ${what} for ${datatype}`,
    );
  };
  const n = flat.length;
  let out: DataArray;
  switch (dtype) {
    case 'string': {
      const s = new Array<string>(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'string') bad(i, 'a string');
        s[i] = v as string;
      }
      out = s;
      break;
    }
    case 'bool': {
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (v === true || v === 1) b[i] = 1;
        else if (v !== false && v !== 0) bad(i, 'true or false');
      }
      out = b;
      break;
    }
    case 'float32':
    case 'float64': {
      const f = dtype === 'float32' ? new Float32Array(n) : new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') bad(i, 'a number');
        f[i] = v as number;
      }
      out = f;
      break;
    }
    case 'float16':
    case 'bfloat16': {
      const h = new Uint16Array(n);
      const enc = dtype === 'float16' ? f32ToF16 : f32ToBf16;
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number') bad(i, 'a number');
        h[i] = enc(v as number);
      }
      out = h;
      break;
    }
    case 'int64':
    case 'uint64': {
      const [lo, hi] = INT_RANGE[dtype]!;
      const a = dtype === 'int64' ? new BigInt64Array(n) : new BigUint64Array(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, 'an integer');
        if ((v as number) < lo || (v as number) > hi) bad(i, `an integer in [${lo}, ${hi}]`);
        a[i] = BigInt(v as number);
      }
      out = a;
      break;
    }
    default: {
      const [lo, hi] = INT_RANGE[dtype]!;
      const Ctor = {
        int8: Int8Array,
        uint8: Uint8Array,
        int16: Int16Array,
        uint16: Uint16Array,
        int32: Int32Array,
        uint32: Uint32Array,
      }[dtype as 'int8'];
      const a = new Ctor(n);
      for (let i = 0; i < n; i++) {
        const v = flat[i];
        if (typeof v !== 'number' || !Number.isInteger(v)) bad(i, 'an integer');
        if ((v as number) < lo || (v as number) > hi) bad(i, `an integer in [${lo}, ${hi}]`);
        a[i] = v as number;
      }
      out = a;
    }
  }
  return { name, dtype, shape, data: out };
}

/** Storage -> flat JSON array (numbers, booleans for BOOL, strings for BYTES; int64 past 2^53 loses precision). */
export function encodeJsonData(dtype: DType, data: DataArray): unknown[] {
  const n = data.length;
  switch (dtype) {
    case 'string':
      return Array.from(data as string[]);
    case 'bool': {
      const out = new Array<boolean>(n);
      for (let i = 0; i < n; i++) out[i] = (data as Uint8Array)[i] !== 0;
      return out;
    }
    case 'float16':
    case 'bfloat16': {
      const dec = dtype === 'float16' ? f16ToF32 : bf16ToF32;
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = dec((data as Uint16Array)[i]!);
      return out;
    }
    case 'int64':
    case 'uint64': {
      const out = new Array<number>(n);
      for (let i = 0; i < n; i++) out[i] = Number((data as BigInt64Array)[i]!);
      return out;
    }
    default:
      return Array.from(data as Float32Array);
  }
}
