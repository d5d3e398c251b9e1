/**
 * Einsum: transposes, sums, inner/outer/batch products, diagonals and traces, implicit outputs,
 * ellipsis broadcasting, three operands (checked against MatMul chains or by hand); errors;
 * gradcheck including broadcasting and subscripts only one operand has.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { einsum, gradcheck, matmul, ops, randn, tensor } from '../../../src/index.js';
import { assertClose } from '../../helpers/close.js';

const { dispatch1 } = ops;

// m = [[1, 2, 3], [4, 5, 6]]
const m = () =>
  tensor([
    [1, 2, 3],
    [4, 5, 6],
  ]);

test('single operand: transpose, row sums, total, identity', () => {
  const t = einsum('ij->ji', m());
  assert.deepEqual(t.shape, [3, 2]);
  assertClose(t, [1, 4, 2, 5, 3, 6]);
  assertClose(einsum('ij->i', m()), [6, 15]);
  assertClose(einsum('ij->', m()), 21);
  assertClose(einsum('ij', m()), [1, 2, 3, 4, 5, 6]);
  // implicit output is alphabetical: 'ji' transposes
  assertClose(einsum('ji', m()), [1, 4, 2, 5, 3, 6]);
  // a 0-d operand
  assertClose(dispatch1('Einsum', [tensor(7)], { equation: '->' }), 7);
});

test('diagonal and trace (repeated subscripts), with an ellipsis batch', () => {
  const sq = tensor([
    [1, 2],
    [3, 4],
  ]);
  assertClose(einsum('ii', sq), 5);
  assertClose(einsum('ii->i', sq), [1, 4]);
  const batch = tensor([
    [
      [1, 2],
      [3, 4],
    ],
    [
      [5, 6],
      [7, 8],
    ],
  ]);
  const d = einsum('...ii ->...i', batch);
  assert.deepEqual(d.shape, [2, 2]);
  assertClose(d, [1, 4, 5, 8]);
});

test('two operands: inner, outer, matmul, batch matmul (spaces allowed)', () => {
  assertClose(einsum('i,i', tensor([1, 2, 3]), tensor([4, 5, 6])), 32);
  assertClose(einsum('i,j->ij', tensor([1, 2]), tensor([3, 4, 5])), [3, 4, 5, 6, 8, 10]);
  const a = randn([5, 2, 3], { dtype: 'float64' });
  const b = randn([5, 3, 4], { dtype: 'float64' });
  assertClose(einsum('bij, bjk -> bik', a, b), matmul(a, b), { rtol: 1e-12, atol: 1e-12 });
  // implicit output of a matmul is 'ik'
  const c = randn([3, 4], { dtype: 'float64' });
  assertClose(einsum('bij,jk', a, c), matmul(a, c), { rtol: 1e-12, atol: 1e-12 });
  // transposed result and contraction over two subscripts
  assertClose(einsum('bij,bjk->kib', a, b), einsum('kib', matmul(a, b).reshape(5, 2, 4)).reshape(4, 2, 5), {
    rtol: 1e-12,
    atol: 1e-12,
  });
  assertClose(einsum('ij,ij->', m(), m()), 1 + 4 + 9 + 16 + 25 + 36);
});

test('ellipsis dims broadcast (size 1 against n, fewer dims against more)', () => {
  const a = randn([3, 1, 2, 4], { dtype: 'float64' });
  const b = randn([5, 4, 2], { dtype: 'float64' });
  const y = einsum('...ij,...jk->...ik', a, b);
  assert.deepEqual(y.shape, [3, 5, 2, 2]);
  assertClose(y, matmul(a, b), { rtol: 1e-12, atol: 1e-12 });
});

test('three operands and subscripts only one operand has', () => {
  const a = randn([2, 3], { dtype: 'float64' });
  const b = randn([3, 4], { dtype: 'float64' });
  const c = randn([4, 2], { dtype: 'float64' });
  assertClose(einsum('ij,jk,kl->il', a, b, c), matmul(matmul(a, b), c), { rtol: 1e-12, atol: 1e-12 });
  // k appears only in the second operand: it is summed before contracting
  const y = einsum('ij,k->i', m(), tensor([1, 10]));
  assertClose(y, [6 * 11, 15 * 11]);
});

test('integer operands keep their dtype', () => {
  const i = einsum(
    'ij->j',
    tensor(
      [
        [1, 2],
        [3, 4],
      ],
      { dtype: 'int64' },
    ),
  );
  assert.equal(i.dtype, 'int64');
  assert.deepEqual(i.toArray(), [4, 6]);
});

test('errors name Einsum, the subscript and the sizes', () => {
  assert.throws(
    () => einsum('ij,jk', m(), randn([4, 2])),
    /Einsum: subscript 'j' has size 3 in operand 0 but 4 in operand 1 \(shape \[4, 2\]\)/,
  );
  assert.throws(
    () => einsum('ijk', m()),
    /Einsum: operand 0 has rank 2 \(shape \[2, 3\]\), but its subscripts 'ijk' name 3 dims/,
  );
  assert.throws(() => einsum('ij,jk', m()), /Einsum: equation 'ij,jk' names 2 operands, got 1 inputs/);
  assert.throws(() => einsum('ij->k', m()), /Einsum: output subscript 'k' does not appear in any input/);
  assert.throws(() => einsum('ij->ii', m()), /Einsum: output subscript 'i' appears twice/);
  assert.throws(() => einsum('i1', m()), /Einsum: operand 0 'i1' may hold only letters/);
  assert.throws(() => einsum('ii', m()), /Einsum: subscript 'i' has size 2 in operand 0 but 3 in operand 0/);
});

test('gradcheck: matmul-like, reductions, broadcasting, three operands, lone subscripts', () => {
  const opts = { dtype: 'float64' as const, requiresGrad: true };
  const eq =
    (e: string) =>
    (...xs: Parameters<typeof einsum>[1][]) =>
      einsum(e, ...xs);
  assert.ok(gradcheck(eq('bij,bjk->bik'), [randn([2, 2, 3], opts), randn([2, 3, 4], opts)]));
  assert.ok(gradcheck(eq('ij->'), [randn([2, 3], opts)]));
  assert.ok(gradcheck(eq('ij->ji'), [randn([2, 3], opts)]));
  assert.ok(gradcheck(eq('...ij,...jk->...ik'), [randn([3, 1, 2, 4], opts), randn([2, 4, 2], opts)]));
  assert.ok(gradcheck(eq('ij,jk,kl->il'), [randn([2, 3], opts), randn([3, 2], opts), randn([2, 2], opts)]));
  assert.ok(gradcheck(eq('ij,k->ik'), [randn([2, 3], opts), randn([4], opts)]));
  assert.ok(gradcheck(eq('ij,k->i'), [randn([2, 3], opts), randn([4], opts)]));
  assert.ok(gradcheck(eq('i,i'), [randn([4], opts), randn([4], opts)]));
});

test('the gradient through a diagonal is reported as unsupported', () => {
  const x = randn([2, 2], { dtype: 'float64', requiresGrad: true });
  assert.throws(
    () => einsum('ii->i', x).sum().backward(),
    /Einsum: the gradient through a repeated subscript/,
  );
});
