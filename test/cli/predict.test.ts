// `tessera predict`: inputs from inline JSON, .npy, .npz and v2 request bodies; outputs printed,
// as JSON, and written as .npy/.npz. Values are checked against onnxruntime-node on the same model.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tensor } from '../../src/index.js';
import { readNpy, readNpz, writeNpy, writeNpz } from '../../src/io/npy.js';
import { cli, ortRun } from './helpers.js';

const MLP = 'models/mlp/1/model.onnx';
const x = [
  [0.5, -1, 2, 0.25],
  [1, 1, -1, 0],
];
const dir = mkdtempSync(join(tmpdir(), 'tessera-predict-'));

async function expected() {
  const r = await ortRun(MLP, { input: { data: Float32Array.from(x.flat()), dims: [2, 4] } });
  return r.probabilities!;
}

function close(a: ArrayLike<number>, b: ArrayLike<number>) {
  assert.equal(a.length, b.length);
  for (let i = 0; i < a.length; i++)
    assert.ok(Math.abs(a[i]! - b[i]!) <= 1e-5 + 1e-5 * Math.abs(b[i]!), `${a[i]} vs ${b[i]} at ${i}`);
}

test('inline JSON input, --json output in the v2 response shape, same values as onnxruntime', async () => {
  const r = await cli('predict', MLP, '-i', `input=${JSON.stringify(x)}`, '--json');
  assert.equal(r.code, 0, r.err);
  const body = JSON.parse(r.out) as {
    outputs: { name: string; datatype: string; shape: number[]; data: number[] }[];
  };
  assert.equal(body.outputs[0]!.name, 'probabilities');
  assert.equal(body.outputs[0]!.datatype, 'FP32');
  assert.deepEqual(body.outputs[0]!.shape, [2, 3]);
  close(body.outputs[0]!.data, (await expected()).data);
});

test('.npy in (float64 cast with a note), .npy and .npz out', async () => {
  const inFile = join(dir, 'x.npy');
  writeNpy(inFile, tensor(x, { dtype: 'float64' }));
  const outNpy = join(dir, 'y.npy');
  const outNpz = join(dir, 'y.npz');
  const r = await cli('predict', 'models/mlp', '--input', inFile, '-o', outNpy, '-o', outNpz);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /float64 values cast to float32/);
  assert.match(r.out, /wrote .*y\.npy/);
  const want = await expected();
  close(readNpy(outNpy).numbers(), want.data);
  close(readNpz(outNpz).get('probabilities')!.numbers(), want.data);
});

test('a .npz archive and a v2 request body as inputs; printed tensors and --top with labels', async () => {
  const npz = join(dir, 'in.npz');
  writeNpz(npz, { input: tensor(x) });
  const a = await cli('predict', MLP, '-i', npz);
  assert.equal(a.code, 0, a.err);
  assert.match(a.out, /^probabilities: float32\[2, 3\]\ntensor\(\[\[/);
  const req = join(dir, 'req.json');
  writeFileSync(
    req,
    JSON.stringify({ inputs: [{ name: 'input', shape: [2, 4], datatype: 'FP32', data: x.flat() }] }),
  );
  const b = await cli('predict', MLP, '-i', req, '--top', '2');
  assert.equal(b.code, 0, b.err);
  // models/mlp/config.json names no label file: classes print as indices, largest first.
  const want = await expected();
  const best = [0, 1].map((row) => {
    const p = Array.from(want.data.slice(row * 3, row * 3 + 3));
    return p.indexOf(Math.max(...p));
  });
  assert.match(b.out, new RegExp(`row 0: ${best[0]} \\(`));
  assert.match(b.out, new RegExp(`row 1: ${best[1]} \\(`));
  // A repository model whose config.json names a label file: --top prints labels.
  const repo = join(dir, 'repo', 'digits');
  cpSync('models/mnist_cnn', repo, { recursive: true });
  writeFileSync(join(repo, 'labels.txt'), Array.from({ length: 10 }, (_, i) => `class_${i}`).join('\n'));
  const img = join(dir, 'img.npy');
  writeNpy(img, tensor(Array.from({ length: 784 }, (_, i) => (i % 7) / 7)).reshape([1, 1, 28, 28]));
  const c = await cli('predict', repo, '-i', `image=${img}`, '--top', '3');
  assert.equal(c.code, 0, c.err);
  assert.match(c.out, /row 0: class_\d \(\S+\), class_\d \(\S+\), class_\d \(/);
});

test('mistakes exit 2 with what to fix; failures exit 1 with the file or input named', async () => {
  const missing = await cli('predict', MLP);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /missing input input \(float32\[batch, 4\]\): give --input NAME=FILE/);
  assert.match(missing.err, /tessera predict --help/);
  const wrongName = await cli('predict', MLP, '-i', 'x=[[1,2,3,4]]');
  assert.equal(wrongName.code, 2);
  assert.match(wrongName.err, /no input 'x'; its inputs are input/);
  const flag = await cli('predict', MLP, '--bogus');
  assert.equal(flag.code, 2);
  assert.match(flag.err, /Unknown option '--bogus'/);
  const noModel = await cli('predict', join(dir, 'nope.onnx'), '-i', 'input=[[1,2,3,4]]');
  assert.equal(noModel.code, 1);
  assert.match(noModel.err, /nope\.onnx' does not exist/);
  const shape = await cli('predict', MLP, '-i', 'input=[[1,2,3]]');
  assert.equal(shape.code, 1);
  assert.match(shape.err, /input/);
  assert.match(shape.err, /hint: 'tessera inspect MODEL'/);
});
