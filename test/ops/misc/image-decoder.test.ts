import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deflateSync } from 'node:zlib';
import { ops, Tensor } from '../../../src/index.js';
import { runNodeTests } from './node-cases.js';

const decode = (bytes: number[] | Uint8Array, pixel_format = 'RGB') =>
  ops.dispatch('ImageDecoder', [Tensor.fromData(Uint8Array.from(bytes), [bytes.length], 'uint8')], {
    pixel_format,
  })[0]!;
const u32le = (v: number) => [v & 255, (v >> 8) & 255, (v >> 16) & 255, (v >>> 24) & 255];
const u16le = (v: number) => [v & 255, (v >> 8) & 255];
const u32be = (v: number) => [(v >>> 24) & 255, (v >> 16) & 255, (v >> 8) & 255, v & 255];
const ascii = (s: string) => Array.from(s, (c) => c.charCodeAt(0));

// Test images: 2 x 2 pixels red, green / blue, white (rows top to bottom), written byte by byte.
const RGB = [
  [
    [255, 0, 0],
    [0, 255, 0],
  ],
  [
    [0, 0, 255],
    [255, 255, 255],
  ],
];

function bmp(bpp: 24 | 8, topDown: boolean, pixelRows: number[][], palette: number[] = []): number[] {
  const stride = Math.ceil((2 * bpp) / 32) * 4;
  const rows = topDown ? pixelRows : [...pixelRows].reverse();
  const data = rows.flatMap((r) => [...r, ...new Array(stride - r.length).fill(0)]);
  const offset = 54 + palette.length;
  return [
    ...ascii('BM'),
    ...u32le(offset + data.length),
    0,
    0,
    0,
    0,
    ...u32le(offset),
    ...u32le(40),
    ...u32le(2),
    ...u32le(topDown ? -2 : 2),
    ...u16le(1),
    ...u16le(bpp),
    ...u32le(0),
    ...u32le(data.length),
    ...u32le(2835),
    ...u32le(2835),
    ...u32le(palette.length / 4),
    ...u32le(0),
    ...palette,
    ...data,
  ]; // prettier-ignore
}

test('ImageDecoder: BMP 24-bit bottom-up and top-down, 8-bit palette; BGR and Grayscale outputs', () => {
  const bgrRows = RGB.map((r) => r.flatMap(([R, G, B]) => [B!, G!, R!]));
  for (const topDown of [false, true]) {
    const img = decode(bmp(24, topDown, bgrRows));
    assert.deepEqual(img.shape, [2, 2, 3]);
    assert.deepEqual(img.toArray(), RGB);
  }
  // Palette BGRA entries: 0 = blue, 1 = white; pixel indices [1, 0] / [0, 1].
  const pal = bmp(
    8,
    false,
    [
      [1, 0],
      [0, 1],
    ],
    [255, 0, 0, 0, 255, 255, 255, 0],
  ); // prettier-ignore
  assert.deepEqual(decode(pal).toArray(), [
    [
      [255, 255, 255],
      [0, 0, 255],
    ],
    [
      [0, 0, 255],
      [255, 255, 255],
    ],
  ]);
  assert.deepEqual((decode(bmp(24, true, bgrRows), 'BGR').toArray() as number[][][])[0], [
    [0, 0, 255],
    [0, 255, 0],
  ]);
  // PIL's luma: red (255*19595 + 2^15) >> 16 = 76, green 150, blue 29, white 255 (by hand).
  const gray = decode(bmp(24, true, bgrRows), 'Grayscale');
  assert.deepEqual(gray.shape, [2, 2, 1]);
  assert.deepEqual(Array.from(gray.numbers()), [76, 150, 29, 255]);
});

