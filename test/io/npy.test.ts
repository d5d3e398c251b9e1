// .npy/.npz reading and writing. The fixtures were written by NumPy 2.4 (fixtures/make_fixtures.py);
// the expected values below are that script's formulas worked by hand.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tensor, tensor } from '../../src/index.js';
import { decodeNpy, decodeNpz, encodeNpy, encodeNpz, readNpy, readNpz, writeNpz } from '../../src/io/npy.js';
import { crc32, readZip, writeZip } from '../../src/io/zip.js';

const fx = (name: string) => join(import.meta.dirname, 'fixtures', name);

test('reads float32 in C order', () => {
  const t = readNpy(fx('f4_c.npy'));
  assert.equal(t.dtype, 'float32');
  assert.deepEqual(t.shape, [2, 3]);
  assert.deepEqual([...t.numbers()], [0, 0.5, 1, 1.5, 2, 2.5]);
});

test('reads big-endian float64 in Fortran order into row-major order', () => {
  const t = readNpy(fx('f8_big_fortran.npy'));
  assert.equal(t.dtype, 'float64');
  assert.deepEqual(t.shape, [3, 4]);
  assert.deepEqual(
    [...t.numbers()],
    Array.from({ length: 12 }, (_, i) => i - 5.25),
  );
});

test('reads int64, big-endian uint16, bool, float16, a 0-d uint8 and an empty array', () => {
  const i8 = readNpy(fx('i8.npy'));
  assert.equal(i8.dtype, 'int64');
  assert.deepEqual([...(i8.dataSync() as BigInt64Array)], [-3n, 0n, 2n ** 40n]);
  const u2 = readNpy(fx('u2_big.npy'));
  assert.equal(u2.dtype, 'uint16');
  assert.deepEqual([...u2.numbers()], [1, 258, 65535]);
  const b = readNpy(fx('bool.npy'));
  assert.equal(b.dtype, 'bool');
  assert.deepEqual(b.toArray(), [
    [true, false],
    [false, true],
  ]);
  const h = readNpy(fx('f2.npy'));
  assert.equal(h.dtype, 'float16');
  assert.deepEqual([...h.numbers()], [1.5, -2, 65504]);
  const s = readNpy(fx('u1_scalar.npy'));
  assert.equal(s.dtype, 'uint8');
  assert.deepEqual(s.shape, []);
  assert.equal(s.item(), 200);
  const e = readNpy(fx('empty.npy'));
  assert.equal(e.dtype, 'int32');
  assert.deepEqual(e.shape, [0, 3]);
});

test('reads unicode and byte strings', () => {
  assert.deepEqual(readNpy(fx('unicode.npy')).dataSync(), ['a', 'héllo', '€']);
  assert.deepEqual(readNpy(fx('bytes.npy')).dataSync(), ['ab', 'c']);
});

test('writes byte for byte what np.save writes', () => {
  for (const f of ['f4_c.npy', 'i8.npy', 'bool.npy', 'u1_scalar.npy', 'empty.npy', 'f2.npy', 'unicode.npy']) {
    const bytes = readFileSync(fx(f));
    assert.deepEqual(Buffer.from(encodeNpy(decodeNpy(bytes))), bytes, f);
  }
});

test('round-trips every dtype, widening those NumPy lacks', () => {
  const cases: Tensor[] = [
    tensor([1.25, -2], { dtype: 'float64' }),
    tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int32' },
    ),
    tensor([-1, 2, 300], { dtype: 'int16' }),
    tensor([5, 6], { dtype: 'uint32' }),
    tensor([-5, 7], { dtype: 'int8' }),
    tensor([true, false, true], { dtype: 'bool' }),
    Tensor.fromData(['x', '😀y'], [2], 'string'),
  ];
  for (const t of cases) {
    const r = decodeNpy(encodeNpy(t));
    assert.equal(r.dtype, t.dtype);
    assert.deepEqual(r.shape, t.shape);
    assert.deepEqual(r.toArray(), t.toArray());
  }
  const bf = tensor([1.5, -3], { dtype: 'bfloat16' });
  const r = decodeNpy(encodeNpy(bf));
  assert.equal(r.dtype, 'float32');
  assert.deepEqual([...r.numbers()], [1.5, -3]);
  // A non-contiguous view is written in its logical (row-major) order.
  const m = tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]).transpose(0, 1);
  assert.deepEqual(decodeNpy(encodeNpy(m)).toArray(), [
    [1, 4],
    [2, 5],
    [3, 6],
  ]);
});

