/**
 * Einsum (opset 12): Einstein summation as numpy.einsum defines it. Subscripts are letters, `...`
 * stands for broadcast dims (right-aligned across operands, size 1 broadcasts), a letter repeated
 * within one operand takes its diagonal, and without `->` the output is the ellipsis dims followed
 * by the letters used exactly once, in alphabetical order.
 *
 * Evaluation: each operand first takes its diagonals and sums the letters no one else needs; then
 * operands are contracted left to right, each pair as one batched matrix product (batch letters,
 * free letters of each side, contracted letters) on the shared CPU matmul kernel.
 * Gradients are Einsums too (dy contracted with the other operands), so they differentiate again.
 */
import { int64s } from '../../runtime/creation.js';
import { fromNumbers, isFloat } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, numel, sameShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrString, expectSameDType, sumToShape } from '../helpers.js';
import { dispatch1, registerOp } from '../registry.js';
import { matmulCpu } from './matmul-cpu.js';

/** Internal label of the e-th broadcast (ellipsis) dim: outside the letters, so never clashes. */
const ell = (e: number) => String.fromCharCode(0x100 + e);
const isEll = (l: string) => l.charCodeAt(0) >= 0x100;

export interface EinsumPlan {
  /** Labels of every operand's dims, in order (a repeated label is a diagonal). */
  inputs: string[][];
  output: string[];
  /** Size of every label after broadcasting. */
  sizes: Map<string, number>;
}

function parseTerm(term: string, where: string): { before: string; after: string; hasEllipsis: boolean } {
  const parts = term.split('...');
  if (parts.length > 2)
    throw new TesseraError('INVALID_ARGUMENT', `Einsum: ${where} has more than one '...'`);
  for (const p of parts) {
    if (!/^[A-Za-z]*$/.test(p)) {
      throw new TesseraError(
        'INVALID_ARGUMENT',
        `Einsum: ${where} '${term}' may hold only letters and one '...', got '${p}'`,
      );
    }
  }
  return { before: parts[0]!, after: parts[1] ?? '', hasEllipsis: parts.length === 2 };
}

/** Parses `equation` against the operand shapes, checking every size. */
export function planEinsum(equation: string, shapes: readonly (readonly number[])[]): EinsumPlan {
  const eq = equation.replace(/\s+/g, '');
  const arrow = eq.indexOf('->');
  const lhs = arrow < 0 ? eq : eq.slice(0, arrow);
  const rhs = arrow < 0 ? undefined : eq.slice(arrow + 2);
  const terms = lhs.split(',');
  if (terms.length !== shapes.length) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `Einsum: equation '${equation}' names ${terms.length} operands, got ${shapes.length} inputs`,
    );
  }
  const parsed = terms.map((t, k) => parseTerm(t, `operand ${k}`));
  const ellRanks = parsed.map((p, k) => {
    const letters = p.before.length + p.after.length;
    const r = shapes[k]!.length - letters;
    if (r < 0 || (!p.hasEllipsis && r !== 0)) {
      throw new TesseraError(
        'SHAPE_MISMATCH',
        `Einsum: operand ${k} has rank ${shapes[k]!.length} (shape ${fmtShape(shapes[k]!)}), but its subscripts '${terms[k]}' name ${letters} dims`,
      );
    }
    return r;
  });
  const maxEll = Math.max(0, ...ellRanks);
  const allEll = Array.from({ length: maxEll }, (_, e) => ell(e));
  const inputs = parsed.map((p, k) => [...p.before, ...allEll.slice(maxEll - ellRanks[k]!), ...p.after]);
  const sizes = new Map<string, number>();
  const from = new Map<string, number>();
  inputs.forEach((labels, k) => {
    labels.forEach((l, d) => {
      const s = shapes[k]![d]!;
      const prev = sizes.get(l);
      if (prev === undefined) from.set(l, k);
      if (prev === undefined || prev === s) sizes.set(l, s);
      else if (isEll(l) && (prev === 1 || s === 1)) sizes.set(l, Math.max(prev, s));
      else {
        const name = isEll(l) ? `broadcast dim ${l.charCodeAt(0) - 0x100} of '...'` : `subscript '${l}'`;
        throw new TesseraError(
          'SHAPE_MISMATCH',
          `Einsum: ${name} has size ${prev} in operand ${from.get(l)} but ${s} in operand ${k} (shape ${fmtShape(shapes[k]!)}); expected equal sizes`,
        );
      }
    });
  });
  let output: string[];
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const labels of inputs)
      for (const l of labels) if (!isEll(l)) counts.set(l, (counts.get(l) ?? 0) + 1);
    const once = [...counts].filter(([, c]) => c === 1).map(([l]) => l);
    output = [...allEll, ...once.sort()];
  } else {
    const p = parseTerm(rhs, 'the output');
    output = [...p.before, ...(p.hasEllipsis ? allEll : []), ...p.after];
    const seen = new Set<string>();
    for (const l of output) {
      if (seen.has(l))
        throw new TesseraError('INVALID_ARGUMENT', `Einsum: output subscript '${l}' appears twice`);
      if (!sizes.has(l)) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `Einsum: output subscript '${l}' does not appear in any input of '${equation}'`,
        );
      }
      seen.add(l);
    }
  }
  return { inputs, output, sizes };
}

