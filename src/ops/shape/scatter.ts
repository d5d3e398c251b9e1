/**
 * ScatterElements (and its opset-9 name Scatter) and ScatterND: a copy of `data` with `updates`
 * written at `indices`, combined by `reduction` (none; add/mul from opset 16; max/min from 18).
 * Updates apply in order, so with reduction 'none' the last duplicate wins (as the reference does).
 * Every reduction is differentiable w.r.t. data and updates; mul/max/min only to first order.
 */
import { zeros } from '../../runtime/creation.js';
import { allocate, fromNumbers, isBigInt } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { fmtShape, sameShape } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { attrInt, attrString, expectSameDType, input } from '../helpers.js';
import {
  type Attrs,
  dispatch,
  dispatch1,
  type KernelContext,
  type OpInputs,
  registerOp,
} from '../registry.js';
import { gatherElementsKernel, gatherNDKernel } from './gather.js';
import { elementIds, TESSERA_DOMAIN } from './layout.js';

export type Reduction = 'none' | 'add' | 'mul' | 'max' | 'min';

function reductionOf(op: string, attrs: Attrs, ctx: KernelContext): Reduction {
  const r = attrString(attrs, 'reduction', 'none');
  const since = r === 'none' ? 1 : r === 'add' || r === 'mul' ? 16 : r === 'max' || r === 'min' ? 18 : -1;
  if (since < 0) {
    throw new TesseraError(
      'INVALID_ARGUMENT',
      `${op}: reduction must be none, add, mul, max or min, got '${r}'`,
    );
  }
  if (ctx.opset < since) {
    throw new TesseraError(
      'UNSUPPORTED',
      `${op}: reduction '${r}' needs opset ${since}, the model uses ${ctx.opset}`,
    );
  }
  return r as Reduction;
}

/** A copy of `data` with updates[i] combined into flat position targets[i]. */
export function scatterInto(
  op: string,
  data: Tensor,
  targets: ArrayLike<number>,
  updates: Tensor,
  reduction: Reduction,
): Tensor {
  if (reduction === 'none' || data.dtype === 'string') {
    if (reduction !== 'none')
      throw new TesseraError('DTYPE_MISMATCH', `${op}: reduction '${reduction}' on strings`);
    const src = data.dataSync() as any;
    const out = allocate(data.dtype, src.length) as any;
    for (let i = 0; i < src.length; i++) out[i] = src[i];
    const upd = updates.dataSync() as any;
    for (let i = 0; i < targets.length; i++) out[targets[i]!] = upd[i];
    return Tensor.fromData(out, data.shape, data.dtype);
  }
  if (isBigInt(data.dtype)) {
    const out = (data.dataSync() as BigInt64Array).slice();
    const upd = updates.dataSync() as BigInt64Array;
    const f: (a: bigint, b: bigint) => bigint =
      reduction === 'add'
        ? (a, b) => a + b
        : reduction === 'mul'
          ? (a, b) => a * b
          : reduction === 'max'
            ? // biome-ignore lint/complexity/useMathMinMax: bigint operands
              (a, b) => (a > b ? a : b)
            : // biome-ignore lint/complexity/useMathMinMax: bigint operands
              (a, b) => (a < b ? a : b);
    const wrap = data.dtype === 'int64' ? BigInt.asIntN : BigInt.asUintN;
    for (let i = 0; i < targets.length; i++) out[targets[i]!] = wrap(64, f(out[targets[i]!]!, upd[i]!));
    return Tensor.fromData(out, data.shape, data.dtype);
  }
  const out = Float64Array.from(data.numbers());
  const upd = updates.numbers();
  const f: (a: number, b: number) => number =
    reduction === 'add'
      ? (a, b) => a + b
      : reduction === 'mul'
        ? (a, b) => a * b
        : reduction === 'max'
          ? (a, b) => (a >= b || Number.isNaN(a) ? a : b)
          : (a, b) => (a <= b || Number.isNaN(a) ? a : b);
  for (let i = 0; i < targets.length; i++) out[targets[i]!] = f(out[targets[i]!]!, upd[i]!);
  return Tensor.fromData(fromNumbers(data.dtype, out), data.shape, data.dtype);
}

function checkUpdates(op: string, updates: Tensor, expected: readonly number[]): void {
  if (!sameShape(updates.shape, expected)) {
    throw new TesseraError(
      'SHAPE_MISMATCH',
      `${op}: updates have shape ${fmtShape(updates.shape)}, expected ${fmtShape(expected)}`,
    );
  }
}

/** ScatterElements: updates (shaped like indices) written along `axis`. */
export function scatterElementsKernel(
  op: string,
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  axis: number,
  reduction: Reduction,
): Tensor {
  expectSameDType(op, [data, updates]);
  checkUpdates(op, updates, indices.shape);
  const targets = gatherElementsKernel(elementIds(data.shape), indices, axis, op).dataSync() as Int32Array;
  return scatterInto(op, data, targets, updates, reduction);
}

/** ScatterND: updates of shape indices.shape[:-1] + data.shape[k:] written at index tuples. */
export function scatterNDKernel(
  op: string,
  data: Tensor,
  indices: Tensor,
  updates: Tensor,
  reduction: Reduction,
): Tensor {
  expectSameDType(op, [data, updates]);
  const map = gatherNDKernel(elementIds(data.shape), indices, 0, op);
  checkUpdates(op, updates, map.shape);
  return scatterInto(op, data, map.dataSync() as Int32Array, updates, reduction);
}

/**
 * Gradients of the mul/max/min reductions w.r.t. data and updates, as torch's scatter_reduce
 * (include_self) defines them: each factor of a product gets dy times the product of the others;
 * for max/min, dy is shared evenly by every contribution equal to the result.
 */
