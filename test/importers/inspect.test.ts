/** `tessera inspect`: inputs/outputs with symbolic dims, opsets, op counts, parameter count, unsupported ops. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { inspectCommand, type ModelSummary } from '../../src/cli/commands/inspect.js';
import { tensor, zeros } from '../../src/index.js';
import { attr, graph, model, node, T, vi } from './build.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

const dir = mkdtempSync(join(tmpdir(), 'tessera-inspect-'));
const file = join(dir, 'm.onnx');
// 2x3 weights + 3 bias + a 4-element initializer in each of the two If branches = 17 parameters.
const branch = graph({
  nodes: [node('Add', ['y', 'k'], ['r'])],
  inputs: [],
  outputs: [vi('r', T.float)],
  initializers: { k: zeros([4]) },
});
writeFileSync(
  file,
  model({
    nodes: [
      node('MatMul', ['x', 'w'], ['m']),
      node('Add', ['m', 'b'], ['y']),
      node('If', ['c'], ['z'], [attr.graph('then_branch', branch), attr.graph('else_branch', branch)]),
      node('Mystery', ['z'], ['q'], [], { domain: 'com.acme' }),
    ],
    inputs: [vi('x', T.float, ['batch', 2]), vi('c', T.bool, [])],
    outputs: [vi('q', T.float, ['batch', null])],
    initializers: { w: zeros([2, 3]), b: tensor([1, 2, 3]) },
    opsets: [
      { domain: '', version: 17 },
      { domain: 'com.acme', version: 2 },
    ],
  }),
);

test('inspect prints inputs and outputs with symbolic dims, opsets, op counts and parameters', async () => {
  const c = capture();
  assert.equal(await inspectCommand([file], c.io), 0);
  const text = c.out.join('\n');
  assert.match(text, /x: float32\[batch, 2\]/);
  assert.match(text, /c: bool\[\]/);
  assert.match(text, /q: float32\[batch, \?\]/);
  assert.match(text, /opsets: ai.onnx 17, com.acme 2/);
  assert.match(text, /Add +3/); // one at top level and one in each branch
  assert.match(text, /parameters: 17 \(68 bytes\)/);
  assert.match(text, /not supported yet: com.acme::Mystery/);
});

test('inspect --json gives the same summary as data', async () => {
  const c = capture();
  assert.equal(await inspectCommand([file, '--json'], c.io), 0);
  const s = JSON.parse(c.out.join('\n')) as ModelSummary;
  assert.deepEqual(s.inputs, [
    { name: 'x', type: 'float32[batch, 2]' },
    { name: 'c', type: 'bool[]' },
  ]);
  assert.deepEqual(s.opCounts, { Add: 3, If: 1, MatMul: 1, 'com.acme::Mystery': 1 });
  assert.equal(s.nodes, 6);
  assert.equal(s.parameters, 17);
  assert.deepEqual(s.opsets, { 'ai.onnx': 17, 'com.acme': 2 });
});

test('inspect: missing file exits 1 with the reason, bad usage exits 2', async () => {
  const c = capture();
  assert.equal(await inspectCommand([join(dir, 'none.onnx')], c.io), 1);
  assert.match(c.err.join('\n'), /cannot read model .*none.onnx/);
  assert.equal(await inspectCommand([], capture().io), 2);
  assert.equal(await inspectCommand(['--bogus', file], capture().io), 2);
  writeFileSync(join(dir, 'bad.onnx'), Uint8Array.of(1, 2, 3));
  const b = capture();
  assert.equal(await inspectCommand([join(dir, 'bad.onnx')], b.io), 1);
  assert.match(b.err.join('\n'), /not a valid ONNX ModelProto/);
});

test('inspect reports the planned peak memory of intermediates, a lower bound with symbolic dims', async () => {
  const dir2 = mkdtempSync(join(tmpdir(), 'tessera-inspect-mem-'));
  const chain = (dims: (string | number)[]) =>
    model({
      nodes: [node('Relu', ['x'], ['r']), node('Neg', ['r'], ['n']), node('Exp', ['n'], ['y'])],
      inputs: [vi('x', T.float, dims)],
      outputs: [vi('y', T.float, dims)],
    });
  const concrete = join(dir2, 'concrete.onnx');
  writeFileSync(concrete, chain([4, 8]));
  const c = capture();
  assert.equal(await inspectCommand([concrete, '--json'], c.io), 0);
  const s = JSON.parse(c.out.join('\n')) as ModelSummary;
  // 4x8 float32 = 128 bytes per value; at most two intermediates are live at once (an op's input
  // and its output): r and n while Neg runs, n and y while Exp runs -> 256 bytes.
  assert.equal(s.plannedPeakBytes, 256);
  assert.equal(s.plannedPeakComplete, true);
  const t = capture();
  assert.equal(await inspectCommand([concrete], t.io), 0);
  assert.match(t.out.join('\n'), /planned peak memory: 256 bytes of intermediates/);
  const symbolic = join(dir2, 'symbolic.onnx');
  writeFileSync(symbolic, chain(['batch', 8]));
  const u = capture();
  assert.equal(await inspectCommand([symbolic], u.io), 0);
  assert.match(u.out.join('\n'), /planned peak memory: at least \d+ bytes .*symbolic/);
  // a model with an unsupported op has no plan (it cannot load)
  const m = capture();
  assert.equal(await inspectCommand([file, '--json'], m.io), 0);
  assert.equal((JSON.parse(m.out.join('\n')) as ModelSummary).plannedPeakBytes, undefined);
});
