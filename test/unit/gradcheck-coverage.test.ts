// gradcheck for the differentiable ops the op-family tests do not reach with gradcheck (found by
// scripts/gradcheck-coverage.mjs, which lists every op registered with a `grad` that no gradcheck
// in the suite dispatches): casts, the piecewise-constant ops (zero gradient away from their
// jumps), Expand, the opset-9 Scatter, GlobalLpPool, and the internal ops that other ops'
// backward passes dispatch (their own gradients serve second derivatives). The internal ops are
// checked with the attributes a real backward pass gives them, captured from the dispatch stream.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Generator, gradcheck, int64s, nn, randn, Tensor, tensor } from '../../src/index.js';
import { type DispatchRecord, dispatch1, setDispatchObserver } from '../../src/ops/registry.js';

const gen = new Generator(99);
const rnd = (s: number[]) => randn(s, { dtype: 'float64', generator: gen }).requiresGrad_();
/** Values at least 0.1 away from integers and from zero, so floor/ceil/round/sign are smooth there. */
const offGrid = (s: number[]) => {
  const n = s.reduce((a, b) => a * b, 1);
  const v = Float64Array.from({ length: n }, () => {
    const k = Math.floor(gen.uniform() * 6) - 3;
    return k + 0.15 + gen.uniform() * 0.3;
  });
  return Tensor.fromData(v, s, 'float64').requiresGrad_();
};

/** The first dispatch of `name` while `run` executes. */
function capture(name: string, run: () => void): DispatchRecord {
  let rec: DispatchRecord | undefined;
  const prev = setDispatchObserver((call) => {
    if (!rec && call.name === name) rec = call;
    prev?.(call);
  });
  try {
    run();
  } finally {
    setDispatchObserver(prev);
  }
  if (!rec) throw new Error(`${name} was not dispatched`);
  return rec;
}

test('gradcheck: Cast and CastLike (float64 -> float32 -> float64)', () => {
  const opts = { eps: 1e-3, atol: 1e-3, rtol: 1e-3 };
  gradcheck((x) => dispatch1('Cast', [x], { to: 1 }), [rnd([2, 3])], opts);
  const like = tensor([0], { dtype: 'float32' });
  gradcheck((x) => dispatch1('CastLike', [x, like]), [rnd([3, 1])], opts);
  // float64 -> float64 keeps full precision
  gradcheck((x) => dispatch1('Cast', [x], { to: 11 }).mul(x), [rnd([4])]);
});

test('gradcheck: Sign, Floor, Ceil, Round have zero gradient between their jumps', () => {
  for (const op of ['Sign', 'Floor', 'Ceil', 'Round']) {
    // multiplied by x so that the check also sees the product rule route the zero correctly
    gradcheck((x) => dispatch1(op, [x]).mul(x), [offGrid([2, 3])]);
  }
});

test('gradcheck: Expand with broadcasting (and a rank increase)', () => {
  gradcheck((x) => dispatch1('Expand', [x, int64s([2, 3, 4])]), [rnd([3, 1])]);
  gradcheck((x) => dispatch1('Expand', [x, int64s([1, 4])]), [rnd([2, 1, 1])]);
});

test('gradcheck: Scatter (opset 9-10) with respect to data and updates', () => {
  const idx = tensor(
    [
      [1, 0, 2],
      [0, 2, 1],
    ],
    { dtype: 'int64' },
  );
  gradcheck(
    (d, u) => dispatch1('Scatter', [d, idx, u], { axis: 1 }, { opset: 10 }),
    [rnd([3, 3]), rnd([2, 3])],
  );
});

test('gradcheck: GlobalLpPool (p = 2 and p = 3)', () => {
  gradcheck((x) => dispatch1('GlobalLpPool', [x]), [offGrid([2, 3, 2, 3])]);
  gradcheck((x) => dispatch1('GlobalLpPool', [x], { p: 3 }), [offGrid([1, 2, 4])]);
});

/** gradcheck an internal op with the attributes and non-float inputs of a captured dispatch. */
function checkCaptured(rec: DispatchRecord, name = rec.name, floatShapes?: number[][]): void {
  const floats: Tensor[] = [];
  const template = rec.inputs.map((t, i) => {
    if (t && (t.dtype === 'float32' || t.dtype === 'float64')) {
      const x = rnd(floatShapes?.[floats.length] ?? [...t.shape]);
      floats.push(x);
      return i;
    }
    return t;
  });
  gradcheck((...xs) => {
    let k = 0;
    const ins = template.map((v) => (typeof v === 'number' ? xs[k++]! : v));
    return dispatch1(name, ins as Tensor[], rec.attrs, rec.opts);
  }, floats);
}

test('ProdOthers (ReduceProd backward) refuses double backward with a TesseraError', () => {
  const x = rnd([2, 3]);
  const rec = capture('ProdOthers', () => x.prod(1).sum().backward());
  const y = rnd([2, 3]);
  const g = dispatch1('ProdOthers', [y], rec.attrs, rec.opts);
  assert.throws(() => g.sum().backward(), /ReduceProd: double backward .* not supported/);
});

test('gradcheck: internal backward ops ScatterAddFlat, GatherFlat', () => {
  const y = rnd([3, 4]);
  const sa = capture('ScatterAddFlat', () => y.index(':', '::2').sum().backward());
  checkCaptured(sa);
  // GatherFlat is ScatterAddFlat's gradient: same map, the target shape swapped back
  const src = sa.inputs[0]!;
  checkCaptured({ ...sa, attrs: { shape: [...src.shape] } }, 'GatherFlat', [[3, 4]]);
});

test('gradcheck: internal backward ops AdaptiveAveragePoolGrad, ResizeGrad, ResizeApply', () => {
  const pool = new nn.AdaptiveAvgPool2d([2, 3]);
  const x = rnd([1, 2, 5, 4]);
  checkCaptured(capture('AdaptiveAveragePoolGrad', () => pool.forward(x).sum().backward()));
  const r = rnd([1, 1, 2, 3]);
  const scales = Tensor.fromData(Float32Array.from([1, 1, 1.5, 2]), [4], 'float32');
  const rg = capture('ResizeGrad', () =>
    dispatch1('Resize', [r, undefined, scales], { mode: 'linear' }).sum().backward(),
  );
  checkCaptured(rg);
  // ResizeApply is ResizeGrad's gradient: the forward resize with the same resolved attributes
  checkCaptured({ ...rg, inputs: [r] }, 'ResizeApply');
});
