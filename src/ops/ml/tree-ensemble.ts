/**
 * ai.onnx.ml TreeEnsemble (opset 5): evaluates every tree (tree_roots) on each row of X [N, F] and
 * aggregates the reached leaves' weights per target: SUM (1), AVERAGE (0: sum / trees), MIN (2),
 * MAX (3); then post_transform NONE (0), SOFTMAX (1), LOGISTIC (2), SOFTMAX_ZERO (3) or PROBIT (4).
 * A node compares X[featureid] with its split by nodes_modes: LEQ 0, LT 1, GTE 2, GT 3, EQ 4,
 * NEQ 5, MEMBER 6 (membership_values holds the sets, NaN-separated, in node order); a NaN feature
 * goes the true way where nodes_missing_value_tracks_true says so. Output [N, n_targets], X's dtype.
 */
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrInts, input } from '../helpers.js';
import { type Attrs, registerOp } from '../registry.js';
import { ML } from './domain.js';

const OP = 'TreeEnsemble';

interface Ensemble {
  split: Float64Array;
  feature: number[];
  mode: number[];
  trueId: number[];
  falseId: number[];
  trueLeaf: number[];
  falseLeaf: number[];
  missingTrue: number[];
  members: (Set<number> | undefined)[];
  leafTarget: number[];
  leafWeight: Float64Array;
  roots: number[];
  targets: number;
  aggregate: number;
  post: number;
}

function floatsOf(attrs: Attrs, name: string, required: boolean): Float64Array | undefined {
  const v = attrs[name];
  if (v === undefined) {
    if (required) throw new TesseraError('INVALID_ARGUMENT', `${OP}: attribute '${name}' is required`);
    return undefined;
  }
  if (v instanceof Tensor) return Float64Array.from(v.numbers());
  if (Array.isArray(v)) return Float64Array.from(v as number[]);
  throw new TesseraError('INVALID_ARGUMENT', `${OP}: attribute '${name}' must be a tensor`);
}

function intsOf(attrs: Attrs, name: string): number[] {
  const v = attrs[name];
  if (v instanceof Tensor) return Array.from(v.numbers());
  const r = attrInts(attrs, name);
  if (!r) throw new TesseraError('INVALID_ARGUMENT', `${OP}: attribute '${name}' is required`);
  return r;
}

function ensembleOf(attrs: Attrs): Ensemble {
  const split = floatsOf(attrs, 'nodes_splits', true)!;
  const feature = intsOf(attrs, 'nodes_featureids');
  const mode = intsOf(attrs, 'nodes_modes');
  const trueId = intsOf(attrs, 'nodes_truenodeids');
  const falseId = intsOf(attrs, 'nodes_falsenodeids');
  const trueLeaf = intsOf(attrs, 'nodes_trueleafs');
  const falseLeaf = intsOf(attrs, 'nodes_falseleafs');
  const n = split.length;
  for (const [name, arr] of Object.entries({ feature, mode, trueId, falseId, trueLeaf, falseLeaf })) {
    if (arr.length !== n) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${OP}: nodes attribute '${name}' has ${arr.length} entries, expected ${n} (one per node)`,
      );
    }
  }
  const missingTrue = attrs.nodes_missing_value_tracks_true
    ? intsOf(attrs, 'nodes_missing_value_tracks_true')
    : [];
  const leafTarget = intsOf(attrs, 'leaf_targetids');
  const leafWeight = floatsOf(attrs, 'leaf_weights', true)!;
  if (leafTarget.length !== leafWeight.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: leaf_targetids has ${leafTarget.length} entries and leaf_weights ${leafWeight.length}, expected the same`,
    );
  }
  const targets = attrInt(attrs, 'n_targets');
  if (leafTarget.some((t) => t < 0 || t >= targets)) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: leaf_targetids must be in [0, ${targets}) (n_targets)`,
    );
  }
  // Set members, one NaN-terminated run per MEMBER node in node order.
  const mv = floatsOf(attrs, 'membership_values', false);
  const members: (Set<number> | undefined)[] = new Array(n).fill(undefined);
  let p = 0;
  for (let i = 0; i < n; i++) {
    if (mode[i] !== 6) continue;
    if (!mv)
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `${OP}: node ${i} is a MEMBER node but membership_values is missing`,
      );
    const s = new Set<number>();
    while (p < mv.length && !Number.isNaN(mv[p]!)) s.add(mv[p++]!);
    p++;
    members[i] = s;
  }
  const roots = attrInts(attrs, 'tree_roots', []);
  const aggregate = attrInt(attrs, 'aggregate_function', 1);
  if (aggregate < 0 || aggregate > 3)
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${OP}: aggregate_function must be in [0, 3], got ${aggregate}`,
    );
  return {
    split,
    feature,
    mode,
    trueId,
    falseId,
    trueLeaf,
    falseLeaf,
    missingTrue,
    members,
    leafTarget,
    leafWeight,
    roots,
    targets,
    aggregate,
    post: attrInt(attrs, 'post_transform', 0),
  };
}

