/**
 * The ONNX backend node tests of this family (../shared/onnx-tests/node): casts into and out of the
 * low-precision types, BitCast, QuantizeLinear / DequantizeLinear (all granularities and types),
 * DynamicQuantizeLinear (and its expanded function body), QLinearMatMul, QLinearConv, ConvInteger.
 * Each runs through InferenceSession and is compared with the stored outputs (float8/4-bit outputs
 * bit for bit). Skipped when the conformance data is not beside the checkout.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { listTests, runCase } from '../../conformance/harness.js';

const FAMILY =
  /^node\/test_(cast|castlike|bitcast|quantizelinear|dequantizelinear|dynamicquantizelinear|qlinearmatmul|qlinearconv|convinteger)_?/;
// Casts that involve only the older dtypes belong to the Cast op's own tests; these need the new ones.
const LOWP = /float8|float4|int4|int2|uint4|uint2|e4m3|e5m2|e8m0|bitcast|quantize|qlinear|convinteger/i;

const cases = listTests(['node']).filter((c) => FAMILY.test(c.id) && LOWP.test(c.id));

test('the family has its conformance data', { skip: cases.length === 0 && 'no ../shared/onnx-tests' }, () => {
  // 190 casts/castlikes with low-precision types, 10 BitCast, 13 + 14 Q/DQ, 6 DynamicQuantizeLinear,
  // 8 QLinearMatMul, QLinearConv, 2 ConvInteger (ONNX 1.20 test data).
  assert.ok(cases.length >= 200, `found ${cases.length} cases`);
});

for (const tc of cases) {
  test(tc.id, () => {
    const r = runCase(tc);
    assert.equal(r.status, 'passed', r.reason);
  });
}
