/**
 * Baseline (sequential, Huffman) JPEG, decoded the way libjpeg(-turbo) decodes by default, so the
 * pixels equal what PIL and OpenCV give: the integer "islow" inverse DCT (jidctint.c), "fancy"
 * (triangle-filter) chroma upsampling for 2x1, 2x2 and 1x2 subsampling (jdsample.c), and the
 * fixed-point YCbCr -> RGB tables (jdcolor.c). Gray (1 component) and YCbCr or RGB (3 components)
 * images; progressive and arithmetic-coded files are reported UNSUPPORTED.
 */
import { bad, checkSize, type Image, unsupported } from './types.js';

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7,
  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46,
  53, 60, 61, 54, 47, 55, 62, 63,
];

interface Huffman {
  /** Per code length 1..16: the largest code, the first code and the index of its first symbol. */
  maxcode: Int32Array;
  mincode: Int32Array;
  valptr: Int32Array;
  values: Uint8Array;
}

function buildHuffman(counts: Uint8Array, values: Uint8Array): Huffman {
  const maxcode = new Int32Array(18).fill(-1);
  const mincode = new Int32Array(17);
  const valptr = new Int32Array(17);
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    const n = counts[len - 1]!;
    valptr[len] = k;
    mincode[len] = code;
    code += n;
    k += n;
    maxcode[len] = n ? code - 1 : -1;
    code <<= 1;
  }
  maxcode[17] = 0x7fffffff;
  return { maxcode, mincode, valptr, values };
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  /** Blocks per line / column of the component's coefficient plane (whole MCUs). */
  bw: number;
  bh: number;
  /** Downsampled size in samples: ceil(image size * factor / max factor). */
  dw: number;
  dh: number;
  coefs: Int32Array;
  pred: number;
  dc?: Huffman;
  ac?: Huffman;
}

class BitReader {
  private bits = 0;
  private nbits = 0;
  /** A marker was met: the rest of the segment reads as zero bits. */
  private marker = false;
  constructor(
    private readonly b: Uint8Array,
    public p: number,
  ) {}
  private fill(): void {
    while (this.nbits <= 24) {
      let byte = 0;
      if (!this.marker && this.p < this.b.length) {
        byte = this.b[this.p]!;
        if (byte === 0xff) {
          const next = this.b[this.p + 1];
          if (next === 0) this.p += 2;
          else {
            this.marker = true;
            byte = 0;
          }
        } else this.p++;
      }
      this.bits = (this.bits << 8) | byte;
      this.nbits += 8;
    }
  }
  bit(): number {
    if (this.nbits === 0) this.fill();
    this.nbits--;
    return (this.bits >>> this.nbits) & 1;
  }
  receive(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = (v << 1) | this.bit();
    return v;
  }
  decode(h: Huffman): number {
    let code = this.bit();
    let len = 1;
    while (code > h.maxcode[len]!) {
      code = (code << 1) | this.bit();
      if (++len > 16) throw bad('JPEG', 'corrupt Huffman code');
    }
    return h.values[h.valptr[len]! + code - h.mincode[len]!]!;
  }
  /** Drops buffered bits and skips an RSTn marker. */
  restart(): void {
    this.bits = 0;
    this.nbits = 0;
    this.marker = false;
    while (
      this.p + 1 < this.b.length &&
      !(this.b[this.p] === 0xff && this.b[this.p + 1]! >= 0xd0 && this.b[this.p + 1]! <= 0xd7)
    )
      this.p++;
    this.p += 2;
  }
  /** Position of the next marker after the entropy-coded data. */
  end(): number {
    let p = this.p;
    while (
      p + 1 < this.b.length &&
      !(this.b[p] === 0xff && this.b[p + 1] !== 0 && !(this.b[p + 1]! >= 0xd0 && this.b[p + 1]! <= 0xd7))
    )
      p++;
    return p;
  }
}

const extend = (v: number, t: number) => (v < 1 << (t - 1) ? v - (1 << t) + 1 : v);

