/**
 * NumPy's .npy and .npz files, since that is what users already have tensors in.
 *
 * .npy (numpy/lib/format.py): the magic "\x93NUMPY", a version, a header length, a header that is
 * a Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with
 * spaces to a multiple of 64 bytes and ended by a newline, then the raw elements. Read: every
 * bool, integer and float dtype in either byte order, C or Fortran order, and fixed-width strings
 * ('<U', '|S'). Written: C order, little-endian, format 1.0 (2.0 when the header needs it);
 * dtypes NumPy lacks are widened: bfloat16 and the float8/float4 types to float32, 4- and 2-bit
 * integers to int8/uint8.
 *
 * .npz: a zip of .npy members (np.savez stores them, np.savez_compressed deflates them); member
 * `x.npy` is the array named `x`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { allocate, bytesPerElement, type DataArray, type DType, isFloat8 } from '../runtime/dtype.js';
import { TesseraError } from '../runtime/errors.js';
import { Tensor } from '../runtime/tensor.js';
import { readZip, writeZip } from './zip.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/** NumPy kind + item size -> dtype. */
const FROM_NUMPY: Record<string, DType> = {
  b1: 'bool',
  i1: 'int8',
  u1: 'uint8',
  i2: 'int16',
  u2: 'uint16',
  i4: 'int32',
  u4: 'uint32',
  i8: 'int64',
  u8: 'uint64',
  f2: 'float16',
  f4: 'float32',
  f8: 'float64',
};

/** dtype -> the NumPy descr written (after widening). */
const TO_NUMPY: Partial<Record<DType, string>> = {
  bool: '|b1',
  int8: '|i1',
  uint8: '|u1',
  int16: '<i2',
  uint16: '<u2',
  int32: '<i4',
  uint32: '<u4',
  int64: '<i8',
  uint64: '<u8',
  float16: '<f2',
  float32: '<f4',
  float64: '<f8',
};

const bad = (what: string, msg: string) => new TesseraError('INVALID_ARGUMENT', `${what}: ${msg}`);

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
}

function parseHeader(text: string, what: string): NpyHeader {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text))
      throw bad(what, 'structured (record) arrays are not supported; save each field as its own array');
    throw bad(what, `the header has no 'descr': ${text.trim()}`);
  }
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!fortran || !shape) throw bad(what, `the header lacks 'fortran_order' or 'shape': ${text.trim()}`);
  const dims = shape[1]!
    .split(',')
    .map((s) => s.trim().replace(/L$/, ''))
    .filter((s) => s !== '')
    .map((s) => {
      const n = Number(s);
      if (!Number.isSafeInteger(n) || n < 0) throw bad(what, `bad dimension '${s}' in shape (${shape[1]})`);
      return n;
    });
  return { descr: descr[1]!, fortranOrder: fortran[1] === 'True', shape: dims };
}

/** Reverses the bytes of each `size`-byte element in place. */
function byteswap(b: Uint8Array, size: number): void {
  for (let i = 0; i + size <= b.length; i += size) {
    for (let a = i, z = i + size - 1; a < z; a++, z--) {
      const t = b[a]!;
      b[a] = b[z]!;
      b[z] = t;
    }
  }
}

/** Row-major (C) order of data stored column-major (Fortran) with `shape`. */
function fortranToC<T extends { length: number; [i: number]: unknown }>(
  src: T,
  dst: T,
  shape: number[],
): void {
  const n = src.length;
  const rank = shape.length;
  // Fortran strides: dim 0 varies fastest.
  const fstr = new Array<number>(rank);
  let s = 1;
  for (let d = 0; d < rank; d++) {
    fstr[d] = s;
    s *= shape[d]!;
  }
  const idx = new Array<number>(rank).fill(0);
  let p = 0;
  for (let i = 0; i < n; i++) {
    dst[i] = src[p];
    for (let d = rank - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) {
        p += fstr[d]!;
        break;
      }
      p -= fstr[d]! * (shape[d]! - 1);
      idx[d] = 0;
    }
  }
}

