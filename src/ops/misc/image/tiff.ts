/**
 * TIFF (baseline, first image): 8-bit RGB(A) or grayscale (BlackIsZero / WhiteIsZero) samples,
 * chunky or planar, in strips, uncompressed or PackBits. Extra samples (alpha) are dropped.
 */
import { bad, checkSize, type Image, unsupported } from './types.js';

const TYPE_SIZE: Record<number, number> = { 1: 1, 3: 2, 4: 4, 16: 8 };

function packBits(src: Uint8Array, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let i = 0;
  let o = 0;
  while (o < size && i < src.length) {
    const n = (src[i++]! << 24) >> 24;
    if (n >= 0) {
      out.set(src.subarray(i, i + n + 1), o);
      i += n + 1;
      o += n + 1;
    } else if (n !== -128) {
      out.fill(src[i++]!, o, o + 1 - n);
      o += 1 - n;
    }
  }
  return out;
}

export function decodeTiff(b: Uint8Array): Image {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const le = b[0] === 0x49;
  const u16 = (o: number) => dv.getUint16(o, le);
  const u32 = (o: number) => dv.getUint32(o, le);
  const ifd = u32(4);
  if (ifd + 2 > b.length) throw bad('TIFF', 'IFD offset past the end of the file');
  const tags = new Map<number, number[]>();
  const count = u16(ifd);
  for (let k = 0; k < count; k++) {
    const e = ifd + 2 + 12 * k;
    const tag = u16(e);
    const type = u16(e + 2);
    const n = u32(e + 4);
    const size = TYPE_SIZE[type];
    if (!size) continue;
    const at = size * n <= 4 ? e + 8 : u32(e + 8);
    if (at + size * n > b.length) throw bad('TIFF', `tag ${tag} points past the end of the file`);
    const vals: number[] = [];
    for (let i = 0; i < n; i++) {
      const o = at + i * size;
      vals.push(size === 1 ? b[o]! : size === 2 ? u16(o) : size === 4 ? u32(o) : u32(o) / u32(o + 4));
    }
    tags.set(tag, vals);
  }
  const one = (tag: number, def?: number): number => {
    const v = tags.get(tag)?.[0] ?? def;
    if (v === undefined) throw bad('TIFF', `missing tag ${tag}`);
    return v;
  };
  const width = one(256);
  const height = one(257);
  checkSize('TIFF', width, height);
  const bits = tags.get(258) ?? [1];
  const spp = one(277, 1);
  const compression = one(259, 1);
  const photometric = one(262);
  const planar = one(284, 1);
  if (bits.some((x) => x !== 8)) throw unsupported('TIFF', `${bits.join('/')}-bit samples`);
  if (compression !== 1 && compression !== 32773) throw unsupported('TIFF', `compression ${compression}`);
  const rgb = photometric === 2;
  if (!(rgb || photometric === 0 || photometric === 1))
    throw unsupported('TIFF', `photometric interpretation ${photometric}`);
  if ((rgb && spp < 3) || spp < 1)
    throw bad('TIFF', `${spp} samples per pixel for photometric ${photometric}`);
  const offsets = tags.get(273) ?? [];
  const counts = tags.get(279) ?? [];
  const rowsPerStrip = Math.min(one(278, height), height);
  const stripsPerPlane = Math.ceil(height / rowsPerStrip);
  // Gather the (decompressed) strips of each plane into one buffer per plane.
  const planes = planar === 2 ? spp : 1;
  const perPixel = planar === 2 ? 1 : spp;
  const planeData = Array.from({ length: planes }, (_, pl) => {
    const buf = new Uint8Array(width * height * perPixel);
    for (let s = 0; s < stripsPerPlane; s++) {
      const idx = pl * stripsPerPlane + s;
      const off = offsets[idx];
      const len = counts[idx];
      if (off === undefined || len === undefined || off + len > b.length)
        throw bad('TIFF', `strip ${idx} is missing or truncated`);
      const rows = Math.min(rowsPerStrip, height - s * rowsPerStrip);
      const size = rows * width * perPixel;
      const src = b.subarray(off, off + len);
      buf.set(
        (compression === 1 ? src : packBits(src, size)).subarray(0, size),
        s * rowsPerStrip * width * perPixel,
      );
    }
    return buf;
  });
  const channels = rgb ? 3 : 1;
  const out = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    for (let ch = 0; ch < channels; ch++) {
      const v = planar === 2 ? planeData[ch]![i]! : planeData[0]![i * spp + ch]!;
      out[i * channels + ch] = photometric === 0 ? 255 - v : v;
    }
  }
  return { width, height, mode: rgb ? 'RGB' : 'L', data: out };
}