test('ImageDecoder: PNM raw and plain formats, maxval scaling, comments', () => {
  const p6 = [...ascii('P6\n# a comment\n2 2\n255\n'), ...RGB.flat(2)];
  assert.deepEqual(decode(p6).toArray(), RGB);
  // P5 with maxval 15: 15 -> 255, 5 -> 85 (5 * 255 / 15), gray replicated to RGB.
  const p5 = decode([...ascii('P5 2 1 15\n'), 15, 5]);
  assert.deepEqual(p5.toArray(), [
    [
      [255, 255, 255],
      [85, 85, 85],
    ],
  ]);
  assert.deepEqual(Array.from(decode(ascii('P2\n2 1\n255\n7 200\n'), 'Grayscale').numbers()), [7, 200]);
  assert.deepEqual(Array.from(decode(ascii('P3 1 1 255 1 2 3'), 'RGB').numbers()), [1, 2, 3]);
  // P1: 1 is black.
  assert.deepEqual(Array.from(decode(ascii('P1\n3 1\n1 0 1\n'), 'Grayscale').numbers()), [0, 255, 0]);
  assert.throws(() => decode(ascii('P6\n2 2\n65535\n')), /ImageDecoder: PNM maxval 65535 is not supported/);
});

function png(
  width: number,
  height: number,
  depth: number,
  ctype: number,
  raw: number[],
  extra: number[][] = [],
  interlace = 0,
): number[] {
  const chunk = (type: string, body: number[]) => [
    ...u32be(body.length),
    ...ascii(type),
    ...body,
    0,
    0,
    0,
    0,
  ];
  return [
    0x89,
    0x50,
    0x4e,
    0x47,
    0x0d,
    0x0a,
    0x1a,
    0x0a,
    ...chunk('IHDR', [...u32be(width), ...u32be(height), depth, ctype, 0, 0, interlace]),
    ...extra.flat(),
    ...chunk('IDAT', Array.from(deflateSync(Uint8Array.from(raw)))),
    ...chunk('IEND', []),
  ]; // prettier-ignore
}

test('ImageDecoder: PNG filters, palette, low bit depths, 16 bits, alpha, Adam7', () => {
  // Row 0 with the Sub filter (1): red, then green stored as green - red per byte (mod 256).
  // Row 1 with the Up filter (2): blue - red, white - green.
  const raw = [1, 255, 0, 0, 1, 255, 0, 2, 1, 0, 255, 255, 0, 255];
  assert.deepEqual(decode(png(2, 2, 8, 2, raw)).toArray(), RGB);
  // Paeth (4) on row 1 (by hand): pixel 0 has no left neighbour, so it predicts from above (red);
  // pixel 1 predicts R from the left (0), G from above (255) and B from the left (255).
  const paeth = [0, 255, 0, 0, 0, 255, 0, 4, 1, 0, 255, 255, 0, 0];
  assert.deepEqual(decode(png(2, 2, 8, 2, paeth)).toArray(), RGB);
  // Palette (color type 3), 2-bit indices 1, 2 / 0, 1.
  const plte = [[...u32be(9), ...ascii('PLTE'), 0, 0, 255, 255, 0, 0, 0, 255, 0, 0, 0, 0, 0]];
  assert.deepEqual(decode(png(2, 2, 2, 3, [0, 0b01100000, 0, 0b00010000], plte)).toArray(), [
    [
      [255, 0, 0],
      [0, 255, 0],
    ],
    [
      [0, 0, 255],
      [255, 0, 0],
    ],
  ]);
  // 1-bit gray: 1 -> 255.
  assert.deepEqual(
    Array.from(decode(png(3, 1, 1, 0, [0, 0b10100000]), 'Grayscale').numbers()),
    [255, 0, 255],
  );
  // 16-bit gray keeps the high byte; gray + alpha (type 4) drops the alpha.
  assert.deepEqual(
    Array.from(decode(png(2, 1, 16, 0, [0, 0x12, 0x34, 0xab, 0xcd]), 'Grayscale').numbers()),
    [0x12, 0xab],
  );
  assert.deepEqual(Array.from(decode(png(1, 1, 8, 4, [0, 77, 9]), 'Grayscale').numbers()), [77]);
  // RGBA (type 6): alpha dropped.
  assert.deepEqual(Array.from(decode(png(1, 1, 8, 6, [0, 1, 2, 3, 4])).numbers()), [1, 2, 3]);
  // Adam7 on 2 x 2: pass 1 holds (0,0), pass 6 holds (1,0), pass 7 holds row 1.
  const adam7 = [0, 255, 0, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255];
  assert.deepEqual(decode(png(2, 2, 8, 2, adam7, [], 1)).toArray(), RGB);
  assert.throws(
    () => decode(png(1, 1, 8, 5, [0, 0])),
    /ImageDecoder: PNG color type 5 at bit depth 8 is not supported/,
  );
});

