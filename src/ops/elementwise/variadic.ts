/**
 * Max, Min, Sum, Mean: variadic (one or more inputs), numpy-broadcasting. Values are combined in
 * doubles and rounded once to the output dtype; int64/uint64 combine as BigInt. Max and Min
 * propagate NaN (numpy's maximum/minimum).
 */
import { forEachBroadcast } from '../../backends/cpu/elementwise.js';
import { floatBinary, floatVariadic } from '../../backends/cpu/fast-float.js';
import { allocate, type DType, encodeNumber, getNumber, needsConversion } from '../../runtime/dtype.js';
import { TesseraError } from '../../runtime/errors.js';
import { broadcastShapes, numel } from '../../runtime/shape.js';
import { Tensor } from '../../runtime/tensor.js';
import { sumToShape } from '../helpers.js';
import { dispatch1, type GradContext, type OpInputs, registerOp } from '../registry.js';
import { checkSame, checkTypes, floatTypes, needsRaw, numericTypes, op, scalarLike } from './kernels.js';

type Step<T> = (acc: T, v: T) => T;

function present(name: string, inputs: OpInputs): Tensor[] {
  inputs.forEach((t, i) => {
    if (!t) throw new TesseraError('INVALID_ARGUMENT', `${name}: input ${i} is required`);
  });
  return inputs as Tensor[];
}

/** Folds all inputs elementwise with `step`, over numbers (or raw BigInt for 64-bit ints). */
function fold(
  name: string,
  xs: Tensor[],
  step: Step<number>,
  bigStep: Step<bigint>,
  finish: (acc: number) => number = (a) => a,
): Tensor {
  const dtype: DType = xs[0]!.dtype;
  const shape = broadcastShapes(
    xs.map((t) => t.shape),
    name,
  );
  const out = allocate(dtype, numel(shape)) as any;
  const datas = xs.map((t) => t.storage.data as any);
  const k = xs.length;
  if (needsRaw(dtype)) {
    forEachBroadcast(xs, shape, (i, o) => {
      let acc = datas[0][o[0]!] as bigint;
      for (let j = 1; j < k; j++) acc = bigStep(acc, datas[j][o[j]!]);
      out[i] = acc;
    });
  } else {
    const conv = needsConversion(dtype);
    const read = (j: number, p: number): number => (conv ? getNumber(dtype, datas[j], p) : datas[j][p]);
    forEachBroadcast(xs, shape, (i, o) => {
      let acc = read(0, o[0]!);
      for (let j = 1; j < k; j++) acc = step(acc, read(j, o[j]!));
      const v = finish(acc);
      out[i] = conv ? encodeNumber(dtype, v) : v;
    });
  }
  return Tensor.fromData(out, shape, dtype);
}

const maxStep: Step<number> = (a, v) => (a > v || Number.isNaN(a) ? a : v);
const minStep: Step<number> = (a, v) => (a < v || Number.isNaN(a) ? a : v);

/** The gradient of Max/Min: dy goes to the inputs equal to the result, split evenly between ties (as torch). */
function extremumGrad({ inputs, outputs }: GradContext, [dy]: (Tensor | null)[]): (Tensor | null)[] {
  const xs = inputs as Tensor[];
  const y = outputs[0]!;
  if (xs.length === 1) return [dy!];
  const masks = xs.map((x) => op('Equal', x, y));
  const casts = masks.map((m) => dispatch1('Cast', [m], { to: dy!.dtype }));
  const count = casts.slice(1).reduce((acc, m) => op('Add', acc, m), casts[0]!);
  const share = op('Div', dy!, count);
  return xs.map((x, i) =>
    x.requiresGrad ? sumToShape(op('Where', masks[i]!, share, scalarLike(0, dy!)), x.shape) : null,
  );
}

interface VariadicSpec {
  name: string;
  /** Mean takes floats only (ONNX); the others every numeric type. */
  floatOnly?: boolean;
  step: Step<number>;
  bigStep: Step<bigint>;
  /** Runs on the folded value (Mean's division), given the input count. */
  finish?: (n: number) => (acc: number) => number;
  grad: (ctx: GradContext, dys: (Tensor | null)[]) => (Tensor | null)[];
}

function registerVariadic(spec: VariadicSpec): void {
  registerOp({
    name: spec.name,
    since: 1,
    minInputs: 1,
    validate(inputs) {
      if (spec.floatOnly) checkTypes(spec.name, inputs, floatTypes, 'a float tensor');
      else checkTypes(spec.name, inputs, numericTypes, 'a numeric tensor');
      checkSame(spec.name, inputs);
    },
    kernels: {
      cpu: (inputs) => {
        const xs = present(spec.name, inputs);
        // Two float inputs of Sum are an Add: the fast elementwise path (one rounding, as fold's).
        // More inputs of one shape: a float64 accumulator, also rounded once.
        const fast =
          spec.name === 'Sum' && xs.length === 2
            ? floatBinary('Add', xs[0]!, xs[1]!)
            : floatVariadic(spec.name as 'Sum' | 'Mean' | 'Max' | 'Min', xs);
        return [fast ?? fold(spec.name, xs, spec.step, spec.bigStep, spec.finish?.(xs.length))];
      },
    },
    grad: spec.grad,
  });
}

registerVariadic({
  name: 'Max',
  step: maxStep,
  // biome-ignore lint/complexity/useMathMinMax: BigInt operands
  bigStep: (a, v) => (a > v ? a : v),
  grad: extremumGrad,
});
registerVariadic({
  name: 'Min',
  step: minStep,
  // biome-ignore lint/complexity/useMathMinMax: BigInt operands
  bigStep: (a, v) => (a < v ? a : v),
  grad: extremumGrad,
});
registerVariadic({
  name: 'Sum',
  step: (a, v) => a + v,
  bigStep: (a, v) => a + v,
  grad: ({ inputs }, [dy]) => inputs.map((x) => (x!.requiresGrad ? sumToShape(dy!, x!.shape) : null)),
});
registerVariadic({
  name: 'Mean',
  floatOnly: true,
  step: (a, v) => a + v,
  bigStep: (a, v) => a + v,
  finish: (n) => (acc) => acc / n,
  grad: ({ inputs }, [dy]) => {
    const g = op('Div', dy!, scalarLike(inputs.length, dy!));
    return inputs.map((x) => (x!.requiresGrad ? sumToShape(g, x!.shape) : null));
  },
});