function decodeBlock(r: BitReader, c: Component, off: number): void {
  const t = r.decode(c.dc!);
  c.pred += t ? extend(r.receive(t), t) : 0;
  c.coefs[off] = c.pred;
  for (let k = 1; k < 64; ) {
    const rs = r.decode(c.ac!);
    const s = rs & 15;
    const run = rs >> 4;
    if (s === 0) {
      if (run !== 15) break;
      k += 16;
      continue;
    }
    k += run;
    if (k > 63) throw bad('JPEG', 'coefficient index past 63');
    c.coefs[off + ZIGZAG[k]!] = extend(r.receive(s), s);
    k++;
  }
}

// ---- jidctint.c (islow) ---------------------------------------------------------------------------
const CONST_BITS = 13;
const PASS1_BITS = 2;
const descale = (x: number, n: number) => Math.floor((x + 2 ** (n - 1)) / 2 ** n);
/** libjpeg's post-IDCT range limit: (v & 1023) mapped to 0..255 (clamps everything a real image gives). */
function rangeLimit(v: number): number {
  const i = v & 1023;
  return i < 128 ? i + 128 : i < 512 ? 255 : i < 896 ? 0 : i - 896;
}

function idctBlock(
  coef: Int32Array,
  off: number,
  q: Int32Array,
  out: Uint8Array,
  outOff: number,
  stride: number,
  ws: Int32Array,
): void {
  for (let col = 0; col < 8; col++) {
    const c = (k: number) => coef[off + k * 8 + col]! * q[k * 8 + col]!;
    let acZero = true;
    for (let k = 1; k < 8; k++) if (coef[off + k * 8 + col] !== 0) acZero = false;
    if (acZero) {
      const dc = c(0) * 2 ** PASS1_BITS;
      for (let k = 0; k < 8; k++) ws[k * 8 + col] = dc;
      continue;
    }
    pass(c, (k, v) => {
      ws[k * 8 + col] = descale(v, CONST_BITS - PASS1_BITS);
    });
  }
  for (let row = 0; row < 8; row++) {
    const w = (k: number) => ws[row * 8 + k]!;
    const o = outOff + row * stride;
    let acZero = true;
    for (let k = 1; k < 8; k++) if (ws[row * 8 + k] !== 0) acZero = false;
    if (acZero) {
      const v = rangeLimit(descale(w(0), PASS1_BITS + 3));
      for (let k = 0; k < 8; k++) out[o + k] = v;
      continue;
    }
    pass(w, (k, v) => {
      out[o + k] = rangeLimit(descale(v, CONST_BITS + PASS1_BITS + 3));
    });
  }
}

/** One 8-point islow pass: in(k) gives input k, put(k, value) receives output k before descaling. */
function pass(inp: (k: number) => number, put: (k: number, v: number) => void): void {
  let z2 = inp(2);
  let z3 = inp(6);
  let z1 = (z2 + z3) * 4433;
  let tmp2 = z1 + z3 * -15137;
  let tmp3 = z1 + z2 * 6270;
  z2 = inp(0);
  z3 = inp(4);
  let tmp0 = (z2 + z3) * 8192;
  let tmp1 = (z2 - z3) * 8192;
  const tmp10 = tmp0 + tmp3;
  const tmp13 = tmp0 - tmp3;
  const tmp11 = tmp1 + tmp2;
  const tmp12 = tmp1 - tmp2;
  tmp0 = inp(7);
  tmp1 = inp(5);
  tmp2 = inp(3);
  tmp3 = inp(1);
  z1 = tmp0 + tmp3;
  z2 = tmp1 + tmp2;
  z3 = tmp0 + tmp2;
  let z4 = tmp1 + tmp3;
  const z5 = (z3 + z4) * 9633;
  tmp0 *= 2446;
  tmp1 *= 16819;
  tmp2 *= 25172;
  tmp3 *= 12299;
  z1 *= -7373;
  z2 *= -20995;
  z3 = z3 * -16069 + z5;
  z4 = z4 * -3196 + z5;
  tmp0 += z1 + z3;
  tmp1 += z2 + z4;
  tmp2 += z2 + z3;
  tmp3 += z1 + z4;
  put(0, tmp10 + tmp3);
  put(7, tmp10 - tmp3);
  put(1, tmp11 + tmp2);
  put(6, tmp11 - tmp2);
  put(2, tmp12 + tmp1);
  put(5, tmp12 - tmp1);
  put(3, tmp13 + tmp0);
  put(4, tmp13 - tmp0);
}

