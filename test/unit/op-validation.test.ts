// Every registered op, fed inputs it cannot take (none, string, bool, rank-5 float, int64 tensors,
// with no attributes), must either accept them or throw a TesseraError whose message names the op
// (never a TypeError/RangeError from deep inside a kernel). Internal ops (Fused*, *Grad) may name
// the public op they implement.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tensor, TesseraError } from '../../src/index.js';
import { dispatch, listOps } from '../../src/ops/registry.js';

const BAD: [string, () => Tensor][] = [
  ['string', () => Tensor.fromData(['a', 'b'], [2], 'string')],
  ['bool', () => Tensor.fromData(new Uint8Array([1, 0, 1]), [3], 'bool')],
  ['rank-5 float32', () => Tensor.fromData(new Float32Array(4), [1, 2, 1, 2, 1], 'float32')],
  ['int64', () => Tensor.fromData(new BigInt64Array([5n, -7n]), [2], 'int64')],
];

test('every op rejects bad inputs with a TesseraError naming the op', () => {
  const problems: string[] = [];
  const ops = listOps();
  assert.ok(ops.length > 200, `only ${ops.length} ops registered`);
  for (const op of ops) {
    if (op.name === 'ImageDecoder') continue; // decodes bytes; covered by test/ops/misc/image-decoder.test.ts
    const names = [op.name, op.name.replace(/^Fused/, ''), op.name.replace(/Grad$/, '')];
    const cases: [string, Tensor[]][] = [
      ['no inputs', []],
      ...BAD.map(([k, mk]): [string, Tensor[]] => [
        k,
        Array.from({ length: Math.max(1, op.minInputs ?? 1) }, mk),
      ]),
    ];
    for (const [kind, inputs] of cases) {
      try {
        dispatch(op.name, inputs, {}, { domain: op.domain, opset: op.since });
      } catch (e) {
        const id = `${op.domain ? `${op.domain}::` : ''}${op.name} (opset ${op.since}) with ${kind}`;
        if (!(e instanceof TesseraError))
          problems.push(`${id}: ${(e as Error)?.constructor?.name} ${String(e)}`);
        else if (!names.some((n) => e.message.includes(n))) problems.push(`${id}: message '${e.message}'`);
      }
    }
  }
  assert.deepEqual(problems, []);
});

test('error messages say what was expected and what was got', () => {
  const msg = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof TesseraError);
      return e.message;
    }
    assert.fail('no error');
  };
  const f = Tensor.fromData(new Float32Array(6), [2, 3], 'float32');
  const g = Tensor.fromData(new Float32Array(4), [4], 'float32');
  assert.match(
    msg(() => dispatch('Add', [f, g])),
    /^Add: .*\[2, 3\].*\[4\]/,
  );
  assert.match(
    msg(() => dispatch('MatMul', [f, f])),
    /^MatMul: .*expected/,
  );
  assert.match(
    msg(() => dispatch('Einsum', [f])),
    /^Einsum: attribute 'equation' is required/,
  );
  assert.match(
    msg(() => dispatch('Softmax', [f], { axis: 5 })),
    /Softmax.*5/,
  );
  assert.match(
    msg(() => dispatch('Relu', [])),
    /^Relu: expects at least 1 inputs, got 0/,
  );
  assert.match(
    msg(() => dispatch('Gemm', [g, g])),
    /^Gemm: .*2-D, got shape \[4\]/,
  );
});
