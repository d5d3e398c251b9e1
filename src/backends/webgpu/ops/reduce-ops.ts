/**
 * WebGPU kernels for the ReduceXxx family, ArgMax/ArgMin, Softmax/LogSoftmax/Hardmax. Axes are
 * resolved by the CPU ops' own helpers, so attribute/input forms, negative axes, empty axes and
 * noop_with_empty_axes behave the same. Sum, Max, Min and Prod also take 32-bit (and narrower)
 * integers and bool (Max/Min); 64-bit ints and float64 run on the CPU.
 */
import { attrInt } from '../../../ops/helpers.js';
import { splitAtAxis } from '../../../ops/reduce/layout.js';
import { resolveAxes } from '../../../ops/reduce/reduce-common.js';
import { reduceAxes, reducedShape } from '../../../ops/reduce/reduce-sum.js';
import type { Attrs, OpInputs } from '../../../ops/registry.js';
import { TesseraError } from '../../../runtime/errors.js';
import { fmtShape, normAxis } from '../../../runtime/shape.js';
import type { Tensor } from '../../../runtime/tensor.js';
import { gpuKernel } from '../fallback.js';
import { contiguousCopy, elementwise } from '../kernels/elementwise.js';
import { argReduce, type ReduceSpec, reduce, softmaxRows } from '../kernels/reduce.js';
import { type Kind, kindOf } from '../wgsl.js';
import { onCpu } from './values.js';

type Specs = Partial<Record<Kind, ReduceSpec>>;

const INF = 'inf_()';
const sumLike = (map: string, finish = 'acc'): ReduceSpec => ({
  kind: 'f',
  init: '0.0',
  map,
  comb: 'a + b',
  finish,
});

function extremum(isMax: boolean, dtype: string): Specs {
  const gt = isMax ? '>' : '<';
  const intInit = (k: 'i' | 'u') => {
    if (dtype === 'bool') return isMax ? '0u' : '1u';
    const ranges: Record<string, [number, number]> = {
      int8: [-128, 127],
      int16: [-32768, 32767],
      int32: [-2147483648, 2147483647],
      uint8: [0, 255],
      uint16: [0, 65535],
      uint32: [0, 4294967295],
    };
    const [lo, hi] = ranges[dtype] ?? [0, 0];
    const v = isMax ? lo : hi;
    return k === 'u' ? `${v}u` : v === -2147483648 ? 'i32(-2147483647 - 1)' : `${v}`;
  };
  return {
    f: {
      kind: 'f',
      init: isMax ? `-${INF}` : INF,
      map: 'v',
      comb: `select(a, b, isnan_(b) || (!isnan_(a) && b ${gt} a))`,
      finish: 'acc',
    },
    i: { kind: 'i', init: intInit('i'), map: 'v', comb: isMax ? 'max(a, b)' : 'min(a, b)', finish: 'acc' },
    u: { kind: 'u', init: intInit('u'), map: 'v', comb: isMax ? 'max(a, b)' : 'min(a, b)', finish: 'acc' },
  };
}

const SPECS: Record<string, (dtype: string) => Specs> = {
  ReduceSum: () => ({
    f: sumLike('v'),
    i: { kind: 'i', init: '0', map: 'v', comb: 'a + b', finish: 'acc' },
    u: { kind: 'u', init: '0u', map: 'v', comb: 'a + b', finish: 'acc' },
  }),
  ReduceMean: () => ({ f: sumLike('v', 'acc / f32(R)') }),
  ReduceL1: () => ({ f: sumLike('abs(v)') }),
  ReduceL2: () => ({ f: sumLike('v * v', 'sqrt(acc)') }),
  ReduceSumSquare: () => ({ f: sumLike('v * v') }),
  ReduceLogSum: () => ({ f: sumLike('v', 'log(acc)') }),
  ReduceProd: () => ({
    f: { kind: 'f', init: '1.0', map: 'v', comb: 'a * b', finish: 'acc' },
    i: { kind: 'i', init: '1', map: 'v', comb: 'a * b', finish: 'acc' },
    u: { kind: 'u', init: '1u', map: 'v', comb: 'a * b', finish: 'acc' },
  }),
  ReduceMax: (d) => extremum(true, d),
  ReduceMin: (d) => extremum(false, d),
};

function reduceOp(name: string, x: Tensor, axes: number[], keepdims: boolean): Tensor | string {
  const k = kindOf(x.dtype);
  const spec = SPECS[name]!(x.dtype)[k === 'x' ? 'f' : k];
  if (!spec || k === 'x' || x.dtype === 'float64') return `has no kernel for ${x.dtype}`;
  return reduce(x, axes, reducedShape(x.shape, axes, keepdims), x.dtype, spec);
}