// ---- jdsample.c ----------------------------------------------------------------------------------
/**
 * Upsamples a component plane (valid region dw x dh, row stride `stride`) by (hx, vx) to
 * out (width ow, at least hx*dw x vx*dh), as libjpeg-turbo with fancy upsampling.
 */
function upsample(
  p: Uint8Array,
  stride: number,
  dw: number,
  dh: number,
  hx: number,
  vx: number,
  out: Uint8Array,
  ow: number,
): void {
  const at = (x: number, y: number) => p[Math.min(y, dh - 1) * stride + x]!;
  const rowAbove = (y: number) => Math.max(y - 1, 0);
  const rowBelow = (y: number) => Math.min(y + 1, dh - 1);
  if (hx === 2 && vx === 2 && dw > 2) {
    for (let y = 0; y < dh; y++) {
      for (let v = 0; v < 2; v++) {
        const far = v === 0 ? rowAbove(y) : rowBelow(y);
        const o = (2 * y + v) * ow;
        const sum = (x: number) => at(x, y) * 3 + at(x, far);
        let last = sum(0);
        let cur = last;
        let next = sum(1);
        out[o] = (cur * 4 + 8) >> 4;
        out[o + 1] = (cur * 3 + next + 7) >> 4;
        last = cur;
        cur = next;
        for (let x = 1; x < dw - 1; x++) {
          next = sum(x + 1);
          out[o + 2 * x] = (cur * 3 + last + 8) >> 4;
          out[o + 2 * x + 1] = (cur * 3 + next + 7) >> 4;
          last = cur;
          cur = next;
        }
        out[o + 2 * (dw - 1)] = (cur * 3 + last + 8) >> 4;
        out[o + 2 * (dw - 1) + 1] = (cur * 4 + 7) >> 4;
      }
    }
    return;
  }
  if (hx === 2 && vx === 1 && dw > 2) {
    for (let y = 0; y < dh; y++) {
      const o = y * ow;
      out[o] = at(0, y);
      out[o + 1] = (at(0, y) * 3 + at(1, y) + 2) >> 2;
      for (let x = 1; x < dw - 1; x++) {
        const v = at(x, y) * 3;
        out[o + 2 * x] = (v + at(x - 1, y) + 1) >> 2;
        out[o + 2 * x + 1] = (v + at(x + 1, y) + 2) >> 2;
      }
      out[o + 2 * (dw - 1)] = (at(dw - 1, y) * 3 + at(dw - 2, y) + 1) >> 2;
      out[o + 2 * (dw - 1) + 1] = at(dw - 1, y);
    }
    return;
  }
  if (hx === 1 && vx === 2) {
    for (let y = 0; y < dh; y++) {
      for (let v = 0; v < 2; v++) {
        const far = v === 0 ? rowAbove(y) : rowBelow(y);
        const o = (2 * y + v) * ow;
        for (let x = 0; x < dw; x++) out[o + x] = (at(x, y) * 3 + at(x, far) + (v === 0 ? 1 : 2)) >> 2;
      }
    }
    return;
  }
  // Other ratios: plain replication (int_upsample / h2v1_upsample / h2v2_upsample).
  for (let y = 0; y < dh * vx; y++)
    for (let x = 0; x < dw * hx; x++) out[y * ow + x] = at(Math.floor(x / hx), Math.floor(y / vx));
}

// ---- jdcolor.c -----------------------------------------------------------------------------------
const FIX = (x: number) => Math.floor(x * 65536 + 0.5);
const crR = new Int32Array(256);
const cbB = new Int32Array(256);
const crG = new Int32Array(256);
const cbG = new Int32Array(256);
for (let i = 0; i < 256; i++) {
  const x = i - 128;
  crR[i] = (FIX(1.402) * x + 32768) >> 16;
  cbB[i] = (FIX(1.772) * x + 32768) >> 16;
  crG[i] = -FIX(0.71414) * x;
  cbG[i] = -FIX(0.34414) * x + 32768;
}
const clamp8 = (v: number) => Math.min(255, Math.max(0, v));