function compare(e: Ensemble, i: number, x: number): boolean {
  if (Number.isNaN(x) && e.missingTrue[i]) return true;
  const s = e.split[i]!;
  switch (e.mode[i]) {
    case 0:
      return x <= s;
    case 1:
      return x < s;
    case 2:
      return x >= s;
    case 3:
      return x > s;
    case 4:
      return x === s;
    case 5:
      return x !== s;
    case 6:
      return e.members[i]!.has(x);
    default:
      throw new TesseraError('INVALID_ARGUMENT', `${OP}: node ${i} has unknown mode ${e.mode[i]}`);
  }
}

/** The leaf index a row reaches from `root`. */
function leafOf(
  e: Ensemble,
  root: number,
  row: Float64Array | Float32Array,
  off: number,
  features: number,
): number {
  // A one-node tree: both branches name the same leaf.
  if (e.trueLeaf[root] && e.falseLeaf[root] && e.trueId[root] === e.falseId[root]) return e.trueId[root]!;
  let i = root;
  for (let steps = 0; steps <= e.split.length; steps++) {
    const f = e.feature[i]!;
    if (f < 0 || f >= features)
      throw new TesseraError('INVALID_ARGUMENT', `${OP}: node ${i} reads feature ${f}, X has ${features}`);
    const t = compare(e, i, row[off + f]!);
    const next = t ? e.trueId[i]! : e.falseId[i]!;
    if (t ? e.trueLeaf[i] : e.falseLeaf[i]) return next;
    i = next;
  }
  throw new TesseraError('INVALID_ARGUMENT', `${OP}: the tree at root ${root} has a cycle`);
}

/** erf^-1 (Giles 2010, single-precision coefficients), for PROBIT. */
function erfinv(x: number): number {
  let w = -Math.log((1 - x) * (1 + x));
  let p: number;
  if (w < 5) {
    w -= 2.5;
    p = 2.81022636e-8;
    for (const c of [
      3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164,
      0.246640727, 1.50140941,
    ])
      p = c + p * w;
  } else {
    w = Math.sqrt(w) - 3;
    p = -0.000200214257;
    for (const c of [
      0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406,
      2.83297682,
    ])
      p = c + p * w;
  }
  return p * x;
}

function postTransform(v: Float64Array, post: number): void {
  if (post === 0) return;
  if (post === 2) {
    for (let i = 0; i < v.length; i++) v[i] = 1 / (1 + Math.exp(-v[i]!));
  } else if (post === 1 || post === 3) {
    // SOFTMAX_ZERO leaves zeros at zero and normalizes the others.
    const skip = Array.from(v, (x) => post === 3 && x === 0);
    let m = Number.NEGATIVE_INFINITY;
    v.forEach((x, i) => {
      if (!skip[i]) m = Math.max(m, x);
    });
    let s = 0;
    for (let i = 0; i < v.length; i++) {
      if (skip[i]) continue;
      v[i] = Math.exp(v[i]! - m);
      s += v[i]!;
    }
    for (let i = 0; i < v.length; i++) if (!skip[i]) v[i] = v[i]! / s;
  } else if (post === 4) {
    for (let i = 0; i < v.length; i++) v[i] = Math.SQRT2 * erfinv(2 * v[i]! - 1);
  } else {
    throw new TesseraError('INVALID_ARGUMENT', `${OP}: post_transform must be in [0, 4], got ${post}`);
  }
}

export function treeEnsemble(x: Tensor, e: Ensemble): Tensor {
  if (!isFloat(x.dtype))
    throw new TesseraError('DTYPE_MISMATCH', `${OP}: X must be a float tensor, got ${x.dtype}`);
  if (x.ndim !== 2)
    throw new TesseraError('SHAPE_MISMATCH', `${OP}: X must have shape [N, F], got [${x.shape.join(', ')}]`);
  const [n, features] = x.shape as [number, number];
  const xs = x.numbers() as Float64Array | Float32Array;
  const out = new Float64Array(n * e.targets);
  const acc = new Float64Array(e.targets);
  const hit = new Uint8Array(e.targets);
  for (let r = 0; r < n; r++) {
    acc.fill(e.aggregate === 2 ? Number.POSITIVE_INFINITY : e.aggregate === 3 ? Number.NEGATIVE_INFINITY : 0);
    hit.fill(0);
    for (const root of e.roots) {
      const leaf = leafOf(e, root, xs, r * features, features);
      const t = e.leafTarget[leaf]!;
      const w = e.leafWeight[leaf]!;
      if (t === undefined || w === undefined)
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${OP}: leaf ${leaf} is out of range (${e.leafWeight.length} leaves)`,
        );
      hit[t] = 1;
      if (e.aggregate === 2) acc[t] = Math.min(acc[t]!, w);
      else if (e.aggregate === 3) acc[t] = Math.max(acc[t]!, w);
      else acc[t] = acc[t]! + w;
    }
    for (let t = 0; t < e.targets; t++) {
      if (!hit[t])
        acc[t] = 0; // a target no leaf reached is 0, whatever the aggregate
      else if (e.aggregate === 0) acc[t] = acc[t]! / e.roots.length;
    }
    postTransform(acc, e.post);
    out.set(acc, r * e.targets);
  }
  return Tensor.fromData(fromNumbers(x.dtype, out), [n, e.targets], x.dtype);
}

registerOp({
  name: OP,
  domain: ML,
  since: 5,
  minInputs: 1,
  maxInputs: 1,
  kernels: { cpu: (inputs, attrs) => [treeEnsemble(input(inputs, 0, OP), ensembleOf(attrs))] },
});