export function scatterReduceGrad(
  dy: Tensor,
  data: Tensor,
  updates: Tensor,
  targets: ArrayLike<number>,
  reduction: Reduction,
): [Tensor, Tensor] {
  const g = dy.numbers();
  const d = data.numbers();
  const u = updates.numbers();
  const byTarget = new Map<number, number[]>();
  for (let i = 0; i < targets.length; i++) {
    const list = byTarget.get(targets[i]!);
    if (list) list.push(i);
    else byTarget.set(targets[i]!, [i]);
  }
  const dData = Float64Array.from(g);
  const dUpd = new Float64Array(u.length);
  for (const [p, list] of byTarget) {
    const vals = [d[p]!, ...list.map((i) => u[i]!)];
    let shares: number[];
    if (reduction === 'mul') {
      shares = vals.map((_, j) => vals.reduce((acc, v, k) => (k === j ? acc : acc * v), 1));
    } else {
      const out = reduction === 'max' ? Math.max(...vals) : Math.min(...vals);
      const n = vals.filter((v) => v === out).length;
      shares = vals.map((v) => (v === out ? 1 / n : 0));
    }
    dData[p] = g[p]! * shares[0]!;
    list.forEach((i, j) => {
      dUpd[i] = g[p]! * shares[j + 1]!;
    });
  }
  return [
    Tensor.fromData(fromNumbers(dy.dtype, dData), data.shape, dy.dtype),
    Tensor.fromData(fromNumbers(dy.dtype, dUpd), updates.shape, dy.dtype),
  ];
}

// Internal: inputs dy, data, updates and the int32 flat target of each update. First-order only.
registerOp({
  name: 'ScatterReduceGrad',
  domain: TESSERA_DOMAIN,
  minInputs: 4,
  maxInputs: 4,
  kernels: {
    cpu: (inputs, attrs) =>
      scatterReduceGrad(
        input(inputs, 0, 'ScatterReduceGrad'),
        input(inputs, 1, 'ScatterReduceGrad'),
        input(inputs, 2, 'ScatterReduceGrad'),
        input(inputs, 3, 'ScatterReduceGrad').dataSync() as Int32Array,
        attrString(attrs, 'reduction', undefined, 'ScatterReduceGrad') as Reduction,
      ),
  },
});

function reduceGrads(dy: Tensor, data: Tensor, updates: Tensor, targets: Tensor, r: Reduction) {
  const [dData, dUpd] = dispatch(
    'ScatterReduceGrad',
    [dy, data, updates, targets],
    { reduction: r },
    { domain: TESSERA_DOMAIN },
  );
  return [data.requiresGrad ? dData! : null, null, updates.requiresGrad ? dUpd! : null];
}

function elementsDef(name: string, since: number, withReduction: boolean): void {
  const reduction = (attrs: Attrs, ctx: KernelContext): Reduction =>
    withReduction ? reductionOf(name, attrs, ctx) : 'none';
  registerOp({
    name,
    since,
    minInputs: 3,
    maxInputs: 3,
    defaults: withReduction ? { axis: 0, reduction: 'none' } : { axis: 0 },
    kernels: {
      cpu: (inputs: OpInputs, attrs, ctx) => [
        scatterElementsKernel(
          name,
          input(inputs, 0, name),
          input(inputs, 1, name),
          input(inputs, 2, name),
          attrInt(attrs, 'axis', 0),
          reduction(attrs, ctx),
        ),
      ],
    },
    grad: ({ inputs, attrs }, [dy]) => {
      const [data, indices, updates] = [inputs[0]!, inputs[1]!, inputs[2]!];
      const r = withReduction ? (attrString(attrs, 'reduction', 'none') as Reduction) : 'none';
      const axis = attrInt(attrs, 'axis', 0);
      if (r !== 'none' && r !== 'add') {
        return reduceGrads(
          dy!,
          data,
          updates,
          gatherElementsKernel(elementIds(data.shape), indices, axis, name),
          r,
        );
      }
      const dData = !data.requiresGrad
        ? null
        : r === 'add'
          ? dy!
          : dispatch1('ScatterElements', [dy!, indices, zeros(updates.shape, { dtype: dy!.dtype })], {
              axis,
            });
      const dUpd = updates.requiresGrad ? dispatch1('GatherElements', [dy!, indices], { axis }) : null;
      return [dData, null, dUpd];
    },
  });
}

elementsDef('Scatter', 9, false);
elementsDef('ScatterElements', 11, true);

registerOp({
  name: 'ScatterND',
  since: 11,
  minInputs: 3,
  maxInputs: 3,
  defaults: { reduction: 'none' },
  kernels: {
    cpu: (inputs, attrs, ctx) => [
      scatterNDKernel(
        'ScatterND',
        input(inputs, 0, 'ScatterND'),
        input(inputs, 1, 'ScatterND'),
        input(inputs, 2, 'ScatterND'),
        reductionOf('ScatterND', attrs, ctx),
      ),
    ],
  },
  grad: ({ inputs, attrs }, [dy]) => {
    const [data, indices, updates] = [inputs[0]!, inputs[1]!, inputs[2]!];
    const r = attrString(attrs, 'reduction', 'none') as Reduction;
    if (r !== 'none' && r !== 'add') {
      return reduceGrads(
        dy!,
        data,
        updates,
        gatherNDKernel(elementIds(data.shape), indices, 0, 'ScatterND'),
        r,
      );
    }
    const dData = !data.requiresGrad
      ? null
      : r === 'add'
        ? dy!
        : dispatch1('ScatterND', [dy!, indices, zeros(updates.shape, { dtype: dy!.dtype })]);
    const dUpd = updates.requiresGrad ? dispatch1('GatherND', [dy!, indices]) : null;
    return [dData, null, dUpd];
  },
});
