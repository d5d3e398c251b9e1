/**
 * A small zip reader and writer for .npz files (NumPy's `savez` writes a zip of .npy members,
 * `savez_compressed` deflates them). Reads stored (0) and deflated (8) members, ZIP64 sizes and
 * offsets included (NumPy forces ZIP64 local headers); writes stored or deflated members with
 * CRC-32s checked on read. No encryption, no multi-disk archives.
 */
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { TesseraError } from '../runtime/errors.js';

export interface ZipEntry {
  name: string;
  data: Uint8Array;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_EOCD64 = 0x06064b50;
const SIG_EOCD64_LOCATOR = 0x07064b50;
const MAX32 = 0xffffffff;
const MAX16 = 0xffff;

const bad = (what: string, msg: string) => new TesseraError('INVALID_ARGUMENT', `${what}: ${msg}`);

/** The members of a zip archive, in central-directory order. */
export function readZip(bytes: Uint8Array, what = 'zip archive'): ZipEntry[] {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The end-of-central-directory record sits in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = bytes.length - 22; i >= Math.max(0, bytes.length - 22 - MAX16); i--) {
    if (v.getUint32(i, true) === SIG_EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw bad(what, 'not a zip archive (no end-of-central-directory record)');
  let count = v.getUint16(eocd + 10, true);
  let cdOffset = v.getUint32(eocd + 16, true);
  if (count === MAX16 || cdOffset === MAX32) {
    const loc = eocd - 20;
    if (loc < 0 || v.getUint32(loc, true) !== SIG_EOCD64_LOCATOR) throw bad(what, 'ZIP64 locator missing');
    const rec = Number(v.getBigUint64(loc + 8, true));
    if (rec + 56 > bytes.length || v.getUint32(rec, true) !== SIG_EOCD64)
      throw bad(what, 'ZIP64 record missing');
    count = Number(v.getBigUint64(rec + 32, true));
    cdOffset = Number(v.getBigUint64(rec + 48, true));
  }
  const out: ZipEntry[] = [];
  let p = cdOffset;
  for (let k = 0; k < count; k++) {
    if (p + 46 > bytes.length || v.getUint32(p, true) !== SIG_CENTRAL)
      throw bad(what, `central directory entry ${k} is damaged`);
    const flags = v.getUint16(p + 8, true);
    const method = v.getUint16(p + 10, true);
    const crc = v.getUint32(p + 16, true);
    let csize = v.getUint32(p + 20, true);
    let usize = v.getUint32(p + 24, true);
    const nameLen = v.getUint16(p + 28, true);
    const extraLen = v.getUint16(p + 30, true);
    const commentLen = v.getUint16(p + 32, true);
    let offset = v.getUint32(p + 42, true);
    const name = new TextDecoder().decode(bytes.subarray(p + 46, p + 46 + nameLen));
    // ZIP64 extended information: only the fields whose 32-bit value is saturated are present, in this order.
    let e = p + 46 + nameLen;
    const extraEnd = e + extraLen;
    while (e + 4 <= extraEnd) {
      const id = v.getUint16(e, true);
      const size = v.getUint16(e + 2, true);
      if (id === 0x0001) {
        let q = e + 4;
        if (usize === MAX32) {
          usize = Number(v.getBigUint64(q, true));
          q += 8;
        }
        if (csize === MAX32) {
          csize = Number(v.getBigUint64(q, true));
          q += 8;
        }
        if (offset === MAX32) offset = Number(v.getBigUint64(q, true));
      }
      e += 4 + size;
    }
    if (flags & 1) throw bad(what, `member '${name}' is encrypted`);
    if (offset + 30 > bytes.length || v.getUint32(offset, true) !== SIG_LOCAL)
      throw bad(what, `member '${name}' has no local header`);
    const start = offset + 30 + v.getUint16(offset + 26, true) + v.getUint16(offset + 28, true);
    if (start + csize > bytes.length) throw bad(what, `member '${name}' is truncated`);
    const raw = bytes.subarray(start, start + csize);
    let data: Uint8Array;
    if (method === 0) data = raw;
    else if (method === 8) {
      try {
        data = new Uint8Array(inflateRawSync(raw));
      } catch (err) {
        throw bad(what, `member '${name}' does not inflate: ${(err as Error).message}`);
      }
    } else
      throw bad(
        what,
        `member '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`,
      );
    if (data.length !== usize)
      throw bad(what, `member '${name}' has ${data.length} bytes, its header says ${usize}`);
    if (crc32(data) !== crc) throw bad(what, `member '${name}' fails its CRC-32 check`);
    out.push({ name, data });
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** A zip archive of `entries` (deflated when `compress`, else stored). Members up to 4 GiB, no ZIP64. */
export function writeZip(entries: readonly ZipEntry[], opts: { compress?: boolean } = {}): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  // DOS date/time of 1980-01-01 00:00: reproducible archives.
  const dosTime = 0;
  const dosDate = (0 << 9) | (1 << 5) | 1;
  for (const { name, data } of entries) {
    const nameBytes = enc.encode(name);
    const body = opts.compress ? new Uint8Array(deflateRawSync(data)) : data;
    const method = opts.compress ? 8 : 0;
    const crc = crc32(data);
    if (data.length >= MAX32 || offset >= MAX32)
      throw new TesseraError('UNSUPPORTED', `zip: member '${name}' is too large (4 GiB at most)`);
    const h = new Uint8Array(30 + nameBytes.length);
    const hv = new DataView(h.buffer);
    hv.setUint32(0, SIG_LOCAL, true);
    hv.setUint16(4, 20, true);
    hv.setUint16(6, 0x0800, true); // UTF-8 names
    hv.setUint16(8, method, true);
    hv.setUint16(10, dosTime, true);
    hv.setUint16(12, dosDate, true);
    hv.setUint32(14, crc, true);
    hv.setUint32(18, body.length, true);
    hv.setUint32(22, data.length, true);
    hv.setUint16(26, nameBytes.length, true);
    h.set(nameBytes, 30);
    const c = new Uint8Array(46 + nameBytes.length);
    const cv = new DataView(c.buffer);
    cv.setUint32(0, SIG_CENTRAL, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, method, true);
    cv.setUint16(12, dosTime, true);
    cv.setUint16(14, dosDate, true);
    cv.setUint32(16, crc, true);
    cv.setUint32(20, body.length, true);
    cv.setUint32(24, data.length, true);
    cv.setUint16(28, nameBytes.length, true);
    cv.setUint32(42, offset, true);
    c.set(nameBytes, 46);
    locals.push(h, body);
    centrals.push(c);
    offset += h.length + body.length;
  }
  const cdSize = centrals.reduce((a, c) => a + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, SIG_EOCD, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = new Uint8Array(offset + cdSize + 22);
  let p = 0;
  for (const part of [...locals, ...centrals, end]) {
    all.set(part, p);
    p += part.length;
  }
  return all;
}