/** log(sum(exp(x))) shifted by the max, as the CPU computes it (an infinite max is the result). */
function logSumExp(x: Tensor, axes: number[], keepdims: boolean): Tensor | string {
  if (kindOf(x.dtype) !== 'f' || x.dtype === 'float64') return `has no kernel for ${x.dtype}`;
  const keptShape = reducedShape(x.shape, axes, true);
  const m = reduce(x, axes, keptShape, 'float32', extremum(true, 'float32').f!);
  const e = elementwise({
    inputs: [x, m],
    loads: ['f', 'f'],
    expr: 'select(exp(v0 - v1), 0.0, isinf_(v1))',
    outDtype: 'float32',
  });
  const s = reduce(e, axes, keptShape, 'float32', sumLike('v'));
  const outShape = reducedShape(x.shape, axes, keepdims);
  const r = elementwise({
    inputs: [m, s],
    loads: ['f', 'f'],
    expr: 'select(v0 + log(v1), v0, isinf_(v0) || isnan_(v0))',
    outDtype: x.dtype,
  });
  return r.asStrided(outShape, contiguousStrides(outShape));
}

function contiguousStrides(shape: readonly number[]): number[] {
  const st = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    st[i] = acc;
    acc *= shape[i]!;
  }
  return st;
}

const out1 = (r: Tensor | string) => (typeof r === 'string' ? r : [r]);

export function registerReduceKernels(): void {
  gpuKernel('ReduceSum', (inputs, attrs) => {
    const x = inputs[0]!;
    const axes = reduceAxes('ReduceSum', x, inputs[1] && onCpu(inputs[1]), attrs);
    if (axes.length === 0) return [contiguousCopy(x)];
    return out1(reduceOp('ReduceSum', x, axes, attrInt(attrs, 'keepdims', 1) !== 0));
  });
  for (const name of Object.keys(SPECS).filter((n) => n !== 'ReduceSum')) {
    gpuKernel(name, (inputs, attrs) => {
      const x = inputs[0]!;
      const axes = resolveAxes(name, x, inputs[1] && onCpu(inputs[1]), attrs);
      if (axes === null) return [contiguousCopy(x)];
      return out1(reduceOp(name, x, axes, attrInt(attrs, 'keepdims') !== 0));
    });
  }
  gpuKernel('ReduceLogSumExp', (inputs, attrs) => {
    const x = inputs[0]!;
    const axes = resolveAxes('ReduceLogSumExp', x, inputs[1] && onCpu(inputs[1]), attrs);
    if (axes === null) return [contiguousCopy(x)];
    return out1(logSumExp(x, axes, attrInt(attrs, 'keepdims') !== 0));
  });

  for (const [name, isMax] of [
    ['ArgMax', true],
    ['ArgMin', false],
  ] as const) {
    gpuKernel(name, (inputs: OpInputs, attrs: Attrs) => {
      const x = inputs[0]!;
      const k = kindOf(x.dtype);
      if (k === 'x') return `has no kernel for ${x.dtype}`;
      const axisArg = attrInt(attrs, 'axis', 0);
      const axis = normAxis(axisArg, x.ndim, name);
      const { outer, len, inner } = splitAtAxis(x.shape, axis);
      if (len === 0) {
        throw new TesseraError(
          'INVALID_ARGUMENT',
          `${name}: cannot reduce over axis ${axisArg} of size 0 (input shape ${fmtShape(x.shape)}), expected a non-empty axis`,
        );
      }
      const keep = attrInt(attrs, 'keepdims', 1) !== 0;
      const shape = x.shape.flatMap((d, i) => (i !== axis ? [d] : keep ? [1] : []));
      return [argReduce(x, outer, len, inner, shape, isMax, attrInt(attrs, 'select_last_index', 0) !== 0)];
    });
  }

  for (const [name, kind] of [
    ['Softmax', 'softmax'],
    ['LogSoftmax', 'log'],
    ['Hardmax', 'hard'],
  ] as const) {
    for (const since of [1, 13]) {
      gpuKernel(
        name,
        (inputs, attrs) => {
          const x = inputs[0]!;
          if (x.dtype === 'float64') return 'has no kernel for float64';
          const axis = normAxis(attrInt(attrs, 'axis'), x.ndim, name);
          const { outer, len, inner } = splitAtAxis(x.shape, axis, since < 13);
          return [softmaxRows(x, outer, len, inner, kind)];
        },
        { since },
      );
    }
  }
}