export function decodeJpeg(b: Uint8Array): Image {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const qt: Int32Array[] = [];
  const dcTables: Huffman[] = [];
  const acTables: Huffman[] = [];
  let comps: Component[] = [];
  let width = 0;
  let height = 0;
  let hmax = 1;
  let vmax = 1;
  let mcusX = 0;
  let mcusY = 0;
  let interval = 0;
  let adobe: number | undefined;
  let jfif = false;
  let p = 2;
  let frame = false;
  let scans = 0;
  while (p + 4 <= b.length) {
    if (b[p] !== 0xff) {
      p++;
      continue;
    }
    const m = b[p + 1]!;
    if (m === 0xff) {
      p++;
      continue;
    }
    if (m === 0xd9) break;
    if (m === 0xd8 || (m >= 0xd0 && m <= 0xd7) || m === 0x01) {
      p += 2;
      continue;
    }
    const len = dv.getUint16(p + 2);
    const s = p + 4;
    const e = p + 2 + len;
    if (e > b.length) throw bad('JPEG', `segment 0x${m.toString(16)} is truncated`);
    if (m === 0xdb) {
      for (let q = s; q < e; ) {
        const pq = b[q]! >> 4;
        const tq = b[q]! & 15;
        const table = new Int32Array(64);
        for (let k = 0; k < 64; k++) table[ZIGZAG[k]!] = pq ? dv.getUint16(q + 1 + 2 * k) : b[q + 1 + k]!;
        qt[tq] = table;
        q += 1 + (pq ? 128 : 64);
      }
    } else if (m === 0xc4) {
      for (let q = s; q < e; ) {
        const tc = b[q]! >> 4;
        const th = b[q]! & 15;
        const counts = b.subarray(q + 1, q + 17);
        const total = counts.reduce((a, c) => a + c, 0);
        const table = buildHuffman(counts, b.slice(q + 17, q + 17 + total));
        (tc === 0 ? dcTables : acTables)[th] = table;
        q += 17 + total;
      }
    } else if (m === 0xc0 || m === 0xc1) {
      if (b[s] !== 8) throw unsupported('JPEG', `${b[s]}-bit precision`);
      height = dv.getUint16(s + 1);
      width = dv.getUint16(s + 3);
      checkSize('JPEG', width, height);
      const n = b[s + 5]!;
      comps = [];
      for (let i = 0; i < n; i++) {
        const o = s + 6 + 3 * i;
        comps.push({
          id: b[o]!,
          h: b[o + 1]! >> 4,
          v: b[o + 1]! & 15,
          tq: b[o + 2]!,
          bw: 0,
          bh: 0,
          dw: 0,
          dh: 0,
          coefs: new Int32Array(0),
          pred: 0,
        });
      }
      hmax = Math.max(...comps.map((c) => c.h));
      vmax = Math.max(...comps.map((c) => c.v));
      mcusX = Math.ceil(width / (8 * hmax));
      mcusY = Math.ceil(height / (8 * vmax));
      for (const c of comps) {
        if (c.h < 1 || c.v < 1 || hmax % c.h || vmax % c.v)
          throw unsupported('JPEG', `sampling factors ${c.h}x${c.v}`);
        c.bw = mcusX * c.h;
        c.bh = mcusY * c.v;
        c.dw = Math.ceil((width * c.h) / hmax);
        c.dh = Math.ceil((height * c.v) / vmax);
        c.coefs = new Int32Array(c.bw * c.bh * 64);
      }
      frame = true;
    } else if (m >= 0xc2 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      throw unsupported('JPEG', m === 0xc2 ? 'progressive coding' : `frame type 0x${m.toString(16)}`);
    } else if (m === 0xdd) {
      interval = dv.getUint16(s);
    } else if (m === 0xe0) {
      jfif = b[s] === 0x4a && b[s + 1] === 0x46 && b[s + 2] === 0x49 && b[s + 3] === 0x46;
    } else if (m === 0xee) {
      if (String.fromCharCode(...b.subarray(s, s + 5)) === 'Adobe') adobe = b[s + 11];
    } else if (m === 0xda) {
      if (!frame) throw bad('JPEG', 'scan before the frame header');
      const ns = b[s]!;
      const scan: Component[] = [];
      for (let i = 0; i < ns; i++) {
        const c = comps.find((x) => x.id === b[s + 1 + 2 * i]);
        if (!c) throw bad('JPEG', 'scan names an unknown component');
        c.dc = dcTables[b[s + 2 + 2 * i]! >> 4];
        c.ac = acTables[b[s + 2 + 2 * i]! & 15];
        if (!c.dc || !c.ac) throw bad('JPEG', 'scan uses an undefined Huffman table');
        c.pred = 0;
        scan.push(c);
      }
      const r = new BitReader(b, e);
      const single = scan.length === 1;
      const c0 = scan[0]!;
      const unitsX = single ? Math.ceil(c0.dw / 8) : mcusX;
      const unitsY = single ? Math.ceil(c0.dh / 8) : mcusY;
      const total = unitsX * unitsY;
      for (let u = 0; u < total; u++) {
        if (interval && u > 0 && u % interval === 0) {
          r.restart();
          for (const c of scan) c.pred = 0;
        }
        const ux = u % unitsX;
        const uy = Math.floor(u / unitsX);
        if (single) decodeBlock(r, c0, (uy * c0.bw + ux) * 64);
        else {
          for (const c of scan)
            for (let by = 0; by < c.v; by++)
              for (let bx = 0; bx < c.h; bx++)
                decodeBlock(r, c, ((uy * c.v + by) * c.bw + ux * c.h + bx) * 64);
        }
      }
      scans++;
      p = r.end();
      continue;
    }
    p = e;
  }
  if (!frame || scans === 0) throw bad('JPEG', 'no frame or no scan');
  if (comps.length !== 1 && comps.length !== 3) throw unsupported('JPEG', `${comps.length}-component images`);
  // Inverse DCT into each component plane, then upsample to full size.
  const ws = new Int32Array(64);
  const planes = comps.map((c) => {
    const q = qt[c.tq];
    if (!q) throw bad('JPEG', `quantization table ${c.tq} is undefined`);
    const stride = c.bw * 8;
    const plane = new Uint8Array(stride * c.bh * 8);
    for (let by = 0; by < c.bh; by++)
      for (let bx = 0; bx < c.bw; bx++)
        idctBlock(c.coefs, (by * c.bw + bx) * 64, q, plane, by * 8 * stride + bx * 8, stride, ws);
    const hx = hmax / c.h;
    const vx = vmax / c.v;
    if (hx === 1 && vx === 1) return { data: plane, stride };
    const ow = c.dw * hx;
    const full = new Uint8Array(ow * c.dh * vx);
    upsample(plane, stride, c.dw, c.dh, hx, vx, full, ow);
    return { data: full, stride: ow };
  });
  const n = width * height;
  if (comps.length === 1) {
    const out = new Uint8Array(n);
    for (let y = 0; y < height; y++)
      out.set(planes[0]!.data.subarray(y * planes[0]!.stride, y * planes[0]!.stride + width), y * width);
    return { width, height, mode: 'L', data: out };
  }
  // No JFIF marker and an Adobe transform of 0 (or component ids R, G, B) means RGB samples.
  const rgb =
    !jfif &&
    (adobe === 0 ||
      (adobe === undefined && comps[0]!.id === 82 && comps[1]!.id === 71 && comps[2]!.id === 66));
  const out = new Uint8Array(3 * n);
  const [Y, Cb, Cr] = planes as [
    { data: Uint8Array; stride: number },
    { data: Uint8Array; stride: number },
    { data: Uint8Array; stride: number },
  ];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = 3 * (y * width + x);
      const yy = Y.data[y * Y.stride + x]!;
      const cb = Cb.data[y * Cb.stride + x]!;
      const cr = Cr.data[y * Cr.stride + x]!;
      if (rgb) {
        out[o] = yy;
        out[o + 1] = cb;
        out[o + 2] = cr;
      } else {
        out[o] = clamp8(yy + crR[cr]!);
        out[o + 1] = clamp8(yy + ((cbG[cb]! + crG[cr]!) >> 16));
        out[o + 2] = clamp8(yy + cbB[cb]!);
      }
    }
  }
  return { width, height, mode: 'RGB', data: out };
}
