/** Assertions for numeric tests. */
import assert from 'node:assert/strict';
import type { Tensor } from '../../src/index.js';

/** Asserts |actual - expected| <= atol + rtol*|expected| element-wise, and equal shapes. */
export function assertClose(
  actual: Tensor,
  expected: number[] | number | Tensor | ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 } = {},
): void {
  let exp: ArrayLike<number>;
  if (typeof expected === 'number') exp = [expected];
  else if (isTensor(expected)) {
    assert.deepEqual([...actual.shape], [...expected.shape], 'shape');
    exp = expected.numbers();
  } else
    exp = (Array.isArray(expected) ? expected.flat(Number.POSITIVE_INFINITY) : expected) as ArrayLike<number>;
  const act = actual.numbers();
  assert.equal(act.length, exp.length, `element count: got ${act.length}, expected ${exp.length}`);
  for (let i = 0; i < act.length; i++) {
    const a = act[i]!;
    const e = exp[i]!;
    if (Number.isNaN(e) && Number.isNaN(a)) continue;
    if (a === e) continue;
    assert.ok(Math.abs(a - e) <= atol + rtol * Math.abs(e), `element ${i}: got ${a}, expected ${e}`);
  }
}

function isTensor(x: unknown): x is Tensor {
  return typeof x === 'object' && x !== null && 'shape' in x && 'dtype' in x && 'numbers' in x;
}