test('reads np.savez and np.savez_compressed archives', () => {
  for (const f of ['savez.npz', 'savez_compressed.npz']) {
    const arrays = readNpz(fx(f));
    assert.deepEqual([...arrays.keys()], ['x', 'y'], f);
    assert.deepEqual(arrays.get('x')!.toArray(), [
      [0, 1, 2],
      [3, 4, 5],
    ]);
    assert.equal(arrays.get('y')!.dtype, 'int64');
    assert.deepEqual([...arrays.get('y')!.numbers()], [1, 2, 3]);
  }
});

test('writes stored and deflated .npz files and reads them back', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-npz-'));
  const x = tensor([
    [1, 2],
    [3, 4],
  ]);
  const labels = tensor([0, 1], { dtype: 'int64' });
  for (const compress of [false, true]) {
    const file = join(dir, `a${compress}.npz`);
    writeNpz(file, { x, labels }, { compress });
    const back = readNpz(file);
    assert.deepEqual([...back.keys()], ['x', 'labels']);
    assert.deepEqual(back.get('x')!.toArray(), x.toArray());
    assert.deepEqual(back.get('labels')!.toArray(), labels.toArray());
  }
  assert.throws(
    () =>
      encodeNpz([
        ['a', x],
        ['a', x],
      ]),
    /used twice/,
  );
});

test('zip: CRC-32 of a known string, corruption detected, unknown input refused', () => {
  // CRC-32 of "123456789" is 0xCBF43926 (the standard check value).
  assert.equal(crc32(new TextEncoder().encode('123456789')), 0xcbf43926);
  const z = writeZip([{ name: 'a.txt', data: new TextEncoder().encode('hello hello hello') }], {
    compress: true,
  });
  assert.equal(new TextDecoder().decode(readZip(z)[0]!.data), 'hello hello hello');
  const stored = writeZip([{ name: 'a.txt', data: new TextEncoder().encode('hello') }]);
  stored[30 + 5] ^= 0xff; // flip a byte of the stored data
  assert.throws(() => readZip(stored), /CRC-32/);
  assert.throws(() => decodeNpz(new Uint8Array(40)), /not a zip archive/);
  assert.throws(() => decodeNpy(new TextEncoder().encode('hello world!')), /not a \.npy file/);
});

test('errors name the problem: object arrays, truncated data', () => {
  const good = readFileSync(fx('f4_c.npy'));
  assert.throws(() => decodeNpy(good.subarray(0, good.length - 4), 'x.npy'), /x\.npy: truncated data/);
  const obj = Buffer.from(good);
  obj.write("'|O8'", obj.indexOf("'<f4'"), 'latin1');
  assert.throws(() => decodeNpy(obj), /object arrays/);
});

const numpy = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' }).status === 0;

test('NumPy reads what Tessera writes', {
  skip: numpy ? false : 'python3 with numpy is not installed',
}, () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessera-npz-'));
  const file = join(dir, 'out.npz');
  writeNpz(
    file,
    {
      f: tensor([
        [0.5, 1],
        [2, 4],
      ]),
      i: tensor([-2, 1099511627777n], { dtype: 'int64' }),
      s: Tensor.fromData(['ab', 'é'], [2], 'string'),
    },
    { compress: true },
  );
  const code = `import numpy as np, json, sys
z = np.load(sys.argv[1])
print(json.dumps({k: [str(z[k].dtype), list(z[k].shape), z[k].tolist()] for k in z.files}))`;
  const r = spawnSync('python3', ['-c', code, file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    f: [
      'float32',
      [2, 2],
      [
        [0.5, 1],
        [2, 4],
      ],
    ],
    i: ['int64', [2], [-2, 1099511627777]],
    s: ['<U2', [2], ['ab', 'é']],
  });
});
