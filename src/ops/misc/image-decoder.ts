/**
 * ImageDecoder (opset 20): decodes an encoded image (uint8 1-D) into uint8 [H, W, 3] (pixel_format
 * RGB or BGR) or [H, W, 1] (Grayscale). Formats, recognized by their signature: baseline JPEG (as
 * libjpeg decodes it), PNG, BMP, TIFF and Netpbm (PNM), decoded in plain TypeScript
 * (src/ops/misc/image/). JPEG 2000 and WebP are recognized and reported UNSUPPORTED. Gray from
 * color uses PIL's integer luma (19595 R + 38470 G + 7471 B + 2^15) >> 16, as the ONNX reference
 * (Pillow) does.
 */
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrString, input } from '../helpers.js';
import { registerOp } from '../registry.js';
import { decodeBmp } from './image/bmp.js';
import { decodeJpeg } from './image/jpeg.js';
import { decodePng } from './image/png.js';
import { decodePnm } from './image/pnm.js';
import { decodeTiff } from './image/tiff.js';
import { type Image, OP, unsupported } from './image/types.js';

const starts = (b: Uint8Array, sig: number[], at = 0) => sig.every((v, i) => b[at + i] === v);

export function decodeImage(b: Uint8Array): Image {
  if (starts(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return decodePng(b);
  if (starts(b, [0x42, 0x4d])) return decodeBmp(b);
  if (starts(b, [0x49, 0x49, 0x2a, 0x00]) || starts(b, [0x4d, 0x4d, 0x00, 0x2a])) return decodeTiff(b);
  if (b[0] === 0x50 && b[1]! >= 0x31 && b[1]! <= 0x36) return decodePnm(b);
  if (starts(b, [0xff, 0xd8, 0xff])) return decodeJpeg(b);
  if (starts(b, [0x00, 0x00, 0x00, 0x0c, 0x6a, 0x50]) || starts(b, [0xff, 0x4f, 0xff, 0x51]))
    throw unsupported('JPEG 2000', 'decoding');
  if (starts(b, [0x52, 0x49, 0x46, 0x46]) && starts(b, [0x57, 0x45, 0x42, 0x50], 8))
    throw unsupported('WebP', 'decoding');
  throw new TesseraError(
    'INVALID_ARGUMENT',
    `${OP}: the data is not an image format Tessera recognizes (JPEG, PNG, BMP, TIFF, PNM)`,
  );
}

/** The image as [H, W, 3] RGB/BGR or [H, W, 1] gray. */
export function toPixelFormat(img: Image, format: string): Tensor {
  const { width: w, height: h, data } = img;
  const n = w * h;
  if (format === 'Grayscale') {
    if (img.mode === 'L') return Tensor.fromData(data, [h, w, 1], 'uint8');
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++)
      out[i] = (data[3 * i]! * 19595 + data[3 * i + 1]! * 38470 + data[3 * i + 2]! * 7471 + 0x8000) >> 16;
    return Tensor.fromData(out, [h, w, 1], 'uint8');
  }
  const out = new Uint8Array(3 * n);
  const bgr = format === 'BGR';
  for (let i = 0; i < n; i++) {
    const [r, g, b] =
      img.mode === 'L' ? [data[i]!, data[i]!, data[i]!] : [data[3 * i]!, data[3 * i + 1]!, data[3 * i + 2]!];
    out[3 * i] = bgr ? b : r;
    out[3 * i + 1] = g;
    out[3 * i + 2] = bgr ? r : b;
  }
  return Tensor.fromData(out, [h, w, 3], 'uint8');
}

registerOp({
  name: OP,
  since: 20,
  minInputs: 1,
  maxInputs: 1,
  defaults: { pixel_format: 'RGB' },
  kernels: {
    cpu: (inputs, attrs) => {
      const x = input(inputs, 0, OP);
      if (x.dtype !== 'uint8' || x.ndim !== 1) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: encoded_stream must be a 1-D uint8 tensor, got ${x.dtype} of shape [${x.shape.join(', ')}]`,
        );
      }
      const format = attrString(attrs, 'pixel_format', 'RGB');
      if (format !== 'RGB' && format !== 'BGR' && format !== 'Grayscale') {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: pixel_format must be RGB, BGR or Grayscale, got '${format}'`,
        );
      }
      return [toPixelFormat(decodeImage(x.dataSync() as Uint8Array), format)];
    },
  },
});