function tiff(spp: number, photometric: number, compression: number, data: number[]): number[] {
  const entries: [number, number, number, number][] = [
    [256, 3, 1, 2], // width
    [257, 3, 1, 1], // height
    [258, 3, 1, 8], // bits per sample (one value for all samples is accepted)
    [259, 3, 1, compression],
    [262, 3, 1, photometric],
    [273, 4, 1, 8 + 2 + 12 * 8 + 4], // strip offset: right after the IFD
    [277, 3, 1, spp],
    [279, 4, 1, data.length],
  ];
  return [
    ...ascii('II'),
    42,
    0,
    ...u32le(8),
    ...u16le(entries.length),
    ...entries.flatMap(([tag, type, n, v]) => [...u16le(tag), ...u16le(type), ...u32le(n), ...u32le(v)]),
    ...u32le(0),
    ...data,
  ]; // prettier-ignore
}

test('ImageDecoder: TIFF RGB and gray strips, uncompressed and PackBits, WhiteIsZero', () => {
  assert.deepEqual(decode(tiff(3, 2, 1, [255, 0, 0, 0, 255, 0])).toArray(), [RGB[0]]);
  // PackBits: -1 repeats the next byte twice: gray [9, 9].
  assert.deepEqual(Array.from(decode(tiff(1, 1, 32773, [0xff, 9]), 'Grayscale').numbers()), [9, 9]);
  // WhiteIsZero inverts.
  assert.deepEqual(Array.from(decode(tiff(1, 0, 1, [0, 200]), 'Grayscale').numbers()), [255, 55]);
  assert.throws(() => decode(tiff(3, 2, 5, [0])), /ImageDecoder: TIFF compression 5 is not supported/);
});

test('ImageDecoder: unsupported formats and bad input are errors that name the op', () => {
  assert.throws(
    () => decode([0xff, 0xd8, 0xff, 0xc2, 0, 11, 8, 0, 1, 0, 1, 1, 1, 0x11, 0]),
    /ImageDecoder: JPEG progressive coding is not supported/,
  );
  assert.throws(
    () => decode([...ascii('RIFF'), 0, 0, 0, 0, ...ascii('WEBP')]),
    /ImageDecoder: WebP decoding is not supported/,
  );
  assert.throws(() => decode([1, 2, 3]), /ImageDecoder: the data is not an image format Tessera recognizes/);
  assert.throws(
    () => decode(bmp(24, true, [[0, 0, 0, 0, 0, 0]]), 'HSV'),
    /ImageDecoder: pixel_format must be RGB, BGR or Grayscale, got 'HSV'/,
  );
  assert.throws(
    () => ops.dispatch('ImageDecoder', [Tensor.fromData(new Float32Array(3), [3], 'float32')]),
    /ImageDecoder: encoded_stream must be a 1-D uint8 tensor, got float32/,
  );
});

test('ONNX conformance: ImageDecoder node tests (JPEG as libjpeg, BMP, PNG, PNM, TIFF)', () => {
  runNodeTests([
    'test_image_decoder_decode_bmp_rgb',
    'test_image_decoder_decode_jpeg_bgr',
    'test_image_decoder_decode_jpeg_grayscale',
    'test_image_decoder_decode_jpeg_rgb',
    'test_image_decoder_decode_png_rgb',
    'test_image_decoder_decode_pnm_rgb',
    'test_image_decoder_decode_tiff_rgb',
  ]);
});
