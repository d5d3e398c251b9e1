/** Netpbm: P1-P3 (plain) and P4-P6 (raw) bitmaps, graymaps and pixmaps; maxval up to 255 (scaled to 255). */
import { bad, checkSize, type Image, unsupported } from './types.js';

export function decodePnm(b: Uint8Array): Image {
  const kind = b[1]! - 48;
  let p = 2;
  const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12;
  const skip = () => {
    for (;;) {
      while (p < b.length && isSpace(b[p]!)) p++;
      if (b[p] === 35) while (p < b.length && b[p] !== 10 && b[p] !== 13) p++;
      else break;
    }
  };
  const token = (): number => {
    skip();
    const start = p;
    while (p < b.length && b[p]! >= 48 && b[p]! <= 57) p++;
    if (start === p) throw bad('PNM', 'expected a number in the header');
    return Number(String.fromCharCode(...b.subarray(start, p)));
  };
  const width = token();
  const height = token();
  checkSize('PNM', width, height);
  const bitmap = kind === 1 || kind === 4;
  const maxval = bitmap ? 1 : token();
  if (maxval < 1 || maxval > 255) throw unsupported('PNM', `maxval ${maxval}`);
  const channels = kind === 3 || kind === 6 ? 3 : 1;
  const n = width * height * channels;
  const out = new Uint8Array(n);
  const scale = (v: number) => (maxval === 255 ? v : Math.round((v * 255) / maxval));
  if (kind >= 4) {
    p++; // the single whitespace after the header
    if (kind === 4) {
      const stride = Math.ceil(width / 8);
      if (p + stride * height > b.length) throw bad('PNM', 'pixel data past the end of the file');
      for (let y = 0; y < height; y++)
        for (let x = 0; x < width; x++)
          out[y * width + x] = (b[p + y * stride + (x >> 3)]! >> (7 - (x & 7))) & 1 ? 0 : 255;
    } else {
      if (p + n > b.length) throw bad('PNM', 'pixel data past the end of the file');
      for (let i = 0; i < n; i++) out[i] = scale(b[p + i]!);
    }
  } else {
    for (let i = 0; i < n; i++) {
      if (kind === 1) {
        skip();
        if (b[p] !== 48 && b[p] !== 49) throw bad('PNM', 'expected 0 or 1 in a plain bitmap');
        out[i] = b[p++] === 49 ? 0 : 255;
      } else out[i] = scale(token());
    }
  }
  return { width, height, mode: channels === 3 ? 'RGB' : 'L', data: out };
}