/** A packed float64 operand with one label per dim (no repeats). */
interface Item {
  data: Float64Array;
  shape: number[];
  labels: string[];
}

/** The operand's elements ordered by `order`, broadcasting size-1 dims up to the plan's sizes. */
function pack(it: Item, order: string[], sizes: Map<string, number>): Float64Array {
  const t = Tensor.fromData(it.data, it.shape, 'float64');
  const shape = order.map((l) => sizes.get(l)!);
  const strides = order.map((l, j) => {
    const d = it.labels.indexOf(l);
    return it.shape[d] === 1 && shape[j] !== 1 ? 0 : t.strides[d]!;
  });
  return t.asStrided(shape, strides, 0).dataSync() as Float64Array;
}

/** Sums the dims whose labels are not in `keep`. */
function sumOut(it: Item, keep: Set<string>): Item {
  if (it.labels.every((l) => keep.has(l))) return it;
  const kept = it.labels.filter((l) => keep.has(l));
  const gone = it.labels.filter((l) => !keep.has(l));
  const own = new Map(it.labels.map((l, d) => [l, it.shape[d]!]));
  const v = pack(it, [...kept, ...gone], own);
  const shape = kept.map((l) => own.get(l)!);
  const groups = numel(shape);
  const size = numel(gone.map((l) => own.get(l)!));
  const data = new Float64Array(groups);
  for (let g = 0; g < groups; g++) {
    let acc = 0;
    for (let i = g * size; i < (g + 1) * size; i++) acc += v[i]!;
    data[g] = acc;
  }
  return { data, shape, labels: kept };
}

/** An input as an Item: diagonals taken for repeated labels, data as float64. */
function operand(x: Tensor, labels: string[]): Item {
  const uniq: string[] = [];
  const shape: number[] = [];
  const strides: number[] = [];
  labels.forEach((l, d) => {
    const j = uniq.indexOf(l);
    if (j < 0) {
      uniq.push(l);
      shape.push(x.shape[d]!);
      strides.push(x.strides[d]!);
    } else strides[j]! += x.strides[d]!;
  });
  const v = x.asStrided(shape, strides).numbers();
  return { data: v instanceof Float64Array ? v : Float64Array.from(v), shape, labels: uniq };
}

/** Contracts two operands, keeping the labels in `keep`, as one batched matrix product. */
function contract(a: Item, b: Item, keep: Set<string>, sizes: Map<string, number>, f32 = false): Item {
  const inA = new Set(a.labels);
  const inB = new Set(b.labels);
  a = sumOut(a, new Set([...keep, ...inB]));
  b = sumOut(b, new Set([...keep, ...inA]));
  const batch = a.labels.filter((l) => inB.has(l) && keep.has(l));
  const summed = a.labels.filter((l) => inB.has(l) && !keep.has(l));
  const left = a.labels.filter((l) => !inB.has(l));
  const right = b.labels.filter((l) => !inA.has(l));
  const size = (ls: string[]) => numel(ls.map((l) => sizes.get(l)!));
  const [T, M, K, N] = [size(batch), size(left), size(summed), size(right)];
  const ad = pack(a, [...batch, ...left, ...summed], sizes);
  const bd = pack(b, [...batch, ...summed, ...right], sizes);
  const out = new Float64Array(T * M * N);
  if (f32) {
    // float32 operands: the products run in float32 (the WASM GEMM); converting is O(n^2).
    const o32 = new Float32Array(T * M * N);
    const [a32, b32] = [Float32Array.from(ad), Float32Array.from(bd)];
    for (let t = 0; t < T; t++) matmulCpu(a32, b32, M, K, N, o32, t * M * K, t * K * N, t * M * N);
    out.set(o32);
  } else {
    for (let t = 0; t < T; t++) matmulCpu(ad, bd, M, K, N, out, t * M * K, t * K * N, t * M * N);
  }
  const labels = [...batch, ...left, ...right];
  return { data: out, shape: labels.map((l) => sizes.get(l)!), labels };
}