function decodeStrings(
  raw: Uint8Array,
  n: number,
  kind: 'U' | 'S',
  width: number,
  little: boolean,
): string[] {
  const out = new Array<string>(n);
  const itemBytes = kind === 'U' ? 4 * width : width;
  const v = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  for (let i = 0; i < n; i++) {
    const base = i * itemBytes;
    let s = '';
    if (kind === 'U') {
      for (let c = 0; c < width; c++) {
        const cp = v.getUint32(base + 4 * c, little);
        if (cp === 0) break;
        s += String.fromCodePoint(cp);
      }
    } else {
      let end = base + width;
      while (end > base && raw[end - 1] === 0) end--;
      s = new TextDecoder('latin1').decode(raw.subarray(base, end));
    }
    out[i] = s;
  }
  return out;
}

/** A tensor from the bytes of a .npy file (copied: the result owns its storage). */
export function decodeNpy(bytes: Uint8Array, what = '.npy file'): Tensor {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b))
    throw bad(what, 'not a .npy file (no \\x93NUMPY magic)');
  const major = bytes[6]!;
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = v.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw bad(what, 'truncated header');
    headerLen = v.getUint32(8, true);
    start = 12;
  } else throw bad(what, `unsupported .npy format version ${major}.${bytes[7]}`);
  if (start + headerLen > bytes.length) throw bad(what, 'truncated header');
  const text = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(
    bytes.subarray(start, start + headerLen),
  );
  const h = parseHeader(text, what);
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(h.descr);
  if (!m) throw bad(what, `unsupported dtype '${h.descr}'`);
  const order = m[1]!;
  const kind = m[2]!;
  const size = Number(m[3]);
  const little = order !== '>';
  const n = h.shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;

  if (kind === 'U' || kind === 'S') {
    const itemBytes = kind === 'U' ? 4 * size : size;
    if (dataStart + n * itemBytes > bytes.length)
      throw bad(what, `truncated data: ${n} elements of ${h.descr} need ${n * itemBytes} bytes`);
    let strs = decodeStrings(bytes.subarray(dataStart, dataStart + n * itemBytes), n, kind, size, little);
    if (h.fortranOrder && h.shape.length > 1) {
      const c = new Array<string>(n);
      fortranToC(strs, c, h.shape);
      strs = c;
    }
    return Tensor.fromData(strs, h.shape, 'string');
  }
  const dtype = FROM_NUMPY[`${kind}${size}`];
  if (!dtype) {
    const hint =
      kind === 'O'
        ? ' (object arrays hold Python objects; convert to a numeric dtype before saving)'
        : kind === 'c'
          ? ' (complex numbers are not supported)'
          : '';
    throw bad(what, `unsupported dtype '${h.descr}'${hint}`);
  }
  const nbytes = n * size;
  if (dataStart + nbytes > bytes.length)
    throw bad(
      what,
      `truncated data: shape (${h.shape.join(', ')}) of ${h.descr} needs ${nbytes} bytes, the file has ${bytes.length - dataStart}`,
    );
  // A copy, aligned for the TypedArray and ours to byteswap.
  const raw = bytes.slice(dataStart, dataStart + nbytes);
  if (!little && size > 1) byteswap(raw, size);
  const data = allocate(dtype, n) as Exclude<DataArray, string[]>;
  new Uint8Array(data.buffer).set(raw);
  if (dtype === 'bool') {
    const b = data as Uint8Array;
    for (let i = 0; i < n; i++) b[i] = b[i] ? 1 : 0;
  }
  if (h.fortranOrder && h.shape.length > 1) {
    const c = allocate(dtype, n) as Exclude<DataArray, string[]>;
    fortranToC(data, c, h.shape);
    return Tensor.fromData(c, h.shape, dtype);
  }
  return Tensor.fromData(data, h.shape, dtype);
}

/** What a dtype is written as, and its elements for that. */
function npyPayload(t: Tensor): { descr: string; bytes: Uint8Array } {
  if (t.dtype === 'string') {
    const strs = t.dataSync() as string[];
    const cps = strs.map((s) => Array.from(s, (ch) => ch.codePointAt(0)!));
    const width = Math.max(1, ...cps.map((c) => c.length));
    const out = new Uint8Array(strs.length * width * 4);
    const v = new DataView(out.buffer);
    cps.forEach((c, i) => {
      c.forEach((cp, k) => {
        v.setUint32((i * width + k) * 4, cp, true);
      });
    });
    return { descr: `<U${width}`, bytes: out };
  }
  let dtype = t.dtype;
  let data: DataArray;
  if (dtype === 'bfloat16' || isFloat8(dtype)) {
    data = Float32Array.from(t.numbers());
    dtype = 'float32';
  } else if (dtype === 'int4' || dtype === 'int2' || dtype === 'uint4' || dtype === 'uint2') {
    const src = t.dataSync() as Int8Array | Uint8Array;
    data = dtype.startsWith('u') ? Uint8Array.from(src) : Int8Array.from(src);
    dtype = dtype.startsWith('u') ? 'uint8' : 'int8';
  } else data = t.dataSync();
  const typed = data as Exclude<DataArray, string[]>;
  const bytes = new Uint8Array(typed.buffer, typed.byteOffset, t.numel() * bytesPerElement(dtype));
  return { descr: TO_NUMPY[dtype]!, bytes };
}

