/**
 * PNG: every color type (gray, RGB, palette, gray+alpha, RGBA), bit depths 1-16 (16-bit samples keep
 * their high byte), Adam7 interlacing. Alpha is dropped (as PIL's convert('RGB') does). Image data is
 * inflated with node:zlib.
 */
import { inflateSync } from 'node:zlib';
import { bad, checkSize, type Image, unsupported } from './types.js';

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
// Adam7 passes: x0, y0, dx, dy.
const ADAM7 = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Reverses the per-scanline filters of a (sub)image in place; returns the offset after it. */
function unfilter(data: Uint8Array, off: number, rows: number, stride: number, bpp: number): number {
  let prev = -1;
  for (let y = 0; y < rows; y++) {
    const type = data[off]!;
    const row = off + 1;
    if (row + stride > data.length) throw bad('PNG', 'image data is truncated');
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? data[row + i - bpp]! : 0;
      const b = prev >= 0 ? data[prev + i]! : 0;
      const c = prev >= 0 && i >= bpp ? data[prev + i - bpp]! : 0;
      const x = data[row + i]!;
      let v: number;
      switch (type) {
        case 0:
          v = x;
          break;
        case 1:
          v = x + a;
          break;
        case 2:
          v = x + b;
          break;
        case 3:
          v = x + ((a + b) >> 1);
          break;
        case 4:
          v = x + paeth(a, b, c);
          break;
        default:
          throw bad('PNG', `unknown filter type ${type}`);
      }
      data[row + i] = v & 255;
    }
    prev = row;
    off = row + stride;
  }
  return off;
}

export function decodePng(b: Uint8Array): Image {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let ctype = 0;
  let interlace = 0;
  let palette: Uint8Array | undefined;
  const idat: Uint8Array[] = [];
  while (p + 8 <= b.length) {
    const len = dv.getUint32(p);
    const type = String.fromCharCode(...b.subarray(p + 4, p + 8));
    const body = b.subarray(p + 8, p + 8 + len);
    if (body.length !== len) throw bad('PNG', `chunk ${type} is truncated`);
    if (type === 'IHDR') {
      width = dv.getUint32(p + 8);
      height = dv.getUint32(p + 12);
      depth = b[p + 16]!;
      ctype = b[p + 17]!;
      interlace = b[p + 20]!;
    } else if (type === 'PLTE') palette = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    p += 12 + len;
  }
  checkSize('PNG', width, height);
  const channels = CHANNELS[ctype];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth))
    throw unsupported('PNG', `color type ${ctype} at bit depth ${depth}`);
  if (ctype === 3 && !palette) throw bad('PNG', 'palette image without a PLTE chunk');
  let raw: Uint8Array;
  try {
    raw = new Uint8Array(inflateSync(Buffer.concat(idat)));
  } catch (e) {
    throw bad('PNG', `image data does not inflate (${(e as Error).message})`);
  }
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const color = ctype === 2 || ctype === 6 || ctype === 3;
  const out = new Uint8Array(width * height * (color ? 3 : 1));
  const sample = (row: number, x: number, ch: number): number => {
    if (depth === 16) return raw[row + (x * channels + ch) * 2]!;
    if (depth === 8) return raw[row + x * channels + ch]!;
    const bit = (x * channels + ch) * depth;
    const v = (raw[row + (bit >> 3)]! >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    // Gray samples scale to 8 bits; palette indices stay indices.
    return ctype === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  const put = (row: number, x: number, ox: number, oy: number) => {
    const o = oy * width + ox;
    if (ctype === 3) {
      const i = sample(row, x, 0);
      if (3 * i + 2 >= palette!.length) throw bad('PNG', `palette index ${i}`);
      out.set(palette!.subarray(3 * i, 3 * i + 3), 3 * o);
    } else if (color) {
      for (let ch = 0; ch < 3; ch++) out[3 * o + ch] = sample(row, x, ch);
    } else out[o] = sample(row, x, 0);
  };
  const passes = interlace ? ADAM7 : [[0, 0, 1, 1]];
  let off = 0;
  for (const [x0, y0, dx, dy] of passes as [number, number, number, number][]) {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) continue;
    const stride = Math.ceil((pw * bitsPerPixel) / 8);
    const start = off;
    off = unfilter(raw, off, ph, stride, bpp);
    for (let y = 0; y < ph; y++) {
      const row = start + y * (stride + 1) + 1;
      for (let x = 0; x < pw; x++) put(row, x, x0 + x * dx, y0 + y * dy);
    }
  }
  return { width, height, mode: color ? 'RGB' : 'L', data: out };
}