export function einsumKernel(equation: string, xs: readonly Tensor[]): Tensor {
  const plan = planEinsum(
    equation,
    xs.map((x) => x.shape),
  );
  const { inputs, output, sizes } = plan;
  const outSet = new Set(output);
  const items = xs.map((x, k) => {
    const others = new Set(inputs.flatMap((ls, j) => (j === k ? [] : ls)));
    return sumOut(operand(x, inputs[k]!), new Set([...outSet, ...others]));
  });
  const f32 = xs.every((x) => x.dtype === 'float32');
  let acc = items[0]!;
  for (let k = 1; k < items.length; k++) {
    const keep = new Set([...outSet, ...inputs.slice(k + 1).flat()]);
    acc = contract(acc, items[k]!, keep, sizes, f32);
  }
  acc = sumOut(acc, outSet);
  const data = pack(acc, output, sizes);
  const dtype = xs[0]!.dtype;
  const shape = output.map((l) => sizes.get(l)!);
  return Tensor.fromData(dtype === 'float64' ? data.slice() : fromNumbers(dtype, data), shape, dtype);
}

/** Letters for internal labels, so a derived equation can be written out. */
function letters(labels: Iterable<string>): Map<string, string> {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const m = new Map<string, string>();
  for (const l of labels) {
    if (m.has(l)) continue;
    if (m.size >= alphabet.length) {
      throw new TesseraError('UNSUPPORTED', 'Einsum: gradient needs more than 52 distinct subscripts');
    }
    m.set(l, alphabet[m.size]!);
  }
  return m;
}

/** Gradient for operand k: dy contracted with every other operand, summed back to operand k's shape. */
function einsumGradFor(equation: string, xs: readonly Tensor[], dy: Tensor, k: number): Tensor {
  const { inputs, output, sizes } = planEinsum(
    equation,
    xs.map((x) => x.shape),
  );
  const own = inputs[k]!;
  if (new Set(own).size !== own.length) {
    throw new TesseraError(
      'UNSUPPORTED',
      `Einsum: the gradient through a repeated subscript (a diagonal, operand ${k} of '${equation}') is not supported`,
    );
  }
  const names = letters([...output, ...inputs.flat()]);
  const word = (ls: string[]) => ls.map((l) => names.get(l)!).join('');
  // Other operands broadcast to the full label sizes, so the derived equation needs no broadcasting.
  const full = (x: Tensor, ls: string[]) => {
    const target = ls.map((l) => sizes.get(l)!);
    return sameShape(x.shape, target) ? x : dispatch1('Expand', [x, int64s(target)]);
  };
  const others = xs.flatMap((x, j) => (j === k ? [] : [full(x, inputs[j]!)]));
  const otherLabels = inputs.filter((_, j) => j !== k);
  const present = new Set([...output, ...otherLabels.flat()]);
  const target = own.filter((l) => present.has(l));
  const eq = `${[output, ...otherLabels].map(word).join(',')}->${word(target)}`;
  let g = dispatch1('Einsum', [dy, ...others], { equation: eq });
  if (target.length !== own.length) {
    // Labels only operand k has were summed in the forward pass: their gradient is broadcast back.
    const withOnes = own.map((l) => (present.has(l) ? sizes.get(l)! : 1));
    g = dispatch1('Reshape', [g, int64s(withOnes)]);
    g = dispatch1('Expand', [g, int64s(own.map((l) => sizes.get(l)!))]);
  }
  return sumToShape(g, xs[k]!.shape);
}

registerOp({
  name: 'Einsum',
  since: 12,
  minInputs: 1,
  validate: (inputs) => {
    expectSameDType('Einsum', inputs);
    for (const [i, t] of inputs.entries()) {
      if (!t) throw new TesseraError('INVALID_ARGUMENT', `Einsum: input ${i} is required`);
      if (t.dtype === 'string' || t.dtype === 'bool') {
        throw new TesseraError('DTYPE_MISMATCH', `Einsum: inputs must be numeric tensors, got ${t.dtype}`);
      }
    }
  },
  kernels: {
    cpu: (inputs, attrs) => [
      einsumKernel(attrString(attrs, 'equation', undefined, 'Einsum'), inputs as Tensor[]),
    ],
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const xs = inputs as Tensor[];
    const eq = attrString(attrs, 'equation', undefined, 'Einsum');
    return xs.map((x, k) => (x.requiresGrad && isFloat(x.dtype) ? einsumGradFor(eq, xs, dy!, k) : null));
  },
});
