/** BMP (Windows bitmap): uncompressed 24/32-bit (BI_RGB, or BI_BITFIELDS with the default masks) and 1/4/8-bit palette images. */
import { bad, checkSize, type Image, unsupported } from './types.js';

export function decodeBmp(b: Uint8Array): Image {
  if (b.length < 54) throw bad('BMP', 'truncated header');
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const dataOffset = dv.getUint32(10, true);
  const dib = dv.getUint32(14, true);
  if (dib < 40) throw unsupported('BMP', `core header (${dib} bytes)`);
  const width = dv.getInt32(18, true);
  const rawHeight = dv.getInt32(22, true);
  const bpp = dv.getUint16(28, true);
  const compression = dv.getUint32(30, true);
  const topDown = rawHeight < 0;
  const height = Math.abs(rawHeight);
  checkSize('BMP', width, height);
  if (!(compression === 0 || (compression === 3 && (bpp === 32 || bpp === 16))))
    throw unsupported('BMP', `compression ${compression}`);
  if (![1, 4, 8, 24, 32].includes(bpp)) throw unsupported('BMP', `${bpp}-bit pixels`);
  let palette: Uint8Array | undefined;
  if (bpp <= 8) {
    const colors = dv.getUint32(46, true) || 1 << bpp;
    palette = b.subarray(14 + dib, 14 + dib + 4 * colors);
  }
  const stride = Math.ceil((width * bpp) / 32) * 4;
  if (dataOffset + stride * height > b.length) throw bad('BMP', 'pixel data past the end of the file');
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = dataOffset + (topDown ? y : height - 1 - y) * stride;
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      if (palette) {
        const bit = x * bpp;
        const byte = b[row + (bit >> 3)]!;
        const idx = (byte >> (8 - bpp - (bit & 7))) & ((1 << bpp) - 1);
        if (4 * idx + 2 >= palette.length) throw bad('BMP', `palette index ${idx}`);
        out[o] = palette[4 * idx + 2]!;
        out[o + 1] = palette[4 * idx + 1]!;
        out[o + 2] = palette[4 * idx]!;
      } else {
        const p = row + x * (bpp / 8);
        out[o] = b[p + 2]!;
        out[o + 1] = b[p + 1]!;
        out[o + 2] = b[p]!;
      }
    }
  }
  return { width, height, mode: 'RGB', data: out };
}