/** The bytes of a .npy file holding `t` (C order, little-endian). The tensor must be on the CPU. */
export function encodeNpy(t: Tensor): Uint8Array {
  if (!(t instanceof Tensor))
    throw new TesseraError('INVALID_ARGUMENT', `encodeNpy: expected a Tensor, got ${typeof t}`);
  if (t.device !== 'cpu')
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `encodeNpy: the tensor is on ${t.device}; move it with t.to('cpu') first`,
    );
  const { descr, bytes } = npyPayload(t);
  const shape = t.shape.length === 1 ? `(${t.shape[0]},)` : `(${t.shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  // The whole preamble (magic, version, length, header) is a multiple of 64 bytes, as NumPy writes it.
  let version = 1;
  let pre = 10;
  let total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  if (total - pre > 0xffff) {
    version = 2;
    pre = 12;
    total = Math.ceil((pre + dict.length + 1) / 64) * 64;
  }
  dict = `${dict}${' '.repeat(total - pre - dict.length - 1)}\n`;
  const out = new Uint8Array(total + bytes.length);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, total - pre, true);
  else v.setUint32(8, total - pre, true);
  for (let i = 0; i < dict.length; i++) out[pre + i] = dict.charCodeAt(i);
  out.set(bytes, total);
  return out;
}

export type NamedTensors =
  | Record<string, Tensor>
  | Map<string, Tensor>
  | readonly (readonly [string, Tensor])[];

function entriesOf(tensors: NamedTensors): [string, Tensor][] {
  if (tensors instanceof Map) return [...tensors.entries()];
  if (Array.isArray(tensors)) return tensors.map(([k, t]) => [k, t]);
  return Object.entries(tensors as Record<string, Tensor>);
}

/** The arrays of a .npz file by name (the member name without '.npy'), in archive order. */
export function decodeNpz(bytes: Uint8Array, what = '.npz file'): Map<string, Tensor> {
  const out = new Map<string, Tensor>();
  for (const e of readZip(bytes, what)) {
    const name = e.name.endsWith('.npy') ? e.name.slice(0, -4) : e.name;
    out.set(name, decodeNpy(e.data, `${what}: member '${e.name}'`));
  }
  return out;
}

/** The bytes of a .npz file: np.savez (stored) or, with `compress`, np.savez_compressed (deflated). */
export function encodeNpz(tensors: NamedTensors, opts: { compress?: boolean } = {}): Uint8Array {
  const entries = entriesOf(tensors);
  const seen = new Set<string>();
  for (const [name] of entries) {
    if (!name || name.includes('\0'))
      throw new TesseraError('INVALID_ARGUMENT', `encodeNpz: invalid array name '${name}'`);
    if (seen.has(name))
      throw new TesseraError('INVALID_ARGUMENT', `encodeNpz: the name '${name}' is used twice`);
    seen.add(name);
  }
  return writeZip(
    entries.map(([name, t]) => ({ name: `${name}.npy`, data: encodeNpy(t) })),
    opts,
  );
}

function readBytes(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new TesseraError('NOT_FOUND', `cannot read '${path}': ${(e as Error).message}`, { cause: e });
  }
}

export function readNpy(path: string): Tensor {
  return decodeNpy(readBytes(path), path);
}

export function writeNpy(path: string, t: Tensor): void {
  writeFileSync(path, encodeNpy(t));
}

export function readNpz(path: string): Map<string, Tensor> {
  return decodeNpz(readBytes(path), path);
}

export function writeNpz(path: string, tensors: NamedTensors, opts: { compress?: boolean } = {}): void {
  writeFileSync(path, encodeNpz(tensors, opts));
}
